//go:build !unix && !windows

package localapi

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Listen is not available on this platform: the CLI works directly.
func Listen(home string, refused func(uid int, err error)) (net.Listener, error) {
	return nil, fmt.Errorf("local API: %w", errors.ErrUnsupported)
}

func dial(ctx context.Context, path string) (net.Conn, error) {
	return nil, fmt.Errorf("local API: %w", errors.ErrUnsupported)
}
