package service_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"

	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/pipeline"
	"moderation/internal/replay"
	"moderation/internal/service"
)

// TestPoisonEvents sends what an attacker sent against the running
// service, interleaved with an honest spammer's burst: friend requests
// dated 1969, 9999 and 2100, an event one byte under the server's payload
// limit, an account whose stored state is not JSON, and a bad event after
// the dead-letter stream was deleted. None may crash, stall or blind the
// service: each bad record is dead-lettered under its reason and counted,
// every other account is judged, /readyz stays truthful, and a restart on
// the same data comes up and goes on processing.
func TestPoisonEvents(t *testing.T) {
	dataDir := t.TempDir()
	svc := startServiceWith(t, func(c *service.Config) { c.DataDir = dataDir; c.StallAfter = 2 * time.Second })
	_, js := publisher(t, svc)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Second)

	// An account whose state is not JSON, written where only the service
	// writes, with the service's identity.
	if _, err := svc.Streams.Accounts.Put(ctx, "acct_corrupt", []byte("{not json")); err != nil {
		t.Fatalf("write corrupt state: %v", err)
	}

	var recs []replay.Record
	for i, at := range []time.Time{
		time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		recs = append(recs, friendAddRecord(t, fmt.Sprintf("time-%d", i), "acct_time", at, i))
		recs = append(recs, friendAddRecord(t, fmt.Sprintf("future-%d", i), "acct_future", at, i)) // then a real burst
	}
	for i := range 150 {
		at := now.Add(-50*time.Minute + time.Duration(i)*20*time.Second)
		recs = append(recs, friendAddRecord(t, fmt.Sprintf("good-%d", i), "acct_good", at, i),
			friendAddRecord(t, fmt.Sprintf("future-burst-%d", i), "acct_future", at, i),
			friendAddRecord(t, fmt.Sprintf("corrupt-%d", i), "acct_corrupt", at, i))
	}
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		t.Fatalf("publish: %v", err)
	}

	// One byte under what the server carries, without headers so all of
	// it is data: stored, too large to decode, and too large to dead-letter
	// whole.
	limit := js.Conn().MaxPayload()
	big := make([]byte, limit-1)
	for i := range big {
		big[i] = 'A'
	}
	bigAck, err := js.Publish(ctx, "mod.events.friend_add.acct_big", big)
	if err != nil {
		t.Fatalf("publish %d bytes: %v", len(big), err)
	}

	total := uint64(len(recs) + 1)
	waitFor(t, "every event processed", 60*time.Second, func() bool { return svc.Pipeline.Processed() >= total })
	readyz(t, svc.HTTPAddr, http.StatusOK)

	// The attacker's times are dead letters; the burst after the 2100
	// event was judged like anyone's, with a limit ending a day from now,
	// not in 2100.
	dead := deadLetters(t, svc.JS)
	if got := len(dead[events.ReasonBadTime]); got != 6 {
		t.Errorf("bad_time dead letters: got %d, want 6", got)
	}
	for _, account := range []string{"acct_good", "acct_future"} {
		waitFor(t, account+" limited", 10*time.Second, func() bool {
			return svc.View.Get(account).Effective(time.Now()).Severity() >= moderation.ActionLimit.Severity()
		})
	}
	if st := svc.View.Get("acct_future"); st == nil || st.Current == nil || st.Current.Until == nil || st.Current.Until.After(time.Now().Add(24*time.Hour)) {
		t.Errorf("acct_future's measure: got %+v, want one ending within a day from now", st)
	}
	if st := svc.View.Get("acct_time"); st != nil && st.Current != nil {
		t.Errorf("acct_time: got decision %+v, want none (all its events were refused)", st.Current)
	}

	// The big event: dead-lettered, cut to fit, saying so.
	tooLarge := dead[events.ReasonTooLarge]
	if len(tooLarge) != 1 {
		t.Fatalf("too_large dead letters: got %d, want 1", len(tooLarge))
	}
	if h := tooLarge[0].Header; h.Get(pipeline.HeaderTruncated) != "true" || h.Get(pipeline.HeaderOriginalSize) != strconv.Itoa(len(big)) ||
		h.Get(natsbus.HeaderOriginalSeq) != strconv.FormatUint(bigAck.Sequence, 10) {
		t.Errorf("too_large dead letter headers: got %v, want Mod-Truncated true, Mod-Original-Size %d, Mod-Original-Seq %d", h, len(big), bigAck.Sequence)
	}
	if got := metric(t, svc, "moderation_dead_letters_truncated_total", nil); got != 1 {
		t.Errorf("truncated dead letters: got %v, want 1", got)
	}

	// The corrupt account: each of its events that crossed a level is a
	// bad_state dead letter, counted as a permanent failure; nothing was
	// decided on it, and the others were not held up by it.
	badState := dead[events.ReasonBadState]
	if len(badState) == 0 {
		t.Fatal("bad_state dead letters: got none, want the corrupt account's events that crossed a level")
	}
	for _, m := range badState {
		if !strings.Contains(m.Header.Get(natsbus.HeaderOriginalSubject), "acct_corrupt") {
			t.Errorf("bad_state dead letter of %s, want only acct_corrupt's", m.Header.Get(natsbus.HeaderOriginalSubject))
		}
	}
	if got, want := metric(t, svc, "moderation_permanent_failures_total", map[string]string{"reason": "bad_state"}), float64(len(badState)); got != want {
		t.Errorf("permanent failures (bad_state): got %v, want %v", got, want)
	}
	if got := storedOn(svc, natsbus.EnforcementPrefix+"acct_corrupt"); len(got) != 0 {
		t.Errorf("decisions on acct_corrupt: got %d, want none", len(got))
	}

	// The dead-letter stream deleted: the next bad event declares it again
	// and lands in it; the pipeline goes on.
	if err := svc.JS.DeleteStream(ctx, natsbus.DLQStream); err != nil {
		t.Fatalf("delete DLQ: %v", err)
	}
	before := svc.Pipeline.Processed()
	if _, err := js.Publish(ctx, "mod.events.friend_add.acct_x", []byte(`{"id": "trunc`)); err != nil {
		t.Fatal(err)
	}
	after := friendAddRecord(t, "after-dlq", "acct_after", now, 0)
	if _, err := replay.Publish(ctx, js, []replay.Record{after}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the bad event and the next processed", 20*time.Second, func() bool { return svc.Pipeline.Processed() >= before+2 })
	if got := len(deadLetters(t, svc.JS)[events.ReasonBadJSON]); got != 1 {
		t.Errorf("bad_json dead letters in the declared-again DLQ: got %d, want 1", got)
	}
	if got := metric(t, svc, "moderation_streams_redeclared_total", map[string]string{"stream": natsbus.DLQStream}); got != 1 {
		t.Errorf("DLQ declared again: got %v times, want 1", got)
	}
	readyz(t, svc.HTTPAddr, http.StatusOK)

	// A restart on the same data comes up (the bad events are still in
	// the events stream and rebuild reads them) and processes new events.
	svc.Stop()
	svc2 := startServiceWith(t, func(c *service.Config) { c.DataDir = dataDir })
	_, js2 := publisher(t, svc2)
	if _, err := replay.Publish(ctx, js2, []replay.Record{friendAddRecord(t, "after-restart", "acct_after", now, 1)}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the event after the restart processed", 20*time.Second, func() bool { return svc2.Pipeline.Processed() >= 1 })
	readyz(t, svc2.HTTPAddr, http.StatusOK)
}

// TestReadyzReportsAStalledPipeline: while events wait and none is
// acknowledged, /readyz answers 503 after the stall threshold, and 200
// again once the pipeline advances. The consumer is paused on the server to
// hold the pipeline still, as a NATS fault would.
func TestReadyzReportsAStalledPipeline(t *testing.T) {
	svc := startServiceWith(t, func(c *service.Config) { c.StallAfter = time.Second })
	_, js := publisher(t, svc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	readyz(t, svc.HTTPAddr, http.StatusOK)

	// Idle for longer than the threshold with nothing waiting: still ready.
	idleSince := time.Now()
	waitFor(t, "an idle stretch past the threshold", 5*time.Second, func() bool { return time.Since(idleSince) > 1500*time.Millisecond })
	readyz(t, svc.HTTPAddr, http.StatusOK)

	if _, err := svc.JS.PauseConsumer(ctx, natsbus.EventsStream, natsbus.PipelineDurable, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("pause consumer: %v", err)
	}
	if _, err := replay.Publish(ctx, js, []replay.Record{friendAddRecord(t, "held", "acct_held", time.Now().UTC(), 0)}, nil); err != nil {
		t.Fatal(err)
	}
	var body string
	waitFor(t, "/readyz to report the stall", 15*time.Second, func() bool {
		code, b := getReadyz(t, svc.HTTPAddr)
		body = b
		return code == http.StatusServiceUnavailable
	})
	t.Logf("stall reported after %s: %s", time.Since(idleSince).Round(time.Millisecond), strings.TrimSpace(body))
	if !strings.Contains(body, "has not advanced") || !strings.Contains(body, "events waiting: 1") {
		t.Errorf("/readyz body: got %q, want it to say the pipeline has not advanced with 1 event waiting", body)
	}

	if _, err := svc.JS.ResumeConsumer(ctx, natsbus.EventsStream, natsbus.PipelineDurable); err != nil {
		t.Fatalf("resume consumer: %v", err)
	}
	waitFor(t, "the held event processed", 40*time.Second, func() bool { return svc.Pipeline.Processed() >= 1 })
	t.Logf("processed after %s", time.Since(idleSince).Round(time.Millisecond))
	waitFor(t, "/readyz ready again", 10*time.Second, func() bool { code, _ := getReadyz(t, svc.HTTPAddr); return code == http.StatusOK })
}

func friendAddRecord(t *testing.T, id, account string, at time.Time, i int) replay.Record {
	t.Helper()
	ev := &moderation.Event{ID: id, Kind: moderation.KindFriendAdd, Account: account, At: at,
		FriendAdd: &moderation.FriendAdd{Target: fmt.Sprintf("stranger_%d", i), Source: moderation.SourceSearch}}
	if i == 0 {
		ev.AccountInfo = &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: time.Now().Add(-12 * time.Hour)}
	}
	data, err := events.EncodeJSON(ev)
	if err != nil {
		t.Fatal(err)
	}
	return record(ev.Subject(), id, data)
}

// deadLetters reads the dead-letter stream, by reason.
func deadLetters(t *testing.T, js jetstream.JetStream) map[string][]*jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, natsbus.DLQStream)
	if err != nil {
		t.Fatalf("open DLQ: %v", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]*jetstream.RawStreamMsg{}
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("read dead letter %d: %v", seq, err)
		}
		out[m.Header.Get(natsbus.HeaderReason)] = append(out[m.Header.Get(natsbus.HeaderReason)], m)
	}
	return out
}

func getReadyz(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func readyz(t *testing.T, addr string, want int) {
	t.Helper()
	if code, body := getReadyz(t, addr); code != want {
		t.Errorf("/readyz: got %d %q, want %d", code, body, want)
	}
}

// TestIngestRefusesAbsurdTimes: gRPC Ingest checks event time as the
// pipeline does, naming the event and its field, and stores nothing of the
// batch.
func TestIngestRefusesAbsurdTimes(t *testing.T) {
	svc := startService(t)
	client := moderationv1.NewModerationServiceClient(apiConn(t, svc, platform))
	for name, at := range map[string]time.Time{
		"1969":          time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC),
		"2100":          time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		"9999":          time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		"an hour ahead": time.Now().Add(time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			bad := friendAdd("e2", "acct_y")
			bad.At = timestamppb.New(at)
			_, err := client.Ingest(context.Background(), &moderationv1.IngestRequest{Events: []*moderationv1.Event{friendAdd("e1", "acct_y"), bad}})
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "events[1].at") {
				t.Fatalf("got %v, want InvalidArgument naming events[1].at", err)
			}
		})
	}
	info, err := svc.Streams.Events.Info(context.Background())
	if err != nil || info.State.Msgs != 0 {
		t.Errorf("events stored after refused batches: got %v (%v), want 0", info.State.Msgs, err)
	}
}

// TestDeadLetterByReference: when the dead-letter stream refuses even a
// copy cut to the server's payload limit (an operator capped its message
// size), the dead letter keeps the headers alone, pointing at the original
// in the events stream, and the pipeline moves on.
func TestDeadLetterByReference(t *testing.T) {
	svc := startService(t)
	_, js := publisher(t, svc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dlq, err := svc.JS.Stream(ctx, natsbus.DLQStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := dlq.CachedInfo().Config
	cfg.MaxMsgSize = 2048
	if _, err := svc.JS.UpdateStream(ctx, cfg); err != nil {
		t.Fatalf("cap DLQ message size: %v", err)
	}
	big := []byte(`{"id":"big","padding":"` + strings.Repeat("A", moderation.MaxEventBytes) + `"}`)
	ack, err := js.Publish(ctx, "mod.events.friend_add.acct_big", big)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replay.Publish(ctx, js, []replay.Record{friendAddRecord(t, "next", "acct_next", time.Now().UTC(), 0)}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both events processed", 20*time.Second, func() bool { return svc.Pipeline.Processed() >= 2 })
	got := deadLetters(t, svc.JS)[events.ReasonTooLarge]
	if len(got) != 1 {
		t.Fatalf("too_large dead letters: got %d, want 1", len(got))
	}
	if h := got[0].Header; len(got[0].Data) != 0 || h.Get(pipeline.HeaderTruncated) != "true" ||
		h.Get(pipeline.HeaderOriginalSize) != strconv.Itoa(len(big)) || h.Get(natsbus.HeaderOriginalSeq) != strconv.FormatUint(ack.Sequence, 10) {
		t.Errorf("dead letter: got %d bytes and headers %v, want none, Mod-Truncated true, Mod-Original-Size %d, Mod-Original-Seq %d", len(got[0].Data), h, len(big), ack.Sequence)
	}
}
