package replay

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRebaseByWholeDays(t *testing.T) {
	p := write(t,
		`{"id":"a","kind":"friend_add","account":"acct_1","at":"2026-03-02T09:00:00Z","account_info":{"type":"personal","created_at":"2026-03-01T21:00:00Z"}}`,
		`# a comment`,
		``,
		`{"id":"b","kind":"friend_add","account":"acct_1","at":"2026-03-02T11:00:00Z"}`,
	)
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	recs, err := ReadFile(p, Options{Now: now, WholeDays: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("records: got %d, want 2", len(recs))
	}
	var first, last struct {
		At          time.Time `json:"at"`
		AccountInfo struct {
			CreatedAt time.Time `json:"created_at"`
		} `json:"account_info"`
	}
	json.Unmarshal(recs[0].Data, &first)
	json.Unmarshal(recs[1].Data, &last)
	shift := first.At.Sub(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	if shift%(24*time.Hour) != 0 || shift <= 0 {
		t.Errorf("shift %s is not a positive whole number of days", shift)
	}
	if !last.At.Before(now) || now.Sub(last.At) >= 24*time.Hour {
		t.Errorf("latest event at %s: want within the day before %s", last.At, now)
	}
	if got := first.At.Sub(first.AccountInfo.CreatedAt); got != 12*time.Hour {
		t.Errorf("account age at first event: got %s, want 12h kept", got)
	}
	if recs[0].Subject != "mod.events.friend_add.acct_1" || recs[0].Header.Get("Nats-Msg-Id") != "a" {
		t.Errorf("record 0: subject %s, msg id %q", recs[0].Subject, recs[0].Header.Get("Nats-Msg-Id"))
	}

	asRecorded, err := ReadFile(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(asRecorded[1].Data), "2026-03-02T11:00:00Z") {
		t.Errorf("as recorded: got %s, want the recorded time", asRecorded[1].Data)
	}
}

func TestRebaseToJustBeforeNow(t *testing.T) {
	p := write(t,
		`{"id":"a","kind":"friend_add","account":"acct_1","at":"2026-03-02T09:00:00Z"}`,
		`{"id":"b","kind":"friend_add","account":"acct_1","at":"2026-03-02T11:00:00Z"}`,
	)
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	recs, err := ReadFile(p, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var first, last struct{ At time.Time }
	json.Unmarshal(recs[0].Data, &first)
	json.Unmarshal(recs[1].Data, &last)
	if gap := now.Sub(last.At); gap <= 0 || gap > 2*time.Second {
		t.Errorf("latest event %s: want just before %s", last.At, now)
	}
	if got := last.At.Sub(first.At); got != 2*time.Hour {
		t.Errorf("gap between events: got %s, want 2h kept", got)
	}
}

func TestEnvelopes(t *testing.T) {
	p := write(t,
		`{"subject":"mod.events.broadcast.x","msg_id":"m1","content_type":"application/protobuf","data":"AAAA","repeat_bytes":10}`,
		`{"subject":"mod.events.poke.x","event":{"id":"m2","kind":"poke"}}`,
	)
	recs, err := ReadFile(p, Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if string(recs[0].Data) != "AAAAAAAAAA" || recs[0].Header.Get("Content-Type") != "application/protobuf" || recs[0].Header.Get("Nats-Msg-Id") != "m1" {
		t.Errorf("raw envelope: got %q %v", recs[0].Data, recs[0].Header)
	}
	if recs[1].Subject != "mod.events.poke.x" || !strings.Contains(string(recs[1].Data), `"kind":"poke"`) {
		t.Errorf("event envelope: got %s %s", recs[1].Subject, recs[1].Data)
	}
}

func TestReadFileErrorsNameTheLine(t *testing.T) {
	for _, line := range []string{`{"id": broken`, `{"id":"x","kind":"friend_add"}`, `{"subject":"s"}`} {
		p := write(t, `{"id":"ok","kind":"friend_add","account":"a","at":"2026-03-02T09:00:00Z"}`, line)
		if _, err := ReadFile(p, Options{}); err == nil || !strings.Contains(err.Error(), ":2:") {
			t.Errorf("line %s: got %v, want an error naming line 2", line, err)
		}
	}
}
