package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"moderation/internal/auth"
)

// testCA is a certificate authority made for one test, writing the PEM
// files ServerTLS and ClientTLS read.
type testCA struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // the CA certificate, PEM
}

func serialNumber(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	ca := &testCA{t: t, dir: t.TempDir()}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca.cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca.key = key
	ca.file = ca.write(name+"-ca.pem", "CERTIFICATE", der)
	return ca
}

func (ca *testCA) write(name, typ string, der []byte) string {
	ca.t.Helper()
	p := filepath.Join(ca.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return p
}

// issue signs a leaf certificate and returns its certificate and key files.
func (ca *testCA) issue(name string, usage x509.ExtKeyUsage, ips ...net.IP) (certFile, keyFile string) {
	ca.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		ca.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serialNumber(ca.t),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		ca.t.Fatal(err)
	}
	return ca.write(name+".pem", "CERTIFICATE", der), ca.write(name+".key", "PRIVATE KEY", keyDER)
}

// serveTLS accepts connections on 127.0.0.1 and writes "ok" on each that
// completes a handshake.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				c.Write([]byte("ok"))
			}()
		}
	}()
	return ln.Addr().String()
}

// talk dials addr and reads the server's greeting. Under TLS 1.3 a server
// refuses a client certificate only after the client's handshake is done,
// so the refusal shows up on the first read.
func talk(addr string, cfg *tls.Config) error {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if string(b) != "ok" {
		return errors.New("got " + string(b) + ", want ok")
	}
	return nil
}

func TestTLS(t *testing.T) {
	ca, stranger := newTestCA(t, "test"), newTestCA(t, "stranger")
	serverCert, serverKey := ca.issue("server", x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	clientCert, clientKey := ca.issue("client", x509.ExtKeyUsageClientAuth)
	strangerCert, strangerKey := stranger.issue("stranger-client", x509.ExtKeyUsageClientAuth)

	mtls, err := auth.ServerTLS(serverCert, serverKey, ca.file)
	if err != nil {
		t.Fatal(err)
	}
	if mtls.MinVersion != tls.VersionTLS12 {
		t.Errorf("got MinVersion %x, want TLS 1.2", mtls.MinVersion)
	}
	plain, err := auth.ServerTLS(serverCert, serverKey, "")
	if err != nil {
		t.Fatal(err)
	}
	mtlsAddr, plainAddr := serveTLS(t, mtls), serveTLS(t, plain)

	for _, tc := range []struct {
		name                string
		addr                string
		caFile, cert, key   string
		serverName, wantErr string // wantErr empty: accepted
		// force presents the client certificate even if its issuer is not
		// among those the server asks for, as Go's client otherwise won't.
		force bool
	}{
		{name: "mTLS, client cert from the CA", addr: mtlsAddr, caFile: ca.file, cert: clientCert, key: clientKey},
		{name: "mTLS, explicit server name", addr: mtlsAddr, caFile: ca.file, cert: clientCert, key: clientKey, serverName: "127.0.0.1"},
		{name: "mTLS, no client cert", addr: mtlsAddr, caFile: ca.file, wantErr: "certificate required"},
		{name: "mTLS, client cert from another CA", addr: mtlsAddr, caFile: ca.file, cert: strangerCert, key: strangerKey, wantErr: "certificate required"},
		{name: "mTLS, client cert from another CA, presented anyway", addr: mtlsAddr, caFile: ca.file, cert: strangerCert, key: strangerKey, force: true, wantErr: "unknown certificate authority"},
		{name: "TLS, no client cert", addr: plainAddr, caFile: ca.file},
		{name: "server cert from an unknown CA", addr: plainAddr, caFile: stranger.file, wantErr: "certificate signed by unknown authority"},
		{name: "wrong server name", addr: plainAddr, caFile: ca.file, serverName: "moderation.example", wantErr: "wanted to match moderation.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := auth.ClientTLS(tc.caFile, tc.cert, tc.key, tc.serverName)
			if err != nil {
				t.Fatal(err)
			}
			if tc.force {
				cert := cfg.Certificates[0]
				cfg.Certificates = nil
				cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
			}
			err = talk(tc.addr, cfg)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got %v, want the connection accepted", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("got the connection accepted, want an error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("got error %q, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestTLSConfigErrors(t *testing.T) {
	ca := newTestCA(t, "test")
	cert, key := ca.issue("server", x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	junk := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, tc := range []struct {
		name    string
		build   func() (*tls.Config, error)
		wantErr string
	}{
		{"server without key", func() (*tls.Config, error) { return auth.ServerTLS(cert, "", "") }, "required together"},
		{"server without cert", func() (*tls.Config, error) { return auth.ServerTLS("", key, "") }, "required together"},
		{"server cert missing", func() (*tls.Config, error) { return auth.ServerTLS(missing, key, "") }, "load server certificate " + missing},
		{"server cert and key swapped", func() (*tls.Config, error) { return auth.ServerTLS(key, cert, "") }, "load server certificate"},
		{"client CA junk", func() (*tls.Config, error) { return auth.ServerTLS(cert, key, junk) }, "no PEM certificates found"},
		{"client CA missing", func() (*tls.Config, error) { return auth.ServerTLS(cert, key, missing) }, "load CA certificates " + missing},
		{"client cert without key", func() (*tls.Config, error) { return auth.ClientTLS(ca.file, cert, "", "") }, "required together"},
		{"client key without cert", func() (*tls.Config, error) { return auth.ClientTLS(ca.file, "", key, "") }, "required together"},
		{"server CA junk", func() (*tls.Config, error) { return auth.ClientTLS(junk, "", "", "") }, "no PEM certificates found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tc.build()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, %v, want an error containing %q", cfg, err, tc.wantErr)
			}
		})
	}
	// Empty CA file means the system roots.
	cfg, err := auth.ClientTLS("", "", "", "moderation.example")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs != nil || cfg.ServerName != "moderation.example" || cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("got RootCAs %v, ServerName %q, MinVersion %x, want nil, moderation.example, TLS 1.2", cfg.RootCAs, cfg.ServerName, cfg.MinVersion)
	}
}
