// Package smime owns the S/MIME half of endymail's mail keys: the account's
// personal certificate authority, the per-address leaf certificates it
// issues, their PKCS#12 export, and signing, encrypting, decrypting and
// verifying whole RFC 5322 messages.
//
// Use [NewCA] once per account and keep it with [CA.Marshal] / [ParseCA];
// issue one [Identity] per mail address with [CA.Issue] and hand it to mail
// clients with [Identity.PKCS12]. Messages go through [Sign], [Encrypt],
// [SignAndEncrypt], [Decrypt] and [Verify]; their failures wrap the sentinel
// errors declared in errors.go so callers can branch with errors.Is.
//
// The cryptography is that of github.com/smallstep/pkcs7 with fixed choices:
// SHA-256 digests, AES-256-CBC content encryption and RSA PKCS#1 v1.5 key
// transport (never the library's DES / SHA-1 defaults). Structures that
// library cannot read (key-agreement or key-identifier recipients,
// AuthEnvelopedData, key-identifier signers) are detected first and reported
// as [ErrUnsupported].
package smime
