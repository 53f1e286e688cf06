package nsslib

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	ServeIfHelper()
	os.Exit(m.Run())
}

// TestWindowsLoader runs only under Wine, started by TestWineLoader with
// NSSLIB_WINE_LIBDIR naming a folder whose nss3.dll exports nothing: the
// helper process starts, LoadLibraryEx loads the DLL, and the missing
// functions come back as an error naming the first one.
func TestWindowsLoader(t *testing.T) {
	dir := os.Getenv("NSSLIB_WINE_LIBDIR")
	if dir == "" {
		t.Skip("run by TestWineLoader under Wine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Run(ctx, dir, `C:\nonexistent-profile`, Op{Kind: List})
	var e *Error
	if !errors.As(err, &e) || e.Op != opInit || !strings.Contains(e.What, "function NSS_Initialize not found") {
		t.Fatalf("Run with an nss3.dll without NSS: got %v, want the init error naming NSS_Initialize", err)
	}
	t.Logf("Run: %v", err)
}
