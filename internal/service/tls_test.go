package service_test

import (
	"context"
	"io"
	"log/slog"
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
	"moderation/internal/natsbus/natstest"
	"moderation/internal/service"
)

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
	p := natstest.NewPKI(t)
	svc := startTLSService(t, p.ServerCert, p.ServerKey, p.CA)
	runTLSCases(t, svc, []tlsCase{
		{name: "client cert and token", caFile: p.CA, certFile: p.ClientCert, keyFile: p.ClientKey, token: true, want: codes.OK},
		// Under TLS 1.3 the server refuses a missing certificate after the
		// client thinks the handshake done; the client then reads the
		// server's "certificate required" alert or, if its own write comes
		// first, a broken pipe. Either way the call is Unavailable.
		{name: "no client cert", caFile: p.CA, token: true, want: codes.Unavailable},
		{name: "plaintext", token: true, want: codes.Unavailable},
		{name: "client cert without token", caFile: p.CA, certFile: p.ClientCert, keyFile: p.ClientKey, want: codes.Unauthenticated, wantErr: "bearer token"},
	})
}

// TestGRPCOverTLS: without a client CA, TLS alone and a token are enough.
func TestGRPCOverTLS(t *testing.T) {
	p := natstest.NewPKI(t)
	svc := startTLSService(t, p.ServerCert, p.ServerKey, "")
	runTLSCases(t, svc, []tlsCase{
		{name: "no client cert, token", caFile: p.CA, token: true, want: codes.OK},
	})
}
