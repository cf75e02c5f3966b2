package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
)

// TestPoisonThroughTheBinary replays the attacks on the service against
// the real binary: friend requests dated 1969, 9999 and 2100 (each used to
// panic or blind the detectors, and crash-loop every restart), an event one
// byte under the payload limit (its dead letter did not fit and stalled
// every account), an account whose stored state is not JSON, and a bad
// event after the dead-letter stream was deleted. Each must be
// dead-lettered under its reason and counted, an honest spammer in between
// must still be limited, /readyz must answer truthfully, and the binary
// must restart on the same data dir and go on processing.
func TestPoisonThroughTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary")
	}
	dir := t.TempDir()
	p := start(t, dir)
	_, pub := connect(t, p.natsURL, natsbus.As(dir, natsbus.RolePublisher))
	_, svcJS := connect(t, p.natsURL, natsbus.As(dir, natsbus.RoleService))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Second)

	accounts, err := svcJS.KeyValue(ctx, natsbus.AccountsBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Put(ctx, "acct_corrupt", []byte("{not json")); err != nil {
		t.Fatalf("write corrupt state: %v", err)
	}

	var recs []replay.Record
	for i, at := range []time.Time{
		time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		recs = append(recs, poisonFriendAdd(t, fmt.Sprintf("time-%d", i), "acct_time", at, i))
	}
	for i := range 150 {
		at := now.Add(-50*time.Minute + time.Duration(i)*20*time.Second)
		recs = append(recs, poisonFriendAdd(t, fmt.Sprintf("good-%d", i), "acct_good", at, i),
			poisonFriendAdd(t, fmt.Sprintf("corrupt-%d", i), "acct_corrupt", at, i))
	}
	if _, err := replay.Publish(ctx, pub, recs, nil); err != nil {
		t.Fatalf("publish: %v", err)
	}
	big := []byte(strings.Repeat("A", int(pub.Conn().MaxPayload())-1)) // no headers: all of it is data
	if _, err := pub.Publish(ctx, "mod.events.friend_add.acct_big", big); err != nil {
		t.Fatalf("publish %d bytes: %v", len(big), err)
	}
	stored := uint64(len(recs) + 1)
	poll(t, "every event acknowledged", 90*time.Second, func() bool { return caughtUp(ctx, svcJS, stored) })

	httpAddr := listeningHTTP(t, p)
	if code, body := httpGet(t, httpAddr, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after the poison: got %d %q, want 200", code, body)
	}
	metrics := func() string { _, m := httpGet(t, httpAddr, "/metrics"); return m }
	m := metrics()
	for _, want := range []struct {
		series string
		min    float64
	}{
		{`moderation_dead_letters_total{reason="bad_time"}`, 3},
		{`moderation_dead_letters_total{reason="too_large"}`, 1},
		{`moderation_dead_letters_truncated_total`, 1},
		{`moderation_dead_letters_total{reason="bad_state"}`, 1},
		{`moderation_permanent_failures_total{reason="bad_state"}`, 1},
	} {
		if got := seriesValue(m, want.series); got < want.min {
			t.Errorf("%s: got %v, want at least %v", want.series, got, want.min)
		}
	}
	var goodLimited bool
	for _, d := range decisions(t, svcJS) {
		switch d.Account {
		case "acct_good":
			goodLimited = goodLimited || d.Action == moderation.ActionLimit
		case "acct_time", "acct_corrupt", "acct_big":
			t.Errorf("decision on %s: got %s, want none", d.Account, d.Action)
		}
	}
	if !goodLimited {
		t.Error("acct_good: got no limit, want the spammer limited despite the poison around it")
	}

	// A record on the enforcement subject that is not a decision (written
	// as the service, the only identity that may): the account's history
	// is still served, the bad record skipped and counted.
	if _, err := svcJS.Publish(ctx, natsbus.EnforcementPrefix+"acct_good", []byte("\x00 not a decision")); err != nil {
		t.Fatal(err)
	}
	list, err := moderationv1.NewModerationServiceClient(p.dial(t)).ListDecisions(ctx, &moderationv1.ListDecisionsRequest{Account: "acct_good"})
	if err != nil || len(list.GetDecisions()) == 0 {
		t.Errorf("acct_good's decisions with a bad record among them: got %v, %v; want its decisions", list, err)
	}
	if got := seriesValue(metrics(), `moderation_records_skipped_total{source="decisions"}`); got < 1 {
		t.Errorf("skipped decisions counted: got %v, want at least 1", got)
	}

	// The dead-letter stream deleted: the next bad event brings it back.
	if err := svcJS.DeleteStream(ctx, natsbus.DLQStream); err != nil {
		t.Fatalf("delete DLQ: %v", err)
	}
	if _, err := pub.Publish(ctx, "mod.events.friend_add.acct_x", []byte(`{"id": "trunc`)); err != nil {
		t.Fatal(err)
	}
	poll(t, "the bad event acknowledged", 30*time.Second, func() bool { return caughtUp(ctx, svcJS, stored+1) })
	dlq, err := svcJS.Stream(ctx, natsbus.DLQStream)
	if err != nil {
		t.Fatalf("DLQ after the bad event: %v", err)
	}
	if msg, err := dlq.GetLastMsgForSubject(ctx, "mod.dlq."+events.ReasonBadJSON); err != nil || msg.Header.Get(natsbus.HeaderOriginalSubject) != "mod.events.friend_add.acct_x" {
		t.Errorf("bad_json dead letter in the declared-again DLQ: got %v (%v), want acct_x's event", msg, err)
	}

	// Restart on the same data dir: the poison is still in the events
	// stream and the rebuild reads it; the binary must come up and go on.
	p.stop(t, 15*time.Second)
	p2 := start(t, dir)
	_, pub2 := connect(t, p2.natsURL, natsbus.As(dir, natsbus.RolePublisher))
	_, svcJS2 := connect(t, p2.natsURL, natsbus.As(dir, natsbus.RoleService))
	after := poisonFriendAdd(t, "after-restart", "acct_after", time.Now().UTC(), 0)
	if _, err := replay.Publish(ctx, pub2, []replay.Record{after}, nil); err != nil {
		t.Fatal(err)
	}
	poll(t, "the event after the restart acknowledged", 30*time.Second, func() bool { return caughtUp(ctx, svcJS2, stored+2) })
	httpAddr2 := listeningHTTP(t, p2)
	poll(t, "/readyz after the restart", 15*time.Second, func() bool { code, _ := httpGet(t, httpAddr2, "/readyz"); return code == http.StatusOK })
	for _, proc := range []*process{p, p2} {
		if log := proc.logText(); strings.Contains(log, "panic") || strings.Contains(log, "goroutine ") {
			t.Errorf("a run panicked:\n%s", log)
		}
	}
}

func poisonFriendAdd(t *testing.T, id, account string, at time.Time, i int) replay.Record {
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
	h := nats.Header{}
	h.Set(nats.MsgIdHdr, id)
	return replay.Record{Subject: ev.Subject(), Header: h, Data: data}
}

// listeningHTTP is the ops address the process logged.
func listeningHTTP(t *testing.T, p *process) string {
	t.Helper()
	for _, line := range strings.Split(p.logText(), "\n") {
		var rec struct{ Msg, HTTP string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "moderation service listening" && rec.HTTP != "" {
			return rec.HTTP
		}
	}
	t.Fatalf("no HTTP address in the log:\n%s", p.logText())
	return ""
}

func httpGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// seriesValue is the value of one series in Prometheus text, 0 if absent.
func seriesValue(text, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestMaxClockSkewFlag(t *testing.T) {
	none := func(string) string { return "" }
	for _, tt := range []struct {
		args    []string
		want    time.Duration
		wantErr bool
	}{
		{nil, 10 * time.Minute, false},
		{[]string{"--max-clock-skew", "90s"}, 90 * time.Second, false},
		{[]string{"--max-clock-skew", "0s"}, 0, true},
		{[]string{"--max-clock-skew", "-1m"}, 0, true},
	} {
		cfg, err := loadConfig(tt.args, none)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), "max-clock-skew") {
				t.Errorf("%v: got %v, want an error naming max-clock-skew", tt.args, err)
			}
			continue
		}
		if err != nil || cfg.MaxClockSkew != tt.want {
			t.Errorf("%v: got %v (%v), want %v", tt.args, cfg.MaxClockSkew, err, tt.want)
		}
	}
}
