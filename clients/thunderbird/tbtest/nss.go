package tbtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/endymail/endymail/internal/interop"
)

// NSSLibDir holds Thunderbird's own NSS, newer than the system's; the NSS
// tools must load it to read a Thunderbird profile's key4.db.
const NSSLibDir = "/usr/lib/thunderbird"

// RunNSSTool runs an NSS command-line tool (certutil, pk12util, pwdecrypt,
// cmsutil from libnss3-tools) with Thunderbird's NSS libraries and returns
// its combined output; it fails t when the tool fails or runs over a
// minute. Run it only while Thunderbird is not running on that profile.
func RunNSSTool(t testing.TB, tool string, args ...string) string {
	t.Helper()
	bin := interop.Need(t, tool, "libnss3-tools")
	interop.NeedFile(t, filepath.Join(NSSLibDir, "libnss3.so"), "thunderbird")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+NSSLibDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}
