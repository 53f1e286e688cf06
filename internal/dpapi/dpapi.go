// Package dpapi protects the agent's private state at rest on Windows with
// the Data Protection API: CryptProtectData encrypts under a key derived
// from the user's logon credentials, so only the same user on the same
// machine (or roaming profile) can decrypt.
//
// Use [Protect] before writing state to disk and [Unprotect] after reading
// it. Entropy, if given, must be the same for both (use it to bind a blob
// to its purpose). On platforms other than Windows both return errors
// wrapping errors.ErrUnsupported.
package dpapi

import "errors"

// ErrEmpty reports an empty plaintext, which DPAPI implementations do not
// all accept (Wine rejects it); endymail never has empty state to protect.
var ErrEmpty = errors.New("dpapi: nothing to protect")

// Protect encrypts plain for the current user. description is stored in
// the clear inside the blob.
func Protect(plain, entropy []byte, description string) ([]byte, error) {
	if len(plain) == 0 {
		return nil, ErrEmpty
	}
	return protect(plain, entropy, description)
}

// Unprotect decrypts a blob made by [Protect] for the current user.
func Unprotect(blob, entropy []byte) ([]byte, error) { return unprotect(blob, entropy) }
