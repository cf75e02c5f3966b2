package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// Failures come in two kinds, and the pipeline must never confuse them.
//
// A transient failure (NATS unreachable, a timeout, no responders, the
// connection closed or reconnecting, and anything not known to be
// permanent) pauses the pipeline in order: the event is retried with
// backoff until it succeeds, so nothing is skipped while NATS is away.
//
// A permanent failure cannot succeed however often it is retried: a
// payload larger than NATS will ever carry, an account state that cannot
// be decoded, a stream that does not exist. Retrying it would stall every
// account behind one record, across restarts. Instead the event goes to the
// dead-letter stream with the failure as its reason, the failure is counted
// (moderation_permanent_failures_total{reason}) and logged at ERROR for an
// alert, the event is acknowledged and processing moves on.

// permanentError is a failure that retrying cannot cure.
type permanentError struct {
	reason string // dead-letter reason
	err    error
}

func (e *permanentError) Error() string { return e.reason + ": " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// permanentReason classifies err: the dead-letter reason of a permanent
// failure, or "" for one worth retrying. A missing stream is not decided
// here: "no responders" is also what a JetStream in the middle of an
// election says, so missingStream asks the server.
func permanentReason(err error) string {
	var pe *permanentError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &pe):
		return pe.reason
	case errors.Is(err, moderation.ErrCorrupt):
		return events.ReasonBadState
	case errors.Is(err, nats.ErrMaxPayload), errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum),
		strings.Contains(err.Error(), "maximum payload exceeded"), strings.Contains(err.Error(), "message size exceeds"):
		return events.ReasonTooLarge
	case errors.Is(err, jetstream.ErrStreamNotFound), errors.Is(err, jetstream.ErrBucketNotFound):
		return events.ReasonMissingStream
	}
	return ""
}

// mayBeMissingStream reports whether err is what a publish or a read gets
// when the stream behind its subject is gone.
func mayBeMissingStream(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrBucketNotFound)
}

// redeclarable are the streams the pipeline may declare again, from the
// configuration they were declared with at start, when they are found
// missing: the dead letters and the decisions are append-only sinks, so a
// new empty one loses nothing that was not already lost. The account
// states are not among them: an empty bucket would silently forget every
// measure in force, so a missing one is a permanent failure for an
// operator to repair.
func (p *Pipeline) redeclarable() []jetstream.Stream {
	return []jetstream.Stream{p.streams.DLQ, p.streams.Decisions}
}

// missingStream asks the server which of the streams the pipeline writes
// is missing. It re-declares a redeclarable one (once per event: redeclared
// holds what it already tried) and returns nil when that worked; it
// returns a permanent error for one it cannot bring back, errStreamsPresent
// when none is missing, and the lookup's own error, transient, when the
// server cannot say.
func (p *Pipeline) missingStream(ctx context.Context, redeclared map[string]bool) error {
	names := []string{natsbus.DLQStream, natsbus.DecisionsStream, "KV_" + natsbus.AccountsBucket}
	for _, name := range names {
		_, err := p.js.Stream(ctx, name)
		if err == nil {
			continue
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("look up stream %s: %w", name, err)
		}
		for _, s := range p.redeclarable() {
			if s == nil || s.CachedInfo() == nil || s.CachedInfo().Config.Name != name || redeclared[name] {
				continue
			}
			redeclared[name] = true
			if _, err := p.js.CreateOrUpdateStream(ctx, s.CachedInfo().Config); err != nil {
				return &permanentError{events.ReasonMissingStream, fmt.Errorf("stream %s is missing and declaring it again failed: %w", name, err)}
			}
			p.metrics.StreamsRedeclared.WithLabelValues(name).Inc()
			p.log.Error("stream was missing: declared it again", "stream", name)
			return nil
		}
		return &permanentError{events.ReasonMissingStream, fmt.Errorf("stream %s is missing: %w", name, err)}
	}
	return errStreamsPresent
}

// errStreamsPresent: every stream is there, so "no responders" was
// transient after all.
var errStreamsPresent = errors.New("every stream the pipeline writes exists")

// deadLetter stores msg in the dead-letter stream under reason, with the
// error that sent it there. The copy always fits: when the original and the
// headers exceed what the server accepts, the data is cut to fit and the
// headers say so (Mod-Truncated: true, Mod-Original-Size), and if the
// stream refuses even that, the copy is the headers alone; the whole
// original stays in the events stream at Mod-Original-Seq until it ages out.
func (p *Pipeline) deadLetter(ctx context.Context, msg jetstream.Msg, seq uint64, reason string, cause error) error {
	dl := &nats.Msg{Subject: "mod.dlq." + reason, Data: msg.Data(), Header: nats.Header{}}
	errText := cause.Error()
	if len(errText) > maxErrorHeader {
		errText = errText[:maxErrorHeader] + "…"
	}
	dl.Header.Set(natsbus.HeaderReason, reason)
	dl.Header.Set(natsbus.HeaderError, strings.ToValidUTF8(strings.NewReplacer("\r", " ", "\n", " ").Replace(errText), "?"))
	// As published, so that the dead letter, once mended, can be published
	// again as it is; Mod-Original-Seq finds the stored one.
	dl.Header.Set(natsbus.HeaderOriginalSubject, events.Published(msg.Subject()))
	dl.Header.Set(natsbus.HeaderOriginalSeq, strconv.FormatUint(seq, 10))
	if ct := msg.Headers().Get("Content-Type"); ct != "" && len(ct) < 256 {
		dl.Header.Set("Content-Type", ct)
	}
	dl.Header.Set(nats.MsgIdHdr, "dlq-"+strconv.FormatUint(seq, 10)) // a redelivered bad event is stored once
	if limit := p.js.Conn().MaxPayload(); limit > 0 {
		fitDeadLetter(dl, limit)
	}
	_, err := p.js.PublishMsg(ctx, dl)
	if permanentReason(err) == events.ReasonTooLarge && len(dl.Data) > 0 {
		// Refused all the same (a stream limit below the server's, say):
		// keep the reference alone; the original is at Mod-Original-Seq.
		dl.Header.Set(HeaderTruncated, "true")
		dl.Header.Set(HeaderOriginalSize, strconv.Itoa(len(msg.Data())))
		dl.Data = nil
		_, err = p.js.PublishMsg(ctx, dl)
	}
	if err != nil {
		return fmt.Errorf("dead-letter event %d (%s): %w", seq, reason, err)
	}
	p.metrics.deadLetter(reason)
	if dl.Header.Get(HeaderTruncated) != "" {
		p.metrics.DeadLettersTruncated.Inc()
	}
	return nil
}

// Headers on a dead letter whose data was cut to fit.
const (
	HeaderTruncated    = "Mod-Truncated"
	HeaderOriginalSize = "Mod-Original-Size"
)

// maxErrorHeader bounds the error text on a dead letter: a decode error can
// quote the input.
const maxErrorHeader = 1024

// deadLetterSlack is room left under the server's limit for what the
// client adds to a message (the protocol line is not part of the payload,
// but the header preamble is).
const deadLetterSlack = 512

// fitDeadLetter cuts dl's data so that data and headers fit in limit bytes.
func fitDeadLetter(dl *nats.Msg, limit int64) {
	if int64(len(dl.Data)+headerBytes(dl.Header)) <= limit-deadLetterSlack {
		return
	}
	size := len(dl.Data)
	dl.Header.Set(HeaderTruncated, "true")
	dl.Header.Set(HeaderOriginalSize, strconv.Itoa(size))
	keep := max(limit-deadLetterSlack-int64(headerBytes(dl.Header)), 0)
	dl.Data = dl.Data[:min(int64(size), keep)]
}

// headerBytes is the size of h as NATS encodes it.
func headerBytes(h nats.Header) int {
	n := len("NATS/1.0\r\n\r\n")
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	return n
}

// settle puts an event the pipeline cannot process into the dead letters
// and acknowledges it. reason and cause say why. If even the dead letter
// cannot be stored for a permanent reason (its stream is missing and cannot
// be declared again), the event is acknowledged all the same, counted
// (reason dead_letter_failed) and logged at ERROR with its stream sequence:
// it stays in the events stream, where an operator can take it from, until
// the stream's retention drops it. Leaving it unacknowledged instead would
// stall every account until someone repaired the stream, which is the
// failure this exists to avoid. A transient failure to store the dead
// letter is retried like any other; only stopping ends that, and then the
// event is left unacknowledged for the next start.
func (p *Pipeline) settle(ctx context.Context, msg jetstream.Msg, seq uint64, reason string, cause error) (acked bool) {
	err := p.retry(ctx, func(ctx context.Context) error { return p.deadLetter(ctx, msg, seq, reason, cause) })
	if err != nil && permanentReason(err) == "" {
		return false // stopping
	}
	if err != nil {
		p.metrics.permanent("dead_letter_failed")
		p.log.Error("event acknowledged without a dead letter: the dead-letter stream cannot take it; the event stays in the events stream until it ages out",
			"seq", seq, "subject", msg.Subject(), "reason", reason, "cause", cause, "err", err)
	}
	p.ack(msg)
	return true
}
