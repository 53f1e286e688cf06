package openpgp

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// fixtures holds keys made once per test binary: RSA-3072 generation
// takes seconds on the shared 2-core machines.
var fixtures struct {
	once              sync.Once
	alice, bob, carol map[KeyType]*Key
	err               error
}

func testKeys(t testing.TB, kt KeyType) (alice, bob, carol *Key) {
	t.Helper()
	fixtures.once.Do(func() {
		fixtures.alice, fixtures.bob, fixtures.carol = map[KeyType]*Key{}, map[KeyType]*Key{}, map[KeyType]*Key{}
		for _, typ := range []KeyType{Ed25519, RSA3072} {
			for _, p := range []struct {
				m    map[KeyType]*Key
				name string
			}{{fixtures.alice, "Alice"}, {fixtures.bob, "Bob"}, {fixtures.carol, "Carol"}} {
				k, err := Generate(KeyRequest{Name: p.name, Address: strings.ToLower(p.name) + "@example.org", Type: typ})
				if err != nil {
					fixtures.err = err
					return
				}
				p.m[typ] = k
			}
		}
	})
	if fixtures.err != nil {
		t.Fatalf("generate fixtures: %v", fixtures.err)
	}
	return fixtures.alice[kt], fixtures.bob[kt], fixtures.carol[kt]
}

var keyTypes = []KeyType{Ed25519, RSA3072}

// testMessage is a message from alice to bob with 8-bit UTF-8 text, LF line
// endings and a trailing space, as a client might hand it over.
func testMessage(from string) []byte {
	return []byte("From: Alice <" + from + ">\n" +
		"To: Bob <bob@example.org>\n" +
		"Subject: Test message\n" +
		"Date: Fri, 27 Nov 2026 06:00:00 +0000\n" +
		"Message-ID: <test-1@example.org>\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: text/plain; charset=utf-8\n" +
		"Content-Transfer-Encoding: 8bit\n" +
		"\n" +
		"Grüße aus Köln — ein Test. \n" +
		"From the second line.\n")
}

// bigMessage is a message of about size bytes of base64-like text.
func bigMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\nSubject: big\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "line %06d abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\r\n", i)
	}
	return b.Bytes()
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func header(t *testing.T, msg []byte, key string) string {
	t.Helper()
	e, err := parseEntity(canonical(msg))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	return e.header.Get(key)
}
