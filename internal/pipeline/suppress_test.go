package pipeline

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/policies"
)

// auditStore is the in-memory store, keeping the audit records that
// MemoryStore drops.
type auditStore struct {
	*MemoryStore
	mu      sync.Mutex
	records []auditRecord
}

type auditRecord struct {
	subject, msgID string
	record         any
}

func (s *auditStore) Audit(_ context.Context, subject, msgID string, record any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, auditRecord{subject, msgID, record})
	return nil
}

func (s *auditStore) audits() []auditRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]auditRecord(nil), s.records...)
}

// embeddedSimulator is the live pipeline's judging, in memory, with the
// embedded policy.
func embeddedSimulator(t *testing.T) *Simulator {
	t.Helper()
	pol, err := judge.Compile(context.Background(), policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := NewSimulator(Config{MaxStateBytes: 64 << 20}, pol)
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

// TestSuppressedRule runs episodes of bulk adding by one account, each a
// limit on its own, through the live pipeline's judging with the embedded
// policy while the suppressed rules change: a suppressed rule's verdicts
// are counted and recorded but change nothing, and leave no strike behind.
func TestSuppressedRule(t *testing.T) {
	sim := embeddedSimulator(t)
	store := &auditStore{MemoryStore: sim.store}
	sim.p.store = store
	t.Cleanup(func() { sim.p.SetSuppressedRules(nil) })

	const account = "acct_suppressed"
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		name           string
		suppressed     []string
		day            int
		want           moderation.Action // the strongest decision of the episode
		wantSuppressed moderation.Action // the strongest verdict recorded instead; allow: none
	}{
		{"bulk_add suppressed: not limited", []string{"bulk_add", "ad_content"}, 0,
			moderation.ActionAllow, moderation.ActionLimit},
		{"none suppressed: limited, with no strike from the suppressed episode", nil, 2,
			moderation.ActionLimit, moderation.ActionAllow},
		{"another rule suppressed: bulk_add enforced, and escalated by its strike", []string{"ad_content"}, 30,
			moderation.ActionSuspend, moderation.ActionAllow},
	}
	seq := uint64(0)
	recorded := 0 // suppressed verdicts recorded so far
	for i, step := range steps {
		sim.p.SetSuppressedRules(step.suppressed)
		decisionsBefore, auditsBefore := len(sim.Decisions()), len(store.audits())
		evs := episode(account, start.AddDate(0, 0, step.day), i == 0, 400)
		for _, ev := range evs {
			seq++
			if err := sim.Feed(context.Background(), ev, seq); err != nil {
				t.Fatalf("%s: feed %s: %v", step.name, ev.ID, err)
			}
		}

		strongest := moderation.ActionAllow
		for _, d := range sim.Decisions()[decisionsBefore:] {
			if d.Action.Severity() > strongest.Severity() {
				strongest = d.Action
			}
		}
		if strongest != step.want {
			t.Errorf("%s: got %s, want %s", step.name, strongest, step.want)
		}

		strongestSuppressed := moderation.ActionAllow
		for _, a := range store.audits()[auditsBefore:] {
			if !strings.HasPrefix(a.subject, natsbus.AuditPrefix+"suppressed.") {
				continue
			}
			rec, ok := a.record.(SuppressedRecord)
			if !ok {
				t.Fatalf("%s: record on %s is a %T, want a SuppressedRecord", step.name, a.subject, a.record)
			}
			recorded++
			if rec.Action.Severity() > strongestSuppressed.Severity() {
				strongestSuppressed = rec.Action
			}
			checkSuppressedRecord(t, a, rec, account, evs, sim.p.policy.Load().Version)
		}
		if strongestSuppressed != step.wantSuppressed {
			t.Errorf("%s: strongest suppressed verdict recorded: got %s, want %s", step.name, strongestSuppressed, step.wantSuppressed)
		}
		// Every crossing whose verdict would enforce is recorded: with
		// nothing enforced, a warning is still no stronger than what is in
		// force at the next level.
		if got := counterValue(sim.p.metrics.Suppressed.WithLabelValues("bulk_add")); got != float64(recorded) {
			t.Errorf("%s: moderation_suppressed_decisions_total{rule=bulk_add}: got %v, want the %d recorded", step.name, got, recorded)
		}
	}
	sim.p.SetSuppressedRules(nil)
	if sim.p.suppressedRules.Load() != nil {
		t.Error("a pipeline with no rule suppressed still holds a set")
	}
}

// checkSuppressedRecord checks that a record names the verdict it stands
// for, under the ids that let a redelivery store it only once.
func checkSuppressedRecord(t *testing.T, a auditRecord, rec SuppressedRecord, account string, evs []*moderation.Event, version string) {
	t.Helper()
	var ev *moderation.Event
	for _, e := range evs {
		if e.ID == rec.EventID {
			ev = e
		}
	}
	switch {
	case ev == nil:
		t.Errorf("record names event %q, not one of the episode's", rec.EventID)
	case a.subject != natsbus.AuditPrefix+"suppressed."+account:
		t.Errorf("subject: got %s, want %s", a.subject, natsbus.AuditPrefix+"suppressed."+account)
	case rec.DecisionID != moderation.DecisionID(account, ev.ID):
		t.Errorf("decision id: got %s, want %s", rec.DecisionID, moderation.DecisionID(account, ev.ID))
	case a.msgID != "suppressed-"+rec.DecisionID:
		t.Errorf("message id: got %s, want suppressed-%s", a.msgID, rec.DecisionID)
	case rec.Account != account || !rec.At.Equal(ev.At):
		t.Errorf("account and time: got %s at %s, want %s at %s", rec.Account, rec.At, account, ev.At)
	case rec.Rule != "bulk_add" || rec.PolicyVersion != version:
		t.Errorf("rule and policy: got %s of %s, want bulk_add of %s", rec.Rule, rec.PolicyVersion, version)
	case len(rec.Reasons) == 0 || rec.Reasons[0].Code != "bulk_add":
		t.Errorf("reasons: got %+v, want the bulk_add reason first", rec.Reasons)
	}
}

// TestSuppressedSet: the set is replaced whole, and emptied by nil or an
// empty list.
func TestSuppressedSet(t *testing.T) {
	sim, err := NewSimulator(Config{MaxStateBytes: 1 << 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := sim.p
	t.Cleanup(func() { p.SetSuppressedRules(nil) })
	tests := []struct {
		name string
		set  []string
		rule string
		want bool
	}{
		{"nothing set", nil, "bulk_add", false},
		{"set", []string{"bulk_add", "ad_content"}, "bulk_add", true},
		{"another in the set", []string{"bulk_add", "ad_content"}, "ad_content", true},
		{"not in the set", []string{"bulk_add", "ad_content"}, "broadcast_quota", false},
		{"replaced, not added to", []string{"ad_content"}, "bulk_add", false},
		{"emptied by an empty list", []string{}, "ad_content", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.SetSuppressedRules(tt.set)
			if got := p.suppressed(tt.rule); got != tt.want {
				t.Errorf("%s suppressed after setting %q: got %t, want %t", tt.rule, tt.set, got, tt.want)
			}
		})
	}
}
