//go:build linux

package thunderbird

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/internal/atomicfile"
)

// BenchmarkNSSImport compares endymail's whole S/MIME step (stage copies of
// cert9.db/key4.db, CA with trust, certificate under our nickname,
// PKCS#12 import, checks, rename into place) with each backend — the NSS
// tools and Thunderbird's library through nsslib — and a bare pk12util
// import of the same PKCS#12 into the same kind of profile, side by side:
//
//	go test ./clients/thunderbird -run '^$' -bench NSSImport -benchtime 20x
func BenchmarkNSSImport(b *testing.B) {
	ctx := context.Background()
	tools, err := findTools("")
	if err != nil {
		b.Skip(err)
	}
	dir, err := thunderbirdInstall("")
	if err != nil {
		b.Skip(err)
	}
	backends := []struct {
		name string
		db   nssDB
	}{{"endymail-tools", tools}, {"endymail-lib", &nssLib{libDir: dir}}}
	base := startedProfile(b)
	m := testMaterial(b, testAddress)
	fresh := func(b *testing.B) string {
		b.StopTimer()
		defer b.StartTimer()
		dir := filepath.Join(b.TempDir(), "p")
		os.MkdirAll(dir, 0o700)
		for _, f := range []string{certDB, keyDB} {
			if err := atomicfile.Copy(filepath.Join(base, f), filepath.Join(dir, f)); err != nil {
				b.Fatal(err)
			}
		}
		return dir
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for range b.N {
				benchApplySMIME(ctx, b, be.db, fresh(b), m.SMIME)
			}
		})
	}
	b.Run("pk12util", func(b *testing.B) {
		for range b.N {
			dir := fresh(b)
			p12, pw := filepath.Join(dir, "x.p12"), filepath.Join(dir, "x.pw")
			os.WriteFile(p12, m.SMIME.PKCS12, 0o600)
			os.WriteFile(pw, []byte(m.SMIME.Password+"\n"), 0o600)
			cmd := exec.Command(tools.pk12util, "-i", p12, "-d", dbArg(dir), "-w", pw)
			cmd.Env = tools.env
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
		}
	})
}

func benchApplySMIME(ctx context.Context, b *testing.B, db nssDB, dir string, m *clients.SMIME) {
	s, err := newStage(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.cleanup()
	if _, err := s.applySMIME(ctx, db, m, testAddress, &addrState{}); err != nil {
		b.Fatal(err)
	}
	for _, f := range []string{keyDB, certDB} {
		if err := s.place(f, true); err != nil {
			b.Fatal(err)
		}
	}
}
