//go:build windows

package winreg

import "testing"

// TestCurrentUser runs the shared registry behaviour against the real
// HKEY_CURRENT_USER (under Wine in internal/winetest).
func TestCurrentUser(t *testing.T) {
	reg, err := CurrentUser()
	if err != nil {
		t.Fatal(err)
	}
	testRegistry(t, reg)
}
