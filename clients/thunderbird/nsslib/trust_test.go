//go:build linux || darwin || windows

package nsslib

import (
	"bytes"
	"testing"
)

// TestTrustFlags checks the formatting against strings certutil prints
// (NSS cmd/lib/secutil.c printflags).
func TestTrustFlags(t *testing.T) {
	for _, tc := range []struct {
		flags uint32
		want  string
	}{
		{0, ""},
		{trustValidCA | trustTrustedCA, "C"},
		{trustValidCA | trustTrustedCA | trustTrustedClient, "CT"},
		{trustValidCA, "c"},
		{trustTerminalRecord, "p"},
		{trustTerminalRecord | trustTrusted, "P"},
		{trustUser, "u"},
		{trustValidCA | trustTrustedCA | trustUser | trustSendWarn | trustInvisibleCA | trustGovtApproved, "CuwIG"},
	} {
		if got := trustFlags(tc.flags); got != tc.want {
			t.Errorf("trustFlags(%#x): got %q, want %q", tc.flags, got, tc.want)
		}
	}
}

func TestUCS2Password(t *testing.T) {
	got := ucs2Password("aé")
	want := []byte{0, 'a', 0, 0xe9, 0, 0}
	if !bytes.Equal(got, want) {
		t.Errorf("ucs2Password(aé): got %x, want %x", got, want)
	}
}
