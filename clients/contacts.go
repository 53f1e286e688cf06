package clients

import (
	"context"
	"crypto/x509"
)

// Peer is one correspondent's public keys, found by the agent's lookup
// chain, for a client to encrypt to.
type Peer struct {
	Address string              // the correspondent's mail address
	OpenPGP []byte              // binary transferable public key; nil when none
	SMIME   []*x509.Certificate // leaf first, then its chain; nil when none
}

// Contacts is implemented by configurators that can read the addresses the
// user writes to and import correspondents' public keys. It is optional:
// the agent checks for it with a type assertion. Every implementation passes
// the Contacts part of the conformance suite (clienttest.Run with
// Fixture.Contacts).
//
// Error contract, as for [Configurator]: a returned error means nothing was
// left half-written. [ErrClientRunning] when the client must be closed
// before keys can be imported or taken out (Contacts never needs that: it
// reads without disturbing a running client), [ErrCorrupt] when the
// client's files or a peer's keys cannot be parsed. Other errors name what
// failed.
type Contacts interface {
	// Contacts lists the addresses the user writes to (address books,
	// collected addresses), lower case, each once, own addresses included.
	Contacts(ctx context.Context) ([]string, error)
	// ImportPeers makes the peers' public keys usable for encryption
	// without ever marking a key as verified by the user, and without
	// overriding a decision the user made about a key. It records what it
	// wrote, so that RevertPeers can undo it after a restart. It is
	// idempotent: importing the same peers again writes nothing and reports
	// no actions.
	ImportPeers(ctx context.Context, peers []Peer) (Report, error)
	// RevertPeers undoes every ImportPeers: the keys and acceptances it
	// added are removed, and what it replaced is put back as it was. It
	// never touches what the user decided: a key that was in the client
	// before the first import stays, and a key whose acceptance or trust
	// the user changed after the import keeps it (and stays), which
	// Report.Warnings says. Reverting twice changes nothing.
	RevertPeers(ctx context.Context) (Report, error)
}
