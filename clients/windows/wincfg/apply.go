package wincfg

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/winmail"
	"github.com/endymail/endymail/clients/windows/winreg"
	"github.com/endymail/endymail/clients/windows/wlmail"
)

// Apply imports the S/MIME certificate and key into CurrentUser\My, trusts
// the personal CA for e-mail (see certstore.TrustCA for the store and the
// dialog), and points every Outlook profile and Windows Live Mail account
// that sends from m.Address at the certificate, with signing on by default
// in Outlook. It records how to undo that before returning. Material
// without S/MIME changes nothing and says so in a warning.
func (c *Configurator) Apply(ctx context.Context, m clients.Material) (clients.Report, error) {
	rep := clients.Report{Client: Client}
	if err := m.Validate(); err != nil {
		return rep, err
	}
	if m.SMIME == nil {
		rep.Warnings = append(rep.Warnings, "no S/MIME material for "+m.Address+"; Outlook and Windows Live Mail use S/MIME only")
		return rep, nil
	}
	st := c.state()
	unlock, err := st.lock()
	if err != nil {
		return rep, err
	}
	defer unlock()
	sys, err := c.ready(ctx)
	if err != nil {
		return rep, err
	}
	all, err := scan(sys)
	if err != nil {
		return rep, err
	}
	mine, err := preflight(all, m.Address)
	if err != nil {
		return rep, err
	}
	for _, f := range mine {
		rep.Location = append(rep.Location, f.Location)
	}
	rec, err := st.load(m.Address)
	if err != nil {
		return rep, err
	}
	tp := certstore.ThumbprintOf(m.SMIME.Cert)
	keyOK := rec.imported(tp) && c.opts.CheckKey(tp) == nil
	if keyOK && inPlace(rec, mine, tp, m.SMIME.CA) {
		return rep, nil
	}
	u, err := c.apply(sys, m, tp)
	if err != nil {
		return rep, c.rollback(sys, rec, u, err)
	}
	rep.Actions, rep.Warnings = describeApply(rec, u, keyOK)
	if len(rep.Actions) == 0 {
		return rep, nil
	}
	if err := st.save(rec.merged(u)); err != nil {
		rep.Actions, rep.Warnings = nil, nil
		return rep, c.rollback(sys, rec, u, err)
	}
	return rep, nil
}

// apply runs winmail's Apply for m and confirms that it imported the
// certificate tp with a usable key. The returned undo record is never nil.
func (c *Configurator) apply(sys *winmail.System, m clients.Material, tp certstore.Thumbprint) (*winmail.Undo, error) {
	u, err := sys.Apply(m.Address, m.SMIME.PKCS12, m.SMIME.Password, m.SMIME.CA, winmail.Options{SignByDefault: true})
	switch {
	case errors.Is(err, winmail.ErrNoClient):
		return u, fmt.Errorf("%w: %w", clients.ErrNoIdentity, err)
	case err != nil:
		return u, err
	case u.Thumbprint != tp:
		return u, fmt.Errorf("%w: the PKCS#12 for %s holds certificate %s, the material names %s",
			clients.ErrCorrupt, m.Address, u.Thumbprint, tp)
	}
	if err := c.opts.CheckKey(tp); err != nil {
		return u, fmt.Errorf("confirm the private key of certificate %s: %w", tp, err)
	}
	return u, nil
}

// inPlace reports whether the record and the clients already show the
// configuration for certificate tp and the CA ca.
func inPlace(rec *record, mine []found, tp certstore.Thumbprint, ca *x509.Certificate) bool {
	if rec == nil || rec.Undo.Thumbprint != tp {
		return false
	}
	if ca != nil && (rec.Undo.CA == nil || *rec.Undo.CA != certstore.ThumbprintOf(ca)) {
		return false
	}
	for _, f := range mine {
		if f.signing != tp {
			return false
		}
	}
	return true
}

// rollback undoes the partial change u of a failed Apply and returns cause.
// A certificate that an earlier Apply imported stays, and so does the CA
// (winmail never removes it on Revert); if the CA is new, a record that
// names only it is kept so that Revert takes it out again. When the undo
// fails, the merged record is kept so that Revert can finish it.
func (c *Configurator) rollback(sys *winmail.System, rec *record, u *winmail.Undo, cause error) error {
	undo := *u
	if rec.imported(u.Thumbprint) {
		undo.Thumbprint = certstore.Thumbprint{}
	}
	st := c.state()
	if err := sys.Revert(&undo); err != nil {
		return errors.Join(cause, fmt.Errorf("undo the partial change: %w", err), st.save(rec.merged(u)))
	}
	if u.CA != nil && (rec == nil || rec.Undo.CA == nil) {
		caOnly := &winmail.Undo{Address: u.Address, CA: u.CA, CAStore: u.CAStore}
		return errors.Join(cause, st.save(rec.merged(caOnly)))
	}
	return cause
}

// describeApply lists what the Apply that returned u changed, given the
// record of the earlier ones, and what may keep it from taking effect.
func describeApply(rec *record, u *winmail.Undo, keyWasOK bool) (actions, warnings []string) {
	if !keyWasOK {
		actions = append(actions, fmt.Sprintf("imported certificate %s with its private key into CurrentUser\\My", u.Thumbprint))
	}
	if u.CA != nil && (rec == nil || rec.Undo.CA == nil || *rec.Undo.CA != *u.CA || rec.Undo.CAStore != u.CAStore) {
		if u.CATrusted() {
			actions = append(actions, fmt.Sprintf("trusted the personal CA %s for e-mail in CurrentUser\\Root", u.CA))
		} else {
			actions = append(actions, fmt.Sprintf("added the personal CA %s to CurrentUser\\%s", u.CA, u.CAStore))
			warnings = append(warnings, "the personal CA is not trusted (Windows' dialog was declined): Outlook and Windows Live Mail will call the signatures untrusted; run 'endymail configure' to be asked again")
		}
	}
	for _, ch := range u.Registry {
		actions = append(actions, fmt.Sprintf("set HKCU\\%s\\%s", ch.Path, ch.Name))
	}
	for _, ch := range u.WLMail {
		actions = append(actions, fmt.Sprintf("set %s to %s in %s", ch.Element, ch.New, ch.File))
	}
	return actions, warnings
}

// Revert restores what every Apply for address changed: the Outlook and
// Windows Live Mail settings get their old values back (values someone
// changed since are left alone and reported as warnings), the certificates
// imported for address leave CurrentUser\My, and the personal CA leaves
// its store when no other address's record names it (removing it from
// Root shows Windows' confirmation dialog; a refusal or failure there is a
// warning, not an error). An address without a record is a no-op.
func (c *Configurator) Revert(ctx context.Context, address string) (clients.Report, error) {
	rep := clients.Report{Client: Client}
	st := c.state()
	unlock, err := st.lock()
	if err != nil {
		return rep, err
	}
	defer unlock()
	rec, err := st.load(address)
	if err != nil || rec == nil {
		return rep, err // nothing of ours: the clients may stay open
	}
	sys, err := c.ready(ctx)
	if err != nil {
		return rep, err
	}
	errs := []error{sys.Revert(&rec.Undo)}
	for _, t := range rec.Imported {
		if t != rec.Undo.Thumbprint {
			errs = append(errs, sys.Store.Delete(certstore.My, t))
		}
	}
	caRemoved := false
	if rec.Undo.CA != nil {
		shared, err := st.caUsedElsewhere(address, *rec.Undo.CA)
		if err == nil && !shared {
			err = sys.RemoveCA(&rec.Undo)
			caRemoved = err == nil
		}
		// Not a failure: the user may have answered No to Windows' dialog,
		// and asking again on every retry would be worse.
		if err != nil {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("the personal CA %s stays in CurrentUser\\%s (remove it with certmgr.msc): %v", rec.Undo.CA, rec.Undo.CAStore, err))
		}
	}
	changed, failed := splitChangedSince(errors.Join(errs...))
	for _, e := range changed {
		rep.Warnings = append(rep.Warnings, "left alone, changed since endymail wrote it: "+e.Error())
	}
	if len(failed) > 0 {
		return rep, fmt.Errorf("revert %s: %w", address, errors.Join(failed...))
	}
	if err := st.remove(address); err != nil {
		return rep, err
	}
	rep.Actions = describeRevert(rec, caRemoved)
	return rep, nil
}

// splitChangedSince separates the errors in err that report a value
// changed by someone else from the others.
func splitChangedSince(err error) (changed, failed []error) {
	if err == nil {
		return nil, nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			c, f := splitChangedSince(e)
			changed, failed = append(changed, c...), append(failed, f...)
		}
		return changed, failed
	}
	if errors.Is(err, winreg.ErrChangedSince) || errors.Is(err, wlmail.ErrChangedSince) {
		return []error{err}, nil
	}
	return nil, []error{err}
}

// describeRevert lists what Revert of rec undid.
func describeRevert(rec *record, caRemoved bool) []string {
	var out []string
	for _, ch := range rec.Undo.Registry {
		out = append(out, fmt.Sprintf("restored HKCU\\%s\\%s", ch.Path, ch.Name))
	}
	for _, ch := range rec.Undo.WLMail {
		out = append(out, fmt.Sprintf("restored %s in %s", ch.Element, ch.File))
	}
	for _, t := range rec.Imported {
		out = append(out, fmt.Sprintf("removed certificate %s and its key from CurrentUser\\My", t))
	}
	if caRemoved {
		out = append(out, fmt.Sprintf("removed the personal CA %s from CurrentUser\\%s", rec.Undo.CA, rec.Undo.CAStore))
	}
	return out
}
