package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/endymail/endymail/agent"
	"github.com/endymail/endymail/clients"
	"github.com/endymail/endymail/openpgp"
	"github.com/endymail/endymail/smime"
)

func init() {
	register(&command{name: "enable", summary: "make and publish S/MIME and OpenPGP keys for an address", run: runEnable})
	register(&command{name: "disable", summary: "stop using an address (keys kept for old mail unless --forget); the last one also takes the contacts' keys endymail imported out of the mail clients", run: runDisable})
}

var smimeKeyTypes = map[string]smime.KeyType{"rsa3072": smime.RSA3072, "rsa2048": smime.RSA2048, "p256": smime.P256}
var pgpKeyTypes = map[string]openpgp.KeyType{"ed25519": openpgp.Ed25519, "rsa3072": openpgp.RSA3072}

func runEnable(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "enable", "ADDRESS [--name NAME] [--smime-key rsa3072|rsa2048|p256] [--openpgp-key ed25519|rsa3072] [--rotate] [--home DIR]")
	name := fs.String("name", "", "the `NAME` shown with the address")
	sk := fs.String("smime-key", "rsa3072", "S/MIME key `TYPE`: rsa3072, rsa2048 or p256 (p256 signs only)")
	pk := fs.String("openpgp-key", "ed25519", "OpenPGP key `TYPE`: ed25519 or rsa3072")
	prefer := fs.String("prefer", "", "technology the mail clients prefer from now on: openpgp or smime (saved; default: keep)")
	rotate := fs.Bool("rotate", false, "make new keys; the old ones stay for reading old mail")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	st, ok1 := smimeKeyTypes[*sk]
	pt, ok2 := pgpKeyTypes[*pk]
	if len(pos) != 1 || !ok1 || !ok2 || !validPrefer(*prefer) {
		return usageErrorf("enable takes one ADDRESS; --smime-key rsa3072|rsa2048|p256, --openpgp-key ed25519|rsa3072, --prefer openpgp|smime")
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	res, err := a.Enable(ctx, agent.EnableOptions{Address: pos[0], Name: *name, SMIMEKey: st, OpenPGPKey: pt, Rotate: *rotate})
	if errors.Is(err, agent.ErrNotAdmin) {
		return withHint(err, "enable an address from an admin device")
	}
	if err != nil {
		return err
	}
	if res.AlreadyEnabled {
		fmt.Fprintf(e.stdout, "%s is already enabled; nothing changed (use --rotate for new keys)\n", res.Address)
	} else {
		if res.NewCA {
			fmt.Fprintln(e.stdout, "created the account's personal certification authority")
		}
		fmt.Fprintf(e.stdout, "enabled %s\n  S/MIME certificate serial %s\n  OpenPGP key %s\n  published for senders; every approved device gets the keys\n",
			res.Address, res.SMIMESerial, res.OpenPGP)
	}
	if *prefer != "" {
		if err := a.SetPrefer(*prefer); err != nil {
			return err
		}
	}
	return reportClients(e, a.ConfigureAddress(ctx, res.Address))
}

func runDisable(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "disable", "ADDRESS [--forget] [--home DIR]")
	forget := fs.Bool("forget", false, "also drop the keys (old encrypted mail becomes unreadable)")
	home := homeFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("disable takes one ADDRESS")
	}
	a, err := openAgent(e, *home)
	if err != nil {
		return err
	}
	res, err := a.Disable(ctx, pos[0], *forget)
	if err != nil {
		return err
	}
	switch {
	case res.AlreadyDisabled:
		fmt.Fprintf(e.stdout, "%s is already disabled\n", res.Address)
	case res.Forgotten:
		fmt.Fprintf(e.stdout, "disabled %s and dropped its keys\n", res.Address)
	default:
		fmt.Fprintf(e.stdout, "disabled %s; its keys stay for reading old mail\n", res.Address)
	}
	err = reportReverts(e, a.RevertAddress(ctx, res.Address))
	return errors.Join(err, revertPeersIfLast(ctx, e, a))
}

func validPrefer(p string) bool {
	return p == "" || p == clients.PreferOpenPGP || p == clients.PreferSMIME
}
