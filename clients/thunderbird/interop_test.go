//go:build linux

package thunderbird

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/internal/interop"
)

// checkApplied verifies m in the profile with the real tools: NSS's
// certutil (under Thunderbird's NSS), rnp, sqlite3, openssl, and the exact
// prefs.js lines.
func checkApplied(t testing.TB, dir string, m clients.Material) {
	t.Helper()
	checkNSS(t, dir, m)
	checkRNP(t, dir, m)
	sqlite := interop.Need(t, "sqlite3", "sqlite3")
	out, err := exec.Command(sqlite, "-readonly", filepath.Join(dir, acceptanceDB),
		"select decision from acceptance_decision where fpr = '"+strings.ToLower(m.OpenPGP.Fingerprint)+"'").CombinedOutput()
	if got := strings.TrimSpace(string(out)); err != nil || got != "personal" {
		t.Errorf("sqlite3 acceptance_decision: got %q (%v), want \"personal\"", got, err)
	}
	dbkey := opensslDBKey(t, m)
	prefs, err := os.ReadFile(filepath.Join(dir, prefsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"id1", "id2"} {
		p := `user_pref("mail.identity.` + id + `.`
		for _, want := range []string{
			p + `signing_cert_name", "endymail alice@example.com");`,
			p + `signing_cert_dbkey", "` + dbkey + `");`,
			p + `encryption_cert_name", "endymail alice@example.com");`,
			p + `encryption_cert_dbkey", "` + dbkey + `");`,
			p + `openpgp_key_id", "` + m.OpenPGP.Fingerprint[24:] + `");`,
			p + `e2etechpref", 2);`,
			p + `sign_mail", true);`,
			p + `encryptionpolicy", 0);`,
			`user_pref("mail.e2ee.auto_enable", true);`,
			`user_pref("mail.e2ee.auto_disable", true);`,
		} {
			if !strings.Contains(string(prefs), want+"\n") {
				t.Errorf("prefs.js lacks the line %s", want)
			}
		}
	}
	if strings.Contains(string(prefs), "mail.identity.id3.sign_mail") {
		t.Errorf("prefs.js: identity id3 (another address) was changed")
	}
}

func checkNSS(t testing.TB, dir string, m clients.Material) {
	t.Helper()
	list := tbNSS(t, nil, "certutil", "-L", "-d", "sql:"+dir)
	for nick, trust := range map[string]string{"endymail alice@example.com": "u,u,u", caNick(m.SMIME.CA.Raw): "c,C,"} {
		if !hasTrustLine(list, nick, trust) && !(trust == "c,C," && hasTrustLine(list, nick, ",C,")) {
			t.Errorf("certutil -L: no line %q with trust %q in\n%s", nick, trust, list)
		}
	}
	pemOut := tbNSS(t, nil, "certutil", "-L", "-d", "sql:"+dir, "-n", "endymail alice@example.com", "-a")
	found := false
	for rest := []byte(pemOut); ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		found = found || string(b.Bytes) == string(m.SMIME.Cert.Raw)
	}
	if !found {
		t.Errorf("certutil -L -n: the applied certificate is not stored under its nickname")
	}
	if keys := nssKeys(t, dir); !strings.Contains(keys, "endymail alice@example.com") {
		t.Errorf("certutil -K: no key for the certificate in\n%s", keys)
	}
}

func hasTrustLine(list, nick, trust string) bool {
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.Join(f[:len(f)-1], " ") == nick && f[len(f)-1] == trust {
			return true
		}
	}
	return false
}

// checkRNP lists the key with rnp over the profile's keyrings and signs
// with the passphrase pwdecrypt reads from Thunderbird's key4.db.
func checkRNP(t testing.TB, dir string, m clients.Material) {
	t.Helper()
	rnp := interop.Need(t, "rnp", "rnp")
	rnpkeys := interop.Need(t, "rnpkeys", "rnp")
	out, err := exec.Command(rnpkeys, "--homedir", dir, "--list-keys").CombinedOutput()
	if err != nil || !strings.Contains(strings.ToLower(string(out)), strings.ToLower(m.OpenPGP.Fingerprint[24:])) {
		t.Errorf("rnpkeys --list-keys: %v, key %s not listed in\n%s", err, m.OpenPGP.Fingerprint, out)
	}
	enc, err := os.ReadFile(filepath.Join(dir, passphraseFile))
	if err != nil {
		t.Fatal(err)
	}
	dec := tbNSS(t, enc, "pwdecrypt", "-d", "sql:"+dir)
	pass, err := strconv.Unquote(strings.TrimPrefix(strings.TrimSpace(dec), "Decrypted: "))
	if err != nil {
		t.Fatalf("pwdecrypt output %q: %v", dec, err)
	}
	msg := filepath.Join(t.TempDir(), "msg")
	os.WriteFile(msg, []byte("hello\n"), 0o600)
	out, err = exec.Command(rnp, "--homedir", dir, "-u", m.OpenPGP.Fingerprint, "--password", pass, "--sign", msg).CombinedOutput()
	if err != nil {
		t.Errorf("rnp --sign with Thunderbird's passphrase: %v\n%s", err, out)
	}
	out, err = exec.Command(rnp, "--homedir", dir, "-u", m.OpenPGP.Fingerprint, "--password", "wrong", "--sign", "--output", msg+".2", msg).CombinedOutput()
	if err == nil {
		t.Errorf("rnp --sign with a wrong passphrase succeeded, want failure (key unprotected?)\n%s", out)
	}
}

// opensslDBKey computes the dbkey independently of DBKey: the serial from
// `openssl x509 -serial`, the issuer's DER located by `openssl asn1parse`.
func opensslDBKey(t testing.TB, m clients.Material) string {
	t.Helper()
	openssl := interop.Need(t, "openssl", "openssl")
	der := filepath.Join(t.TempDir(), "leaf.der")
	os.WriteFile(der, m.SMIME.Cert.Raw, 0o600)
	out, err := exec.Command(openssl, "x509", "-inform", "DER", "-in", der, "-noout", "-serial").Output()
	if err != nil {
		t.Fatal(err)
	}
	serial, err := hex.DecodeString(strings.TrimSpace(strings.TrimPrefix(string(out), "serial=")))
	if err != nil {
		t.Fatal(err)
	}
	if serial[0]&0x80 != 0 {
		serial = append([]byte{0}, serial...)
	}
	issuer := asn1parseIssuer(t, openssl, der)
	key := make([]byte, 16)
	key[11], key[15] = byte(len(serial)), byte(len(issuer))
	key[14] = byte(len(issuer) >> 8)
	return b64(append(append(key, serial...), issuer...))
}

// asn1parseIssuer returns the issuer Name's DER: the fourth element (after
// [0] version, serial, signature algorithm) at depth 2 of the certificate.
func asn1parseIssuer(t testing.TB, openssl, der string) []byte {
	t.Helper()
	out, err := exec.Command(openssl, "asn1parse", "-inform", "DER", "-in", der).Output()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, ":d=2 ") {
			continue
		}
		if n++; n < 4 {
			continue
		}
		var off, hl, l int
		fields := strings.Fields(strings.NewReplacer(":d=2", " ", "hl=", " ", "l=", " ").Replace(line))
		off, _ = strconv.Atoi(fields[0])
		hl, _ = strconv.Atoi(fields[1])
		l, _ = strconv.Atoi(fields[2])
		raw, _ := os.ReadFile(der)
		return raw[off : off+hl+l]
	}
	t.Fatalf("openssl asn1parse: no issuer in\n%s", out)
	return nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
