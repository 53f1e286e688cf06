package outlook

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/endymail/endymail/clients/windows/winreg"
)

const profileKey = `Software\Microsoft\Office\16.0\Outlook\Profiles\Outlook`

func TestProfiles(t *testing.T) {
	reg := winreg.NewMemory()
	for _, k := range []string{
		`Software\Microsoft\Office\15.0\Outlook\Profiles\Old`,
		profileKey + `\9375CFF0413111d3B88A00104B2A6676`,
		`Software\Microsoft\Office\16.0\Outlook\Profiles\Work`,
		`Software\Microsoft\Office\16.0\Word\Options`,
		legacyKey + `\Legacy`,
	} {
		if err := reg.Set(k, "x", winreg.DWordValue(1)); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := Profiles(reg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Version+"/"+p.Name)
	}
	want := []string{"16.0/Outlook", "16.0/Work", "15.0/Old", "/Legacy"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Profiles: got %v, want %v", got, want)
	}
	if ps, err := Profiles(winreg.NewMemory()); err != nil || len(ps) != 0 {
		t.Errorf("Profiles of empty registry: got %v, %v", ps, err)
	}
}

func TestApplyToExistingSettingsAndRestore(t *testing.T) {
	mem := winreg.NewMemory()
	orig := readHex(t, "testdata/activatesignatures-x86.hex")
	key := profileKey + `\` + SecurityKey
	if err := mem.Set(key, SettingsValue, winreg.BinaryValue(orig)); err != nil {
		t.Fatal(err)
	}
	p := Profile{Key: profileKey, Name: "Outlook", Version: "16.0"}
	sign, enc := mustThumb(t, "1111111111111111111111111111111111111111"), mustThumb(t, "2222222222222222222222222222222222222222")
	j := winreg.NewJournal(mem)
	if err := Apply(j, p, sign, enc, Options{SignByDefault: true}); err != nil {
		t.Fatal(err)
	}
	v, err := mem.Get(key, SettingsValue)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := DecodeSettings(v.Bin)
	if err != nil {
		t.Fatal(err)
	}
	if ss.Layout != Layout32 || len(ss.Settings) != 2 {
		t.Fatalf("got layout %d with %d settings, want the existing 32-bit layout and 2", ss.Layout, len(ss.Settings))
	}
	theirs, ours := ss.Settings[0], ss.Settings[1]
	if theirs.Flags() != SendCertificates {
		t.Errorf("existing setting flags: got %b, want only SendCertificates", theirs.Flags())
	}
	if got, _ := theirs.SigningCert(); got != mustThumb(t, fixtureSign) {
		t.Errorf("existing setting's certificate changed to %s", got)
	}
	if ours.Name() != "endymail" || ours.Flags() != DefaultForFormat|DefaultForAll|SendCertificates {
		t.Errorf("our setting: name %q flags %b", ours.Name(), ours.Flags())
	}
	if s, _ := ours.SigningCert(); s != sign {
		t.Errorf("our signing certificate: got %s, want %s", s, sign)
	}
	if e, _ := ours.EncryptionCert(); e != enc {
		t.Errorf("our encryption certificate: got %s, want %s", e, enc)
	}
	if on, err := SignByDefault(mem, p); err != nil || !on {
		t.Errorf("SignByDefault: got %v, %v, want true", on, err)
	}

	// Applying again changes nothing.
	j2 := winreg.NewJournal(mem)
	if err := Apply(j2, p, sign, enc, Options{SignByDefault: true}); err != nil {
		t.Fatal(err)
	}
	if c := j2.Changes(); len(c) != 0 {
		t.Errorf("second Apply changed %+v", c)
	}

	if err := winreg.Restore(mem, j.Changes()); err != nil {
		t.Fatal(err)
	}
	v, err = mem.Get(key, SettingsValue)
	if err != nil || !bytes.Equal(v.Bin, orig) {
		t.Errorf("Restore did not give back the original value (%v)", err)
	}
	if on, _ := SignByDefault(mem, p); on {
		t.Errorf("SignByDefault still on after Restore")
	}
}

func TestApplyToNewProfile(t *testing.T) {
	mem := winreg.NewMemory()
	p := Profile{Key: profileKey, Name: "Outlook", Version: "16.0"}
	tp := mustThumb(t, fixtureSign)
	if err := mem.Set(profileKey+`\`+SecurityKey, DefaultsValue, winreg.BinaryValue([]byte{1, 0, 0, 0})); err != nil {
		t.Fatal(err)
	}
	if err := Apply(mem, p, tp, tp, Options{Name: "Mail keys", Layout: Layout32, SignByDefault: true}); err != nil {
		t.Fatal(err)
	}
	v, _ := mem.Get(profileKey+`\`+SecurityKey, SettingsValue)
	ss, err := DecodeSettings(v.Bin)
	if err != nil {
		t.Fatal(err)
	}
	if ss.Layout != Layout32 || len(ss.Settings) != 1 || ss.Settings[0].Name() != "Mail keys" {
		t.Fatalf("got layout %d, %d settings", ss.Layout, len(ss.Settings))
	}
	algs, _ := ss.Settings[0].Algorithms()
	if !reflect.DeepEqual(algs, DefaultAlgorithms) {
		t.Errorf("algorithms: got %v, want %v", algs, DefaultAlgorithms)
	}
	d, _ := mem.Get(profileKey+`\`+SecurityKey, DefaultsValue)
	if !bytes.Equal(d.Bin, []byte{3, 0, 0, 0}) {
		t.Errorf("%s: got %x, want 03000000 (encrypt bit kept, sign bit added)", DefaultsValue, d.Bin)
	}
}

func TestDetectLayout(t *testing.T) {
	hklm := winreg.NewMemory()
	if got := DetectLayout(hklm, "16.0"); got != Layout64 {
		t.Errorf("unknown: got %d, want Layout64", got)
	}
	if err := hklm.Set(`Software\Microsoft\Office\ClickToRun\REGISTRY\MACHINE\Software\Microsoft\Office\16.0\Outlook`, "Bitness", winreg.StringValue("x86")); err != nil {
		t.Fatal(err)
	}
	if got := DetectLayout(hklm, "16.0"); got != Layout32 {
		t.Errorf("click-to-run x86: got %d, want Layout32", got)
	}
}
