package judge

import (
	"context"
	"reflect"
	"testing"
	"testing/fstest"
	"time"

	"moderation/internal/moderation"
	"moderation/policies"
)

// TestMemoOnlyForPoliciesThatIgnoreIdentity: the embedded policy reads
// neither the account's id nor the event's id or time, so its verdicts are
// memoized; a policy that reads any of them, or the input whole, is not.
func TestMemoOnlyForPoliciesThatIgnoreIdentity(t *testing.T) {
	ctx := context.Background()
	embedded, err := Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	if embedded.memo == nil {
		t.Error("embedded policy: no memo, want one")
	}
	for name, body := range map[string]string{
		"account id": `x := input.account.id`,
		"event time": `x := input.event.at`,
		"event id":   `x := input.event.id`,
		"whole":      `x := input`,
		"account":    `x := input.account`,
		"computed":   `x := input[k]`,
		"other part": `x := input.request`,
	} {
		pol := loadWith(t, body)
		if pol.memo != nil {
			t.Errorf("policy reading %s: memoized, want not", name)
		}
	}
	if pol := loadWith(t, `x := input.event.kind`); pol.memo == nil {
		t.Error("policy reading the event's kind: not memoized, want memoized")
	}
}

// loadWith is the embedded policy with one more module holding body.
func loadWith(t *testing.T, body string) *Policy {
	t.Helper()
	return loadModule(t, "extra.rego", "package extra\n\n"+body+"\n")
}

// loadModule is the embedded policy's decision and bulk_add rules with one
// more module, src, in file.
func loadModule(t *testing.T, file, src string) *Policy {
	t.Helper()
	fsys := fstest.MapFS{file: {Data: []byte(src)}}
	for _, name := range []string{"moderation.rego", "bulk_add.rego", "data.json"} {
		b, err := policies.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	pol, err := Compile(context.Background(), fsys, "test")
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// TestMemoAnswersAsOPA: a remembered verdict is the one OPA gives, for the
// same input under another account id, and a different input is asked
// again.
func TestMemoAnswersAsOPA(t *testing.T) {
	ctx := context.Background()
	pol, err := Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	in := func(id string, hour float64) Input {
		return Input{
			Account: moderation.Account{ID: id, Type: moderation.AccountPersonal, AgeDays: 2},
			Signals: map[string]moderation.Signal{"bulk_add": {Values: map[string]float64{"hour_strangers": hour, "day_strangers": hour}}},
			Event:   &moderation.Event{ID: "e-" + id, Kind: moderation.KindFriendAdd, Account: id, At: time.Now()},
		}
	}
	before := MemoHits()
	first, err := pol.Evaluate(ctx, in("a", 100))
	if err != nil {
		t.Fatal(err)
	}
	second, err := pol.Evaluate(ctx, in("b", 100))
	if err != nil {
		t.Fatal(err)
	}
	if MemoHits()-before != 1 {
		t.Errorf("memo hits: got %d, want 1", MemoHits()-before)
	}
	direct, err := pol.evaluate(ctx, in("b", 100))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(second, direct) || !reflect.DeepEqual(first, direct) {
		t.Errorf("memoized verdict %+v differs from OPA's %+v", second, direct)
	}
	other, err := pol.Evaluate(ctx, in("c", 300))
	if err != nil {
		t.Fatal(err)
	}
	if MemoHits()-before != 1 || other.Action == first.Action {
		t.Errorf("a different input: hits %d, action %s (first %s); want it asked again with its own answer", MemoHits()-before, other.Action, first.Action)
	}
}
