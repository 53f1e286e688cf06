package smime

import (
	"crypto/x509"
	"sync"
	"testing"
	"time"
)

// testNow is the clock the tests pass to the package. It is the real time
// (to the second, as certificates store it) because the fixtures also go to
// the peers, which check validity against the wall clock.
var testNow = time.Now().UTC().Truncate(time.Second)

// Fixtures are shared: RSA key generation costs up to a second on these
// machines.
var (
	fixtureMu  sync.Mutex
	fixtureCA  *CA
	identities = map[string]*Identity{}
)

func testCA(t testing.TB) *CA {
	t.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if fixtureCA == nil {
		ca, err := NewCA("Alice's endymail CA", testNow.Add(-24*time.Hour), "example.com")
		if err != nil {
			t.Fatal(err)
		}
		fixtureCA = ca
	}
	return fixtureCA
}

// testIdentity returns a shared identity for addr with key type kt.
func testIdentity(t testing.TB, addr string, kt KeyType) *Identity {
	t.Helper()
	ca := testCA(t)
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	key := addr + "/" + kt.String()
	if id := identities[key]; id != nil {
		return id
	}
	id, err := ca.Issue(LeafRequest{Address: addr, Name: "Test " + addr, KeyType: kt, Now: testNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	identities[key] = id
	return id
}

func testRoots(t testing.TB) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(testCA(t).Cert)
	return p
}

// sampleMessage is a small RFC 5322 message from alice to bob.
func sampleMessage(from string) []byte {
	return []byte("From: Alice <" + from + ">\r\n" +
		"To: Bob <bob@example.com>\r\n" +
		"Subject: quarterly figures\r\n" +
		"Date: Sun, 01 Nov 2026 12:00:00 +0000\r\n" +
		"Message-ID: <1@example.com>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Hello Bob,\r\nthe figures are in.\r\n")
}

// multipartMessage is a message with a text part and an attachment, with a
// folded Content-Type and LF line ends as a local mail tool would hand it
// over.
func multipartMessage() []byte {
	return []byte("From: alice@example.com\n" +
		"To: bob@example.com\n" +
		"Subject: with attachment\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed;\n boundary=\"outer-b\"\n" +
		"\n" +
		"preamble\n" +
		"--outer-b\n" +
		"Content-Type: text/plain; charset=us-ascii\n\n" +
		"see attachment\n" +
		"--outer-b\n" +
		"Content-Type: application/octet-stream; name=a.bin\n" +
		"Content-Transfer-Encoding: base64\n\n" +
		"AAECAwQFBgcICQ==\n" +
		"--outer-b--\n")
}
