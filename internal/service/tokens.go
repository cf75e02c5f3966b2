package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/auth"
	"moderation/internal/enforcement"
	"moderation/internal/grpcapi"
	"moderation/internal/natsbus"
)

// tokens is where the API's tokens are accounted for: each mint and
// revocation in the audit stream, on mod.audit.token.<token id>, and the
// revoked ids in the REVOCATIONS bucket, which every instance follows into
// the set its verifier checks on every call.
type tokens struct {
	kv      jetstream.KeyValue
	audit   *enforcement.Store
	revoked *auth.Revocations
	log     *slog.Logger
}

var _ grpcapi.Tokens = (*tokens)(nil)

// followRevocations loads the revoked token ids, returning once every one
// stored is in memory (so no revoked token is accepted while the service
// starts), and keeps following the bucket until runCtx ends.
func (s *Service) followRevocations(ctx, runCtx context.Context, audit *enforcement.Store) (*tokens, error) {
	t := &tokens{kv: s.Streams.Revocations, audit: audit, revoked: &auth.Revocations{}, log: s.log}
	w, err := t.kv.WatchAll(runCtx)
	if err != nil {
		return nil, fmt.Errorf("watch token revocations: %w", err)
	}
	loaded := make(chan struct{})
	s.goRun("token revocations", func() error {
		if natsbus.FollowKV(runCtx, w, t.apply, func() { close(loaded) }) {
			s.log.Warn("token revocation watch ended; tokens revoked from now on are refused only by the instance that revoked them")
		}
		return nil
	})
	select {
	case <-loaded:
		return t, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("load token revocations: %w", ctx.Err())
	}
}

func (t *tokens) apply(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		t.revoked.Restore(e.Key()) // an operator withdrew the revocation
		return
	}
	// The key is the revocation; the record only says who and why, so
	// one that cannot be read still revokes.
	t.revoked.Revoke(e.Key())
	var rec auth.TokenRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		natsbus.Skip(t.log, natsbus.SourceRevocations, err, "key", e.Key(), "revision", e.Revision())
	}
}

func tokenSubject(id string) string { return natsbus.AuditPrefix + "token." + id }

// Minted records a mint.
func (t *tokens) Minted(ctx context.Context, rec auth.TokenRecord) error {
	return t.audit.Audit(ctx, tokenSubject(rec.TokenID), "token-mint-"+rec.TokenID, rec)
}

// Revoke stores the revocation, records it, and refuses the token here at
// once; the other instances follow the bucket within milliseconds.
func (t *tokens) Revoke(ctx context.Context, rec auth.TokenRecord) (auth.TokenRecord, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return rec, fmt.Errorf("encode revocation of %s: %w", rec.TokenID, err)
	}
	_, err = t.kv.Create(ctx, rec.TokenID, b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		// Revoked before: answer with the first revocation, and record it
		// again in case that revoker stopped before recording it (stored
		// once per token id within the stream's duplicate window).
		e, gerr := t.kv.Get(ctx, rec.TokenID)
		if gerr != nil {
			return rec, fmt.Errorf("read revocation of %s: %w", rec.TokenID, gerr)
		}
		var first auth.TokenRecord
		if json.Unmarshal(e.Value(), &first) == nil && first.TokenID == rec.TokenID {
			rec = first
		}
	} else if err != nil {
		return rec, fmt.Errorf("revoke token %s: %w", rec.TokenID, err)
	}
	t.revoked.Revoke(rec.TokenID)
	if err := t.audit.Audit(ctx, tokenSubject(rec.TokenID), "token-revoke-"+rec.TokenID, rec); err != nil {
		return rec, err
	}
	return rec, nil
}
