//go:build !windows

package certstore

import (
	"crypto/x509"
	"errors"
	"fmt"
)

var errUnsupported = fmt.Errorf("windows certificate store: %w", errors.ErrUnsupported)

func importPFX([]byte, string) (Thumbprint, error)      { return Thumbprint{}, errUnsupported }
func find(Store, Thumbprint) (*x509.Certificate, error) { return nil, errUnsupported }
func checkKey(Thumbprint) error                         { return errUnsupported }
func deleteCert(Store, Thumbprint) error                { return errUnsupported }
func trustCA(*x509.Certificate) (Store, error)          { return "", errUnsupported }
func add(Store, *x509.Certificate, bool) error          { return errUnsupported }
