package nsslib

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// ProtocolVersion is the version of the helper protocol between [Run] and
// [ServeIfHelper]; both sides refuse any other.
//
// Changelog:
//   - 1 (2026-11-27): first version: one request (library folder, database
//     folder, operations) on stdin, one response on stdout.
const ProtocolVersion = 1

// HelperEnv names the environment variable that turns a process into the
// NSS helper; its value must be the protocol version.
const HelperEnv = "ENDYMAIL_NSS_HELPER"

// Limits of a request and a response: an S/MIME step is a few kilobytes.
const (
	maxMessage = 16 << 20
	maxOps     = 64
)

// Kind names an operation, after the NSS tool it replaces.
type Kind string

// The operations.
const (
	Create       Kind = "create" // certutil -N --empty-password: an empty database
	List         Kind = "list"   // certutil -L: nickname → trust
	Certs        Kind = "certs"  // certutil -L -n Nick: the DER certificates under Nick
	AddCert      Kind = "add"    // certutil -A -n Nick -t Trust: add Data (DER)
	SetTrust     Kind = "trust"  // certutil -M -n Nick -t Trust
	Keys         Kind = "keys"   // certutil -K: the nicknames of the private keys
	ImportPKCS12 Kind = "pkcs12" // pk12util -i: Data with Password
	Delete       Kind = "delete" // certutil -D (-F with WithKey) -n Nick, every certificate under Nick
	Find         Kind = "find"   // the certificate Data (DER) in the database, and its trust
	Decrypt      Kind = "sdr"    // pwdecrypt: SDR-decrypt Data (the binary blob)
	ByEmail      Kind = "email"  // certutil -L --email Nick: the DER certificates filed under that address
	AddModule    Kind = "module" // modutil -add Nick -libfile Library: a PKCS#11 module, kept in pkcs11.txt
	Verify       Kind = "verify" // vfychain -u 5: verify Data (DER) now for an e-mail recipient
	Chain        Kind = "chain"  // certutil -O -n Nick: the nicknames of the chain, root first
)

// readOnly is true for the kinds that never write.
var readOnly = map[Kind]bool{List: true, Certs: true, Keys: true, Find: true, Decrypt: true,
	ByEmail: true, Verify: true, Chain: true}

// Op is one operation; which fields it uses is listed with its [Kind].
type Op struct {
	Kind     Kind   `json:"op"`
	Nick     string `json:"nick,omitempty"`
	Trust    string `json:"trust,omitempty"`
	Data     []byte `json:"data,omitempty"`
	Password string `json:"password,omitempty"`
	WithKey  bool   `json:"withKey,omitempty"`
	Library  string `json:"library,omitempty"`
}

// Request is what the parent sends: NSS from Lib, the database in DB.
type Request struct {
	Version int    `json:"v"`
	Lib     string `json:"lib"`
	DB      string `json:"db"`
	Ops     []Op   `json:"ops"`
}

// Result is one operation's answer; which fields are set depends on the
// operation's [Kind].
type Result struct {
	Trust map[string]string `json:"trust,omitempty"` // List
	Certs [][]byte          `json:"certs,omitempty"` // Certs
	Keys  []string          `json:"keys,omitempty"`  // Keys
	Found bool              `json:"found,omitempty"` // Find
	Flags string            `json:"flags,omitempty"` // Find: the trust, as certutil prints it
	Plain []byte            `json:"plain,omitempty"` // Decrypt
	Nicks []string          `json:"nicks,omitempty"` // Chain ("(null)" for a certificate without one)
	Valid bool              `json:"valid,omitempty"` // Verify
	// Reason is NSS's error for a certificate that does not verify.
	Reason string `json:"reason,omitempty"`
}

// Response is what the helper answers: one Result per operation done, and
// the error that stopped it, if any.
type Response struct {
	Version int      `json:"v"`
	Results []Result `json:"results"`
	Err     *Error   `json:"error,omitempty"`
}

// ErrBadDatabase means NSS found the database damaged or in a format it
// cannot open (SEC_ERROR_BAD_DATABASE, SEC_ERROR_LEGACY_DATABASE, or
// SEC_ERROR_PKCS11_GENERAL_ERROR from NSS_Initialize: what opening an
// unreadable cert9.db read-write gives, in certutil too).
var ErrBadDatabase = errors.New("damaged NSS database")

// ErrProtocol means a malformed request or response.
var ErrProtocol = errors.New("malformed NSS helper message")

// Error is an NSS failure: the operation, what was being done, and the
// NSS error (PR_GetError) by code and name.
type Error struct {
	Op   Kind   `json:"op"`
	What string `json:"what"`
	Code int32  `json:"code,omitempty"`
	Name string `json:"name,omitempty"`
}

func (e *Error) Error() string {
	s := fmt.Sprintf("nss %s: %s", e.Op, e.What)
	if e.Name != "" {
		s += ": " + e.Name
	} else if e.Code != 0 {
		s += fmt.Sprintf(": NSS error %d", e.Code)
	}
	return s
}

// Is makes a damaged database match [ErrBadDatabase].
func (e *Error) Is(target error) bool {
	return target == ErrBadDatabase && (e.Name == "SEC_ERROR_BAD_DATABASE" || e.Name == "SEC_ERROR_LEGACY_DATABASE" ||
		e.Op == opInit && e.Name == "SEC_ERROR_PKCS11_GENERAL_ERROR")
}

// opInit names the opening of the database in errors.
const opInit Kind = "init"

// DecodeRequest reads and checks one request.
func DecodeRequest(r io.Reader) (*Request, error) {
	var req Request
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Version != ProtocolVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrProtocol, req.Version, ProtocolVersion)
	}
	if !filepath.IsAbs(req.Lib) || !filepath.IsAbs(req.DB) {
		return nil, fmt.Errorf("%w: library folder %q and database folder %q must be absolute", ErrProtocol, req.Lib, req.DB)
	}
	if len(req.Ops) == 0 || len(req.Ops) > maxOps {
		return nil, fmt.Errorf("%w: %d operations, want 1 to %d", ErrProtocol, len(req.Ops), maxOps)
	}
	for i, op := range req.Ops {
		if err := op.check(); err != nil {
			return nil, fmt.Errorf("%w: operation %d: %v", ErrProtocol, i, err)
		}
	}
	return &req, nil
}

// check refuses an operation that lacks what its kind needs.
func (op Op) check() error {
	needNick := map[Kind]bool{Certs: true, AddCert: true, SetTrust: true, Delete: true, ByEmail: true, AddModule: true, Chain: true}
	needData := map[Kind]bool{AddCert: true, ImportPKCS12: true, Find: true, Decrypt: true, Verify: true}
	switch {
	case !readOnly[op.Kind] && !needNick[op.Kind] && op.Kind != Create && op.Kind != ImportPKCS12:
		return fmt.Errorf("unknown operation %q", op.Kind)
	case op.Kind == AddModule && !filepath.IsAbs(op.Library):
		return fmt.Errorf("%s needs an absolute library path, not %q", op.Kind, op.Library)
	case strings.ContainsRune(op.Library, 0):
		return fmt.Errorf("%s: NUL in a string", op.Kind)
	case needNick[op.Kind] && op.Nick == "":
		return fmt.Errorf("%s needs a nickname", op.Kind)
	case strings.ContainsRune(op.Nick, 0) || strings.ContainsRune(op.Trust, 0) || strings.ContainsRune(op.Password, 0):
		return fmt.Errorf("%s: NUL in a string", op.Kind)
	case needData[op.Kind] && len(op.Data) == 0:
		return fmt.Errorf("%s needs data", op.Kind)
	case (op.Kind == AddCert || op.Kind == SetTrust) && strings.Count(op.Trust, ",") != 2:
		return fmt.Errorf("%s: trust %q is not three comma-separated fields", op.Kind, op.Trust)
	}
	return nil
}

// DecodeResponse reads one response to a request of n operations.
func DecodeResponse(r io.Reader, n int) (*Response, error) {
	var resp Response
	if err := decode(r, &resp); err != nil {
		return nil, err
	}
	if resp.Version != ProtocolVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrProtocol, resp.Version, ProtocolVersion)
	}
	if len(resp.Results) > n || (resp.Err == nil && len(resp.Results) != n) {
		return nil, fmt.Errorf("%w: %d results for %d operations", ErrProtocol, len(resp.Results), n)
	}
	return &resp, nil
}

// decode reads exactly one JSON value of at most maxMessage bytes.
func decode(r io.Reader, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, maxMessage+1))
	if err != nil {
		return err
	}
	if len(data) > maxMessage {
		return fmt.Errorf("%w: over %d bytes", ErrProtocol, maxMessage)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the message", ErrProtocol)
	}
	return nil
}
