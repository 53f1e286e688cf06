package openpgp

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/endymail/endymail/internal/interop"
)

// wantAlgos are the algorithm ids peers report for each key type:
// primary and subkey.
var wantAlgos = map[KeyType][2]string{Ed25519: {"22", "18"}, RSA3072: {"1", "1"}}

// TestGPGImportsKeys: gpg 2.2 imports the armored public key and the
// S2K-protected secret key, shows the right algorithms, user ID and
// expiry, reads the S2K as mode 3 (iter+salt), and can use the secret key
// with the passphrase.
func TestGPGImportsKeys(t *testing.T) {
	for _, kt := range keyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			k, _, _ := testKeys(t, kt)
			g := newGPG(t)
			pub, _ := k.ArmoredPublic()
			sec, err := k.ArmoredSecret([]byte(testPassphrase))
			if err != nil {
				t.Fatal(err)
			}
			packets := string(g.must(sec, "--list-packets"))
			if n := strings.Count(packets, "iter+salt S2K, algo: 9, SHA1 protection, hash: 8"); n != 2 {
				t.Errorf("gpg --list-packets: got %d iter+salt S2K (mode 3) AES-256 SHA-256 packets, want 2:\n%s", n, packets)
			}
			if !strings.Contains(packets, "protect count: 65011712") {
				t.Errorf("gpg --list-packets: no protect count 65011712:\n%s", packets)
			}
			g.must(pub, "--import")
			g.must(sec, "--import")
			cols := string(g.must(nil, "--with-colons", "--list-secret-keys", k.Fingerprint()))
			want := []string{
				fmt.Sprintf(`(?m)^sec:[-u]:\d+:%s:%s:\d+:%d:`, wantAlgos[kt][0], k.KeyID(), k.Expires().Unix()),
				fmt.Sprintf(`(?m)^fpr:+%s:`, k.Fingerprint()),
				`(?m)^uid:[-u]:.*:Alice <alice@example.org>:`,
				fmt.Sprintf(`(?m)^ssb:[-u]:\d+:%s:`, wantAlgos[kt][1]),
			}
			for _, re := range want {
				if !regexp.MustCompile(re).MatchString(cols) {
					t.Errorf("gpg --list-secret-keys: no line matching %s in\n%s", re, cols)
				}
			}
			// Using the secret key proves the passphrase unlocks it.
			sig := g.must([]byte("data"), "--local-user", k.Fingerprint(), "--detach-sign")
			if _, err := ParsePublic(pub); err != nil {
				t.Fatal(err)
			}
			if len(sig) == 0 {
				t.Error("gpg made an empty signature")
			}
			prefs := string(g.must(pub, "--list-packets"))
			for _, want := range []string{"pref-sym-algos: 9 7", "(pref-hash-algos: 8)", "(features: 01)", "version 4, algo " + wantAlgos[kt][0]} {
				if !strings.Contains(prefs, want) {
					t.Errorf("gpg --list-packets of the public key: no %q in\n%s", want, prefs)
				}
			}
		})
	}
}

// TestRNPImportsKeys: rnp 0.16 (Thunderbird's OpenPGP engine) imports the
// public and the protected secret key and signs with the passphrase.
func TestRNPImportsKeys(t *testing.T) {
	for _, kt := range keyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			k, _, _ := testKeys(t, kt)
			keys := newRNP(t, "rnpkeys")
			pub, _ := k.ArmoredPublic()
			sec, _ := k.ArmoredSecret([]byte(testPassphrase))
			keys.must(nil, "--import", keys.file("pub.asc", pub))
			keys.must(nil, "--import", keys.file("sec.asc", sec))
			list := string(keys.must(nil, "--list-keys", "--secret"))
			if !strings.Contains(strings.ToUpper(list), k.KeyID()) || !strings.Contains(list, "Alice <alice@example.org>") {
				t.Errorf("rnpkeys --list-keys --secret: want key %s and its user ID in\n%s", k.KeyID(), list)
			}
			if want := k.Expires().UTC().Format("2006-01-02"); !strings.Contains(list, want) {
				t.Errorf("rnpkeys --list-keys: no expiry %s in\n%s", want, list)
			}
			rnp := keys.with("rnp", "rnp")
			data := rnp.file("data", []byte("data\n"))
			rnp.must(nil, "--password", testPassphrase, "--sign", "--detach", "-u", k.Fingerprint(), data)
			rnp.must(nil, "--verify", data+".sig")
			dump := string(rnp.must(nil, "--list-packets", rnp.file("s.asc", sec)))
			if n := strings.Count(dump, "s2k specifier: 3"); n != 2 {
				t.Errorf("rnp --list-packets: got %d 's2k specifier: 3', want 2:\n%s", n, dump)
			}
		})
	}
}

// TestSQReadsKeys: sq (stateless 0.27) inspects the certificate and the
// protected key, and removes the protection with the passphrase typed on a
// terminal (sq reads passwords only from a tty, so `script` provides one).
func TestSQReadsKeys(t *testing.T) {
	for _, kt := range keyTypes {
		t.Run(kt.String(), func(t *testing.T) {
			k, _, _ := testKeys(t, kt)
			sq := newSQ(t)
			pub, _ := k.ArmoredPublic()
			sec, _ := k.ArmoredSecret([]byte(testPassphrase))
			info := string(sq.must(nil, "inspect", sq.file("pub.asc", pub)))
			if !strings.Contains(info, k.Fingerprint()) || !strings.Contains(info, "Alice <alice@example.org>") || !strings.Contains(info, "Expiration time:") {
				t.Errorf("sq inspect: want fingerprint, user ID and expiry in\n%s", info)
			}
			info = string(sq.must(nil, "inspect", sq.file("sec.asc", sec)))
			if !strings.Contains(info, "Secret key: Encrypted") {
				t.Errorf("sq inspect secret: want 'Secret key: Encrypted' in\n%s", info)
			}
			dump := string(sq.must(nil, "packet", "dump", sq.file("sec2.asc", sec)))
			if n := strings.Count(dump, "S2K: Iterated"); n != 2 {
				t.Errorf("sq packet dump: got %d 'S2K: Iterated', want 2:\n%s", n, dump)
			}
			clear := sqClear(t, sq, "sec.asc")
			back, err := ParseKey(clear)
			if err != nil || back.Fingerprint() != k.Fingerprint() {
				t.Fatalf("ParseKey(sq key password --clear): got %v, %v; want %s", back, err, k.Fingerprint())
			}
		})
	}
}

// sqClear runs `sq key password --clear` on a key file in sq's home,
// typing testPassphrase on a pseudo-terminal, and returns the binary key.
func sqClear(t *testing.T, sq *peer, name string) []byte {
	t.Helper()
	script := interop.Need(t, "script", "bsdutils")
	sh := &peer{t: t, bin: interop.Need(t, "sh", "dash"), home: sq.home}
	// sq opens the terminal after start-up and may drop what was typed
	// before: type the passphrase a little later, later again on a retry
	// (these machines are shared and slow).
	var stderr string
	for _, delay := range []int{1, 3, 6} {
		cmd := fmt.Sprintf("(sleep %d; echo '%s') | %s -qec '%s key password --clear --binary -o clear.pgp %s' /dev/null",
			delay, testPassphrase, script, sq.bin, name)
		var err error
		if _, stderr, err = sh.run(nil, "-c", cmd); err == nil {
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(sq.home, "clear.pgp"))
	if err != nil {
		t.Fatalf("sq key password --clear wrote no key: %v\n%s", err, stderr)
	}
	return data
}
