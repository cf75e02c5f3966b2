// Package replay publishes recorded events to NATS: fixture scenarios for
// tests and demos, or captured traffic for an investigation. It knows the
// events contract and NATS, nothing of detectors or policies.
package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/moderation"
)

// Record is one message to publish.
type Record struct {
	Subject string
	Header  nats.Header
	Data    []byte
}

// envelope is a line that carries raw bytes for a subject of its own
// choosing: how fixtures express malformed input that is not an event.
type envelope struct {
	Subject     string          `json:"subject"`
	ContentType string          `json:"content_type"`
	MsgID       string          `json:"msg_id"`
	Data        *string         `json:"data"`
	Event       json.RawMessage `json:"event"`
	RepeatBytes int             `json:"repeat_bytes"` // pad data to this size, for oversized input
}

// Files lists the event files under path: path itself if it is a file,
// else every *.jsonl below it, sorted.
func Files(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".jsonl") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", path, err)
	}
	sort.Strings(files)
	return files, nil
}

// Options shape how records are read.
type Options struct {
	// Now, when set, moves every event time forward alike so the latest
	// event falls just before Now: timed measures are then current when
	// the replay ends, and every decision is what it was when recorded,
	// since windows see the same gaps.
	Now time.Time
	// WholeDays moves times by whole days instead, so the latest event
	// falls within the day before Now. Calendar days and months keep their
	// events (quotas count per platform day), at the price of timed
	// measures that may have run out by Now.
	WholeDays bool
}

// ReadFile reads a JSON Lines file. A line is either an event (published on
// its own subject, Nats-Msg-Id its id) or an envelope
// {"subject", "content_type", "data" | "event", "msg_id"} for input that
// must reach the service exactly as written.
func ReadFile(path string, opts Options) ([]Record, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var recs []Record
	var events []map[string]any // parsed events, to rebase together
	var eventRec []int
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(text, &obj); err != nil {
			return nil, fmt.Errorf("%s:%d: not JSON (use an envelope with \"data\" for deliberately bad input): %w", path, line, err)
		}
		if _, isEnvelope := obj["subject"]; isEnvelope {
			rec, err := fromEnvelope(text)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, line, err)
			}
			recs = append(recs, rec)
			continue
		}
		kind, _ := obj["kind"].(string)
		account, _ := obj["account"].(string)
		if kind == "" || account == "" {
			return nil, fmt.Errorf("%s:%d: an event needs kind and account to be published", path, line)
		}
		events = append(events, obj)
		eventRec = append(eventRec, len(recs))
		recs = append(recs, Record{Subject: moderation.EventSubject(moderation.Kind(kind), account)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	shift := rebase(events, opts)
	for i, obj := range events {
		if shift != 0 {
			shiftTime(obj, "at", shift)
			if info, ok := obj["account_info"].(map[string]any); ok {
				shiftTime(info, "created_at", shift)
			}
		}
		data, err := json.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("%s: encode event: %w", path, err)
		}
		r := &recs[eventRec[i]]
		r.Data = data
		r.Header = nats.Header{}
		r.Header.Set("Content-Type", "application/json")
		if id, _ := obj["id"].(string); id != "" {
			r.Header.Set(nats.MsgIdHdr, id)
		}
	}
	return recs, nil
}

func fromEnvelope(text []byte) (Record, error) {
	var env envelope
	if err := json.Unmarshal(text, &env); err != nil {
		return Record{}, fmt.Errorf("envelope: %w", err)
	}
	var data []byte
	switch {
	case env.Data != nil:
		data = []byte(*env.Data)
	case env.Event != nil:
		data = env.Event
	default:
		return Record{}, fmt.Errorf("envelope needs data or event")
	}
	if env.RepeatBytes > len(data) && len(data) > 0 {
		data = bytes.Repeat(data, env.RepeatBytes/len(data)+1)[:env.RepeatBytes]
	}
	rec := Record{Subject: env.Subject, Data: data, Header: nats.Header{}}
	if env.ContentType != "" {
		rec.Header.Set("Content-Type", env.ContentType)
	}
	if env.MsgID != "" {
		rec.Header.Set(nats.MsgIdHdr, env.MsgID)
	}
	return rec, nil
}

// rebase returns how far to move event times forward; zero when Now is
// unset or no event is older than it.
func rebase(events []map[string]any, opts Options) time.Duration {
	if opts.Now.IsZero() {
		return 0
	}
	var latest time.Time
	for _, obj := range events {
		if s, ok := obj["at"].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.After(latest) {
				latest = t
			}
		}
	}
	if latest.IsZero() || !latest.Before(opts.Now) {
		return 0
	}
	gap := opts.Now.Sub(latest)
	if opts.WholeDays {
		return gap / (24 * time.Hour) * 24 * time.Hour
	}
	return (gap - time.Second).Truncate(time.Second)
}

func shiftTime(obj map[string]any, key string, d time.Duration) {
	s, ok := obj[key].(string)
	if !ok {
		return
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		obj[key] = t.Add(d).UTC().Format(time.RFC3339Nano)
	}
}

// Summary counts what a replay stored.
type Summary struct {
	Stored     int // new messages in the stream
	Duplicates int // already stored (same Nats-Msg-Id within the window)
}

// Publish sends records with asynchronous JetStream publishes and waits
// for every acknowledgement. JetStream's own limit on outstanding publishes
// paces it; acknowledgements are read in order as they come, so the
// publisher never stops to drain. progress, if not nil, is told of each
// acknowledged record.
func Publish(ctx context.Context, js jetstream.JetStream, recs []Record, progress func(int64)) (Summary, error) {
	futures := make(chan jetstream.PubAckFuture, 8192)
	pubErr := make(chan error, 1)
	go func() {
		defer close(futures)
		for _, r := range recs {
			f, err := js.PublishMsgAsync(&nats.Msg{Subject: r.Subject, Header: r.Header, Data: r.Data}, jetstream.WithStallWait(10*time.Second))
			if err != nil {
				pubErr <- fmt.Errorf("publish to %s: %w", r.Subject, err)
				return
			}
			select {
			case futures <- f:
			case <-ctx.Done():
				return
			}
		}
	}()
	var sum Summary
	for f := range futures {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				sum.Duplicates++
			} else {
				sum.Stored++
			}
			if progress != nil {
				progress(1)
			}
		case err := <-f.Err():
			return sum, fmt.Errorf("publish to %s: %w", f.Msg().Subject, err)
		case <-ctx.Done():
			return sum, ctx.Err()
		}
	}
	select {
	case err := <-pubErr:
		return sum, err
	default:
		return sum, ctx.Err()
	}
}
