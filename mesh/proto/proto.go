// Package proto is the endymail mesh wire protocol: signed envelopes, the
// account log and its verification, device connection requests and witness
// codes, end-to-end encrypted key bundles, and the JSON shapes of the HTTP API.
//
// It is a leaf package shared by the mesh service and every device. Devices
// trust nothing the service says until it verifies here: use [Replay] (or
// [State.Apply] from a remembered head) for logs, [OpenBundle] for bundles
// and [Witness] for the code two screens compare.
package proto

// Version is the protocol version carried in every payload and in the
// /v1/ path prefix.
//
// Changelog:
//   - 1 (2026-11-27): signed envelopes (Ed25519ctx), account log with genesis,
//     device-add/remove, publish/unpublish and bundle entries; connection
//     requests with witness codes; HPKE (ML-KEM-768+X25519) wrapped bundles;
//     bundles also sealed to a recovery key derived from the root seed;
//     /v1/lookup (an address's account and verifiable log) and WKD.
const Version = 1

// Content types fed to UDF fingerprints; each names what was hashed.
const (
	TypeRootKey = "application/endymail-root-key" // Ed25519 account root public key
	TypeDevice  = "application/endymail-device"   // a device's signing key || HPKE key
	TypeEntry   = "application/endymail-entry"    // a log entry payload
	TypeBlob    = "application/endymail-bundle"   // a sealed bundle
	TypeSigner  = "application/endymail-sign-key" // any Ed25519 public key that signs
)

// Signature contexts (Ed25519ctx, RFC 8032): a signature made for one kind of
// object never verifies as another.
const (
	ContextEntry   = "endymail/v1/log-entry"
	ContextConnect = "endymail/v1/connect-request"
	ContextAnswer  = "endymail/v1/request-answer"
	ContextBlob    = "endymail/v1/blob"
)

// Limits every party enforces.
const (
	MaxEntrySize     = 64 << 10 // bytes of one log entry payload
	MaxBlobSize      = 1 << 20  // bytes of one sealed bundle
	MaxNameLen       = 64       // device names
	MaxBundleNameLen = 300      // bundle names
	MaxAddressLen    = 254
	MaxBundleItems   = 64 // devices a bundle is wrapped to
)
