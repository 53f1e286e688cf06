// Package localapi is the agent's local API (DESIGN.md §8): a small,
// versioned JSON API over HTTP on a per-user socket that the CLI uses while
// an agent runs. On Unix the socket is the file [SocketName] in the device
// home, mode 0600 in a 0700 folder, and every connection's peer uid is
// checked (SO_PEERCRED, LOCAL_PEERCRED) against the agent's own. On
// Windows it is a named pipe whose DACL grants the current user alone,
// rejecting remote clients; the client checks the pipe's owner. Other
// platforms get errors.ErrUnsupported, and the CLI works directly.
//
// Server side: [Listen], then [Serve] with a [Backend] ([FromDaemon] for
// the real agent). Client side: [Connect], then the methods of [Client].
//
// The wire protocol:
//
//	GET  /v1/status                     → Status
//	GET  /v1/pending                    → []agent.PendingRequest
//	POST /v1/approve  ApproveRequest    → agent.PendingRequest
//	POST /v1/deny     DenyRequest       → {}
//	POST /v1/configure                  → map[address][]ClientResult
//
// Errors are a 4xx or 5xx status with an [Error] body.
package localapi

import "errors"

// Version is the API version, the first element of every path.
//
// Changes:
//
//	2026-11-27 v1: status, pending, approve, deny, configure.
const Version = "v1"

// SocketName is the socket's file name in the device home.
const SocketName = "agent.sock"

// ErrRunning means another agent already serves the device home.
var ErrRunning = errors.New("an agent is already running for this device home")
