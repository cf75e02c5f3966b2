package service_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/service"
)

// pki is a CA made for one test, with a server certificate for 127.0.0.1
// and a client certificate, all as PEM files. It is a compact copy of the
// generator in internal/auth's tests, which this package cannot import.
type pki struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	template := func(name string) *x509.Certificate {
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
		if err != nil {
			t.Fatal(err)
		}
		return &x509.Certificate{
			SerialNumber: serial,
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
		}
	}

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := template("test-ca")
	caTmpl.IsCA, caTmpl.BasicConstraintsValid, caTmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(name string, tmpl *x509.Certificate) (certFile, keyFile string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return write(name+".pem", "CERTIFICATE", der), write(name+".key", "PRIVATE KEY", keyDER)
	}

	p := pki{ca: write("ca.pem", "CERTIFICATE", caDER)}
	server := template("server")
	server.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	server.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	p.serverCert, p.serverKey = issue("server", server)
	client := template("client")
	client.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	p.clientCert, p.clientKey = issue("client", client)
	return p
}

// startTLSService is startService serving gRPC with the given TLS files;
// clientCA empty means TLS without client certificates.
func startTLSService(t *testing.T, cert, key, clientCA string) *service.Service {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, err := service.Start(ctx, service.Config{
		DataDir: t.TempDir(), NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		MaxStateMB: 64, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		TLSCert: cert, TLSKey: key, ClientCA: clientCA,
	})
	if err != nil {
		t.Fatalf("start service: %v", err)
	}
	t.Cleanup(svc.Stop)
	if err := svc.WaitReady(ctx); err != nil {
		t.Fatalf("service not ready: %v", err)
	}
	return svc
}

// tlsCase is one client of a TLS-serving service and the code its Check
// call must end with (codes.OK: answered).
type tlsCase struct {
	name              string
	caFile            string // empty: a plaintext client
	certFile, keyFile string
	token             bool
	want              codes.Code
	wantErr           string // part of the error, to tell why it failed
}

func runTLSCases(t *testing.T, svc *service.Service, cases []tlsCase) {
	t.Helper()
	token, err := svc.Token(auth.Identity{Subject: "svc", Role: auth.RoleService}, time.Hour)
	if err != nil {
		t.Fatalf("mint token: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds := insecure.NewCredentials()
			if tc.caFile != "" {
				cfg, err := auth.ClientTLS(tc.caFile, tc.certFile, tc.keyFile, "")
				if err != nil {
					t.Fatal(err)
				}
				creds = credentials.NewTLS(cfg)
			}
			opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
			if tc.token {
				opts = append(opts, grpc.WithPerRPCCredentials(auth.Bearer(token)))
			}
			conn, err := grpc.NewClient(svc.GRPCAddr, opts...)
			if err != nil {
				t.Fatalf("dial gRPC: %v", err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := moderationv1.NewModerationServiceClient(conn).Check(ctx,
				&moderationv1.CheckRequest{Account: "acct_tls", Capability: moderationv1.Capability_CAPABILITY_FRIEND_ADD})
			if got := status.Code(err); got != tc.want {
				t.Fatalf("Check: got %s (%v), want %s", got, err, tc.want)
			}
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Check: got %v, want an error containing %q", err, tc.wantErr)
			}
			if tc.want == codes.OK && !resp.Allowed {
				t.Errorf("Check of an unknown account: got allowed=false (status %s), want true", resp.Status)
			}
		})
	}
}

// TestGRPCOverMutualTLS: with a client CA the service takes only clients
// with a certificate it signed, and still wants a token from them.
func TestGRPCOverMutualTLS(t *testing.T) {
	p := newPKI(t)
	svc := startTLSService(t, p.serverCert, p.serverKey, p.ca)
	runTLSCases(t, svc, []tlsCase{
		{name: "client cert and token", caFile: p.ca, certFile: p.clientCert, keyFile: p.clientKey, token: true, want: codes.OK},
		// Under TLS 1.3 the server refuses a missing certificate after the
		// client thinks the handshake done; the client then reads the
		// server's "certificate required" alert or, if its own write comes
		// first, a broken pipe. Either way the call is Unavailable.
		{name: "no client cert", caFile: p.ca, token: true, want: codes.Unavailable},
		{name: "plaintext", token: true, want: codes.Unavailable},
		{name: "client cert without token", caFile: p.ca, certFile: p.clientCert, keyFile: p.clientKey, want: codes.Unauthenticated, wantErr: "bearer token"},
	})
}

// TestGRPCOverTLS: without a client CA, TLS alone and a token are enough.
func TestGRPCOverTLS(t *testing.T) {
	p := newPKI(t)
	svc := startTLSService(t, p.serverCert, p.serverKey, "")
	runTLSCases(t, svc, []tlsCase{
		{name: "no client cert, token", caFile: p.ca, token: true, want: codes.OK},
	})
}
