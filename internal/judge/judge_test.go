package judge

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"moderation/internal/moderation"
	"moderation/policies"
)

// withFile copies the embedded policy and replaces or adds one file.
func withFile(t *testing.T, name, content string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m[name] = &fstest.MapFile{Data: []byte(content)}
	return m
}

func TestCompileRefusesBadPolicies(t *testing.T) {
	tests := []struct {
		name, file, content, wantErr string
	}{
		{"syntax error", "broken.rego", "package moderation\n\nviolations contains v if {", "parse policy"},
		{"unsafe variable (strict)", "unsafe.rego", "package moderation\n\nunused_rule if {\n\tx := 1\n\tinput.y == z\n}\n", "compile policy"},
		{"watch names a metric no detector reports", "watch_extra.rego", "package moderation\n\nwatched contains {\"metric\": \"ghost.metric\", \"level\": 1}\n", "no detector reports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(context.Background(), withFile(t, tt.file, tt.content), "candidate")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestVersionFollowsContent(t *testing.T) {
	ctx := context.Background()
	a, err := Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compile(ctx, withFile(t, "extra.rego", "package moderation\n\nnote := \"x\"\n"), "embedded")
	if err != nil {
		t.Fatal(err)
	}
	if a.Version == b.Version || !strings.HasPrefix(a.Version, "embedded@") {
		t.Errorf("versions: got %q and %q, want distinct embedded@<hash>", a.Version, b.Version)
	}
	if len(a.Metrics()) == 0 {
		t.Error("embedded policy watches no metric: the judge would never evaluate")
	}
}

func TestDecide(t *testing.T) {
	p, err := Compile(context.Background(), policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	ev := &moderation.Event{ID: "e1", Kind: moderation.KindFriendAdd, Account: "acct_1", At: at}
	v, err := p.Evaluate(context.Background(), Input{
		Account: moderation.Account{ID: "acct_1", Type: moderation.AccountPersonal, AgeDays: 0.5},
		Signals: map[string]moderation.Signal{"bulk_add": {Name: "bulk_add", Evidence: "150 friend requests in the last hour",
			Values: map[string]float64{"hour": 150, "hour_strangers": 150, "distinct_targets_hour": 150, "stranger_share": 1}}},
		Event: ev,
	})
	if err != nil {
		t.Fatal(err)
	}
	if v.Action != moderation.ActionLimit {
		t.Fatalf("12-hour-old account at 150 strangers/hour: got %s, want limit", v.Action)
	}
	d, err := p.Decide(v, "acct_1", ev, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d.DecisionID != moderation.DecisionID("acct_1", "e1") || d.Until == nil || !d.Until.Equal(at.Add(24*time.Hour)) {
		t.Errorf("decision id %s until %v; want the id derived from the event and until one day after it", d.DecisionID, d.Until)
	}
	if !d.Statement.AppealDeadline.Equal(at.Add(180*24*time.Hour)) || !strings.Contains(d.Statement.Measure, "friend requests") {
		t.Errorf("statement: %+v", d.Statement)
	}

	v.Explanation = " "
	if _, err := p.Decide(v, "acct_1", ev, 1); !errors.Is(err, ErrNoStatement) || !strings.Contains(err.Error(), "explanation") {
		t.Errorf("decision without an explanation: got %v, want ErrNoStatement naming it", err)
	}
}
