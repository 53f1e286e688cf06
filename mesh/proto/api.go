package proto

import (
	"crypto/sha1"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"
)

// HTTP API shapes. Paths (all under /v1/):
//
//	GET  /v1/health                                   → Health
//	GET  /v1/challenge?purpose=account|connect        → Challenge
//	POST /v1/accounts              (PoW) CreateAccount → AccountInfo
//	GET  /v1/accounts?handle=ADDR                     → AccountInfo
//	GET  /v1/accounts/ID/log?from=N                   → LogPage
//	POST /v1/accounts/ID/log       AppendEntries      → AccountInfo
//	GET  /v1/accounts/ID/events?after=N&rev=R&wait=S  → Events (long poll)
//	PUT  /v1/accounts/ID/blobs/BLOBID  Envelope(blob)  → {}
//	GET  /v1/accounts/ID/blobs/BLOBID                 → Envelope
//	POST /v1/accounts/ID/requests  (PoW) Envelope(ConnectRequest) → RequestInfo
//	GET  /v1/accounts/ID/requests                     → RequestList
//	GET  /v1/accounts/ID/requests/RID?wait=S          → RequestInfo (long poll while pending)
//	POST /v1/accounts/ID/requests/RID/answer  Envelope(Answer) → RequestInfo
//
// Proof of work travels in the PoWHeader as "TOKEN.SOLUTION" (SOLUTION in
// base64url), bound to SHA-256 of the request body.

// PoWHeader carries a proof-of-work solution.
const PoWHeader = "Endymail-Pow"

// PoW purposes.
const (
	PurposeAccount = "account"
	PurposeConnect = "connect"
)

// MaxWait caps a long poll.
const MaxWait = 60 * time.Second

// Health is the answer of /v1/health.
type Health struct {
	Status  string `json:"status"`
	Version int    `json:"version"`
}

// Challenge is a proof-of-work challenge.
type Challenge struct {
	Token   string    `json:"token"`
	Bits    int       `json:"bits"`
	Expires time.Time `json:"expires"`
}

// CreateAccount posts a new account's first log entries: genesis and the
// first admin device.
type CreateAccount struct {
	Entries []Envelope `json:"entries"`
}

// AccountInfo names an account and its log head.
type AccountInfo struct {
	Account string `json:"account"`
	Handle  string `json:"handle"`
	Head    uint64 `json:"head"`
}

// LogPage is a run of log entries starting at From.
type LogPage struct {
	From    uint64     `json:"from"`
	Head    uint64     `json:"head"`
	Entries []Envelope `json:"entries"`
}

// AppendEntries appends entries in order.
type AppendEntries struct {
	Entries []Envelope `json:"entries"`
}

// Events is the answer of a long poll: the log head and a revision counter
// of the account's connection requests.
type Events struct {
	Head uint64 `json:"head"`
	Rev  uint64 `json:"rev"`
}

// Request states.
const (
	StatePending  = "pending"
	StateApproved = "approved"
	StateDenied   = "denied"
	StateExpired  = "expired"
)

// RequestInfo is a connection request as the service holds it.
type RequestInfo struct {
	ID          string    `json:"id"`
	Request     Envelope  `json:"request"`
	ServerNonce []byte    `json:"server_nonce"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires"`
	State       string    `json:"state"`
	Answer      *Envelope `json:"answer,omitempty"`
}

// RequestList lists an account's connection requests.
type RequestList struct {
	Requests []RequestInfo `json:"requests"`
}

// WireError is the body of every 4xx and 5xx answer.
type WireError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Service error codes and their sentinels, so a client can branch with
// errors.Is on what the service said.
var (
	ErrBadRequest = errors.New("bad request")
	ErrNotFound   = errors.New("not found")
	ErrConflict   = errors.New("conflict")
	ErrPoW        = errors.New("proof of work refused")
	ErrTooLarge   = errors.New("request too large")
	ErrQuota      = errors.New("quota exceeded")
	ErrRateLimit  = errors.New("rate limited")
	ErrRejected   = errors.New("rejected by verification")
	ErrServer     = errors.New("service error")
)

var wireCodes = map[string]error{
	"bad_request": ErrBadRequest, "not_found": ErrNotFound, "conflict": ErrConflict,
	"pow": ErrPoW, "too_large": ErrTooLarge, "quota": ErrQuota, "rate_limit": ErrRateLimit,
	"rejected": ErrRejected, "server": ErrServer,
}

// ErrorCode returns the wire code for err (which must wrap one of the
// sentinels above; anything else is "server").
func ErrorCode(err error) string {
	for code, sentinel := range wireCodes {
		if errors.Is(err, sentinel) {
			return code
		}
	}
	return "server"
}

// ErrorFromWire turns a wire error back into an error wrapping its sentinel.
func ErrorFromWire(status int, w WireError) error {
	sentinel, ok := wireCodes[w.Error.Code]
	if !ok {
		sentinel = ErrServer
	}
	return fmt.Errorf("mesh service: %w: %s (HTTP %d)", sentinel, w.Error.Message, status)
}

// Public key lookup (issue 7). Paths:
//
//	GET /v1/lookup?addr=ADDR                                   → Lookup
//	GET /.well-known/openpgpkey/hu/HASH?l=LOCAL                 → binary OpenPGP key (WKD direct)
//	GET /.well-known/openpgpkey/DOMAIN/hu/HASH?l=LOCAL          → binary OpenPGP key (WKD advanced)
//	GET /.well-known/openpgpkey/policy, /.well-known/openpgpkey/DOMAIN/policy → empty policy
//
// The service is untrusted: a sender verifies a Lookup by replaying Log with
// [Replay] and reading the address's publication from the resulting state.

// Lookup is the answer of /v1/lookup: the account that publishes Address and
// its whole signed log.
type Lookup struct {
	Address string     `json:"address"`
	Account string     `json:"account"`
	Log     []Envelope `json:"log"`
}

// zbase32 is the z-base-32 alphabet (the bit order is that of RFC 4648).
var zbase32 = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// WKDHash is the Web Key Directory name of a local part
// (draft-koch-openpgp-webkey-service): z-base-32 of the SHA-1 of the
// lower-cased local part. SHA-1 is the draft's choice, used as a name only.
func WKDHash(local string) string {
	sum := sha1.Sum([]byte(strings.ToLower(local)))
	return zbase32.EncodeToString(sum[:])
}
