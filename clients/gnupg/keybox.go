package gnupg

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/endymail/endymail/clients"
)

// Keybox blob types (gnupg kbx/keybox-defs.h).
const (
	blobEmpty   = 0
	blobHeader  = 1
	blobOpenPGP = 2
	blobX509    = 3
)

// checkKeybox walks the blobs of a pubring.kbx: a 32-byte header blob
// with the magic "KBXf", then blobs each starting with its 4-byte big-endian
// length and a type byte. gpg 2.2 reads a truncated keybox without an error
// and then writes half of a key into it, so Apply checks the file first.
// Its errors wrap [clients.ErrCorrupt]. An empty file is a valid, empty
// keybox.
func checkKeybox(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if len(b) < 32 || b[4] != blobHeader || !bytes.Equal(b[8:12], []byte("KBXf")) {
		return fmt.Errorf("keybox header missing: %w", clients.ErrCorrupt)
	}
	for off := 0; off < len(b); {
		if len(b)-off < 5 {
			return fmt.Errorf("keybox blob at offset %d: %d trailing bytes: %w", off, len(b)-off, clients.ErrCorrupt)
		}
		n := binary.BigEndian.Uint32(b[off:])
		typ := b[off+4]
		if n < 5 || uint64(n) > uint64(len(b)-off) {
			return fmt.Errorf("keybox blob at offset %d: length %d overruns the %d-byte file: %w", off, n, len(b), clients.ErrCorrupt)
		}
		if typ > blobX509 || (typ == blobHeader) != (off == 0) {
			return fmt.Errorf("keybox blob at offset %d: unexpected type %d: %w", off, typ, clients.ErrCorrupt)
		}
		off += int(n)
	}
	return nil
}
