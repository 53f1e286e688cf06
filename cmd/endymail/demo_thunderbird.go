package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/endymail/endymail/clients/thunderbird/marionette"
)

// errNoThunderbird means the demo uses a GnuPG home instead.
var errNoThunderbird = errors.New("thunderbird is not installed")

// demoProfile makes a throwaway Thunderbird profile under dir with one mail
// identity for addr, and starts Thunderbird on it once (headless, stopped
// cleanly through Marionette) so that it has its NSS databases and OpenPGP
// passphrase, as a profile the user has opened before. Only the demo does
// this: endymail never starts Thunderbird on a user's profile.
func demoProfile(ctx context.Context, dir, addr string) (string, error) {
	bin, err := exec.LookPath("thunderbird")
	if err != nil {
		return "", errNoThunderbird
	}
	home := filepath.Join(dir, "thunderbird-home")
	profile := filepath.Join(dir, "thunderbird-profile")
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "MOZ_HEADLESS=1")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", err
	}
	create := exec.CommandContext(ctx, bin, "--headless", "-CreateProfile", "endymail-demo "+profile)
	create.Env = env
	if out, err := create.CombinedOutput(); err != nil {
		return "", fmt.Errorf("thunderbird -CreateProfile: %v: %s", err, out)
	}
	local := strings.SplitN(addr, "@", 2)[0]
	prefs := strings.Join([]string{
		`user_pref("mail.accountmanager.accounts", "account1");`,
		`user_pref("mail.account.account1.identities", "id1");`,
		`user_pref("mail.account.account1.server", "server1");`,
		`user_pref("mail.identity.id1.useremail", "` + addr + `");`,
		`user_pref("mail.identity.id1.fullName", "Demo user");`,
		`user_pref("mail.identity.id1.valid", true);`,
		`user_pref("mail.server.server1.type", "imap");`,
		`user_pref("mail.server.server1.hostname", "127.0.0.1");`,
		`user_pref("mail.server.server1.port", 1);`,
		`user_pref("mail.server.server1.userName", "` + local + `");`,
		`user_pref("mail.server.server1.login_at_startup", false);`,
		`user_pref("mail.server.server1.check_new_mail", false);`,
		`user_pref("mail.shell.checkDefaultClient", false);`, "",
	}, "\n")
	if err := os.WriteFile(filepath.Join(profile, "prefs.js"), []byte(prefs), 0o600); err != nil {
		return "", err
	}
	return profile, firstStart(ctx, bin, profile, env)
}

// firstStart runs Thunderbird once on profile and quits it through
// Marionette (a SIGTERM does not shut it down cleanly).
func firstStart(ctx context.Context, bin, profile string, env []string) error {
	userJS := filepath.Join(profile, "user.js")
	if err := os.WriteFile(userJS, []byte(`user_pref("marionette.port", 0);`+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(userJS)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	cmd := exec.Command(bin, "--headless", "--marionette", "--remote-allow-system-access", "-profile", profile, "-no-remote")
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	port, err := waitPort(ctx, filepath.Join(profile, "MarionetteActivePort"))
	if err != nil {
		cmd.Process.Kill()
		return fmt.Errorf("thunderbird first start: %w", err)
	}
	c, err := marionette.Dial(ctx, "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		cmd.Process.Kill()
		return err
	}
	defer c.Close()
	if _, err := c.NewSession(ctx, nil); err != nil {
		cmd.Process.Kill()
		return fmt.Errorf("thunderbird first start: %w", err)
	}
	_, err = c.Quit(ctx)
	return err
}

func waitPort(ctx context.Context, file string) (int, error) {
	for {
		if b, err := os.ReadFile(file); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 {
				return p, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no Marionette port in %s: %w", file, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
