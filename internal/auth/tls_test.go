package auth_test

import (
	"crypto/tls"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"moderation/internal/auth"
	"moderation/internal/natsbus/natstest"
)

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
	ca, stranger := natstest.NewPKI(t), natstest.NewPKI(t)
	serverCert, serverKey, clientCert, clientKey := ca.ServerCert, ca.ServerKey, ca.ClientCert, ca.ClientKey
	strangerCert, strangerKey := stranger.ClientCert, stranger.ClientKey

	mtls, err := auth.ServerTLS(serverCert, serverKey, ca.CA)
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
		{name: "mTLS, client cert from the CA", addr: mtlsAddr, caFile: ca.CA, cert: clientCert, key: clientKey},
		{name: "mTLS, explicit server name", addr: mtlsAddr, caFile: ca.CA, cert: clientCert, key: clientKey, serverName: "127.0.0.1"},
		{name: "mTLS, no client cert", addr: mtlsAddr, caFile: ca.CA, wantErr: "certificate required"},
		{name: "mTLS, client cert from another CA", addr: mtlsAddr, caFile: ca.CA, cert: strangerCert, key: strangerKey, wantErr: "certificate required"},
		{name: "mTLS, client cert from another CA, presented anyway", addr: mtlsAddr, caFile: ca.CA, cert: strangerCert, key: strangerKey, force: true, wantErr: "unknown certificate authority"},
		{name: "TLS, no client cert", addr: plainAddr, caFile: ca.CA},
		{name: "server cert from an unknown CA", addr: plainAddr, caFile: stranger.CA, wantErr: "certificate signed by unknown authority"},
		{name: "wrong server name", addr: plainAddr, caFile: ca.CA, serverName: "moderation.example", wantErr: "not moderation.example"},
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
	ca := natstest.NewPKI(t)
	cert, key := ca.ServerCert, ca.ServerKey
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
		{"client cert without key", func() (*tls.Config, error) { return auth.ClientTLS(ca.CA, cert, "", "") }, "required together"},
		{"client key without cert", func() (*tls.Config, error) { return auth.ClientTLS(ca.CA, "", key, "") }, "required together"},
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
