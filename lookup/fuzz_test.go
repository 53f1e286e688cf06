package lookup

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/endymail/endymail/mesh/proto"
)

// FuzzVerify feeds arbitrary source answers to the checks: they never panic
// and never accept a key without alice's user ID. Seeds are the fixed
// vectors in testdata (the fuzzing engine needs the same seeds in every
// worker, so no key is generated here).
func FuzzVerify(f *testing.F) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, name := range []string{"alice.pub.asc", "bob.pub.asc", "carol-revoked-uid.pub.asc"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		if k, err := checkOpenPGP(data, alice, now); err == nil {
			raw, _ := k.SerializePublic()
			f.Add(raw)
		}
	}
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n"))
	l, _ := json.Marshal(proto.Lookup{Address: alice, Account: "MXXX", Log: []proto.Envelope{{Payload: []byte("{}")}}})
	f.Add(l)
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := checkOpenPGP(data, alice, now); err == nil {
			if live, _ := liveUserIDs(k, now); !hasAddress(live, alice) {
				t.Fatalf("accepted key %s without a live user ID for %s", k.Fingerprint(), alice)
			}
		}
		var l proto.Lookup
		if proto.Unmarshal(data, &l) == nil {
			if rec, err := verifyMesh(l, alice, &Record{Source: SourceMesh, Account: l.Account, Seq: 1, Head: "x"}, now); err == nil && rec == nil {
				t.Fatal("verifyMesh returned neither record nor error")
			}
		}
	})
}

func TestVectors(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	alicePub, _ := os.ReadFile("testdata/alice.pub.asc")
	bobPub, _ := os.ReadFile("testdata/bob.pub.asc")
	if k, err := checkOpenPGP(alicePub, alice, now); err != nil || k.Fingerprint() != "42DBA48CCDD0667D39F4A6DBEBF78D6B3BB3C8A1" {
		t.Errorf("alice's vector: %v %v", k, err)
	}
	if _, err := checkOpenPGP(bobPub, alice, now); !errors.Is(err, ErrWrongUserID) {
		t.Errorf("bob's key for alice: %v, want ErrWrongUserID", err)
	}
	if _, err := checkOpenPGP(alicePub, alice, time.Date(2037, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrExpired) {
		t.Errorf("alice's key after it expired: %v, want ErrExpired", err)
	}
	if _, err := checkOpenPGP(alicePub[:len(alicePub)/2], alice, now); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated key: %v, want ErrMalformed", err)
	}
}
