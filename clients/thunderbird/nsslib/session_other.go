//go:build !linux && !darwin && !windows

package nsslib

import "errors"

func run(*Request) ([]Result, error) { return nil, errors.ErrUnsupported }
