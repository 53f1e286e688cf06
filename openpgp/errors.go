package openpgp

import (
	"errors"
	"fmt"
	"io"

	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
)

// Sentinel errors for the conditions callers branch on with errors.Is; the
// wrapping error carries the detail to show people. Argument errors (a bad
// KeyRequest, no recipients) wrap none of them.
var (
	// ErrMalformed: the input is not well-formed OpenPGP or PGP/MIME data
	// (missing parts, truncated, bad armor, no closing boundary).
	ErrMalformed = errors.New("malformed message")
	// ErrUnsupported: a well-formed form this package does not handle
	// (another content type, an algorithm go-crypto rejects).
	ErrUnsupported = errors.New("unsupported message")
	// ErrNoMDC: symmetrically encrypted data without integrity protection.
	ErrNoMDC = errors.New("encrypted data has no integrity protection (MDC)")
	// ErrNoKey: the message is encrypted to none of the given keys.
	ErrNoKey = errors.New("message is not encrypted to any of the given keys")
	// ErrCorrupt: the ciphertext was altered (integrity check failed).
	ErrCorrupt = errors.New("encrypted data is corrupt or was tampered with")
	// ErrNotSigned: Verify was given a message that is not multipart/signed.
	ErrNotSigned = errors.New("message is not signed")
	// ErrBadSignature: the signature does not match the content.
	ErrBadSignature = errors.New("bad signature")
	// ErrUnknownSigner: the signature was made by a key not among those given.
	ErrUnknownSigner = errors.New("signature by unknown key")
	// ErrKeyExpired: the key is expired (or revoked) at the time of use.
	ErrKeyExpired = errors.New("key expired")
	// ErrFromMismatch: the From address is not a user ID of the signing key.
	ErrFromMismatch = errors.New("from address does not match the signing key")
	// ErrNoSecret: signing or decrypting needs a key's secret part.
	ErrNoSecret = errors.New("key has no secret part")
)

// signatureError maps a go-crypto signature verification error onto the
// package's sentinels.
func signatureError(err error) error {
	var sigErr pgperrors.SignatureError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return fmt.Errorf("%w: %v", ErrUnknownSigner, err)
	case errors.Is(err, pgperrors.ErrKeyExpired), errors.Is(err, pgperrors.ErrKeyRevoked):
		return fmt.Errorf("%w: %v", ErrKeyExpired, err)
	case errors.As(err, &sigErr), errors.Is(err, pgperrors.ErrSignatureExpired),
		errors.Is(err, pgperrors.ErrSignatureOlderThanKey):
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return packetError(err)
}

// packetError maps a go-crypto error met while reading packets.
func packetError(err error) error {
	var (
		structErr pgperrors.StructuralError
		unsupErr  pgperrors.UnsupportedError
		sigErr    pgperrors.SignatureError
	)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgperrors.ErrMDCMissing):
		return fmt.Errorf("%w: %v", ErrNoMDC, err)
	case errors.Is(err, pgperrors.ErrMDCHashMismatch), errors.Is(err, pgperrors.ErrAEADTagVerification),
		errors.Is(err, pgperrors.ErrKeyIncorrect), errors.As(err, &sigErr):
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.As(err, &structErr):
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	case errors.As(err, &unsupErr):
		if string(unsupErr) == "message is not integrity protected" {
			return fmt.Errorf("%w: %v", ErrNoMDC, err)
		}
		return fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	var dErr pgperrors.DecryptWithSessionKeyError
	if errors.As(err, &dErr) {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}
