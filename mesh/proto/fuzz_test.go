package proto

import "testing"

func FuzzParseEnvelope(f *testing.F) {
	k, _ := GenerateSigningKey()
	env, _ := Sign(ContextEntry, []byte(`{"v":1}`), k)
	f.Add(env.Marshal())
	f.Add([]byte(`{"payload":"cA==","signatures":[{"key":"K","sig":"AAAA"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEnvelope(data)
		if err != nil {
			return
		}
		again, err := ParseEnvelope(e.Marshal())
		if err != nil || string(again.Payload) != string(e.Payload) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func FuzzParseEntry(f *testing.F) {
	// Seeds: every entry of a real log.
	k, _ := GenerateSigningKey()
	kem, _ := KEM().GenerateKey()
	acct := AccountID(k.Public())
	for _, e := range []*Entry{
		{V: 1, Account: acct, Time: testTime, Signer: k.ID(), Kind: KindGenesis, Genesis: &Genesis{Handle: "a@b.example", RootKey: k.Public(), Recovery: RecoveryPolicy{2, 3}}},
		{V: 1, Account: acct, Seq: 1, Prev: "MX", Time: testTime, Signer: k.ID(), Kind: KindDeviceAdd, DeviceAdd: &DeviceAdd{Device: DeviceProfile{Name: "d", SignKey: k.Public(), HPKEKey: kem.PublicKey().Bytes()}, Admin: true}},
		{V: 1, Account: acct, Seq: 2, Prev: "MX", Time: testTime, Signer: k.ID(), Kind: KindBundle, Bundle: &BundleRef{Name: "n", Version: 1, Digest: "MD", Devices: []string{"MD"}}},
	} {
		f.Add(e.Marshal())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEntry(data)
		if err != nil {
			return
		}
		if _, err := ParseEntry(e.Marshal()); err != nil {
			t.Fatalf("re-encoded entry does not parse: %v", err)
		}
	})
}

func FuzzReplay(f *testing.F) {
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var log []Envelope
		if Unmarshal(data, &log) != nil {
			return
		}
		st, err := Replay(log)
		if err == nil && st.Seq+1 != uint64(len(log)) {
			t.Fatalf("replayed %d entries to seq %d", len(log), st.Seq)
		}
	})
}
