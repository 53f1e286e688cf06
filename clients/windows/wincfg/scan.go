package wincfg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/outlook"
	"github.com/endymail/endymail/clients/windows/winmail"
	"github.com/endymail/endymail/clients/windows/winreg"
	"github.com/endymail/endymail/clients/windows/wlmail"
)

// found is one sending identity seen in a client.
type found struct {
	clients.Identity
	// signing is the certificate the identity signs with now (Outlook: the
	// profile's default security setting; Windows Live Mail: the
	// account's SMTP_Certificate); zero when none.
	signing certstore.Thumbprint
	// err, wrapping clients.ErrCorrupt, says the client's configuration
	// could not be read; a Windows Live Mail file with err has no Address.
	err error
}

// scan reads every Outlook profile and Windows Live Mail account of the
// user without writing anything. Unreadable profile settings and account
// files come back as entries with err set; the error return is for the
// rest (registry access, folder listing).
func scan(sys *winmail.System) ([]found, error) {
	out, err := scanOutlook(sys.User)
	if err != nil {
		return nil, err
	}
	w, err := scanWLMail(sys)
	if err != nil {
		return nil, err
	}
	return append(out, w...), nil
}

func scanOutlook(reg winreg.Registry) ([]found, error) {
	profiles, err := outlook.Profiles(reg)
	if err != nil {
		return nil, fmt.Errorf("list outlook profiles: %w", err)
	}
	var out []found
	for _, p := range profiles {
		addrs, err := outlook.Addresses(reg, p)
		if err != nil {
			return nil, fmt.Errorf("outlook profile %s: %w", p.Name, err)
		}
		if len(addrs) == 0 {
			continue
		}
		signing, serr := outlookSigning(reg, p)
		for _, a := range addrs {
			id := clients.Identity{Client: ClientOutlook, Location: `HKCU\` + p.Key, Account: p.Name, Address: a}
			out = append(out, found{Identity: id, signing: signing, err: serr})
		}
	}
	return out, nil
}

// outlookSigning returns the signing certificate of profile p's default
// security setting.
func outlookSigning(reg winreg.Registry, p outlook.Profile) (certstore.Thumbprint, error) {
	key := p.Key + `\` + outlook.SecurityKey
	v, err := reg.Get(key, outlook.SettingsValue)
	if errors.Is(err, winreg.ErrNotExist) {
		return certstore.Thumbprint{}, nil
	}
	if err != nil {
		return certstore.Thumbprint{}, err
	}
	if v.Kind != winreg.Binary {
		return certstore.Thumbprint{}, fmt.Errorf("%w: outlook profile %s: HKCU\\%s\\%s is %v, want REG_BINARY",
			clients.ErrCorrupt, p.Name, key, outlook.SettingsValue, v.Kind)
	}
	ss, err := outlook.DecodeSettings(v.Bin)
	if err != nil {
		return certstore.Thumbprint{}, fmt.Errorf("%w: outlook profile %s: %w", clients.ErrCorrupt, p.Name, err)
	}
	for _, s := range ss.Settings {
		if s.Flags()&(outlook.DefaultForFormat|outlook.DefaultForAll) == 0 {
			continue
		}
		if t, ok := s.SigningCert(); ok {
			return t, nil
		}
	}
	return certstore.Thumbprint{}, nil
}

func scanWLMail(sys *winmail.System) ([]found, error) {
	getenv := sys.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	root, err := wlmail.StoreRoot(sys.User, getenv)
	if errors.Is(err, wlmail.ErrNotInstalled) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("windows live mail: %w", err)
	}
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	files, err := wlmail.AccountFiles(root)
	if err != nil {
		return nil, err
	}
	var out []found
	for _, file := range files {
		f, err := wlmAccount(file)
		if err != nil {
			return nil, err
		}
		if f.Address != "" || f.err != nil {
			out = append(out, f)
		}
	}
	return out, nil
}

// wlmAccount reads one account file; a file it cannot parse is returned
// with err set.
func wlmAccount(file string) (found, error) {
	f := found{Identity: clients.Identity{
		Client:   ClientWLMail,
		Location: file,
		Account:  strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)),
	}}
	b, err := os.ReadFile(file)
	if err != nil {
		return f, fmt.Errorf("windows live mail: %w", err)
	}
	acct, err := wlmail.Parse(b)
	if err != nil {
		f.err = fmt.Errorf("%w: windows live mail account %s: %w", clients.ErrCorrupt, file, err)
		return f, nil
	}
	f.Address = acct.Address()
	f.Name, _ = acct.Value("SMTP_Display_Name")
	if v, ok := acct.Value(wlmail.SigningElement); ok {
		f.signing, _ = certstore.ParseThumbprint(strings.TrimSpace(v))
	}
	return f, nil
}

// preflight returns the identities with address, or an error wrapping
// clients.ErrCorrupt when something winmail would have to read or write for
// it is unreadable (any Windows Live Mail file: winmail reads them all), or
// clients.ErrNoIdentity when no client sends from address.
func preflight(all []found, address string) ([]found, error) {
	var mine []found
	var errs []error
	for _, f := range all {
		match := strings.EqualFold(f.Address, address)
		if f.err != nil && (match || f.Client == ClientWLMail) {
			errs = append(errs, f.err)
		}
		if match {
			mine = append(mine, f)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(mine) == 0 {
		return nil, fmt.Errorf("%w: %s in outlook or windows live mail", clients.ErrNoIdentity, address)
	}
	return mine, nil
}
