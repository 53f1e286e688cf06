package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/endymail/endymail/clients/thunderbird"
)

// debounce gathers a burst of file events into one wake-up.
const debounce = 150 * time.Millisecond

// Files whose changes wake the loop. In the device home: the account.
// In a Thunderbird root: the profile list. In a profile: the prefs (a new
// identity, or Thunderbird rewriting them on exit) and the locks (released
// when Thunderbird closes).
var (
	homeFiles    = map[string]bool{"account.json": true}
	rootFiles    = map[string]bool{"profiles.ini": true, "installs.ini": true}
	profileFiles = map[string]bool{"prefs.js": true, "user.js": true, "lock": true, ".parentlock": true}
)

// watcher watches the device home and the mail clients' files.
type watcher struct {
	d     *Daemon
	fs    *fsnotify.Watcher
	home  string
	roots []string

	mu    sync.Mutex
	kinds map[string]map[string]bool // watched folder → file names that matter
	timer *time.Timer
}

func newWatcher(d *Daemon, roots []string) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if roots == nil {
		if home, err := os.UserHomeDir(); err == nil {
			roots, _ = thunderbird.DefaultRoots(home) // none on an unsupported platform
		}
	}
	w := &watcher{d: d, fs: fw, home: d.cfg.Agent.Home().Dir(), roots: roots, kinds: map[string]map[string]bool{}}
	if err := w.add(w.home, homeFiles); err != nil {
		fw.Close()
		return nil, err
	}
	w.refresh()
	return w, nil
}

func (w *watcher) close() { w.fs.Close() }

// add watches dir for changes to the named files.
func (w *watcher) add(dir string, names map[string]bool) error {
	dir = filepath.Clean(dir)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.kinds[dir] != nil {
		return nil
	}
	if err := w.fs.Add(dir); err != nil {
		return err
	}
	w.kinds[dir] = names
	return nil
}

// refresh watches the Thunderbird roots and profiles that exist now
// (profiles made since the last refresh included).
func (w *watcher) refresh() {
	for _, r := range w.roots {
		if err := w.add(r, rootFiles); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.d.log.Debug("cannot watch thunderbird folder", "dir", r, "err", err)
		}
	}
	ps, _ := thunderbird.DiscoverProfiles(w.roots)
	for _, p := range ps {
		if err := w.add(p.Dir, profileFiles); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.d.log.Debug("cannot watch thunderbird profile", "dir", p.Dir, "err", err)
		}
	}
}

// run turns file events into wake-ups until ctx ends.
func (w *watcher) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			w.event(ev)
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			w.d.log.Warn("file watch error", "err", err)
		}
	}
}

func (w *watcher) event(ev fsnotify.Event) {
	dir, name := filepath.Split(ev.Name)
	dir = filepath.Clean(dir)
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.kinds[dir][name] {
		return
	}
	if dir == filepath.Clean(w.home) { // one atomic rename: no burst to gather
		w.d.accountChanged()
		w.d.Kick("account changed")
		return
	}
	reason := "client files changed: " + ev.Name
	if w.timer != nil {
		w.timer.Stop()
	}
	w.timer = time.AfterFunc(debounce, func() { w.d.Kick(reason) })
}
