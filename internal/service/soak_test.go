package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
	"moderation/internal/service"
	"moderation/internal/traffic"
)

// hostile is one kind of bad input the soak mixes into good traffic. Each
// builds a record from the good record it is placed beside (so a poisoned
// time lands on a real account), and says whether it must be
// dead-lettered.
type hostile struct {
	name  string
	build func(i int, next replay.Record) replay.Record
	dlq   bool
}

const maxPayload = 1 << 20

func hostileKinds() []hostile {
	event := func(i int, next replay.Record, edit func(map[string]any)) replay.Record {
		var ev map[string]any
		if err := json.Unmarshal(next.Data, &ev); err != nil {
			panic(err)
		}
		ev["id"] = fmt.Sprintf("hostile-%d", i)
		edit(ev)
		b, _ := json.Marshal(ev)
		return record(next.Subject, ev["id"].(string), b)
	}
	at := func(t string) func(int, replay.Record) replay.Record {
		return func(i int, next replay.Record) replay.Record {
			return event(i, next, func(ev map[string]any) { ev["at"] = t })
		}
	}
	return []hostile{
		{"dated 1969", at("1969-12-31T23:59:59Z"), true},
		{"dated 9999", at("9999-12-31T23:59:59Z"), true},
		{"dated 2100", at("2100-01-01T00:00:00Z"), true},
		{"truncated JSON", func(i int, next replay.Record) replay.Record {
			return record(next.Subject, fmt.Sprintf("hostile-%d", i), next.Data[:len(next.Data)/2])
		}, true},
		{"unknown kind", func(i int, next replay.Record) replay.Record {
			r := event(i, next, func(ev map[string]any) { ev["kind"] = "poke" })
			r.Subject = "mod.events.poke." + strings.Split(next.Subject, ".")[3]
			return r
		}, true},
		{"another account's subject", func(i int, next replay.Record) replay.Record {
			r := event(i, next, func(map[string]any) {})
			r.Subject = strings.Join(strings.Split(next.Subject, ".")[:3], ".") + ".acct_someone_else"
			return r
		}, true},
		{"no account", func(i int, next replay.Record) replay.Record {
			return event(i, next, func(ev map[string]any) { delete(ev, "account") })
		}, true},
		{"not protobuf", func(i int, next replay.Record) replay.Record {
			r := record(next.Subject, fmt.Sprintf("hostile-%d", i), []byte("\xff\xff\xff not protobuf"))
			r.Header.Set("Content-Type", "application/protobuf")
			return r
		}, true},
		{"invalid UTF-8", func(i int, next replay.Record) replay.Record {
			r := event(i, next, func(map[string]any) {})
			id := fmt.Sprintf(`"hostile-%d"`, i)
			r.Data = []byte(strings.Replace(string(r.Data), id, id[:len(id)-1]+"\xc3\x28\"", 1))
			return r
		}, true},
		{"nested a thousand deep", func(i int, next replay.Record) replay.Record {
			return record(next.Subject, fmt.Sprintf("hostile-%d", i), []byte(strings.Repeat("[", 1000)+strings.Repeat("]", 1000)))
		}, true},
		{"absurd numbers", func(i int, next replay.Record) replay.Record {
			return event(i, next, func(ev map[string]any) {
				ev["kind"] = "broadcast"
				ev["broadcast"] = map[string]any{"id": "b", "text": "hello", "recipients": -1e300}
				delete(ev, "friend_add")
			})
		}, true},
		{"one byte under the payload limit", func(i int, next replay.Record) replay.Record {
			r := record(next.Subject, fmt.Sprintf("hostile-%d", i), nil)
			r.Data = []byte(strings.Repeat("A", maxPayload-1-headerBytes(r.Header)))
			return r
		}, true},
	}
}

// headerBytes is the size of h on the wire, which counts toward the
// payload limit.
func headerBytes(h nats.Header) int {
	n := len("NATS/1.0\r\n") + len("\r\n")
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	return n
}

// TestSoakWithHostileEvents runs 100,000 events, 5% of them hostile in
// every way above, interleaved with good traffic, beside accounts whose
// stored state and enforcement history are garbage. Nothing panics or
// stalls, every hostile event is dead-lettered, and the good traffic
// yields exactly the decisions it yields alone.
func TestSoakWithHostileEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 events, twice")
	}
	const total, every = 100_000, 20 // one event in 20 is hostile
	good, err := traffic.Synthetic(total-total/every, 23)
	if err != nil {
		t.Fatal(err)
	}
	kinds := hostileKinds()
	var mixed []replay.Record
	hostileCount, largeCount := 0, 0
	wantDLQ := 0
	for i, r := range good {
		if i%(every-1) == 0 {
			k := kinds[hostileCount%len(kinds)]
			if strings.HasPrefix(k.name, "one byte") {
				if largeCount >= 20 { // enough to show it; each is a megabyte
					k = kinds[0]
				}
				largeCount++
			}
			mixed = append(mixed, k.build(hostileCount, r))
			hostileCount++
			if k.dlq {
				wantDLQ++
			}
		}
		mixed = append(mixed, r)
	}
	t.Logf("%d events: %d good, %d hostile", len(mixed), len(good), hostileCount)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := func(recs []replay.Record, poison func(svc *service.Service)) (*service.Service, []string) {
		svc := startService(t)
		if poison != nil {
			poison(svc)
		}
		_, js := publisher(t, svc)
		if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
			t.Fatalf("publish: %v", err)
		}
		waitFor(t, "every event processed", 4*time.Minute, func() bool {
			return svc.Pipeline.Processed() >= uint64(len(recs)) || svc.Err() != nil
		})
		if err := svc.Err(); err != nil {
			t.Fatalf("the service failed: %v", err)
		}
		if err := svc.Ready(); err != nil {
			t.Errorf("not ready after the soak: %v", err)
		}
		var keys []string
		for seq := uint64(1); ; {
			msg, err := svc.Streams.Decisions.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(natsbus.EnforcementPrefix+"*"))
			if err != nil {
				break
			}
			seq = msg.Sequence + 1
			var d moderation.Decision
			if json.Unmarshal(msg.Data, &d) == nil && !strings.HasPrefix(d.Account, "poison_") {
				keys = append(keys, d.Account+" "+string(d.Action)+" "+d.EventID)
			}
		}
		slices.Sort(keys)
		return svc, keys
	}

	_, want := run(good, nil)
	if len(want) < 10 {
		t.Fatalf("good traffic alone made %d decisions; the soak needs some to compare", len(want))
	}

	// Poisoned accounts: a stored state that is not JSON (their events
	// then cross a level, and judging needs that state), and garbage in
	// their enforcement history, written as the service itself.
	const poisoned = 5
	var poisonEvents []replay.Record
	for a := range poisoned {
		account := fmt.Sprintf("poison_%d", a)
		for j := range 200 {
			b, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("%s-%d", account, j), "kind": "friend_add", "account": account,
				"at":           time.Date(2026, 3, 2, 8, 0, j, 0, time.UTC).Format(time.RFC3339),
				"account_info": map[string]any{"type": "personal", "created_at": "2026-03-02T00:00:00Z"},
				"friend_add":   map[string]any{"target": fmt.Sprintf("stranger_%d", j), "source": "search"}})
			poisonEvents = append(poisonEvents, record("mod.events.friend_add."+account, fmt.Sprintf("%s-%d", account, j), b))
		}
	}
	for i, r := range poisonEvents { // spread through the run
		at := min(len(mixed), (i+1)*len(mixed)/(len(poisonEvents)+1)+i)
		mixed = slices.Insert(mixed, at, r)
	}
	svc, got := run(mixed, func(svc *service.Service) {
		for a := range poisoned {
			account := fmt.Sprintf("poison_%d", a)
			if _, err := svc.Streams.Accounts.Put(ctx, account, []byte("{not json")); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.JS.Publish(ctx, natsbus.EnforcementPrefix+account, []byte("\x00 not a decision")); err != nil {
				t.Fatal(err)
			}
		}
	})
	if !slices.Equal(got, want) {
		t.Errorf("decisions with hostile events mixed in differ from good traffic alone: got %d, want %d\n-want +got:\n%s",
			len(got), len(want), diffLines(want, got))
	}

	info, err := svc.Streams.DLQ.Info(ctx, jetstream.WithSubjectFilter("mod.dlq.>"))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs < uint64(wantDLQ) {
		t.Errorf("dead letters: got %d, want at least the %d hostile events", info.State.Msgs, wantDLQ)
	}
	byReason := map[string]uint64{}
	for reason, n := range info.State.Subjects {
		byReason[strings.TrimPrefix(reason, "mod.dlq.")] = n
	}
	if byReason["bad_time"] == 0 || byReason["bad_state"] == 0 {
		t.Errorf("dead letters by reason %v: want bad_time and bad_state among them", byReason)
	}
	t.Logf("dead letters by reason: %v", byReason)

	// The garbage in the enforcement history is skipped by readers.
	list, err := checkClient(t, svc).ListDecisions(ctx, &moderationv1.ListDecisionsRequest{PageSize: 500})
	if err != nil {
		t.Errorf("list decisions with garbage in the stream: %v", err)
	} else if len(list.Decisions) == 0 {
		t.Error("list decisions: none served")
	}
}

// diffLines lists what is only in want (-) and only in got (+).
func diffLines(want, got []string) string {
	in := func(xs []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, x := range want {
		if !g[x] {
			b.WriteString("-" + x + "\n")
		}
	}
	for _, x := range got {
		if !w[x] {
			b.WriteString("+" + x + "\n")
		}
	}
	return b.String()
}
