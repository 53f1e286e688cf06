package openpgp

import (
	"strings"
	"testing"
	"time"
)

// msgPeers sets up alice (signer) and bob (recipient) in each peer: the
// peer holds bob's secret key and alice's public key when it receives, and
// alice's secret key and bob's public key when it sends.

func gpgWith(t testing.TB, public, secret *Key) *peer {
	t.Helper()
	g := newGPG(t)
	pub, _ := public.ArmoredPublic()
	sec, _ := secret.ArmoredSecret([]byte(testPassphrase))
	g.must(pub, "--import")
	g.must(sec, "--import")
	return g
}

func rnpWith(t testing.TB, public, secret *Key) *peer {
	t.Helper()
	keys := newRNP(t, "rnpkeys")
	pub, _ := public.ArmoredPublic()
	sec, _ := secret.ArmoredSecret([]byte(testPassphrase))
	keys.must(nil, "--import", keys.file("pub.asc", pub))
	keys.must(nil, "--import", keys.file("sec.asc", sec))
	return keys.with("rnp", "rnp")
}

// TestOurMessagesToPeers: gpg, rnp and sq verify our multipart/signed
// signature over the raw first part, and decrypt and verify our
// multipart/encrypted payload.
func TestOurMessagesToPeers(t *testing.T) {
	for _, kt := range keyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			alice, bob, _ := testKeys(t, kt)
			signed, err := Sign(testMessage("alice@example.org"), alice)
			if err != nil {
				t.Fatal(err)
			}
			sp := rawParts(t, signed)
			data, sig := sp[0], partPayload(t, sp[1])
			enc, err := Encrypt(testMessage("alice@example.org"), []*Key{bob}, alice)
			if err != nil {
				t.Fatal(err)
			}
			ct := partPayload(t, rawParts(t, enc)[1])
			want := "Grüße aus Köln — ein Test. \r\nFrom the second line.\r\n"

			t.Run("gpg", func(t *testing.T) { ourToGPG(t, alice, bob, data, sig, ct, want) })
			t.Run("rnp", func(t *testing.T) { ourToRNP(t, alice, bob, data, sig, ct, want) })
			t.Run("sq", func(t *testing.T) { ourToSQ(t, alice, bob, data, sig, ct, want) })
		})
	}
}

func ourToGPG(t *testing.T, alice, bob *Key, data, sig, ct []byte, want string) {
	g := gpgWith(t, alice, bob)
	out := string(g.must(nil, "--status-fd", "1", "--verify", g.file("sig.asc", sig), g.file("data", data)))
	wantStatus(t, "gpg --verify", out, "GOODSIG "+alice.KeyID(), "VALIDSIG "+alice.Fingerprint())
	plain, stderr, err := g.run(ct, "--status-fd", "2", "--decrypt")
	if err != nil {
		t.Fatalf("gpg --decrypt: %v\n%s", err, stderr)
	}
	// DECRYPTION_INFO <mdc method 2 = SHA-1 MDC> <cipher 9 = AES-256>
	wantStatus(t, "gpg --decrypt", stderr, "DECRYPTION_INFO 2 9", "DECRYPTION_OKAY", "GOODSIG "+alice.KeyID(), "VALIDSIG "+alice.Fingerprint())
	wantContains(t, "gpg --decrypt output", string(plain), want)
}

func ourToRNP(t *testing.T, alice, bob *Key, data, sig, ct []byte, want string) {
	r := rnpWith(t, alice, bob)
	r.file("data", data)
	_, stderr, err := r.run(nil, "--verify", r.file("data.asc", sig))
	if err != nil {
		t.Fatalf("rnp --verify: %v\n%s", err, stderr)
	}
	wantStatus(t, "rnp --verify", stderr, "Good signature", strings.ToLower(alice.KeyID()))
	plain, stderr, err := r.run(nil, "--password", testPassphrase, "--decrypt", r.file("enc.asc", ct), "--output", "-")
	if err != nil {
		t.Fatalf("rnp --decrypt: %v\n%s", err, stderr)
	}
	wantStatus(t, "rnp --decrypt", stderr, "Good signature", strings.ToLower(alice.KeyID()))
	wantContains(t, "rnp --decrypt output", string(plain), want)
}

func ourToSQ(t *testing.T, alice, bob *Key, data, sig, ct []byte, want string) {
	sq := newSQ(t)
	pub, _ := alice.ArmoredPublic()
	sec, _ := bob.Marshal()
	sq.file("alice.pub", pub)
	sq.file("bob.key", sec)
	_, stderr, err := sq.run(nil, "verify", "--signer-cert", "alice.pub", "--detached", sq.file("sig.asc", sig), sq.file("data", data))
	if err != nil {
		t.Fatalf("sq verify: %v\n%s", err, stderr)
	}
	wantStatus(t, "sq verify", stderr, "Good signature", "1 good signature")
	plain, stderr, err := sq.run(nil, "decrypt", "--recipient-key", "bob.key", "--signer-cert", "alice.pub", sq.file("enc.asc", ct))
	if err != nil {
		t.Fatalf("sq decrypt: %v\n%s", err, stderr)
	}
	wantStatus(t, "sq decrypt", stderr, "1 good signature")
	wantContains(t, "sq decrypt output", string(plain), want)
}

// TestPeerMessagesToUs: signed+encrypted and detached-signed data made by
// gpg, rnp and sq, wrapped into PGP/MIME, pass Decrypt and Verify.
func TestPeerMessagesToUs(t *testing.T) {
	for _, kt := range keyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			alice, bob, _ := testKeys(t, kt)
			t.Run("gpg", func(t *testing.T) {
				g := gpgWith(t, bob, alice)
				enc := g.must([]byte(innerEntity), "--armor", "--sign", "--encrypt", "-u", alice.Fingerprint(), "-r", bob.Fingerprint())
				sig := g.must([]byte(innerEntity), "--armor", "--detach-sign", "--digest-algo", "SHA256", "-u", alice.Fingerprint())
				checkPeerMessages(t, alice, bob, enc, sig)
			})
			t.Run("rnp", func(t *testing.T) {
				r := rnpWith(t, bob, alice)
				in := r.file("in", []byte(innerEntity))
				enc := r.must(nil, "--password", testPassphrase, "--armor", "--sign", "--encrypt", "-u", alice.Fingerprint(), "-r", bob.Fingerprint(), in, "--output", "-")
				sig := r.must(nil, "--password", testPassphrase, "--armor", "--sign", "--detach", "--hash", "SHA256", "-u", alice.Fingerprint(), in, "--output", "-")
				checkPeerMessages(t, alice, bob, enc, sig)
			})
			t.Run("sq", func(t *testing.T) {
				sq := newSQ(t)
				pub, _ := bob.ArmoredPublic()
				sec, _ := alice.Marshal()
				sq.file("bob.pub", pub)
				sq.file("alice.key", sec)
				in := sq.file("in", []byte(innerEntity))
				enc := sq.must(nil, "encrypt", "--recipient-cert", "bob.pub", "--signer-key", "alice.key", in)
				sig := sq.must(nil, "sign", "--detached", "--signer-key", "alice.key", in)
				checkPeerMessages(t, alice, bob, enc, sig)
			})
		})
	}
}

func checkPeerMessages(t *testing.T, alice, bob *Key, enc, sig []byte) {
	t.Helper()
	d, err := Decrypt(wrapEncrypted("alice@example.org", enc), []*Key{bob, alice.Public()})
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !d.Signed || d.SignatureErr != nil || d.Signer == nil || d.Signer.Fingerprint() != alice.Fingerprint() {
		t.Fatalf("Decrypt: got Signed %v Signer %v SignatureErr %v, want a good signature by %s", d.Signed, d.Signer, d.SignatureErr, alice)
	}
	wantContains(t, "decrypted message", string(d.Message), "Subject: from a peer\r\n")
	wantContains(t, "decrypted message", string(d.Message), innerEntity)
	v, err := Verify(wrapSigned("alice@example.org", innerEntity, sig), []*Key{alice.Public()}, time.Now())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if v.Signer.Fingerprint() != alice.Fingerprint() {
		t.Errorf("Verify signer: got %s, want %s", v.Signer, alice)
	}
	_, err = Verify(wrapSigned("mallory@example.org", innerEntity, sig), []*Key{alice.Public()}, time.Now())
	wantErr(t, "Verify(peer signature, wrong From)", err, ErrFromMismatch)
	_, err = Verify(wrapSigned("alice@example.org", strings.Replace(innerEntity, "Hello", "Hallo", 1), sig), []*Key{alice.Public()}, time.Now())
	wantErr(t, "Verify(peer signature, changed content)", err, ErrBadSignature)
}

// TestGPGWithoutMDC: a gpg --rfc2440 message (SED packet, no MDC) is
// refused with ErrNoMDC and no content.
func TestGPGWithoutMDC(t *testing.T) {
	alice, bob, _ := testKeys(t, Ed25519)
	g := gpgWith(t, bob, alice)
	enc := g.must([]byte(innerEntity), "--armor", "--rfc2440", "--encrypt", "-r", bob.Fingerprint())
	d, err := Decrypt(wrapEncrypted("alice@example.org", enc), []*Key{bob})
	wantErr(t, "Decrypt(no MDC)", err, ErrNoMDC)
	if d != nil {
		t.Errorf("Decrypt(no MDC) returned content")
	}
}

func wantStatus(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: no %q in\n%s", what, w, out)
		}
	}
}

func wantContains(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s: got\n%q\nwant it to contain\n%q", what, got, want)
	}
}

// mixedMessage has a text part and a base64 attachment.
const mixedMessage = "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\nSubject: with attachment\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"inner\"\r\n\r\n" +
	"--inner\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee attached.\r\n" +
	"--inner\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\n" +
	"Content-Disposition: attachment; filename=\"a.bin\"\r\n\r\nAAECAwQFBgcICQ==\r\n--inner--\r\n"

// TestMultipartSignedByGPG: a signed multipart/mixed message verifies in
// gpg and in Verify, and its nested structure comes back unchanged.
func TestMultipartSignedByGPG(t *testing.T) {
	alice, bob, _ := testKeys(t, Ed25519)
	signed, err := Sign([]byte(mixedMessage), alice)
	if err != nil {
		t.Fatal(err)
	}
	parts := rawParts(t, signed)
	if !strings.HasPrefix(string(parts[0]), "Content-Type: multipart/mixed; boundary=\"inner\"\r\n\r\n--inner\r\n") {
		t.Fatalf("first part: got\n%s", parts[0])
	}
	g := gpgWith(t, alice, bob)
	out := string(g.must(nil, "--status-fd", "1", "--verify", g.file("sig.asc", partPayload(t, parts[1])), g.file("data", parts[0])))
	wantStatus(t, "gpg --verify", out, "VALIDSIG "+alice.Fingerprint())
	v, err := Verify(signed, []*Key{alice}, time.Now())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	_, body, _ := strings.Cut(mixedMessage, "\r\n\r\n")
	wantContains(t, "verified message", string(v.Message), body)
}
