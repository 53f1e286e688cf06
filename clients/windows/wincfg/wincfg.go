// Package wincfg is the [clients.Configurator] for the Windows mail clients
// of the current user: the certificate store, Outlook classic and Windows
// Live Mail, configured together through package winmail.
//
// Around winmail it adds what the agent needs: it writes nothing while
// outlook.exe, wlmail.exe or winmail.exe run ([clients.ErrClientRunning]);
// it checks the clients' files before the first write, so a corrupt
// profile or account file changes nothing ([clients.ErrCorrupt]); it keeps
// winmail's undo records per address in a state folder (JSON, mode 0600,
// written atomically, merged across Applies so that one Revert undoes them
// all); and it skips the certificate import when the store already holds
// a usable key and every client points at it, so the agent's reconcile
// loop does not pile up key containers.
//
// Use [New] with the state folder under the device home. These clients
// speak S/MIME only; the OpenPGP half of the material is not used here.
package wincfg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/winmail"
)

// Names used in reports and identities.
const (
	Client        = "windows"           // Report.Client
	ClientOutlook = "outlook"           // Identity.Client of Outlook profiles
	ClientWLMail  = "windows-live-mail" // Identity.Client of Windows Live Mail accounts
)

// processNames are the clients that must be closed while their settings
// change: they read the settings at start and may write them back.
// winmail.exe is Windows Mail (Vista), whose store package wlmail also
// finds.
var processNames = []string{"outlook.exe", "wlmail.exe", "winmail.exe"}

// Options configure a [Configurator]. The function fields exist for tests;
// nil means the real Windows system.
type Options struct {
	// StateDir holds one undo record per address. "" means clients\windows
	// below the default device home ($ENDYMAIL_HOME, else endymail in the
	// user's configuration folder), like device.DefaultDir.
	StateDir string
	// Open returns the user's system; nil means winmail.Open.
	Open func() (*winmail.System, error)
	// Processes lists the executable names of the running processes; nil
	// means [Processes].
	Processes func() ([]string, error)
	// CheckKey confirms that the certificate's private key in
	// CurrentUser\My is usable; nil means certstore.CheckKey.
	CheckKey func(certstore.Thumbprint) error
}

// Configurator configures the Windows mail clients. It holds no open
// handles; every call looks at the system afresh.
type Configurator struct {
	opts Options
}

var _ clients.Configurator = (*Configurator)(nil)

// New returns a Configurator.
func New(opts Options) *Configurator {
	if opts.StateDir == "" {
		opts.StateDir = defaultStateDir(os.Getenv)
	}
	if opts.Open == nil {
		opts.Open = winmail.Open
	}
	if opts.Processes == nil {
		opts.Processes = Processes
	}
	if opts.CheckKey == nil {
		opts.CheckKey = certstore.CheckKey
	}
	return &Configurator{opts: opts}
}

func defaultStateDir(getenv func(string) string) string {
	home := getenv("ENDYMAIL_HOME")
	if home == "" {
		cfg, err := os.UserConfigDir()
		if err != nil {
			cfg = "."
		}
		home = filepath.Join(cfg, "endymail")
	}
	return filepath.Join(home, "clients", "windows")
}

// ready checks that no client runs and opens the system.
func (c *Configurator) ready(ctx context.Context) (*winmail.System, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	running, err := c.opts.Processes()
	if err != nil {
		return nil, fmt.Errorf("list running programs: %w", err)
	}
	for _, p := range running {
		for _, n := range processNames {
			if strings.EqualFold(filepath.Base(p), n) {
				return nil, fmt.Errorf("%w: %s", clients.ErrClientRunning, n)
			}
		}
	}
	return c.opts.Open()
}

// Identities lists the addresses of the Outlook profiles and Windows Live
// Mail accounts. An identity is Enabled when endymail configured its
// address and the client still signs with that certificate. An Outlook
// profile whose security settings cannot be read is listed (not enabled);
// an account file that cannot be read is not; their errors, wrapping
// [clients.ErrCorrupt], come back with the list.
func (c *Configurator) Identities(ctx context.Context) ([]clients.Identity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sys, err := c.opts.Open()
	if err != nil {
		return nil, err
	}
	found, err := scan(sys)
	if err != nil {
		return nil, err
	}
	st := c.state()
	records := map[string]*record{}
	var out []clients.Identity
	var errs []error
	for _, f := range found {
		if f.err != nil {
			errs = append(errs, f.err)
		}
		if f.Address == "" {
			continue // an account file that could not be read
		}
		key := strings.ToLower(f.Address)
		if _, ok := records[key]; !ok {
			rec, err := st.load(f.Address)
			if err != nil {
				errs = append(errs, err)
			}
			records[key] = rec
		}
		if rec := records[key]; rec != nil && !f.signing.IsZero() && f.signing == rec.Undo.Thumbprint {
			f.Enabled = true
		}
		out = append(out, f.Identity)
	}
	return out, errors.Join(errs...)
}

func (c *Configurator) state() stateDir { return stateDir(c.opts.StateDir) }
