package thunderbird

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/thunderbird/prefs"
)

func TestIdentitiesFromThunderbirdPrefs(t *testing.T) {
	src, err := os.ReadFile("prefs/testdata/prefs.js")
	if err != nil {
		t.Fatal(err)
	}
	p, err := prefs.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	ids := Identities(p)
	want := []IdentityPrefs{
		{Key: "id1", Account: "account1", Address: "alice@example.com", Name: `Alice Exämple "Q"`},
		{Key: "id2", Account: "account1", Address: "Alice@Example.com", Name: "Alice (work)"},
	}
	if len(ids) != len(want) {
		t.Fatalf("Identities: got %+v, want %+v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Errorf("identity %d: got %+v, want %+v", i, ids[i], want[i])
		}
	}
	if got := identitiesFor(p, "ALICE@example.com"); strings.Join(got, ",") != "id1,id2" {
		t.Errorf("identitiesFor: got %v, want [id1 id2]", got)
	}
}

// writeRoot makes a root folder with the given profiles.ini and installs.ini
// (skipped when "").
func writeRoot(t *testing.T, profilesINI, installsINI string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "profiles.ini"), []byte(profilesINI), 0o600); err != nil {
		t.Fatal(err)
	}
	if installsINI != "" {
		if err := os.WriteFile(filepath.Join(root, "installs.ini"), []byte(installsINI), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReadProfilesThunderbird(t *testing.T) {
	root := writeRoot(t, readTestdata(t, "profiles.ini"), readTestdata(t, "installs.ini"))
	ps, err := ReadProfiles(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("got %d profiles, want 2: %+v", len(ps), ps)
	}
	// The [Install…] Default= wins over Default=1 and comes first.
	want := Profile{Name: "default-default", Dir: filepath.Join(root, "y2f3nm3a.default-default"), Default: true}
	if ps[0] != want {
		t.Errorf("first profile: got %+v, want %+v", ps[0], want)
	}
	if ps[1].Default || ps[1].Name != "default" {
		t.Errorf("second profile: got %+v, want the non-default \"default\"", ps[1])
	}
}

func TestReadProfilesDefaults(t *testing.T) {
	tests := []struct {
		name, ini, installs, wantDefault string
	}{
		{"marked", "[Profile0]\nName=a\nIsRelative=1\nPath=a\n\n[Profile1]\nName=b\nIsRelative=1\nPath=b\nDefault=1\n", "", "b"},
		{"only", "[General]\nVersion=2\n[Profile0]\nName=solo\nIsRelative=1\nPath=Profiles/solo\n", "", "solo"},
		{"installs.ini", "[Profile0]\nName=a\nIsRelative=1\nPath=a\nDefault=1\n[Profile1]\nName=b\nIsRelative=1\nPath=b\n", "[ABCDEF]\nDefault=b\nLocked=1\n", "b"},
		{"absolute", "[Profile0]\nName=abs\nIsRelative=0\nPath=/srv/tb/abs\n[Profile1]\nName=x\nIsRelative=1\nPath=x\n[InstallX]\nDefault=/srv/tb/abs\n", "", "abs"},
		{"none", "[Profile0]\nName=a\nIsRelative=1\nPath=a\n[Profile1]\nName=b\nIsRelative=1\nPath=b\n", "", ""},
		{"crlf and comments", "; comment\r\n[Profile0]\r\n# another\r\nName=c\r\nIsRelative=1\r\nPath=c\r\n", "", "c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := ReadProfiles(writeRoot(t, tt.ini, tt.installs))
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, p := range ps {
				if p.Default {
					got = p.Name
				}
			}
			if got != tt.wantDefault {
				t.Errorf("default profile: got %q, want %q (%+v)", got, tt.wantDefault, ps)
			}
		})
	}
}

func TestReadProfilesErrors(t *testing.T) {
	if ps, err := ReadProfiles(t.TempDir()); err != nil || ps != nil {
		t.Errorf("no profiles.ini: got %v, %v; want none, nil", ps, err)
	}
	for _, ini := range []string{"Name=outside\n", "[Profile0\nPath=x\n", "[Profile0]\nno equals sign\n"} {
		_, err := ReadProfiles(writeRoot(t, ini, ""))
		if !errors.Is(err, clients.ErrCorrupt) {
			t.Errorf("profiles.ini %q: got %v, want ErrCorrupt", ini, err)
		}
	}
}

func TestDefaultRoots(t *testing.T) {
	roots, err := DefaultRoots("/home/u")
	if err != nil {
		t.Skipf("no roots here: %v", err)
	}
	if len(roots) == 0 || !strings.Contains(strings.ToLower(strings.Join(roots, " ")), "thunderbird") {
		t.Errorf("DefaultRoots: got %v", roots)
	}
}

func FuzzParseINI(f *testing.F) {
	for _, name := range []string{"profiles.ini", "installs.ini"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("[Profile0]\r\nPath=/abs\r\nIsRelative=0\r\n[InstallX]\nDefault=/abs\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		ini, err := parseINI("fuzz.ini", src)
		if err != nil {
			if !errors.Is(err, clients.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		ps := profilesFromINI("/root", ini, installDefaults(ini))
		defaults := 0
		for _, p := range ps {
			if p.Default {
				defaults++
			}
		}
		if defaults > 1 || defaults == 1 && !ps[0].Default {
			t.Fatalf("got %d defaults (first %v), want at most one, listed first", defaults, len(ps) > 0 && ps[0].Default)
		}
	})
}
