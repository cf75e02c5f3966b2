package enforcement

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/moderation"
)

// writeTimeout bounds how long a Write waits for each of its
// acknowledgements, as Apply's caller bounds a round trip.
const writeTimeout = 5 * time.Second

// StateAt is an account's state at a revision of the bucket (a nil state at
// revision 0: the account has none).
type StateAt struct {
	State *moderation.AccountState
	Rev   uint64
}

// Write is a change of one account under way: its state write with
// compare-and-set and then, once that is stored, its outbox, sent without
// the caller waiting for either. Nothing is published unless the state
// is written, so a Write that fails leaves the account as Apply leaves it
// when it fails: unchanged, or changed with its outbox still to publish
// (which the next change of the account, or the reconciler, publishes).
type Write struct {
	Change *moderation.Change // what fn asked for; its State is nil when nothing is written
	done   chan struct{}
	rev    uint64 // the revision the state was written at, once done
	err    error
}

// Done is closed once the write and its messages are confirmed, or one of
// them failed.
func (w *Write) Done() <-chan struct{} { return w.done }

// Result is, once Done is closed, the state as written and its revision
// (the account's next change starts there), or why the write failed:
// moderation.ErrConflict when another write came first. A Write that
// changed nothing has no state.
func (w *Write) Result() (StateAt, error) {
	if w.err != nil {
		return StateAt{}, w.err
	}
	if w.Change == nil || w.Change.State == nil {
		return StateAt{}, nil
	}
	return StateAt{State: w.Change.State, Rev: w.rev}, nil
}

// Begin makes a change the way Apply does, without waiting for NATS: it
// reads the account's state (from, when given: the caller's own last
// write, which Known may not have seen yet; Known's, when it knows a later
// revision), finishes the previous
// change's outbox if this process did not publish it, asks fn, and sends
// the state with compare-and-set at the revision it read. The outbox goes
// out once the server has stored the state, from a goroutine of the
// Write's own; then done is called. A caller keeps an account's changes
// in order by starting the next one only after the last one's Done, from
// its Result.
//
// Begin does not retry: on any failure (a conflict included) the caller
// makes the change again with Apply, which reads the bucket and asks fn
// again. A change that needs no write returns a Write already done, and
// done is not called.
func (s *Store) Begin(ctx context.Context, path, account string, from *StateAt, fn func(st *moderation.AccountState) (*moderation.Change, error), done func(*Write)) (*Write, error) {
	var st *moderation.AccountState
	var rev uint64
	if from != nil && s.Known != nil {
		if kst, krev, ok := s.Known.Lookup(account); ok && krev > from.Rev {
			from = &StateAt{State: kst, Rev: krev} // written since, by another path
		}
	}
	if from != nil {
		st, rev = copyState(from.State), from.Rev
	} else {
		var err error
		if st, rev, err = s.current(ctx, account, true); err != nil {
			return nil, err
		}
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
	w := &Write{Change: ch, done: make(chan struct{})}
	if ch == nil || ch.State == nil {
		close(w.done)
		return w, nil
	}
	if ch.State.Outbox, err = outbox(account, ch); err != nil {
		return nil, err
	}
	b, err := encodeState(ch.State)
	if err != nil {
		return nil, err
	}
	// What the bucket's own Update sends (jetstream's kvs.updateRevision,
	// for a bucket that is not a mirror, as natsbus declares them), which
	// has no form that does not wait: the key's subject, expecting the
	// revision read; a revision of 0 expects no message, as Create's first
	// attempt does.
	cas := &nats.Msg{Subject: "$KV." + s.kv.Bucket() + "." + account, Data: b}
	stored, err := s.js.PublishMsgAsync(cas, jetstream.WithExpectLastSequencePerSubject(rev))
	if err != nil {
		return nil, fmt.Errorf("put state of %s: %w", account, err)
	}
	go func() {
		w.rev, w.err = s.finishWrite(path, account, stored, ch.State.Outbox, rev)
		close(w.done)
		done(w)
	}()
	return w, nil
}

// finishWrite waits for the state write, then publishes the outbox and
// waits for it.
func (s *Store) finishWrite(path, account string, stored jetstream.PubAckFuture, out []moderation.Pending, rev uint64) (uint64, error) {
	ack, err := await(stored)
	if isWrongSequence(err) {
		return 0, fmt.Errorf("put state of %s at revision %d: %w", account, rev, moderation.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("put state of %s: %w", account, err)
	}
	if s.CrashAfterWrite == path {
		crash(path, account)
	}
	sent := make([]jetstream.PubAckFuture, 0, len(out))
	for _, m := range out {
		msg := &nats.Msg{Subject: m.Subject, Data: m.Data, Header: nats.Header{}}
		msg.Header.Set(nats.MsgIdHdr, m.MsgID)
		msg.Header.Set("Content-Type", "application/json")
		f, err := s.js.PublishMsgAsync(msg)
		if err != nil {
			s.published.unflushed(account)
			return 0, fmt.Errorf("state of %s written, publish pending: publish %s to %s: %w", account, m.MsgID, m.Subject, err)
		}
		sent = append(sent, f)
	}
	for i, f := range sent {
		if _, err := await(f); err != nil {
			s.published.unflushed(account)
			return 0, fmt.Errorf("state of %s written, publish pending: publish %s to %s: %w", account, out[i].MsgID, out[i].Subject, err)
		}
	}
	if len(out) > 0 {
		s.published.add(account, out[len(out)-1].MsgID)
	}
	return ack.Sequence, nil
}

// await is a publish's acknowledgement, or its error, or a timeout.
func await(f jetstream.PubAckFuture) (*jetstream.PubAck, error) {
	t := time.NewTimer(writeTimeout)
	defer t.Stop()
	select {
	case ack := <-f.Ok():
		return ack, nil
	case err := <-f.Err():
		return nil, err
	case <-t.C:
		return nil, errors.New("no acknowledgement from the server in time")
	}
}
