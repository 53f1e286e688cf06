// Package lookup finds the public keys of a mail address for a sender: the
// endymail mesh (a publication verified against the publishing account's
// signed log), then the Web Key Directory (advanced, then direct method),
// then a VKS keyserver (off unless configured), then, last, the S/MIME
// certificates of signed mail the user received that a mail client kept
// (see [Received]; the agent gives every client that has them). It
// verifies every answer
// (one well-formed key, a user ID with the address, not expired or revoked,
// size and time caps), caches results on disk with expiry and negative
// caching, and never replaces a known key silently: a different key is
// recorded as a [Change] and is adopted only when the same account's signed
// log rotated it (or the user accepts it with [Resolver.Accept]).
//
// It knows nothing of the agent: give [New] a directory and the sources. Use
// [Resolver.Lookup], [Resolver.Fetch], [Resolver.Known] and [Resolver.Accept].
package lookup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/lockedfile"

	"github.com/endymail/endymail/mesh/proto"
)

// Sources, in the order the chain asks them.
const (
	SourceMesh        = "mesh"
	SourceWKDAdvanced = "wkd-advanced"
	SourceWKDDirect   = "wkd-direct"
	SourceVKS         = "vks"
	// then each Received: "<client> received mail" (SourceReceived)
)

// ErrNotFound means no source has a key for the address and none is known.
var ErrNotFound = errors.New("no key found")

// Mesh is a mesh service's public lookup (implemented by
// *client.Client). It returns an error wrapping proto.ErrNotFound when the
// service publishes nothing for addr; anything it returns is verified here.
type Mesh interface {
	Lookup(ctx context.Context, addr string) (proto.Lookup, error)
}

// Config configures a [Resolver]. Zero fields take the defaults.
type Config struct {
	Dir         string       // directory of the cache file (the device home); required
	Mesh        Mesh         // nil: skip the mesh
	NoWKD       bool         // skip the Web Key Directory
	VKS         string       // base URL of a VKS keyserver (https://keys.openpgp.org); "" = off
	Received    []Received   // mail clients' certificates from received signed mail, asked last, in order
	HTTP        *http.Client // for WKD and VKS; tests give one that dials a local server
	Timeout     time.Duration
	MaxSize     int64         // bytes of one WKD or VKS answer; default 256 KiB
	TTL         time.Duration // a found key is looked up again after TTL; default 24h
	NegativeTTL time.Duration // nothing found anywhere: ask again after; default 1h
	RetryTTL    time.Duration // a source failed: ask again after; default 5m
	Now         func() time.Time
}

// Defaults of [Config].
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxSize     = 256 << 10
	DefaultTTL         = 24 * time.Hour
	DefaultNegativeTTL = time.Hour
	DefaultRetryTTL    = 5 * time.Minute
)

// Resolver runs the lookup chain over a cache file.
type Resolver struct {
	cfg  Config
	path string
	mu   sync.Mutex // serialises cache updates in this process
}

// New returns a resolver whose cache lives in cfg.Dir.
func New(cfg Config) (*Resolver, error) {
	if cfg.Dir == "" {
		return nil, errors.New("lookup: no cache directory")
	}
	if cfg.VKS != "" && !strings.HasPrefix(cfg.VKS, "https://") && !strings.HasPrefix(cfg.VKS, "http://") {
		return nil, fmt.Errorf("lookup: keyserver %q: want an http(s) URL", cfg.VKS)
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.Timeout, DefaultTimeout)
	def(&cfg.TTL, DefaultTTL)
	def(&cfg.NegativeTTL, DefaultNegativeTTL)
	def(&cfg.RetryTTL, DefaultRetryTTL)
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	hc := http.Client{}
	if cfg.HTTP != nil {
		hc = *cfg.HTTP
	}
	hc.CheckRedirect = noDowngrade
	cfg.HTTP = &hc
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Resolver{cfg: cfg, path: filepath.Join(cfg.Dir, CacheFile)}, nil
}

// noDowngrade follows at most 5 redirects, never from https to http.
func noDowngrade(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("refusing redirect from https to %s", req.URL.Redacted())
	}
	return nil
}

// Outcome is the result of one lookup.
type Outcome struct {
	Address  string      `json:"address"`
	Key      *Record     `json:"key"`                // the key to use; nil with ErrNotFound
	Cached   bool        `json:"cached"`             // answered from the cache without asking the sources
	Change   *Change     `json:"change,omitempty"`   // a different key was seen by this lookup
	Rejected []Rejection `json:"rejected,omitempty"` // answers refused by this lookup
}

// Lookup returns the key for addr: from the cache while it is fresh, else
// through the chain. It fails with ErrNotFound when no key is known.
func (r *Resolver) Lookup(ctx context.Context, addr string) (*Outcome, error) {
	return r.lookup(ctx, addr, false)
}

// Fetch asks the sources now, whatever the cache holds.
func (r *Resolver) Fetch(ctx context.Context, addr string) (*Outcome, error) {
	return r.lookup(ctx, addr, true)
}

func (r *Resolver) lookup(ctx context.Context, addr string, force bool) (*Outcome, error) {
	addr, c, unlock, err := r.lockAndLoad(addr)
	if err != nil {
		return nil, err
	}
	defer unlock()
	k := c.Addresses[addr]
	now := r.cfg.Now()
	if k != nil && !force && now.Before(k.Expires) {
		return k.outcome(true, nil, nil)
	}
	if k == nil {
		k = &Known{Address: addr}
	}
	found, rejected := r.chain(ctx, addr, k.Current)
	for _, rej := range rejected {
		k.reject(rej)
	}
	ch := k.update(found, rejected, now, r.cfg)
	c.Addresses[addr] = k
	if err := r.save(c); err != nil {
		return nil, err
	}
	return k.outcome(false, ch, rejected)
}

func (k *Known) outcome(cached bool, ch *Change, rej []Rejection) (*Outcome, error) {
	o := &Outcome{Address: k.Address, Key: k.Current, Cached: cached, Change: ch, Rejected: rej}
	if k.Current == nil {
		return o, fmt.Errorf("%w for %s", ErrNotFound, k.Address)
	}
	return o, nil
}

// update folds the chain's result into k and returns the change it saw.
func (k *Known) update(found *Record, rejected []Rejection, now time.Time, cfg Config) *Change {
	k.Checked = now
	switch {
	case found == nil && len(rejected) > 0:
		k.Expires = now.Add(cfg.RetryTTL)
		return nil
	case found == nil:
		k.Expires = now.Add(cfg.NegativeTTL) // the known key (if any) stays
		return nil
	}
	k.Expires = now.Add(cfg.TTL)
	old := k.Current
	if old == nil {
		k.Current, k.Pending = found, nil
		return nil
	}
	if sameKeys(old, found) {
		// Refresh from the same source only: binding the address to another
		// mesh account that merely copied the public key would let that
		// account "rotate" it later.
		if found.Source == old.Source && found.Account == old.Account {
			k.Current = found
		}
		return nil
	}
	ch := Change{Time: now, Source: found.Source, Old: old.ident(), New: found.ident()}
	switch {
	case found.Source == SourceMesh && old.Source == SourceMesh && found.Account == old.Account:
		ch.Adopted, ch.Reason = true, "rotated in the publishing account's signed log"
	case old.expired(now):
		ch.Adopted, ch.Reason = true, "the known key expired or was revoked"
	default:
		ch.Reason = "differs from the known key, which is kept; accept the new one by its fingerprint if it is right"
	}
	if ch.Adopted {
		k.Current, k.Pending = found, nil
	} else {
		k.Pending = found
	}
	k.change(ch)
	return &ch
}

// Known returns what the cache holds for addr, or ErrNotFound.
func (r *Resolver) Known(addr string) (*Known, error) {
	addr, c, unlock, err := r.lockAndLoad(addr)
	if err != nil {
		return nil, err
	}
	defer unlock()
	k := c.Addresses[addr]
	if k == nil {
		return nil, fmt.Errorf("%w for %s: never looked up", ErrNotFound, addr)
	}
	return k, nil
}

// ErrNoPending means there is no held-back key with that fingerprint.
var ErrNoPending = errors.New("no held-back key with that fingerprint")

// Accept adopts the held-back key of addr whose OpenPGP or S/MIME
// fingerprint is fpr: the user's decision, recorded as a change.
func (r *Resolver) Accept(addr, fpr string) (*Known, error) {
	addr, c, unlock, err := r.lockAndLoad(addr)
	if err != nil {
		return nil, err
	}
	defer unlock()
	k := c.Addresses[addr]
	fpr = strings.ToUpper(strings.ReplaceAll(fpr, " ", ""))
	if k == nil || k.Pending == nil || (fpr != k.Pending.Fingerprint && fpr != k.Pending.SMIMEFingerprint) {
		return nil, fmt.Errorf("%w: %s for %s", ErrNoPending, fpr, addr)
	}
	k.change(Change{Time: r.cfg.Now(), Source: k.Pending.Source, Old: k.Current.ident(), New: k.Pending.ident(),
		Adopted: true, Reason: "accepted by the user"})
	k.Current, k.Pending = k.Pending, nil
	return k, r.save(c)
}

// lockAndLoad normalises addr, locks the cache and loads it. When err is
// nil the caller holds the lock and must call unlock.
//
// The lock is r.mu within this process and a lock file beside the cache
// across processes: the agent and a CLI command (`endymail keys --accept`
// while the agent syncs contacts) must not lose each other's updates.
func (r *Resolver) lockAndLoad(addr string) (string, *cacheFile, func(), error) {
	addr, err := proto.NormalizeAddress(addr)
	if err != nil {
		return "", nil, nil, err
	}
	r.mu.Lock()
	funlock, err := lockedfile.MutexAt(r.path + ".lock").Lock()
	if err != nil {
		r.mu.Unlock()
		return "", nil, nil, fmt.Errorf("key cache: %w", err)
	}
	unlock := func() { funlock(); r.mu.Unlock() }
	c, err := r.load()
	if err != nil {
		unlock()
		return "", nil, nil, err
	}
	return addr, c, unlock, nil
}
