package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/service"
)

// TestRevokedTokenRefused: an admin mints a token over the API, it works,
// the admin revokes it and it is refused within a second though its
// verification was cached, on this instance and after a restart; the mint
// and the revocation are in the audit stream with their actor, and the
// token itself is nowhere in it.
func TestRevokedTokenRefused(t *testing.T) {
	dir := t.TempDir()
	svc := startServiceWith(t, func(c *service.Config) { c.DataDir = dir })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admins := moderationv1.NewAdminServiceClient(apiConn(t, svc, admin))

	minted, err := admins.MintToken(ctx, &moderationv1.MintTokenRequest{Subject: "carol", Role: "reviewer", Ttl: durationpb.New(8 * time.Hour)})
	if err != nil {
		t.Fatalf("mint: %v", err)
	}
	if minted.TokenId == "" {
		t.Fatal("mint: got no token id")
	}
	other, err := admins.MintToken(ctx, &moderationv1.MintTokenRequest{Subject: "dave", Role: "reviewer"})
	if err != nil {
		t.Fatalf("mint: %v", err)
	}
	call := func(svc *service.Service, token string) error {
		conn, err := grpc.NewClient(svc.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(auth.Bearer(token)))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = moderationv1.NewModerationServiceClient(conn).ListDecisions(ctx, &moderationv1.ListDecisionsRequest{})
		return err
	}
	if err := call(svc, minted.Token); err != nil {
		t.Fatalf("call with the new token: got %v, want OK", err)
	}

	revoked, err := admins.RevokeToken(ctx, &moderationv1.RevokeTokenRequest{Which: &moderationv1.RevokeTokenRequest_TokenId{TokenId: minted.TokenId}, Note: "laptop lost"})
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if revoked.TokenId != minted.TokenId || revoked.Actor != "admin:root" {
		t.Errorf("revoke: got id %q actor %q, want %q admin:root", revoked.TokenId, revoked.Actor, minted.TokenId)
	}
	began := time.Now()
	waitFor(t, "the revoked token refused", time.Second, func() bool { return status.Code(call(svc, minted.Token)) == codes.Unauthenticated })
	t.Logf("refused %s after the revocation", time.Since(began).Round(time.Microsecond))
	if err := call(svc, minted.Token); !strings.Contains(status.Convert(err).Message(), "token revoked") {
		t.Errorf("got %v, want Unauthenticated saying the token is revoked", err)
	}
	if err := call(svc, other.Token); err != nil {
		t.Errorf("another token: got %v, want OK", err)
	}
	// Again, by the token itself: nothing changes, the first revocation stands.
	again, err := admins.RevokeToken(ctx, &moderationv1.RevokeTokenRequest{Which: &moderationv1.RevokeTokenRequest_Token{Token: minted.Token}})
	if err != nil || !again.RevokedAt.AsTime().Equal(revoked.RevokedAt.AsTime()) || again.Actor != "admin:root" {
		t.Errorf("revoke again: got %v, %v; want the first revocation", again, err)
	}

	// Revoked by another instance: this one learns it from the bucket.
	third, err := admins.MintToken(ctx, &moderationv1.MintTokenRequest{Subject: "frank", Role: "service"})
	if err != nil {
		t.Fatalf("mint: %v", err)
	}
	if err := call(svc, third.Token); err != nil {
		t.Fatalf("call with the third token: got %v, want OK", err)
	}
	if _, err := svc.Streams.Revocations.Put(ctx, third.TokenId, []byte(`{"op":"revoke","token_id":"`+third.TokenId+`","actor":"admin:elsewhere"}`)); err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	waitFor(t, "a token revoked elsewhere refused", time.Second, func() bool { return status.Code(call(svc, third.Token)) == codes.Unauthenticated })
	t.Logf("refused %s after another instance revoked it", time.Since(began).Round(time.Microsecond))

	recs := auditRecords[auth.TokenRecord](t, svc, "mod.audit.token."+minted.TokenId, 2)
	mint, revoke := recs[0], recs[1]
	if mint.Op != "mint" || mint.Actor != "admin:root" || mint.Subject != "carol" || mint.Role != auth.RoleReviewer ||
		!mint.ExpiresAt.Equal(minted.ExpiresAt.AsTime()) {
		t.Errorf("mint record: got %+v, want op mint by admin:root for reviewer carol until %s", mint, minted.ExpiresAt.AsTime())
	}
	if revoke.Op != "revoke" || revoke.Actor != "admin:root" || revoke.Note != "laptop lost" {
		t.Errorf("revoke record: got %+v, want op revoke by admin:root noting laptop lost", revoke)
	}
	assertNoTokenInAudit(t, svc, minted.Token, other.Token)

	// After a restart the revocation still holds.
	svc.Stop()
	svc2 := startServiceWith(t, func(c *service.Config) { c.DataDir = dir })
	if err := call(svc2, minted.Token); status.Code(err) != codes.Unauthenticated {
		t.Errorf("revoked token after a restart: got %v, want Unauthenticated", err)
	}
	if err := call(svc2, third.Token); status.Code(err) != codes.Unauthenticated {
		t.Errorf("token revoked elsewhere, after a restart: got %v, want Unauthenticated", err)
	}
	if err := call(svc2, other.Token); err != nil {
		t.Errorf("another token after a restart: got %v, want OK", err)
	}
}

// assertNoTokenInAudit reads every audit record for the tokens themselves.
func assertNoTokenInAudit(t *testing.T, svc *service.Service, tokens ...string) {
	t.Helper()
	for _, msg := range storedOn(svc, "mod.audit.>") {
		for _, tok := range tokens {
			if strings.Contains(string(msg.Data), tok) {
				t.Errorf("audit record %d on %s holds a token: %s", msg.Sequence, msg.Subject, msg.Data)
			}
		}
	}
}
