package service_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
)

// TestMalformedEventsGoToDeadLetters sends 1,000 bad events of five kinds
// between 1,000 good ones. Every bad one must land in the dead-letter
// stream under its reason with its original bytes and a readable error,
// and the good ones must still be processed and judged.
func TestMalformedEventsGoToDeadLetters(t *testing.T) {
	svc := startService(t)
	_, js := publisher(t, svc)

	now := time.Now().UTC().Truncate(time.Second)
	good := func(i int) replay.Record {
		ev := &moderation.Event{ID: fmt.Sprintf("good-%d", i), Kind: moderation.KindFriendAdd, Account: "acct_spammer", At: now.Add(time.Duration(i-1000) * time.Second),
			FriendAdd: &moderation.FriendAdd{Target: fmt.Sprintf("stranger_%d", i), Source: moderation.SourceSearch}}
		if i == 0 {
			ev.AccountInfo = &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: now.Add(-48 * time.Hour)}
		}
		data, err := events.EncodeJSON(ev)
		if err != nil {
			t.Fatal(err)
		}
		return record(ev.Subject(), fmt.Sprintf("good-%d", i), data)
	}
	validBody := func(id, account string) string {
		return fmt.Sprintf(`{"id":%q,"kind":"friend_add","account":%q,"at":%q,"friend_add":{"target":"x","source":"search"}}`, id, account, now.Format(time.RFC3339))
	}
	bad := []struct {
		reason string
		make   func(i int) replay.Record
	}{
		{"bad_json", func(i int) replay.Record {
			return record("mod.events.friend_add.acct_x", fmt.Sprintf("bad-%d", i), []byte(`{"id": "truncated`))
		}},
		{"unknown_kind", func(i int) replay.Record {
			return record("mod.events.poke.acct_x", fmt.Sprintf("bad-%d", i), []byte(strings.Replace(validBody(fmt.Sprint(i), "acct_x"), "friend_add\",\"account", "poke\",\"account", 1)))
		}},
		{"invalid", func(i int) replay.Record { // no account
			return record("mod.events.friend_add.acct_x", fmt.Sprintf("bad-%d", i), []byte(strings.Replace(validBody(fmt.Sprint(i), "acct_x"), `"account":"acct_x",`, "", 1)))
		}},
		{"subject_mismatch", func(i int) replay.Record {
			return record("mod.events.friend_add.acct_victim", fmt.Sprintf("bad-%d", i), []byte(validBody(fmt.Sprint(i), "acct_x")))
		}},
		{"too_large", func(i int) replay.Record {
			body := validBody(fmt.Sprint(i), "acct_x")
			body = body[:len(body)-1] + `,"padding":"` + strings.Repeat("A", moderation.MaxEventBytes) + `"}`
			return record("mod.events.friend_add.acct_x", fmt.Sprintf("bad-%d", i), []byte(body))
		}},
	}
	var recs []replay.Record
	sent := map[string][]byte{} // one original per reason, to compare bytes
	for i := 0; i < 1000; i++ {
		recs = append(recs, good(i))
		b := bad[i%len(bad)]
		r := b.make(i)
		if _, ok := sent[b.reason]; !ok {
			sent[b.reason] = r.Data
		}
		recs = append(recs, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		t.Fatalf("publish: %v", err)
	}
	waitFor(t, "2,000 events processed", 30*time.Second, func() bool { return svc.Pipeline.Processed() >= 2000 })

	want := map[string]int{}
	for _, b := range bad {
		want[b.reason] = 1000 / len(bad)
	}
	checkDeadLetters(t, svc.JS, want)

	// Each dead letter carries the original bytes, its reason and a readable error.
	stream, err := svc.JS.Stream(ctx, natsbus.DLQStream)
	if err != nil {
		t.Fatal(err)
	}
	for reason, original := range sent {
		msg, err := stream.GetMsg(ctx, 1, jetstream.WithGetMsgSubject("mod.dlq."+reason)) // the first of its reason
		if err != nil {
			t.Fatalf("read dead letter %s: %v", reason, err)
		}
		if !bytes.Equal(msg.Data, original) {
			t.Errorf("dead letter %s: original bytes not kept (got %d bytes, want %d)", reason, len(msg.Data), len(original))
		}
		if msg.Header.Get(natsbus.HeaderReason) != reason || msg.Header.Get(natsbus.HeaderError) == "" || msg.Header.Get(natsbus.HeaderOriginalSubject) == "" {
			t.Errorf("dead letter %s: headers %v lack reason, error or original subject", reason, msg.Header)
		}
	}

	// The good events were judged in between: the spammer was actioned.
	waitFor(t, "the spammer's enforcement in Check", 5*time.Second, func() bool {
		st := svc.View.Get("acct_spammer")
		return st.Effective(time.Now()).Severity() >= moderation.ActionLimit.Severity()
	})
	if got := svc.Pipeline.Processed(); got != 2000 {
		t.Errorf("processed: got %d, want 2000", got)
	}
}

func record(subject, id string, data []byte) replay.Record {
	h := nats.Header{}
	h.Set(nats.MsgIdHdr, id)
	return replay.Record{Subject: subject, Header: h, Data: data}
}

// TestWrongPartitionDeadLettered: an event stored under a partition its
// account does not hash to (only a writer that bypasses the stream's
// transform, such as the service's own role, can store one) is
// dead-lettered as subject_mismatch, not judged.
func TestWrongPartitionDeadLettered(t *testing.T) {
	svc := startService(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wrong := (natsbus.PartitionOf("acct_x") + 1) % natsbus.Partitions
	body := fmt.Sprintf(`{"id":"wp","kind":"friend_add","account":"acct_x","at":%q,"friend_add":{"target":"x","source":"search"}}`, time.Now().UTC().Format(time.RFC3339))
	if _, err := svc.JS.Publish(ctx, fmt.Sprintf("mod.events.friend_add.acct_x.%d", wrong), []byte(body)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the event processed", 10*time.Second, func() bool { return svc.Pipeline.Processed() >= 1 })
	checkDeadLetters(t, svc.JS, map[string]int{"subject_mismatch": 1})
}
