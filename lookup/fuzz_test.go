package lookup

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/proto"
)

// FuzzVerify feeds arbitrary source answers to the checks: they never panic
// and never accept a key without alice's user ID.
func FuzzVerify(f *testing.F) {
	now := time.Now()
	key, _ := pgpKey(f, alice, now, 0)
	other, _ := pgpKey(f, "bob@example.com", now, 0)
	f.Add(key)
	f.Add(other)
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n"))
	l, _ := json.Marshal(proto.Lookup{Address: alice, Account: "MXXX", Log: []proto.Envelope{{Payload: []byte("{}")}}})
	f.Add(l)
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := checkOpenPGP(data, alice, now); err == nil && !hasAddress(k.UserIDs(), alice) {
			t.Fatalf("accepted key %s without %s", k.Fingerprint(), alice)
		}
		var l proto.Lookup
		if proto.Unmarshal(data, &l) == nil {
			if rec, err := verifyMesh(l, alice, &Record{Source: SourceMesh, Account: l.Account, Seq: 1, Head: "x"}, now); err == nil && rec == nil {
				t.Fatal("verifyMesh returned neither record nor error")
			}
		}
	})
}
