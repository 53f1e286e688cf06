package daemon

import (
	"testing"
	"time"
)

func TestKeepChangeKeepsTheLastConfiguringPass(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	configured := ClientState{Client: "thunderbird", Status: StatusConfigured, Actions: []string{"set prefs"}, At: t0}
	unchanged := ClientState{Client: "thunderbird", Status: StatusUnchanged, At: t0.Add(time.Minute)}
	if got := keepChange([]ClientState{configured}, unchanged); got.Status != StatusConfigured || !got.At.Equal(t0) {
		t.Errorf("no-op after a change: got %+v, want the change kept", got)
	}
	failed := ClientState{Client: "thunderbird", Status: StatusFailed, Error: "x"}
	if got := keepChange([]ClientState{configured}, failed); got.Status != StatusFailed {
		t.Errorf("a failure after a change: got %+v, want the failure", got)
	}
	other := ClientState{Client: "gnupg", Status: StatusUnchanged}
	if got := keepChange([]ClientState{configured}, other); got.Client != "gnupg" || got.Status != StatusUnchanged {
		t.Errorf("another client's no-op: got %+v", got)
	}
}
