package smime

import "errors"

// Errors that callers branch on. Every error returned by this package that
// stems from one of these conditions wraps the matching sentinel.
var (
	// ErrMalformed reports input that is not a well-formed S/MIME message
	// (truncated, bad MIME structure, bad base64, bad ASN.1).
	ErrMalformed = errors.New("malformed input")
	// ErrNotEncrypted reports a message given to Decrypt that is not an
	// S/MIME enveloped-data message.
	ErrNotEncrypted = errors.New("message is not encrypted")
	// ErrNotSigned reports a message given to Verify that carries no S/MIME
	// signature.
	ErrNotSigned = errors.New("message is not signed")
	// ErrNotRecipient reports an encrypted message with no recipient entry
	// for the identity's certificate.
	ErrNotRecipient = errors.New("message is not encrypted to this certificate")
	// ErrDecrypt reports an encrypted message addressed to the identity that
	// still failed to decrypt (wrong key, tampered ciphertext or padding).
	ErrDecrypt = errors.New("decryption failed")
	// ErrBadSignature reports a signature that does not match the content
	// or the signer's key.
	ErrBadSignature = errors.New("bad signature")
	// ErrCertExpired reports a certificate that is not valid at the time of
	// checking (expired or not yet valid), or was not valid at signing time.
	ErrCertExpired = errors.New("certificate expired or not yet valid")
	// ErrUntrusted reports a signer certificate that does not chain to one
	// of the given roots.
	ErrUntrusted = errors.New("signer certificate is not trusted")
	// ErrNoEmailProtection reports a certificate whose key usage or extended
	// key usage does not allow the requested S/MIME use.
	ErrNoEmailProtection = errors.New("certificate is not valid for email protection")
	// ErrFromMismatch reports a signed message whose From address is not in
	// the signer certificate's subjectAltName.
	ErrFromMismatch = errors.New("from address does not match the signer certificate")
	// ErrUnsupported reports a valid structure or key that this package
	// cannot handle; the wrapping error names which.
	ErrUnsupported = errors.New("unsupported")
)
