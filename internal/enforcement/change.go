package enforcement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// Apply is the one way an account changes. It reads the account's state,
// finishes publishing what the previous change left unpublished, asks fn
// for the change to make, writes the new state with compare-and-set (and
// asks fn again if someone else wrote first), and then publishes the
// change's decisions and records.
//
// The messages ride in the state's outbox, written in the same
// compare-and-set as the state, so a crash between the write and the
// publish loses nothing: the next change of the account, or the
// reconciler at start, publishes them. Every message carries a message id
// derived from what caused it, so publishing again is stored once.
//
// fn returning a Change with a nil State changes nothing; Apply then
// returns that Change as is (an idempotent retry reports what it found).
func (s *Store) Apply(ctx context.Context, path, account string, fn func(st *moderation.AccountState) (*moderation.Change, error)) (*moderation.Change, error) {
	for attempt := 0; ; attempt++ {
		st, rev, err := s.current(ctx, account, attempt == 0)
		if err != nil {
			return nil, err
		}
		if st != nil {
			if err := s.flush(ctx, account, st.Outbox); err != nil {
				return nil, err
			}
		}
		ch, err := fn(st)
		if err != nil {
			return nil, err
		}
		if ch == nil || ch.State == nil {
			return ch, nil
		}
		if ch.State.Outbox, err = outbox(account, ch); err != nil {
			return nil, err
		}
		if _, err := s.Put(ctx, ch.State, rev); errors.Is(err, moderation.ErrConflict) {
			continue
		} else if err != nil {
			return nil, err
		}
		if s.CrashAfterWrite == path {
			crash(path, account)
		}
		// Just written, so not yet published by this process; if the
		// reconciler got there first, the message ids make this a no-op.
		// No need to ask the stream first.
		if err := s.publishAll(ctx, account, ch.State.Outbox); err != nil {
			s.published.unflushed(account)
			return nil, fmt.Errorf("%s: state of %s written, publish pending: %w", path, account, err)
		}
		return ch, nil
	}
}

// current is the account's state and revision: from Known when asked
// and it knows, as a copy fn may change, else from the bucket.
func (s *Store) current(ctx context.Context, account string, fromMemory bool) (*moderation.AccountState, uint64, error) {
	if fromMemory && s.Known != nil {
		if st, rev, ok := s.Known.Lookup(account); ok {
			return copyState(st), rev, nil
		}
	}
	return s.Get(ctx, account)
}

// copyState is a copy of a state held in memory that fn may change.
func copyState(st *moderation.AccountState) *moderation.AccountState {
	if st == nil {
		return nil
	}
	c := *st
	c.StrikeTimes = slices.Clone(st.StrikeTimes)
	c.Outbox = slices.Clone(st.Outbox)
	return &c
}

// crash ends the process the way a power cut or SIGKILL would: no
// deferred calls, no draining. It is how the tests show that a change cut
// short between its state write and its publish is finished after a
// restart.
func crash(path, account string) {
	fmt.Fprintf(os.Stderr, "crashing after the state write of %s (%s), as asked\n", account, path)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}

// outbox encodes a change's messages in publishing order: decisions, then
// records.
func outbox(account string, ch *moderation.Change) ([]moderation.Pending, error) {
	out := make([]moderation.Pending, 0, len(ch.Decisions)+len(ch.Records))
	for _, d := range ch.Decisions {
		b, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("encode decision %s: %w", d.DecisionID, err)
		}
		out = append(out, moderation.Pending{Subject: enforcementSubject(account), MsgID: d.DecisionID, Data: b})
	}
	for _, r := range ch.Records {
		b, err := json.Marshal(r.Body)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", r.MsgID, err)
		}
		out = append(out, moderation.Pending{Subject: r.Subject, MsgID: r.MsgID, Data: b})
	}
	return out, nil
}

// flush publishes an outbox unless it is known to be published: this
// process published it, or the last message on its last subject is its
// last message (the messages go out in order, so the last one's presence
// vouches for the rest, and any later change of the account would have
// flushed this outbox before replacing it).
func (s *Store) flush(ctx context.Context, account string, out []moderation.Pending) error {
	_, err := s.flushCounting(ctx, account, out)
	return err
}

// flushCounting is flush, reporting whether anything had to be published.
func (s *Store) flushCounting(ctx context.Context, account string, out []moderation.Pending) (bool, error) {
	if len(out) == 0 {
		return false, nil
	}
	last := out[len(out)-1]
	if s.published.has(account, last.MsgID) {
		return false, nil
	}
	id, err := s.lastMsgID(ctx, last.Subject)
	if err != nil {
		return false, err
	}
	if id == last.MsgID {
		s.published.add(account, last.MsgID)
		return false, nil
	}
	if err := s.publishAll(ctx, account, out); err != nil {
		return false, err
	}
	return true, nil
}

// publishAll publishes an outbox in order and remembers it published.
func (s *Store) publishAll(ctx context.Context, account string, out []moderation.Pending) error {
	for _, m := range out {
		if err := s.publishRaw(ctx, m.Subject, m.MsgID, m.Data); err != nil {
			return err
		}
	}
	if len(out) > 0 {
		s.published.add(account, out[len(out)-1].MsgID)
	}
	return nil
}

// lastMsgID is the message id of the last message stored on subject in the
// decisions stream; empty when there is none.
func (s *Store) lastMsgID(ctx context.Context, subject string) (string, error) {
	decisions, err := s.decisionsStream(ctx)
	if err != nil {
		return "", err
	}
	msg, err := decisions.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read last message on %s: %w", subject, err)
	}
	return msg.Header.Get(nats.MsgIdHdr), nil
}

func (s *Store) decisionsStream(ctx context.Context) (jetstream.Stream, error) {
	s.decisionsMu.Lock()
	defer s.decisionsMu.Unlock()
	if s.decisions == nil {
		st, err := s.js.Stream(ctx, natsbus.DecisionsStream)
		if err != nil {
			return nil, fmt.Errorf("open stream %s: %w", natsbus.DecisionsStream, err)
		}
		s.decisions = st
	}
	return s.decisions, nil
}

// publishedSet remembers, per account, the last message of the outbox this
// process published, so a change does not ask the stream about the
// previous one. It is bounded by forgetting everything when full: a
// forgotten account costs one read of the stream.
type publishedSet struct {
	mu    sync.Mutex
	last  map[string]string
	dirty map[string]struct{} // accounts whose outbox could not be published
}

const publishedSetMax = 200_000

func (p *publishedSet) has(account, msgID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last[account] == msgID
}

func (p *publishedSet) add(account, msgID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil || len(p.last) >= publishedSetMax {
		p.last = map[string]string{}
	}
	p.last[account] = msgID
	delete(p.dirty, account)
}

// unflushed marks an account whose outbox could not be published, for
// the reconciler's next round.
func (p *publishedSet) unflushed(account string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dirty == nil {
		p.dirty = map[string]struct{}{}
	}
	p.dirty[account] = struct{}{}
}

// takeDirty returns the accounts marked unflushed and forgets them: a round
// that fails again marks them again, and one that finds nothing to publish
// (the state gone, or its outbox out) lets them go.
func (p *publishedSet) takeDirty() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.dirty))
	for a := range p.dirty {
		out = append(out, a)
	}
	clear(p.dirty)
	return out
}

// Reconcile publishes what changes left unpublished: at start, for every
// account (a crash may have cut any change short), and then every
// interval for the accounts whose publish failed in this process, until
// ctx ends. Once it has run, the last message on each account's
// mod.enforcement subject is the decision Check answers from.
func (s *Store) Reconcile(ctx context.Context, interval time.Duration, log *slog.Logger) {
	n, err := s.reconcile(ctx, nil)
	switch {
	case err != nil && ctx.Err() == nil:
		log.Error("reconcile account changes", "err", err)
	case n > 0:
		log.Warn("published account changes a crash had left unpublished", "accounts", n)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if dirty := s.published.takeDirty(); len(dirty) > 0 {
			if _, err := s.reconcile(ctx, dirty); err != nil && ctx.Err() == nil {
				log.Warn("reconcile account changes; will retry", "err", err)
			}
		}
	}
}

// reconcile flushes the outboxes of accounts (nil: every account) and
// reports how many needed publishing. An account whose state cannot be
// read is reported and left for the next round.
func (s *Store) reconcile(ctx context.Context, accounts []string) (int, error) {
	if accounts == nil {
		keys, err := s.kv.ListKeys(ctx)
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("list account states: %w", err)
		}
		for k := range keys.Keys() {
			accounts = append(accounts, k)
		}
	}
	var n int
	var errs []error
	for _, account := range accounts {
		st, _, err := s.Get(ctx, account)
		if err != nil {
			if errors.Is(err, moderation.ErrCorrupt) {
				continue // reported by the readers that need it; nothing to publish
			}
			s.published.unflushed(account)
			errs = append(errs, err)
			continue
		}
		if st == nil || len(st.Outbox) == 0 {
			continue
		}
		sent, err := s.flushCounting(ctx, account, st.Outbox)
		if err != nil {
			s.published.unflushed(account)
			errs = append(errs, err)
			continue
		}
		if sent {
			n++
		}
	}
	return n, errors.Join(errs...)
}
