//go:build !unix && !windows

package autostart

import (
	"context"
	"errors"
	"fmt"
)

var errUnsupported = fmt.Errorf("starting the agent at login: %w", errors.ErrUnsupported)

func install(ctx context.Context, opt Options) (*Result, error)   { return nil, errUnsupported }
func uninstall(ctx context.Context, opt Options) (*Result, error) { return nil, errUnsupported }
func status(ctx context.Context, opt Options) (*Result, error)    { return nil, errUnsupported }
