package main

// Temporary: pins the module's chosen dependencies in go.mod while the
// packages that use them are being written. Removed once they are imported.
import (
	_ "github.com/ProtonMail/go-crypto/openpgp"
	_ "github.com/emersion/go-message"
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/godbus/dbus/v5"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/smallstep/pkcs7"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/mod/sumdb/tlog"
	_ "golang.org/x/sys/unix"
	_ "modernc.org/sqlite"
	_ "software.sslmate.com/src/go-pkcs12"
)
