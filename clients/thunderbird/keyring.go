package thunderbird

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"

	"github.com/endymail/endymail/clients"
)

// keyBlock is one transferable key inside an RNP keyring file (pubring.gpg,
// secring.gpg): the raw bytes from its primary key packet to the next one,
// and the primary key's fingerprint (40 hex upper).
type keyBlock struct {
	raw         []byte
	fingerprint string
}

// Packet tags that start a transferable key (RFC 4880 §11.1, §11.2).
const (
	tagSecretKey = 5
	tagPublicKey = 6
)

// splitKeyring cuts a binary keyring into its transferable keys without
// re-serialising anything, so keys we do not touch keep their bytes. Its
// errors wrap [clients.ErrCorrupt].
func splitKeyring(name string, data []byte) ([]keyBlock, error) {
	var blocks []keyBlock
	for off := 0; off < len(data); {
		tag, n, err := packetHeader(data[off:])
		if err != nil {
			return nil, fmt.Errorf("%s at byte %d: %v: %w", name, off, err, clients.ErrCorrupt)
		}
		if tag == tagSecretKey || tag == tagPublicKey {
			blocks = append(blocks, keyBlock{})
		} else if len(blocks) == 0 {
			return nil, fmt.Errorf("%s: packet tag %d before any key: %w", name, tag, clients.ErrCorrupt)
		}
		b := &blocks[len(blocks)-1]
		b.raw = data[off-len(b.raw) : off+n]
		off += n
	}
	for i := range blocks {
		p, err := packet.Read(bytes.NewReader(blocks[i].raw))
		if err != nil {
			return nil, fmt.Errorf("%s: key %d: %v: %w", name, i+1, err, clients.ErrCorrupt)
		}
		switch k := p.(type) {
		case *packet.PrivateKey:
			blocks[i].fingerprint = strings.ToUpper(hex.EncodeToString(k.Fingerprint))
		case *packet.PublicKey:
			blocks[i].fingerprint = strings.ToUpper(hex.EncodeToString(k.Fingerprint))
		default:
			return nil, fmt.Errorf("%s: key %d: unsupported primary key packet: %w", name, i+1, clients.ErrCorrupt)
		}
	}
	return blocks, nil
}

// packetHeader returns the tag and the total length (header + body) of the
// packet at the start of data. Partial body lengths and the old format's
// indeterminate length never occur in key packets and are refused.
func packetHeader(data []byte) (tag byte, total int, err error) {
	if len(data) < 2 || data[0]&0x80 == 0 {
		return 0, 0, fmt.Errorf("not a packet header")
	}
	var hdr, body int
	if data[0]&0x40 == 0 { // old format
		tag = (data[0] >> 2) & 0x0f
		switch data[0] & 3 {
		case 0:
			hdr, body = 2, int(data[1])
		case 1:
			if len(data) < 3 {
				return 0, 0, fmt.Errorf("truncated header")
			}
			hdr, body = 3, int(data[1])<<8|int(data[2])
		case 2:
			if len(data) < 5 {
				return 0, 0, fmt.Errorf("truncated header")
			}
			hdr, body = 5, int(data[1])<<24|int(data[2])<<16|int(data[3])<<8|int(data[4])
		default:
			return 0, 0, fmt.Errorf("indeterminate packet length")
		}
	} else {
		tag = data[0] & 0x3f
		switch l := data[1]; {
		case l < 192:
			hdr, body = 2, int(l)
		case l < 224:
			if len(data) < 3 {
				return 0, 0, fmt.Errorf("truncated header")
			}
			hdr, body = 3, (int(l)-192)<<8+int(data[2])+192
		case l == 255:
			if len(data) < 6 {
				return 0, 0, fmt.Errorf("truncated header")
			}
			hdr, body = 6, int(data[2])<<24|int(data[3])<<16|int(data[4])<<8|int(data[5])
		default:
			return 0, 0, fmt.Errorf("partial body length in a keyring")
		}
	}
	if body < 0 || body > len(data)-hdr {
		return 0, 0, fmt.Errorf("packet of %d bytes runs past the end", body)
	}
	return tag, hdr + body, nil
}

// withKey returns the keyring with block in place of any key with the same
// fingerprint (or appended), every other byte kept.
func withKey(blocks []keyBlock, block keyBlock) []byte {
	var out bytes.Buffer
	replaced := false
	for _, b := range blocks {
		switch {
		case b.fingerprint != block.fingerprint:
			out.Write(b.raw)
		case !replaced:
			out.Write(block.raw)
			replaced = true
		}
	}
	if !replaced {
		out.Write(block.raw)
	}
	return out.Bytes()
}

// withoutKey returns the keyring without the key fpr.
func withoutKey(blocks []keyBlock, fpr string) []byte {
	var out bytes.Buffer
	for _, b := range blocks {
		if b.fingerprint != fpr {
			out.Write(b.raw)
		}
	}
	return out.Bytes()
}

func findKey(blocks []keyBlock, fpr string) (keyBlock, bool) {
	for _, b := range blocks {
		if b.fingerprint == fpr {
			return b, true
		}
	}
	return keyBlock{}, false
}

// protectedSecret reads an unprotected transferable secret key, checks its
// fingerprint, and returns it with every secret key packet protected by
// passphrase: iterated+salted S2K with SHA-256, AES-256, SHA-1 checksum
// (usage 254), the form gpg 2.2, rnp 0.16 and sq 0.27 all read. The
// passphrase is Thunderbird's 128-bit random one, so a modest iteration
// count costs nothing in strength and keeps every unlock fast.
func protectedSecret(secret []byte, fpr string, passphrase []byte) ([]byte, error) {
	e, err := openpgp.ReadEntity(packet.NewReader(bytes.NewReader(secret)))
	if err != nil {
		return nil, fmt.Errorf("OpenPGP secret key: %v: %w", err, clients.ErrCorrupt)
	}
	if got := strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)); got != fpr {
		return nil, fmt.Errorf("OpenPGP secret key has fingerprint %s, want %s: %w", got, fpr, clients.ErrCorrupt)
	}
	if e.PrivateKey == nil || e.PrivateKey.Encrypted {
		return nil, fmt.Errorf("OpenPGP material for %s is not an unprotected secret key: %w", fpr, clients.ErrCorrupt)
	}
	cfg := &packet.Config{
		DefaultCipher: packet.CipherAES256,
		S2KConfig:     &s2k.Config{S2KMode: s2k.IteratedSaltedS2K, Hash: crypto.SHA256, S2KCount: 1 << 20},
	}
	if err := e.EncryptPrivateKeys(passphrase, cfg); err != nil {
		return nil, fmt.Errorf("protect OpenPGP secret key: %w", err)
	}
	var out bytes.Buffer
	if err := e.SerializePrivateWithoutSigning(&out, nil); err != nil {
		return nil, fmt.Errorf("serialise OpenPGP secret key: %w", err)
	}
	return out.Bytes(), nil
}

// unlocks reports whether the secret key block opens with passphrase.
func unlocks(block []byte, passphrase []byte) bool {
	e, err := openpgp.ReadEntity(packet.NewReader(bytes.NewReader(block)))
	if err != nil || e.PrivateKey == nil {
		return false
	}
	return e.DecryptPrivateKeys(passphrase) == nil
}
