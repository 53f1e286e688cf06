// Command probe drives the Windows client packages from the command line so
// that internal/winetest can run them under Wine and check the results with
// Wine's own reg.exe. It is a test tool, not part of endymail.
package main

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/endymail/endymail/clients/windows/certstore"
	"github.com/endymail/endymail/clients/windows/outlook"
	"github.com/endymail/endymail/clients/windows/runkey"
	"github.com/endymail/endymail/clients/windows/winmail"
	"github.com/endymail/endymail/clients/windows/winreg"
	"github.com/endymail/endymail/clients/windows/winui"
	"github.com/endymail/endymail/clients/windows/wlmail"
)

// errAbsent makes the probe exit with status 3.
var errAbsent = errors.New("absent")

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe COMMAND ARGS...")
		os.Exit(2)
	}
	err := run(os.Args[1], os.Args[2:])
	if errors.Is(err, errAbsent) {
		fmt.Println("absent")
		os.Exit(3)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}

func run(cmd string, args []string) error {
	switch cmd {
	case "import":
		return cmdImport(args)
	case "checkkey":
		return cmdCheckKey(args)
	case "find", "delete":
		return cmdCert(cmd, args)
	case "trustca":
		return cmdTrustCA(args)
	case "runkey-set", "runkey-remove":
		return cmdRunKey(cmd, args)
	case "outlook-apply":
		return cmdOutlookApply(args)
	case "restore":
		return cmdRestore(args)
	case "wlmail-apply":
		return cmdWLMApply(args)
	case "wlmail-revert":
		return cmdWLMRevert(args)
	case "configure":
		return cmdConfigure(args)
	case "unconfigure":
		return cmdUnconfigure(args)
	case "ask":
		return cmdAsk(args)
	case "answer":
		if err := need(args, 2); err != nil {
			return err
		}
		return answer(args[0], args[1] == "yes")
	}
	return fmt.Errorf("unknown command %q", cmd)
}

func need(args []string, n int) error {
	if len(args) < n {
		return fmt.Errorf("want %d arguments, got %d", n, len(args))
	}
	return nil
}

func cmdImport(args []string) error {
	if err := need(args, 2); err != nil {
		return err
	}
	pfx, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	t, err := certstore.ImportPFX(pfx, args[1])
	if err != nil {
		return err
	}
	fmt.Println(t)
	return nil
}

func cmdCert(cmd string, args []string) error {
	if err := need(args, 2); err != nil {
		return err
	}
	store := certstore.Store(args[0])
	t, err := certstore.ParseThumbprint(args[1])
	if err != nil {
		return err
	}
	if cmd == "delete" {
		return certstore.Delete(store, t)
	}
	c, err := certstore.Find(store, t)
	if errors.Is(err, certstore.ErrNotFound) {
		return errAbsent
	}
	if err != nil {
		return err
	}
	fmt.Println(c.Subject.CommonName)
	return nil
}

func cmdCheckKey(args []string) error {
	if err := need(args, 1); err != nil {
		return err
	}
	t, err := certstore.ParseThumbprint(args[0])
	if err != nil {
		return err
	}
	return certstore.CheckKey(t)
}

func cmdTrustCA(args []string) error {
	if err := need(args, 1); err != nil {
		return err
	}
	der, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	s, err := certstore.TrustCA(ca)
	if err != nil {
		return err
	}
	fmt.Println(s)
	return nil
}

func cmdRunKey(cmd string, args []string) error {
	reg, err := winreg.CurrentUser()
	if err != nil {
		return err
	}
	if cmd == "runkey-remove" {
		if err := need(args, 1); err != nil {
			return err
		}
		return runkey.Remove(reg, args[0])
	}
	if err := need(args, 2); err != nil {
		return err
	}
	line, err := runkey.Command(args[1], args[2:]...)
	if err != nil {
		return err
	}
	return runkey.Set(reg, args[0], line)
}

func thumbs(sign, enc string) (s, e certstore.Thumbprint, err error) {
	if s, err = certstore.ParseThumbprint(sign); err != nil {
		return s, e, err
	}
	e, err = certstore.ParseThumbprint(enc)
	return s, e, err
}

// cmdOutlookApply applies to every profile and saves the journal.
func cmdOutlookApply(args []string) error {
	if err := need(args, 3); err != nil {
		return err
	}
	sign, enc, err := thumbs(args[1], args[2])
	if err != nil {
		return err
	}
	reg, err := winreg.CurrentUser()
	if err != nil {
		return err
	}
	profiles, err := outlook.Profiles(reg)
	if err != nil {
		return err
	}
	if len(profiles) == 0 {
		return outlook.ErrNoProfile
	}
	j := winreg.NewJournal(reg)
	for _, p := range profiles {
		if err := outlook.Apply(j, p, sign, enc, outlook.Options{SignByDefault: true}); err != nil {
			return err
		}
	}
	return writeJSON(args[0], j.Changes())
}

func cmdRestore(args []string) error {
	if err := need(args, 1); err != nil {
		return err
	}
	var changes []winreg.Change
	if err := readJSON(args[0], &changes); err != nil {
		return err
	}
	reg, err := winreg.CurrentUser()
	if err != nil {
		return err
	}
	return winreg.Restore(reg, changes)
}

func cmdWLMApply(args []string) error {
	if err := need(args, 4); err != nil {
		return err
	}
	sign, enc, err := thumbs(args[2], args[3])
	if err != nil {
		return err
	}
	reg, err := winreg.CurrentUser()
	if err != nil {
		return err
	}
	root, err := wlmail.StoreRoot(reg, os.Getenv)
	if err != nil {
		return err
	}
	changes, err := wlmail.Apply(root, args[1], sign, enc)
	if err != nil {
		return err
	}
	fmt.Println(root)
	return writeJSON(args[0], changes)
}

func cmdWLMRevert(args []string) error {
	if err := need(args, 1); err != nil {
		return err
	}
	var changes []wlmail.Change
	if err := readJSON(args[0], &changes); err != nil {
		return err
	}
	return wlmail.Revert(changes)
}

// cmdConfigure runs winmail.Apply: UNDO ADDRESS PFX PASSWORD CA.
func cmdConfigure(args []string) error {
	if err := need(args, 5); err != nil {
		return err
	}
	pfx, err := os.ReadFile(args[2])
	if err != nil {
		return err
	}
	der, err := os.ReadFile(args[4])
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	sys, err := winmail.Open()
	if err != nil {
		return err
	}
	u, err := sys.Apply(args[1], pfx, args[3], ca, winmail.Options{SignByDefault: true})
	if werr := writeJSON(args[0], u); werr != nil {
		return errors.Join(err, werr)
	}
	if err != nil {
		return err
	}
	fmt.Println(u.Thumbprint)
	return nil
}

func cmdUnconfigure(args []string) error {
	if err := need(args, 1); err != nil {
		return err
	}
	var u winmail.Undo
	if err := readJSON(args[0], &u); err != nil {
		return err
	}
	sys, err := winmail.Open()
	if err != nil {
		return err
	}
	return sys.Revert(&u)
}

func cmdAsk(args []string) error {
	if err := need(args, 2); err != nil {
		return err
	}
	a, err := winui.Ask(args[0], args[1])
	if err != nil {
		return err
	}
	if a == winui.Yes {
		fmt.Println("yes")
	} else {
		fmt.Println("no")
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
