package smime

import (
	"fmt"
	"time"

	"github.com/smallstep/pkcs7"
)

// smallstep/pkcs7 v0.2.3 panics on some hostile input instead of returning
// an error: its CBC unpadding slices out of range when the last plaintext
// byte exceeds the data length (reachable by flipping ciphertext bits), and
// its ber2der reads past the end of some truncated BER (fixed upstream in
// smallstep/pkcs7#62, not yet released). A mail message must never crash
// the agent, so every call that reads untrusted data goes through these
// wrappers, which turn a panic into an error wrapping kind.

func recoverInto(err *error, kind error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: pkcs7 library panicked: %v", kind, r)
	}
}

// parsePKCS7 is pkcs7.Parse with every failure wrapping ErrMalformed.
func parsePKCS7(der []byte) (p7 *pkcs7.PKCS7, err error) {
	defer recoverInto(&err, ErrMalformed)
	if p7, err = pkcs7.Parse(der); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return p7, nil
}

func decryptPKCS7(p7 *pkcs7.PKCS7, id *Identity, key sessionKeyDecrypter) (plain []byte, err error) {
	defer recoverInto(&err, ErrDecrypt)
	return p7.Decrypt(id.Cert, key)
}

func verifyPKCS7(p7 *pkcs7.PKCS7) (err error) {
	defer recoverInto(&err, ErrBadSignature)
	// The chain was checked by checkSigner, so the library gets no trust
	// store (and so no time) and checks the digest, signature and signing
	// time against the signer's validity.
	return p7.VerifyWithChainAtTime(nil, time.Time{})
}
