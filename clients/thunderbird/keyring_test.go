package thunderbird

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/endymail/endymail/clients"
)

func TestKeyringSplitReplaceRemove(t *testing.T) {
	a, b := testOpenPGP(t, "a@example.com"), testOpenPGP(t, "b@example.com")
	ring := append(append([]byte{}, a.Public...), b.Public...)
	blocks, err := splitKeyring("ring", ring)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 || blocks[0].fingerprint != a.Fingerprint || blocks[1].fingerprint != b.Fingerprint {
		t.Fatalf("got %d blocks, want a then b", len(blocks))
	}
	if !bytes.Equal(blocks[0].raw, a.Public) || !bytes.Equal(blocks[1].raw, b.Public) {
		t.Errorf("blocks do not keep the original bytes")
	}
	a2 := testOpenPGP(t, "a@example.com")
	if got := withKey(blocks, keyBlock{raw: a.Public, fingerprint: a.Fingerprint}); !bytes.Equal(got, ring) {
		t.Errorf("withKey of a key already there changed the ring")
	}
	if got, want := withKey(blocks, keyBlock{raw: a2.Public, fingerprint: a2.Fingerprint}), append(append([]byte{}, ring...), a2.Public...); !bytes.Equal(got, want) {
		t.Errorf("withKey of a new key: not appended")
	}
	if got := withoutKey(blocks, a.Fingerprint); !bytes.Equal(got, b.Public) {
		t.Errorf("withoutKey(a): got %d bytes, want b's %d", len(got), len(b.Public))
	}
}

func TestProtectedSecret(t *testing.T) {
	k := testOpenPGP(t, "a@example.com")
	pass := []byte("0123456789abcdef0123456789abcdef")
	got, err := protectedSecret(k.Secret, k.Fingerprint, pass)
	if err != nil {
		t.Fatal(err)
	}
	if !unlocks(got, pass) {
		t.Errorf("protected key does not unlock with the passphrase")
	}
	if unlocks(got, []byte("wrong")) {
		t.Errorf("protected key unlocks with a wrong passphrase")
	}
	e, err := openpgp.ReadEntity(packet.NewReader(bytes.NewReader(got)))
	if err != nil {
		t.Fatal(err)
	}
	if !e.PrivateKey.Encrypted || len(e.Subkeys) != 1 || !e.Subkeys[0].PrivateKey.Encrypted {
		t.Errorf("primary or subkey left unprotected")
	}
	if _, err := protectedSecret(got, k.Fingerprint, pass); !errors.Is(err, clients.ErrCorrupt) {
		t.Errorf("protecting an already protected key: got %v, want ErrCorrupt", err)
	}
	other := testOpenPGP(t, "b@example.com")
	if _, err := protectedSecret(k.Secret, other.Fingerprint, pass); !errors.Is(err, clients.ErrCorrupt) {
		t.Errorf("fingerprint mismatch: got %v, want ErrCorrupt", err)
	}
}

func TestPacketHeader(t *testing.T) {
	body := make([]byte, 300)
	tests := []struct {
		name      string
		data      []byte
		tag       byte
		total     int
		wantError bool
	}{
		{"old one-octet", append([]byte{0x99 &^ 3, 5}, body[:5]...), 6, 7, false},
		{"old two-octet", append([]byte{0x99, 0x01, 0x2c}, body...), 6, 303, false},
		{"old four-octet", append([]byte{0x96, 0, 0, 0, 3}, body[:3]...), 5, 8, false},
		{"new one-octet", append([]byte{0xc6, 3}, body[:3]...), 6, 5, false},
		{"new two-octet", append([]byte{0xc6, 192, 108}, body...), 6, 303, false},
		{"new five-octet", append([]byte{0xc5, 255, 0, 0, 0, 2}, body[:2]...), 5, 8, false},
		{"new partial", append([]byte{0xc6, 0xe1}, body[:2]...), 0, 0, true},
		{"old indeterminate", []byte{0x9b, 1, 2}, 0, 0, true},
		{"not a packet", []byte{0x06, 1}, 0, 0, true},
		{"runs past end", []byte{0xc6, 10, 1}, 0, 0, true},
		{"truncated", []byte{0xc6}, 0, 0, true},
	}
	for _, tt := range tests {
		tag, total, err := packetHeader(tt.data)
		if (err != nil) != tt.wantError || tag != tt.tag || total != tt.total {
			t.Errorf("%s: got tag %d, total %d, err %v; want %d, %d, error %v", tt.name, tag, total, err, tt.tag, tt.total, tt.wantError)
		}
	}
}

func FuzzSplitKeyring(f *testing.F) {
	k := testOpenPGP(f, "a@example.com")
	f.Add(k.Public)
	f.Add(k.Secret)
	f.Add(append(append([]byte{}, k.Public...), k.Public...))
	f.Fuzz(func(t *testing.T, data []byte) {
		blocks, err := splitKeyring("fuzz", data)
		if err != nil {
			if !errors.Is(err, clients.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		var joined []byte
		for _, b := range blocks {
			if len(b.fingerprint) != 40 && len(b.fingerprint) != 64 { // v4 or v6
				t.Fatalf("fingerprint %q", b.fingerprint)
			}
			joined = append(joined, b.raw...)
		}
		if !bytes.Equal(joined, data) {
			t.Fatalf("blocks do not add up to the keyring")
		}
	})
}
