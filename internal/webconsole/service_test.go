package webconsole_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/service"
)

// The tests run the real service (embedded NATS with JetStream on a random
// port, gRPC, the console) and reach the console as a browser would.

var (
	reviewer = auth.Identity{Subject: "alice", Role: auth.RoleReviewer}
	platform = auth.Identity{Subject: "svc-friends", Role: auth.RoleService}
)

func ownerOf(account string) auth.Identity {
	return auth.Identity{Subject: "owner-" + account, Role: auth.RoleOwner, Account: account}
}

// startService starts the whole service with its console on a random port.
func startService(t testing.TB) *service.Service {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	svc, err := service.Start(ctx, service.Config{
		DataDir: t.TempDir(), NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		ConsoleListen: "127.0.0.1:0", MaxStateMB: 64, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
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

func token(t testing.TB, svc *service.Service, id auth.Identity) string {
	t.Helper()
	tok, err := svc.Token(id, time.Hour)
	if err != nil {
		t.Fatalf("mint token for %+v: %v", id, err)
	}
	return tok
}

// apiConn is a gRPC client of the service speaking as id.
func apiConn(t testing.TB, svc *service.Service, id auth.Identity) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(svc.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(auth.Bearer(token(t, svc, id))))
	if err != nil {
		t.Fatalf("dial gRPC: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// suspend has account add n strangers in 50 minutes, twelve hours after it
// was created: enough for the embedded policy to suspend it (n = 260).
func suspend(t testing.TB, svc *service.Service, account string) *moderationv1.CheckResponse {
	t.Helper()
	now := time.Now()
	const n = 260
	var evs []*moderationv1.Event
	for i := range n {
		evs = append(evs, &moderationv1.Event{Id: fmt.Sprintf("%s-%d", account, i), Kind: "friend_add", Account: account,
			At:          timestamppb.New(now.Add(-50*time.Minute + time.Duration(i)*50*time.Minute/n)),
			AccountInfo: &moderationv1.AccountInfo{Type: "personal", CreatedAt: timestamppb.New(now.Add(-12 * time.Hour))},
			Body:        &moderationv1.Event_FriendAdd{FriendAdd: &moderationv1.FriendAdd{Target: fmt.Sprintf("u%d", i), Source: "search"}}})
	}
	if _, err := moderationv1.NewModerationServiceClient(apiConn(t, svc, platform)).Ingest(context.Background(), &moderationv1.IngestRequest{Events: evs}); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return awaitStatus(t, svc, account, moderationv1.Status_STATUS_SUSPENDED)
}

// awaitStatus polls Check until account is in status want.
func awaitStatus(t testing.TB, svc *service.Service, account string, want moderationv1.Status) *moderationv1.CheckResponse {
	t.Helper()
	check := moderationv1.NewModerationServiceClient(apiConn(t, svc, platform))
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := check.Check(context.Background(), &moderationv1.CheckRequest{Account: account})
		if err == nil && r.Status == want {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status %v (err %v), want %v", account, r.GetStatus(), err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// appeal suspends account and files its owner's appeal with statement and
// evidence.
func appeal(t testing.TB, svc *service.Service, account, statement string, evidence ...string) *moderationv1.Appeal {
	t.Helper()
	suspended := suspend(t, svc, account)
	a, err := moderationv1.NewAppealServiceClient(apiConn(t, svc, ownerOf(account))).FileAppeal(context.Background(),
		&moderationv1.FileAppealRequest{Account: account, DecisionId: suspended.DecisionId, Statement: statement, EvidenceUrls: evidence})
	if err != nil {
		t.Fatalf("file appeal for %s: %v", account, err)
	}
	return a
}
