//go:build linux

package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/endymail/endymail/internal/interop"
	"github.com/endymail/endymail/mesh/server"
	"github.com/endymail/endymail/mesh/server/servertest"
)

// TestGPGLocatesEnabledKeyByWKD: the real gpg 2.2 (dirmngr) finds the key
// that enable published, over HTTPS from the mail domain, with
// `--auto-key-locate clear,wkd`. The mail domain is made local honestly: a
// network namespace of its own, where example.com and openpgpkey.example.com
// resolve to 127.0.0.1 (a private /etc/hosts) and the real mesh service
// listens with TLS on 127.0.0.1:443 under a test CA that the namespace's
// system trust store (a private /etc/ssl/certs/ca-certificates.crt) holds.
// dirmngr uses getaddrinfo (standard-resolver) and its system trust.
func TestGPGLocatesEnabledKeyByWKD(t *testing.T) {
	gpg := interop.Need(t, "gpg", "gnupg")
	interop.Need(t, "dirmngr", "dirmngr")
	ipCmd := interop.Need(t, "ip", "iproute2")
	interop.Need(t, "unshare", "util-linux")
	if os.Geteuid() != 0 {
		interop.Missing(t, "root (for a network namespace)", "none: run as root")
	}
	handler, url := startWKDMesh(t)
	_, fpr := enableAlice(t, url)

	ns, served, caPEM := serveInNetns(t, ipCmd, handler, "example.com", "openpgpkey.example.com")
	// With openpgpkey.example.com resolvable gpg uses the advanced method;
	// without it, the direct one.
	for _, c := range []struct{ method, hosts, wantPath string }{
		{"advanced", "example.com openpgpkey.example.com", "openpgpkey.example.com/.well-known/openpgpkey/example.com/hu/"},
		{"direct", "example.com", "example.com/.well-known/openpgpkey/hu/"},
	} {
		t.Run(c.method, func(t *testing.T) {
			home := gpgLocate(t, gpg, ns, ipCmd, c.hosts, caPEM)
			list := exec.Command(gpg, "--batch", "--with-colons", "--fingerprint", alice)
			list.Env = append(os.Environ(), "GNUPGHOME="+home)
			keys, err := list.Output()
			if err != nil {
				t.Fatalf("gpg --fingerprint: %v", err)
			}
			if !strings.Contains(string(keys), "fpr:::::::::"+fpr+":") {
				t.Errorf("gpg's keyring after WKD lookup:\n%s\nwant fingerprint %s", keys, fpr)
			}
			if got := served(); !slices.ContainsFunc(got, func(u string) bool { return strings.HasPrefix(u, c.wantPath) }) {
				t.Errorf("service was asked for %q, want a request for %s...", got, c.wantPath)
			}
		})
	}
}

// gpgLocate runs `gpg --locate-keys --auto-key-locate clear,wkd alice` in
// the namespace with a private /etc/hosts mapping hosts to 127.0.0.1 (and
// nothing else resolving) and a
// system trust store holding only caPEM, in a fresh GnuPG home it returns.
func gpgLocate(t *testing.T, gpg, ns, ipCmd, hosts string, caPEM []byte) string {
	t.Helper()
	tmp, err := os.MkdirTemp("", "wkd") // short: gpg's socket paths must fit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	home := filepath.Join(tmp, "g")
	write(t, filepath.Join(home, "dirmngr.conf"), "standard-resolver\nlog-file "+filepath.Join(home, "dirmngr.log")+"\nverbose\n")
	write(t, filepath.Join(tmp, "hosts"), "127.0.0.1 localhost "+hosts+"\n")
	write(t, filepath.Join(tmp, "ca.pem"), string(caPEM))
	// Names resolve from the hosts file only: a name not there does not
	// exist (as with an authoritative NXDOMAIN), rather than a DNS timeout.
	write(t, filepath.Join(tmp, "nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files\n")
	write(t, filepath.Join(tmp, "resolv.conf"), "nameserver 127.0.0.1\n")
	script := strings.Join([]string{
		"mount --bind " + filepath.Join(tmp, "hosts") + " /etc/hosts",
		"mount --bind " + filepath.Join(tmp, "nsswitch.conf") + " /etc/nsswitch.conf",
		"mount --bind " + filepath.Join(tmp, "resolv.conf") + " /etc/resolv.conf",
		"mount --bind " + filepath.Join(tmp, "ca.pem") + " /etc/ssl/certs/ca-certificates.crt",
		gpg + " --batch --auto-key-locate clear,wkd --locate-keys " + alice,
		"rc=$?", "gpgconf --kill dirmngr", "exit $rc",
	}, "\n")
	cmd := exec.Command(ipCmd, "netns", "exec", ns, "unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(home, "dirmngr.log"))
		t.Fatalf("gpg --locate-keys: %v\n%s\ndirmngr log:\n%s", err, out, log)
	}
	t.Logf("gpg: %s", out)
	return home
}

// serveInNetns makes a network namespace with loopback up and serves
// handler there with TLS on 127.0.0.1:443, under a fresh test CA for hosts.
// It returns the namespace's name, a function listing the requests served
// (host + path) and the CA (PEM).
func serveInNetns(t *testing.T, ipCmd string, handler http.Handler, hosts ...string) (string, func() []string, []byte) {
	t.Helper()
	ns := fmt.Sprintf("endymail-wkd-%d", os.Getpid())
	run(t, ipCmd, "netns", "add", ns)
	t.Cleanup(func() { exec.Command(ipCmd, "netns", "del", ns).Run() })
	run(t, ipCmd, "-n", ns, "link", "set", "lo", "up")
	caPEM, cert := wkdPKI(t, hosts...)
	ln, err := listenInNetns("/run/netns/"+ns, "127.0.0.1:443")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var served []string
	startNXDomain(t, "/run/netns/"+ns)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		served = append(served, r.Host+r.URL.Path)
		mu.Unlock()
		handler.ServeHTTP(w, r)
	}), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go hs.ServeTLS(ln, "", "")
	t.Cleanup(func() { hs.Close() })
	return ns, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(served) }, caPEM
}

// startNXDomain answers DNS on 127.0.0.1:53 in the namespace with "no such
// name" for every question, as the public DNS does for
// _openpgpkey._tcp.example.com (dirmngr asks for that SRV record before the
// direct method and gives up if the resolver cannot be reached).
func startNXDomain(t *testing.T, nsPath string) {
	c, err := inNetns(nsPath, func() (io.Closer, error) { return net.ListenPacket("udp", "127.0.0.1:53") })
	if err != nil {
		t.Fatal(err)
	}
	pc := c.(net.PacketConn)
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := buf[:n]
			end := 12
			for end < n && q[end] != 0 { // the question's name, label by label
				end += int(q[end]) + 1
			}
			end += 5 // the root label, QTYPE, QCLASS
			if n < 12 || end > n {
				continue
			}
			resp := append([]byte{q[0], q[1], 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0}, q[12:end]...)
			pc.WriteTo(resp, from)
		}
	}()
}

// listenInNetns opens a TCP listener inside the network namespace at
// nsPath. The socket keeps its namespace whichever thread serves it; the
// locked thread that entered the namespace is never unlocked, so the
// runtime discards it when the goroutine ends.
func listenInNetns(nsPath, addr string) (net.Listener, error) {
	c, err := inNetns(nsPath, func() (io.Closer, error) { return net.Listen("tcp", addr) })
	if err != nil {
		return nil, err
	}
	return c.(net.Listener), nil
}

// inNetns runs open (which makes a socket) on a thread inside the network
// namespace at nsPath.
func inNetns(nsPath string, open func() (io.Closer, error)) (io.Closer, error) {
	type result struct {
		ln  io.Closer
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(nsPath)
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, fmt.Errorf("entering %s: %w", nsPath, err)}
			return
		}
		ln, err := open()
		ch <- result{ln, err}
	}()
	r := <-ch
	return r.ln, r.err
}

// wkdPKI makes a test CA (PEM) and a TLS certificate for hosts signed by it.
func wkdPKI(t *testing.T, hosts ...string) ([]byte, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "endymail WKD test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startWKDMesh runs the real mesh service with the Web Key Directory of
// example.com and returns its handler and a plain loopback URL.
func startWKDMesh(t *testing.T) (http.Handler, string) {
	t.Helper()
	url, srv := servertest.Start(t, server.Config{WKDDomains: []string{"example.com"}})
	return srv.Handler(), url
}
