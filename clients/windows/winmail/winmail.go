// Package winmail configures S/MIME for one mail address in every Windows
// mail client of the current user at once: the certificate and key go into
// CurrentUser\My, the personal CA is trusted for e-mail, and each Outlook
// classic profile and Windows Live Mail account that sends from the address
// is pointed at the certificate. It composes packages certstore, outlook,
// wlmail and winreg and is what a client configurator wraps on Windows.
//
// Use [Open] for the real system (Windows only), then [System.Identities],
// [System.Apply] and [System.Revert]. Apply returns an [Undo] record, plain
// data to persist; keep every record of an address ([Undo.Merge]) and
// revert them together. Tests build a [System] from fakes.
package winmail

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/outlook"
	"github.com/endymail/endymail/clients/windows/winreg"
	"github.com/endymail/endymail/clients/windows/wlmail"
)

// CertStore is the part of the Windows certificate store winmail needs;
// package certstore implements it for the current user ([Open]). Errors
// follow certstore: TrustCA returns the store it used and an error wrapping
// certstore.ErrTrustDeclined when the user refused the dialog; Delete of a
// missing certificate succeeds.
type CertStore interface {
	ImportPFX(pfx []byte, password string) (certstore.Thumbprint, error)
	TrustCA(ca *x509.Certificate) (certstore.Store, error)
	Delete(s certstore.Store, t certstore.Thumbprint) error
}

// System is the current user's Windows environment.
type System struct {
	Store   CertStore
	User    winreg.Registry     // HKEY_CURRENT_USER
	Machine winreg.Registry     // HKEY_LOCAL_MACHINE, read only; nil means unknown
	Getenv  func(string) string // expands the Windows Live Mail store root
}

// ErrNoClient reports that no client of this user sends from the address.
var ErrNoClient = errors.New("no windows mail client uses the address")

// Open returns the real system of the current user. On platforms other
// than Windows it returns an error wrapping errors.ErrUnsupported.
func Open() (*System, error) {
	user, err := winreg.CurrentUser()
	if err != nil {
		return nil, err
	}
	machine, err := winreg.LocalMachine()
	if err != nil {
		return nil, err
	}
	return &System{Store: userStore{}, User: user, Machine: machine, Getenv: os.Getenv}, nil
}

// userStore is [CertStore] on the current user's stores.
type userStore struct{}

var _ CertStore = userStore{}

func (userStore) ImportPFX(pfx []byte, password string) (certstore.Thumbprint, error) {
	return certstore.ImportPFX(pfx, password)
}

func (userStore) TrustCA(ca *x509.Certificate) (certstore.Store, error) { return certstore.TrustCA(ca) }

func (userStore) Delete(s certstore.Store, t certstore.Thumbprint) error {
	return certstore.Delete(s, t)
}

// Identities returns the addresses the user's Outlook profiles and Windows
// Live Mail accounts send from, sorted, without duplicates (compared
// without regard to case; the first spelling seen, Outlook's, wins).
func (s *System) Identities() ([]string, error) {
	seen := map[string]string{}
	add := func(addrs []string) {
		for _, a := range addrs {
			if _, ok := seen[strings.ToLower(a)]; !ok {
				seen[strings.ToLower(a)] = a
			}
		}
	}
	profiles, err := outlook.Profiles(s.User)
	if err != nil {
		return nil, err
	}
	for _, p := range profiles {
		addrs, err := outlook.Addresses(s.User, p)
		if err != nil {
			return nil, err
		}
		add(addrs)
	}
	root, err := s.wlmRoot()
	if err != nil {
		return nil, err
	}
	if root != "" {
		addrs, err := wlmail.Addresses(root)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		add(addrs)
	}
	out := make([]string, 0, len(seen))
	for _, a := range seen {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out, nil
}

// wlmRoot returns the Windows Live Mail store root, or "" when it is not
// set up.
func (s *System) wlmRoot() (string, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	root, err := wlmail.StoreRoot(s.User, getenv)
	if errors.Is(err, wlmail.ErrNotInstalled) {
		return "", nil
	}
	return root, err
}

// Undo records what [System.Apply] changed. It is plain data (JSON).
type Undo struct {
	Address    string               `json:"address"`
	Thumbprint certstore.Thumbprint `json:"thumbprint"`
	// CA and CAStore name the personal CA and the store it went into
	// (Root, or CA when the user declined to trust it); empty without a CA.
	CA       *certstore.Thumbprint `json:"ca,omitempty"`
	CAStore  certstore.Store       `json:"caStore,omitempty"`
	Registry []winreg.Change       `json:"registry,omitempty"`
	WLMail   []wlmail.Change       `json:"wlmail,omitempty"`
}

// Merge appends the changes of a later Apply for the same address, so that
// one Revert undoes both.
func (u *Undo) Merge(later *Undo) {
	u.Thumbprint = later.Thumbprint
	if later.CA != nil {
		u.CA, u.CAStore = later.CA, later.CAStore
	}
	u.Registry = append(u.Registry, later.Registry...)
	u.WLMail = append(u.WLMail, later.WLMail...)
}

// CATrusted reports whether the personal CA went into CurrentUser\Root.
func (u *Undo) CATrusted() bool { return u.CAStore == certstore.Root }

// Options tune [System.Apply].
type Options struct {
	// SignByDefault makes Outlook sign every new message.
	SignByDefault bool
}

// Apply configures address: it imports the PKCS#12 (certificate + key),
// trusts ca (may be nil) for e-mail, and points every Outlook profile and
// Windows Live Mail account that sends from address at the certificate,
// for signing and for encryption. Applying again changes nothing more. On
// error the returned Undo (never nil) holds what was already changed.
func (s *System) Apply(address string, pfx []byte, password string, ca *x509.Certificate, opt Options) (*Undo, error) {
	u := &Undo{Address: address}
	tp, err := s.Store.ImportPFX(pfx, password)
	if err != nil {
		return u, fmt.Errorf("import certificate for %s: %w", address, err)
	}
	u.Thumbprint = tp
	if ca != nil {
		st, err := s.Store.TrustCA(ca)
		if err != nil && !errors.Is(err, certstore.ErrTrustDeclined) {
			return u, fmt.Errorf("trust personal CA: %w", err)
		}
		caTP := certstore.ThumbprintOf(ca)
		u.CA, u.CAStore = &caTP, st
	}
	n, err := s.applyOutlook(u, opt)
	if err != nil {
		return u, err
	}
	m, err := s.applyWLMail(u)
	if err != nil {
		return u, err
	}
	if n+m == 0 {
		return u, fmt.Errorf("%w: %s", ErrNoClient, address)
	}
	return u, nil
}

// applyOutlook configures the profiles with an account for u.Address and
// returns how many.
func (s *System) applyOutlook(u *Undo, opt Options) (int, error) {
	profiles, err := outlook.Profiles(s.User)
	if err != nil {
		return 0, err
	}
	j := winreg.NewJournal(s.User)
	defer func() { u.Registry = append(u.Registry, j.Changes()...) }()
	n := 0
	for _, p := range profiles {
		addrs, err := outlook.Addresses(s.User, p)
		if err != nil {
			return n, err
		}
		if !containsFold(addrs, u.Address) {
			continue
		}
		o := outlook.Options{SignByDefault: opt.SignByDefault, Layout: outlook.Layout64}
		if s.Machine != nil {
			o.Layout = outlook.DetectLayout(s.Machine, p.Version)
		}
		if err := outlook.Apply(j, p, u.Thumbprint, u.Thumbprint, o); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// applyWLMail configures the Windows Live Mail accounts of u.Address and
// returns how many files it found for it.
func (s *System) applyWLMail(u *Undo) (int, error) {
	root, err := s.wlmRoot()
	if err != nil || root == "" {
		return 0, err
	}
	changes, err := wlmail.Apply(root, u.Address, u.Thumbprint, u.Thumbprint)
	u.WLMail = append(u.WLMail, changes...)
	if errors.Is(err, wlmail.ErrNoAccount) || errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return 1, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Revert undoes u: the clients' settings get their old values back (values
// changed since by someone else are left alone and reported) and the
// certificate and its key leave CurrentUser\My. The personal CA stays
// trusted, because other addresses of the account may rely on it; see
// [System.RemoveCA].
func (s *System) Revert(u *Undo) error {
	errs := []error{
		winreg.Restore(s.User, u.Registry),
		wlmail.Revert(u.WLMail),
	}
	if !u.Thumbprint.IsZero() {
		errs = append(errs, s.Store.Delete(certstore.My, u.Thumbprint))
	}
	return errors.Join(errs...)
}

// RemoveCA takes the personal CA recorded in u out of the store it went
// into (removing from Root shows Windows' confirmation dialog).
func (s *System) RemoveCA(u *Undo) error {
	if u.CA == nil {
		return nil
	}
	return s.Store.Delete(u.CAStore, *u.CA)
}
