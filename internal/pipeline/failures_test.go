package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// What NATS says when it is away is retried; what can never succeed is
// not, and each permanent failure names its dead-letter reason.
func TestPermanentReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nats.ErrTimeout, ""},
		{nats.ErrNoResponders, ""},
		{nats.ErrConnectionClosed, ""},
		{nats.ErrDisconnected, ""},
		{jetstream.ErrNoStreamResponse, ""}, // decided by asking the server
		{context.DeadlineExceeded, ""},
		{errors.New("something unknown"), ""},
		{fmt.Errorf("publish decision: %w", nats.ErrMaxPayload), events.ReasonTooLarge},
		{fmt.Errorf("store: %w", jetstream.ErrStreamMessageExceedsMaximum), events.ReasonTooLarge},
		{errors.New("nats: maximum payload exceeded"), events.ReasonTooLarge},
		{fmt.Errorf("decode state of acct_1: %w (invalid character)", moderation.ErrCorrupt), events.ReasonBadState},
		{fmt.Errorf("publish: %w", jetstream.ErrStreamNotFound), events.ReasonMissingStream},
		{&permanentError{events.ReasonMissingStream, errors.New("stream DLQ is missing")}, events.ReasonMissingStream},
	}
	for _, tt := range tests {
		if got := permanentReason(tt.err); got != tt.want {
			t.Errorf("permanentReason(%v): got %q, want %q", tt.err, got, tt.want)
		}
	}
}

// A dead letter always fits the server's limit, and says when its data was
// cut.
func TestFitDeadLetter(t *testing.T) {
	const limit = 1 << 20
	for _, size := range []int{0, 1000, limit - 2000, limit - 1, limit, 4 * limit} {
		dl := &nats.Msg{Subject: "mod.dlq.too_large", Data: make([]byte, size), Header: nats.Header{}}
		dl.Header.Set(natsbus.HeaderReason, events.ReasonTooLarge)
		dl.Header.Set(natsbus.HeaderError, strings.Repeat("e", maxErrorHeader))
		dl.Header.Set(natsbus.HeaderOriginalSeq, "12345")
		wantCut := size+headerBytes(dl.Header) > limit-deadLetterSlack
		fitDeadLetter(dl, limit)
		if total := len(dl.Data) + headerBytes(dl.Header); total > limit-deadLetterSlack {
			t.Errorf("%d bytes: got a dead letter of %d bytes, want at most %d", size, total, limit-deadLetterSlack)
		}
		truncated := dl.Header.Get(HeaderTruncated) == "true"
		if truncated != wantCut || !truncated && len(dl.Data) != size {
			t.Errorf("%d bytes: got truncated %v with %d bytes kept, want truncated %v", size, truncated, len(dl.Data), wantCut)
		}
		if truncated && dl.Header.Get(HeaderOriginalSize) != fmt.Sprint(size) {
			t.Errorf("%d bytes: got Mod-Original-Size %q, want %d", size, dl.Header.Get(HeaderOriginalSize), size)
		}
	}
}
