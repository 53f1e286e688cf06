package nsslib

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// seedRequests are valid requests of every kind.
var seedRequests = []Request{
	{Version: ProtocolVersion, Lib: "/usr/lib/thunderbird", DB: "/tmp/p", Ops: []Op{{Kind: Create}, {Kind: List}, {Kind: Keys}}},
	{Version: ProtocolVersion, Lib: "/l", DB: "/d", Ops: []Op{
		{Kind: AddCert, Nick: "endymail CA 0123", Trust: ",C,", Data: []byte{0x30, 0x03, 0x02, 0x01, 0x01}},
		{Kind: SetTrust, Nick: "n", Trust: "CT,C,C"},
		{Kind: ImportPKCS12, Data: []byte{0x30, 0x80}, Password: "pässwörd"},
		{Kind: Delete, Nick: "n", WithKey: true}, {Kind: Certs, Nick: "n"},
		{Kind: Find, Data: []byte{1}}, {Kind: Decrypt, Data: []byte("MDIEEPgAAAAAAAAAAAAAAAAAAAEwFAYIKoZIhvcNAwcECA")},
		{Kind: ByEmail, Nick: "a@example.com"}, {Kind: AddModule, Nick: "Builtin Roots Module", Library: "/usr/lib/libnssckbi.so"},
		{Kind: Verify, Data: []byte{0x30, 0}}, {Kind: Chain, Nick: "n"},
	}},
}

func TestDecodeRequestRoundTrip(t *testing.T) {
	for _, req := range seedRequests {
		data, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeRequest(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("DecodeRequest(%s): %v", data, err)
		}
		again, _ := json.Marshal(got)
		if !bytes.Equal(again, data) {
			t.Errorf("round trip: got %s, want %s", again, data)
		}
	}
}

func TestDecodeRequestRefuses(t *testing.T) {
	for _, bad := range []string{
		``, `{}`, `[]`, `{"v":2,"lib":"/l","db":"/d","ops":[{"op":"list"}]}`,
		`{"v":1,"lib":"l","db":"/d","ops":[{"op":"list"}]}`,
		`{"v":1,"lib":"/l","db":"/d","ops":[]}`,
		`{"v":1,"lib":"/l","db":"/d","ops":[{"op":"format"}]}`,
		`{"v":1,"lib":"/l","db":"/d","ops":[{"op":"certs"}]}`,
		`{"v":1,"lib":"/l","db":"/d","ops":[{"op":"add","nick":"n","trust":",,"}]}`,
		`{"v":1,"lib":"/l","db":"/d","ops":[{"op":"trust","nick":"n","trust":"C"}]}`,
		`{"v":1,"lib":"/l","db":"/d","ops":[{"op":"certs","nick":"a\u0000b"}]}`,
		`{"v":1,"lib":"/l","db":"/d","ops":[{"op":"list"}],"extra":1}`,
		`{"v":1,"lib":"/l","db":"/d","ops":[{"op":"module","nick":"m","library":"libnssckbi.so"}]}`,
		`{"v":1,"lib":"/l","db":"/d","ops":[{"op":"list"}]} {}`,
		`{"v":1,"lib":"/l","db":"/d","ops":[` + strings.Repeat(`{"op":"list"},`, maxOps) + `{"op":"list"}]}`,
	} {
		if _, err := DecodeRequest(strings.NewReader(bad)); !errors.Is(err, ErrProtocol) {
			t.Errorf("DecodeRequest(%.80s): got %v, want ErrProtocol", bad, err)
		}
	}
}

func TestDecodeResponseCountsResults(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		fail bool
	}{
		{`{"v":1,"results":[{},{}]}`, 2, false},
		{`{"v":1,"results":[{}]}`, 2, true},
		{`{"v":1,"results":[{}],"error":{"op":"add","what":"x","code":-8182,"name":"SEC_ERROR_BAD_DATABASE"}}`, 2, false},
		{`{"v":1,"results":[{},{},{}]}`, 2, true},
		{`{"v":0,"results":[]}`, 0, true},
	} {
		_, err := DecodeResponse(strings.NewReader(tc.in), tc.n)
		if (err != nil) != tc.fail {
			t.Errorf("DecodeResponse(%s, %d): got %v, want failure %v", tc.in, tc.n, err, tc.fail)
		}
	}
}

func TestErrorIsBadDatabase(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want bool
	}{
		{Error{Op: List, Name: "SEC_ERROR_BAD_DATABASE"}, true},
		{Error{Op: opInit, Name: "SEC_ERROR_LEGACY_DATABASE"}, true},
		{Error{Op: opInit, Name: "SEC_ERROR_PKCS11_GENERAL_ERROR"}, true},
		{Error{Op: AddCert, Name: "SEC_ERROR_PKCS11_GENERAL_ERROR"}, false},
		{Error{Op: ImportPKCS12, Name: "SEC_ERROR_BAD_PASSWORD"}, false},
	} {
		if got := errors.Is(&tc.e, ErrBadDatabase); got != tc.want {
			t.Errorf("errors.Is(%v, ErrBadDatabase): got %v, want %v", &tc.e, got, tc.want)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, req := range seedRequests {
		data, _ := json.Marshal(req)
		f.Add(data)
	}
	f.Add([]byte(`{"v":1,"lib":"/l","db":"/d","ops":[{"op":"sdr","data":"!!"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeRequest(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v does not wrap ErrProtocol", err)
			}
			return
		}
		// What decodes must encode and decode to the same request.
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		req2, err := DecodeRequest(bytes.NewReader(again))
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if again2, _ := json.Marshal(req2); !bytes.Equal(again, again2) {
			t.Fatalf("unstable: %s then %s", again, again2)
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"v":1,"results":[{"trust":{"a":"u,u,u"}},{"certs":["MAA="]},{"keys":["k"]},{"found":true,"flags":",C,"},{"plain":"cGFzcw=="},{"nicks":["ca","(null)"]},{"reason":"SEC_ERROR_UNTRUSTED_ISSUER"}]}`), 7)
	f.Add([]byte(`{"v":1,"results":[],"error":{"op":"init","what":"open","code":-8174,"name":"SEC_ERROR_BAD_DATABASE"}}`), 1)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		resp, err := DecodeResponse(bytes.NewReader(data), n)
		if err != nil {
			return
		}
		if len(resp.Results) > n || (resp.Err == nil && len(resp.Results) != n) {
			t.Fatalf("accepted %d results for %d operations", len(resp.Results), n)
		}
	})
}
