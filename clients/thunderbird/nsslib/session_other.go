//go:build !linux && !darwin && !windows

package nsslib

import "errors"

func run(*Request) ([]Result, error) { return nil, errors.ErrUnsupported }

// LibraryFile is empty: no NSS library is known on this platform.
const LibraryFile = ""
