package smime

import (
	"bytes"
	"errors"
	"testing"
)

// The fuzz targets check that no input makes the parsers panic or hang, and
// that every failure wraps one of the package's sentinel errors.

var sentinels = []error{ErrMalformed, ErrNotEncrypted, ErrNotSigned, ErrNotRecipient, ErrDecrypt,
	ErrBadSignature, ErrCertExpired, ErrUntrusted, ErrNoEmailProtection, ErrFromMismatch, ErrUnsupported}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Errorf("error wraps no sentinel: %v", err)
}

func FuzzVerify(f *testing.F) {
	v := loadVectors(f)
	for _, m := range vectorFiles(f) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if _, err := Verify(msg, v.roots, v.now); err != nil {
			checkSentinel(t, err)
		}
	})
}

func FuzzDecrypt(f *testing.F) {
	v := loadVectors(f)
	for _, m := range vectorFiles(f) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if _, err := Decrypt(msg, v.bob); err != nil {
			checkSentinel(t, err)
		}
	})
}

// FuzzCMS feeds raw CMS blobs (the decoded bodies of the vectors) to the
// BER walker and both structure checks.
func FuzzCMS(f *testing.F) {
	v := loadVectors(f)
	for _, m := range vectorFiles(f) {
		if der := cmsBlob(m); der != nil {
			f.Add(der)
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		if n, err := parseBER(der); err == nil && !bytes.Equal(n.raw, der) {
			t.Errorf("raw of root is %d bytes, input %d", len(n.raw), len(der))
		}
		if _, err := checkEnveloped(der, v.bob.Cert); err != nil {
			checkSentinel(t, err)
		}
		if _, err := checkSigned(der); err != nil {
			checkSentinel(t, err)
		}
		if _, err := decryptCMS(der, v.bob); err != nil {
			checkSentinel(t, err)
		}
	})
}

// FuzzSplitMultipart checks that every part returned lies inside the body.
func FuzzSplitMultipart(f *testing.F) {
	f.Add([]byte("--b\r\nA\r\n--b\r\nB\r\n--b--\r\n"), "b")
	f.Add([]byte("preamble\r\n--b \r\nA\r\n--bb\r\n--b\r\n\r\n--b--"), "b")
	for _, m := range vectorFiles(f) {
		f.Add(m, "b1")
	}
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		parts, err := splitMultipart(body, boundary)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		for _, p := range parts {
			if !bytes.Contains(body, p) {
				t.Errorf("part %q not in body", p)
			}
		}
	})
}

// cmsBlob returns the decoded CMS body of a vector, or nil.
func cmsBlob(msg []byte) []byte {
	h, body, err := readMessage(msg)
	if err != nil {
		return nil
	}
	if der, _, err := signedParts(h, body); err == nil {
		return der
	}
	if _, _, der, err := decodeEntity(h, body); err == nil && len(der) > 0 {
		return der
	}
	return nil
}
