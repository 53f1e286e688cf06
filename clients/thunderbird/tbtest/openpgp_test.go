package tbtest

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
	"github.com/endymail/endymail/internal/smtpsink"
)

// pgpConfig makes v4 keys as endymail does: Ed25519 (legacy EdDSA)
// primary, Curve25519 ECDH subkey, AES-256/SHA-256, iterated+salted S2K.
var pgpConfig = &packet.Config{
	Algorithm:     packet.PubKeyAlgoEdDSA,
	Curve:         packet.Curve25519,
	DefaultHash:   crypto.SHA256,
	DefaultCipher: packet.CipherAES256,
	S2KConfig:     &s2k.Config{S2KMode: s2k.IteratedSaltedS2K, Hash: crypto.SHA256, S2KCount: 65536},
}

// pgpKey is a generated key with its armored secret (protected with
// passphrase) and public forms.
type pgpKey struct {
	entity     *openpgp.Entity
	keyID      string // 16 upper-case hex digits
	fpr        string // upper-case hex
	secret     string
	public     string
	passphrase string
}

func newPGPKey(t *testing.T, name, email string) *pgpKey {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", email, pgpConfig)
	if err != nil {
		t.Fatal(err)
	}
	k := &pgpKey{entity: e, passphrase: "tbtest " + email,
		keyID: fmt.Sprintf("%016X", e.PrimaryKey.KeyId),
		fpr:   fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)}
	k.public = armored(t, openpgp.PublicKeyType, e.Serialize)
	if err := e.EncryptPrivateKeys([]byte(k.passphrase), pgpConfig); err != nil {
		t.Fatal(err)
	}
	k.secret = armored(t, openpgp.PrivateKeyType, func(w io.Writer) error {
		return e.SerializePrivateWithoutSigning(w, pgpConfig)
	})
	return k
}

func armored(t *testing.T, blockType string, serialize func(io.Writer) error) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, blockType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func testOpenPGP(t *testing.T, base string) {
	ctx := testCtx(t)
	aliceKey := newPGPKey(t, "Alice Test", alice)
	bobKey := newPGPKey(t, "Bob Test", bob)
	sink := smtpsink.Start(t)
	tb := startWithAccount(t, ctx, CopyProfile(t, base), sink)

	importPGPKeys(t, ctx, tb, aliceKey, bobKey)
	if _, err := tb.SetIdentityAttributes(ctx, alice, map[string]any{
		"openpgp_key_id": aliceKey.keyID, "e2etechpref": 2, "encryptionpolicy": 2, "sign_mail": true,
	}); err != nil {
		t.Fatal(err)
	}

	subject := "openpgp " + t.Name()
	sent, err := tb.SendMessage(ctx, Message{From: alice, To: []string{bob}, Subject: subject,
		Body: "Secret for Bob over OpenPGP.\n", Auto: true})
	if err != nil {
		t.Fatal(err)
	}
	if !sent.Sign || !sent.Encrypt || sent.Tech != OpenPGP {
		t.Errorf("compose defaults: got %+v, want OpenPGP signed and encrypted", sent)
	}
	msgs, err := sink.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	raw := msgs[0].Data
	hdr := parseHeader(t, raw)
	if got := hdr.Get("Subject"); got != "..." {
		t.Errorf("outer Subject: got %q, want \"...\" (protect_subject defaults to true)", got)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/encrypted") ||
		!strings.Contains(ct, "application/pgp-encrypted") {
		t.Fatalf("Content-Type: got %q, want multipart/encrypted PGP/MIME\n%s", ct, raw)
	}
	if bytes.Contains(raw, []byte("Secret for Bob")) {
		t.Error("the body travelled in clear text")
	}
	plain, status := DecryptPGPMIME(t, raw, bobKey.secret, bobKey.passphrase, aliceKey.public)
	if !bytes.Contains(plain, []byte("Secret for Bob over OpenPGP.")) || !bytes.Contains(plain, []byte(subject)) {
		t.Errorf("gpg plaintext lacks the body or the protected subject:\n%s", plain)
	}
	if !strings.Contains(status, "[GNUPG:] VALIDSIG "+aliceKey.fpr) {
		t.Errorf("gpg found no valid signature by %s:\n%s", aliceKey.fpr, status)
	}
	if err := tb.Quit(); err != nil {
		t.Error(err)
	}
	if missing := MissingFiles(tb.Dir, []string{"pubring.gpg", "secring.gpg"}); len(missing) > 0 {
		t.Errorf("after import and quit, the profile lacks %v", missing)
	}
}

// importPGPKeys imports own's secret key and peer's public key through
// Thunderbird's OpenPGP API and checks that own's is usable to send.
func importPGPKeys(t *testing.T, ctx context.Context, tb *Instance, own, peer *pgpKey) {
	t.Helper()
	if st, err := tb.OwnOpenPGPKeyUsable(ctx, own.keyID); err != nil || st.Found {
		t.Fatalf("before import: got %+v, %v; want not found", st, err)
	}
	fprs, err := tb.ImportOpenPGPSecretKey(ctx, own.secret, own.passphrase)
	if err != nil {
		t.Fatal(err)
	}
	if len(fprs) != 1 || !strings.EqualFold(fprs[0], own.fpr) {
		t.Fatalf("imported secret keys: got %v, want [%s]", fprs, own.fpr)
	}
	if _, err := tb.ImportOpenPGPPublicKey(ctx, peer.public); err != nil {
		t.Fatal(err)
	}
	st, err := tb.OwnOpenPGPKeyUsable(ctx, own.keyID)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Found || !st.SecretAvailable || !st.Personal || st.ErrorMsg != "" {
		t.Fatalf("OwnOpenPGPKeyUsable(%s): got %+v, want a usable personal key", own.keyID, st)
	}
}

// testSecretKeyBeforeFirstStart proves the known trap that the harness
// must report rather than hang on: a secret key in a profile that never
// started (no encrypted-openpgp-passphrase.txt) makes Thunderbird raise
// "OpenPGP corruption detected" at startup, before its main window
// appears. The same key files in a first-started profile start fine.
func testSecretKeyBeforeFirstStart(t *testing.T, base string) {
	k := newPGPKey(t, "Alice Test", alice)
	var sec, pub bytes.Buffer
	if err := k.entity.SerializePrivateWithoutSigning(&sec, pgpConfig); err != nil {
		t.Fatal(err)
	}
	if err := k.entity.Serialize(&pub); err != nil {
		t.Fatal(err)
	}
	addKeyrings := func(dir string) string {
		writeFile(t, filepath.Join(dir, "secring.gpg"), sec.Bytes())
		writeFile(t, filepath.Join(dir, "pubring.gpg"), pub.Bytes())
		return dir
	}

	tb, err := Launch(t, addKeyrings(CopyProfile(t, base)), Options{})
	if err != nil {
		t.Fatalf("first-started profile with keyrings: %v", err)
	}
	if err := tb.Quit(); err != nil {
		t.Error(err)
	}

	_, err = Launch(t, addKeyrings(NewProfile(t)), Options{StartTimeout: 30 * time.Second})
	if !errors.Is(err, ErrStartupBlocked) || !strings.Contains(err.Error(), "OpenPGP corruption detected") {
		t.Fatalf("never-started profile with keyrings: got %v, want ErrStartupBlocked naming OpenPGP corruption", err)
	}
}
