// Package outlook configures S/MIME in Outlook classic (Outlook 2010 to
// Microsoft 365 on Windows): the default security setting of each MAPI
// profile names the signing and encryption certificates (by SHA-1
// thumbprint, in CurrentUser\My) and the algorithms, and a per-profile
// option makes Outlook sign new messages by default.
//
// Use [Profiles] to list the profiles, [Apply] to write endymail's security
// setting into one, through a winreg.Journal so that winreg.Restore undoes
// it. [DecodeSettings] and [SecuritySettings] are the binary value format
// underneath; settings.go says where that layout comes from and what is
// uncertain about it. Outlook reads the settings when it composes a
// message; apply while it is closed to be sure it does not overwrite them.
package outlook

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/winreg"
)

// Registry names, relative to a profile's key. The subkey is a fixed MAPI
// section GUID that holds the profile's e-mail security options; the value
// names are MAPI property tags (0x1102 = PT_MV_BINARY, 0x0003 = PT_LONG,
// stored as 4 bytes of REG_BINARY). Sources as in settings.go; 00030354
// bit 1 = encrypt, bit 2 = sign is from ActivateSignatures.ps1
// (AlwaysEncryptMails / AlwaysSignMails).
const (
	SecurityKey    = "c02ebc5353d9cd11975200aa004ae40e"
	SettingsValue  = "11020355"
	DefaultsValue  = "00030354"
	encryptDefault = 1 << 0
	signDefault    = 1 << 1
)

// Where profiles live: Outlook 2013 and later per Office version, Outlook
// 2010 and earlier under the Windows Messaging Subsystem.
const (
	officeKey = `Software\Microsoft\Office`
	legacyKey = `Software\Microsoft\Windows NT\CurrentVersion\Windows Messaging Subsystem\Profiles`
)

// ErrNoProfile reports that Outlook has no profile for this user.
var ErrNoProfile = errors.New("no outlook profile")

// Profile is one MAPI profile.
type Profile struct {
	Key     string // registry path below HKEY_CURRENT_USER
	Name    string
	Version string // Office version such as "16.0"; "" for the legacy location
}

// Profiles lists the user's Outlook profiles, newest Office version first.
func Profiles(reg winreg.Registry) ([]Profile, error) {
	var out []Profile
	versions, err := reg.SubKeys(officeKey)
	if err != nil && !errors.Is(err, winreg.ErrNotExist) {
		return nil, err
	}
	for i := len(versions) - 1; i >= 0; i-- {
		root := officeKey + `\` + versions[i] + `\Outlook\Profiles`
		ps, err := profilesUnder(reg, root, versions[i])
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	ps, err := profilesUnder(reg, legacyKey, "")
	if err != nil {
		return nil, err
	}
	return append(out, ps...), nil
}

func profilesUnder(reg winreg.Registry, root, version string) ([]Profile, error) {
	names, err := reg.SubKeys(root)
	if errors.Is(err, winreg.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Profile
	for _, n := range names {
		out = append(out, Profile{Key: root + `\` + n, Name: n, Version: version})
	}
	return out, nil
}

// Options tune [Apply].
type Options struct {
	// Name of endymail's security setting; "endymail" when empty.
	Name string
	// Layout for a profile that has no security settings yet; an existing
	// value keeps its own. Zero means Layout64 (Office is 64-bit by
	// default since 2019); see [DetectLayout].
	Layout Layout
	// SignByDefault also turns on "Add digital signature to outgoing
	// messages" for the profile.
	SignByDefault bool
}

// Apply makes endymail's security setting, signing with sign and
// encrypting with enc, the default one of profile p: it updates the setting
// of that name or adds it, keeps every other setting but clears their
// default flags. Pass a winreg.Journal as reg to be able to undo it with
// winreg.Restore. Applying twice writes the same bytes.
func Apply(reg winreg.Registry, p Profile, sign, enc certstore.Thumbprint, opt Options) error {
	if opt.Name == "" {
		opt.Name = "endymail"
	}
	key := p.Key + `\` + SecurityKey
	ss, err := readSettings(reg, key, opt.Layout)
	if err != nil {
		return fmt.Errorf("outlook profile %s: %w", p.Name, err)
	}
	var ours *Setting
	const defaults = DefaultForFormat | DefaultForAll
	for _, st := range ss.Settings {
		if ours == nil && st.Name() == opt.Name {
			ours = st
			continue
		}
		if st.Flags()&defaults != 0 {
			st.SetFlags(st.Flags() &^ defaults)
		}
	}
	if ours == nil {
		if ours, err = NewSetting(opt.Name, sign, enc); err != nil {
			return err
		}
		ss.Settings = append(ss.Settings, ours)
	}
	ours.SetSigningCert(sign)
	ours.SetEncryptionCert(enc)
	ours.SetFlags(ours.Flags() | defaults | SendCertificates)
	b, err := ss.Encode()
	if err != nil {
		return fmt.Errorf("outlook profile %s: %w", p.Name, err)
	}
	if err := setIfChanged(reg, key, SettingsValue, winreg.BinaryValue(b)); err != nil {
		return err
	}
	if opt.SignByDefault {
		return setSignByDefault(reg, key)
	}
	return nil
}

func readSettings(reg winreg.Registry, key string, layout Layout) (*SecuritySettings, error) {
	v, err := reg.Get(key, SettingsValue)
	if errors.Is(err, winreg.ErrNotExist) {
		if layout == 0 {
			layout = Layout64
		}
		return &SecuritySettings{Layout: layout}, nil
	}
	if err != nil {
		return nil, err
	}
	if v.Kind != winreg.Binary {
		return nil, fmt.Errorf("%w: %s is %v, want REG_BINARY", ErrMalformed, SettingsValue, v.Kind)
	}
	return DecodeSettings(v.Bin)
}

// SignByDefault reports whether profile p signs new messages by default.
func SignByDefault(reg winreg.Registry, p Profile) (bool, error) {
	flags, err := defaultsFlags(reg, p.Key+`\`+SecurityKey)
	return flags&signDefault != 0, err
}

func defaultsFlags(reg winreg.Registry, key string) (uint32, error) {
	v, err := reg.Get(key, DefaultsValue)
	if errors.Is(err, winreg.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	switch {
	case v.Kind == winreg.Binary && len(v.Bin) == 4:
		return binary.LittleEndian.Uint32(v.Bin), nil
	case v.Kind == winreg.DWord:
		return v.Num, nil
	}
	return 0, fmt.Errorf("%w: %s is %v of %d bytes, want 4 bytes", ErrMalformed, DefaultsValue, v.Kind, len(v.Bin))
}

func setSignByDefault(reg winreg.Registry, key string) error {
	flags, err := defaultsFlags(reg, key)
	if err != nil {
		return err
	}
	return setIfChanged(reg, key, DefaultsValue, winreg.BinaryValue(binary.LittleEndian.AppendUint32(nil, flags|signDefault)))
}

func setIfChanged(reg winreg.Registry, key, name string, v winreg.Value) error {
	if cur, err := reg.Get(key, name); err == nil && cur.Equal(v) {
		return nil
	}
	return reg.Set(key, name, v)
}

// DetectLayout returns the layout of the installed Outlook version
// ("16.0"), from the Bitness value ("x86" or "x64") that Office writes
// under HKEY_LOCAL_MACHINE (also inside the Click-to-Run virtual
// registry). It returns Layout64 when it cannot tell.
func DetectLayout(hklm winreg.Registry, version string) Layout {
	for _, k := range []string{
		officeKey + `\` + version + `\Outlook`,
		officeKey + `\ClickToRun\REGISTRY\MACHINE\Software\Microsoft\Office\` + version + `\Outlook`,
	} {
		v, err := hklm.Get(k, "Bitness")
		if err == nil && strings.EqualFold(v.Str, "x86") {
			return Layout32
		}
		if err == nil && strings.EqualFold(v.Str, "x64") {
			return Layout64
		}
	}
	return Layout64
}
