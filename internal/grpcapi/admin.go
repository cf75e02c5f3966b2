package grpcapi

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/moderation"
)

// Tokens records the tokens AdminService mints and keeps the revoked ones.
type Tokens interface {
	// Minted records a mint in the audit stream.
	Minted(ctx context.Context, rec auth.TokenRecord) error
	// Revoke revokes rec.TokenID, on every instance, and records it; a
	// token already revoked returns its first revocation's record.
	Revoke(ctx context.Context, rec auth.TokenRecord) (auth.TokenRecord, error)
}

type adminService struct {
	*api
	moderationv1.UnimplementedAdminServiceServer
}

// MintToken issues a token; the authorization policy lets only admins
// reach it. The mint is in the audit stream, with its actor, before the
// token is handed out: a token the record does not name is never returned.
func (s *adminService) MintToken(ctx context.Context, req *moderationv1.MintTokenRequest) (*moderationv1.MintTokenResponse, error) {
	if s.deps.Issuer == nil || s.deps.Tokens == nil {
		return nil, moderation.Invalid("role", "tokens cannot be minted by this instance (no signing key)")
	}
	id := auth.Identity{Subject: req.GetSubject(), Role: auth.Role(req.GetRole()), Account: req.GetAccount()}
	if err := id.Validate(); err != nil {
		return nil, moderation.Invalid("role", err.Error())
	}
	var ttl time.Duration
	if req.GetTtl() != nil {
		ttl = req.GetTtl().AsDuration()
	}
	now := s.now()
	m, err := s.deps.Issuer.Issue(id, ttl, now)
	if err != nil {
		return nil, err
	}
	rec := auth.TokenRecord{Op: auth.OpMint, TokenID: m.ID, Subject: id.Subject, Role: id.Role, Account: id.Account,
		ExpiresAt: m.Expires, Actor: actor(ctx), At: now.UTC()}
	if err := s.deps.Tokens.Minted(ctx, rec); err != nil {
		return nil, err
	}
	return &moderationv1.MintTokenResponse{Token: m.Token, ExpiresAt: timestamppb.New(m.Expires), TokenId: m.ID}, nil
}

// RevokeToken revokes a token by its id, or given whole.
func (s *adminService) RevokeToken(ctx context.Context, req *moderationv1.RevokeTokenRequest) (*moderationv1.RevokeTokenResponse, error) {
	if s.deps.Tokens == nil {
		return nil, moderation.Invalid("token_id", "tokens cannot be revoked by this instance")
	}
	rec := auth.TokenRecord{Op: auth.OpRevoke, TokenID: req.GetTokenId(), Actor: actor(ctx), Note: req.GetNote(), At: s.now().UTC()}
	if t := req.GetToken(); t != "" {
		var err error
		if rec.TokenID, err = auth.TokenID(t); err != nil {
			return nil, moderation.Invalid("token", err.Error())
		}
		// Whom it spoke for, as the token says (unverified: for the record).
		if id, exp, ok := auth.Claims(t); ok {
			rec.Subject, rec.Role, rec.Account, rec.ExpiresAt = id.Subject, id.Role, id.Account, exp
		}
	}
	got, err := s.deps.Tokens.Revoke(ctx, rec)
	if err != nil {
		return nil, err
	}
	return &moderationv1.RevokeTokenResponse{TokenId: got.TokenID, RevokedAt: timestamppb.New(got.At), Actor: got.Actor}, nil
}
