// Package enforcement keeps account enforcement state in JetStream: the
// account-state bucket (written with compare-and-set) and the decisions
// stream, whose subjects are the enforcement notifications platform
// services subscribe to. It knows NATS and the domain types, not policies.
package enforcement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// Store reads and writes enforcement state.
type Store struct {
	js jetstream.JetStream
	kv jetstream.KeyValue

	decisionsMu sync.Mutex
	decisions   jetstream.Stream // looked up on first use
	published   publishedSet

	// Known, when set, answers account states from memory (the View), so
	// a change does not read the bucket first; a stale answer costs a
	// compare-and-set conflict and a read, never a wrong write.
	Known StateSource

	// CrashAfterWrite names a change path (moderation.PathJudge, ...) after whose
	// state write the process kills itself, before publishing: set from
	// MODERATION_CRASH_AFTER_STATE_WRITE by the service, for the tests
	// that show such a crash loses nothing. Empty in normal use.
	CrashAfterWrite string
}

// StateSource answers an account's state and revision from memory; ok is
// false when it cannot.
type StateSource interface {
	Lookup(account string) (st *moderation.AccountState, rev uint64, ok bool)
}

// NewStore returns a store over the account-state bucket.
func NewStore(js jetstream.JetStream, kv jetstream.KeyValue) *Store {
	return &Store{js: js, kv: kv}
}

// Get returns an account's state and its revision; a nil state and
// revision 0 when the account has none.
func (s *Store) Get(ctx context.Context, account string) (*moderation.AccountState, uint64, error) {
	e, err := s.kv.Get(ctx, account)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get state of %s: %w", account, err)
	}
	var st moderation.AccountState
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return nil, 0, fmt.Errorf("decode state of %s: %w (%v)", account, moderation.ErrCorrupt, err)
	}
	return &st, e.Revision(), nil
}

// Put writes an account's state if its revision is still rev (0: the
// account must have none). A lost race returns moderation.ErrConflict.
func (s *Store) Put(ctx context.Context, st *moderation.AccountState, rev uint64) (uint64, error) {
	b, err := encodeState(st)
	if err != nil {
		return 0, err
	}
	var newRev uint64
	if rev == 0 {
		newRev, err = s.kv.Create(ctx, st.Account, b)
	} else {
		newRev, err = s.kv.Update(ctx, st.Account, b, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) || isWrongSequence(err) {
		return 0, fmt.Errorf("put state of %s at revision %d: %w", st.Account, rev, moderation.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("put state of %s: %w", st.Account, err)
	}
	return newRev, nil
}

// encodeState is an account's state as the bucket holds it.
func encodeState(st *moderation.AccountState) ([]byte, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode state of %s: %w", st.Account, err)
	}
	return b, nil
}

// isWrongSequence is a compare-and-set lost to another write, as a lone
// server (10071) or a replicated stream (10164) reports it.
func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// Audit appends a record to the decisions stream on subject, stored once
// per msgID.
func (s *Store) Audit(ctx context.Context, subject, msgID string, record any) error {
	return s.publish(ctx, subject, msgID, record)
}

// publish appends v as JSON to the decisions stream; msgID de-duplicates.
func (s *Store) publish(ctx context.Context, subject, msgID string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", msgID, err)
	}
	return s.publishRaw(ctx, subject, msgID, b)
}

// publishRaw appends JSON b to the decisions stream; msgID de-duplicates.
func (s *Store) publishRaw(ctx context.Context, subject, msgID string, b []byte) error {
	msg := &nats.Msg{Subject: subject, Data: b, Header: nats.Header{}}
	msg.Header.Set(nats.MsgIdHdr, msgID)
	msg.Header.Set("Content-Type", "application/json")
	if _, err := s.js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publish %s to %s: %w", msgID, subject, err)
	}
	return nil
}

// States returns every account's state: for the sweeps over closed and
// suspended accounts, which run rarely and in the background.
func (s *Store) States(ctx context.Context) ([]*moderation.AccountState, error) {
	keys, err := s.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list account states: %w", err)
	}
	var out []*moderation.AccountState
	for key := range keys.Keys() {
		st, _, err := s.Get(ctx, key)
		if errors.Is(err, moderation.ErrCorrupt) {
			natsbus.Skip(nil, natsbus.SourceAccountStates, err, "key", key) // the sweep goes on with the rest
			continue
		}
		if err != nil {
			return nil, err
		}
		if st != nil {
			out = append(out, st)
		}
	}
	return out, nil
}
