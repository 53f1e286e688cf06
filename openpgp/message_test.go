package openpgp

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, kt := range keyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			alice, bob, _ := testKeys(t, kt)
			signed, err := Sign(testMessage("alice@example.org"), alice)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if got := header(t, signed, "Content-Type"); !strings.Contains(got, "multipart/signed") || !strings.Contains(got, `micalg=pgp-sha256`) || !strings.Contains(got, `protocol="application/pgp-signature"`) {
				t.Fatalf("Content-Type: got %q", got)
			}
			for _, h := range []string{"From", "To", "Subject", "Date", "Message-Id"} {
				if header(t, signed, h) == "" {
					t.Errorf("outer header %s missing", h)
				}
			}
			v, err := Verify(signed, []*Key{bob.Public(), alice.Public()}, time.Now())
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if v.Signer.Fingerprint() != alice.Fingerprint() {
				t.Errorf("signer: got %s, want %s", v.Signer.Fingerprint(), alice.Fingerprint())
			}
			if got := header(t, v.Message, "Subject"); got != "Test message" {
				t.Errorf("Subject: got %q", got)
			}
			if !bytes.Contains(v.Message, []byte("\r\n=46rom the second line.")) {
				t.Errorf("line starting with From not escaped:\n%s", v.Message)
			}
			if !bytes.Contains(v.Message, []byte("Gr=C3=BC=C3=9Fe")) {
				t.Errorf("8-bit body not quoted-printable encoded:\n%s", v.Message)
			}
			// LF line endings (as stored in mbox files) verify too.
			lf := bytes.ReplaceAll(signed, []byte("\r\n"), []byte("\n"))
			if _, err := Verify(lf, []*Key{alice}, time.Now()); err != nil {
				t.Errorf("Verify with LF line endings: %v", err)
			}
		})
	}
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	for _, kt := range keyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			alice, bob, _ := testKeys(t, kt)
			for _, signer := range []*Key{nil, alice} {
				enc, err := Encrypt(testMessage("alice@example.org"), []*Key{bob.Public(), alice}, signer)
				if err != nil {
					t.Fatalf("Encrypt: %v", err)
				}
				if bytes.Contains(enc, []byte("Köln")) {
					t.Fatal("plaintext in encrypted message")
				}
				if got := header(t, enc, "Subject"); got != "Test message" {
					t.Errorf("outer Subject: got %q", got)
				}
				d, err := Decrypt(enc, []*Key{bob, alice.Public()})
				if err != nil {
					t.Fatalf("Decrypt: %v", err)
				}
				if !bytes.Contains(d.Message, []byte("Grüße aus Köln — ein Test. \r\n")) {
					t.Errorf("decrypted body: got\n%s", d.Message)
				}
				if got := header(t, d.Message, "Content-Transfer-Encoding"); got != "8bit" {
					t.Errorf("inner Content-Transfer-Encoding: got %q, want 8bit", got)
				}
				if d.Signed != (signer != nil) || d.SignatureErr != nil {
					t.Fatalf("signed %v: got Signed %v, SignatureErr %v", signer != nil, d.Signed, d.SignatureErr)
				}
				if signer != nil && d.Signer.Fingerprint() != alice.Fingerprint() {
					t.Errorf("signer: got %v, want %s", d.Signer, alice.Fingerprint())
				}
			}
		})
	}
}

func TestDecryptInnerMultipartSigned(t *testing.T) {
	alice, bob, _ := testKeys(t, Ed25519)
	signed, err := Sign(testMessage("alice@example.org"), alice)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := Encrypt(signed, []*Key{bob}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decrypt(enc, []*Key{bob, alice.Public()})
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !d.Signed || d.SignatureErr != nil || d.Signer == nil || d.Signer.Fingerprint() != alice.Fingerprint() {
		t.Fatalf("got Signed %v Signer %v SignatureErr %v, want a good signature by alice", d.Signed, d.Signer, d.SignatureErr)
	}
}

// TestLargeMessage covers messages larger than the header reader's buffer.
func TestLargeMessage(t *testing.T) {
	alice, bob, _ := testKeys(t, Ed25519)
	msg := bigMessage(300 << 10)
	signed, err := Sign(msg, alice)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(signed, []*Key{alice}, time.Now())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !bytes.HasSuffix(v.Message, msg[len(msg)-1000:]) {
		t.Errorf("Verify: content differs at the end")
	}
	enc, err := Encrypt(msg, []*Key{bob}, alice)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decrypt(enc, []*Key{bob, alice})
	if err != nil || d.Signer == nil {
		t.Fatalf("Decrypt: %v (signature %v)", err, d.SignatureErr)
	}
	if !bytes.HasSuffix(d.Message, msg[len(msg)-1000:]) || len(d.Message) < len(msg)-200 {
		t.Errorf("Decrypt: got %d bytes, want about %d", len(d.Message), len(msg))
	}
}

// TestEncryptPacketShape: one PKESK per recipient, then a version 1
// symmetrically encrypted integrity-protected packet (SEIPD v1 with MDC),
// whose session key is AES-256.
func TestEncryptPacketShape(t *testing.T) {
	for _, kt := range keyTypes {
		alice, bob, _ := testKeys(t, kt)
		enc, err := Encrypt(testMessage("alice@example.org"), []*Key{bob, alice}, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw := dearmorT(t, partPayload(t, rawParts(t, enc)[1]))
		r := packet.NewReader(bytes.NewReader(raw))
		var pkesk []*packet.EncryptedKey
		for {
			p, err := r.Next()
			if err != nil {
				t.Fatalf("%v: no encrypted data packet: %v", kt, err)
			}
			if ek, ok := p.(*packet.EncryptedKey); ok {
				pkesk = append(pkesk, ek)
				continue
			}
			se, ok := p.(*packet.SymmetricallyEncrypted)
			if !ok || se.Version != 1 || !se.IntegrityProtected {
				t.Fatalf("%v: got %T %+v, want SEIPD v1", kt, p, p)
			}
			break
		}
		if len(pkesk) != 2 {
			t.Fatalf("%v: got %d PKESK packets, want 2", kt, len(pkesk))
		}
		if err := pkesk[0].Decrypt(bob.entity.Subkeys[0].PrivateKey, nil); err != nil {
			t.Fatal(err)
		}
		if pkesk[0].CipherFunc != packet.CipherAES256 {
			t.Errorf("%v: session key cipher %v, want AES-256", kt, pkesk[0].CipherFunc)
		}
	}
}
