package policies

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"moderation/policies/regocheck"
)

// These tests run the checks the style asks of every Rego change (opa fmt,
// opa check --strict, opa test --coverage) through OPA's Go packages, so
// `go test ./...` is the whole gate and no OPA binary is needed.

// minCoverage is the share of Rego lines the Rego tests must reach, in percent.
const minCoverage = 90.0

// loadEmbedded returns the embedded policy, failing the test if it cannot be read.
func loadEmbedded(t *testing.T) (modules, tests map[string]string, data map[string]any) {
	t.Helper()
	modules, tests, data, err := Modules(FS)
	if err != nil {
		t.Fatalf("Modules(FS): %v", err)
	}
	return modules, tests, data
}

func TestModulesSplitsTestsAndReadsData(t *testing.T) {
	modules, tests, data := loadEmbedded(t)
	for _, name := range []string{"moderation.rego", "bulk_add.rego", "quota.rego", "ads.rego", "campaign.rego", "complaints.rego", "destination_campaign.rego", "shared_targets.rego"} {
		if _, ok := modules[name]; !ok {
			t.Errorf("modules: missing %s, got %v", name, slices.Sorted(maps.Keys(modules)))
		}
	}
	for name := range modules {
		if strings.HasSuffix(name, "_test.rego") {
			t.Errorf("modules: got test file %s", name)
		}
	}
	for _, name := range []string{"moderation_test.rego", "bulk_add_test.rego", "quota_test.rego", "ads_test.rego", "campaign_test.rego", "complaints_test.rego", "destination_campaign_test.rego", "shared_targets_test.rego"} {
		if _, ok := tests[name]; !ok {
			t.Errorf("tests: missing %s, got %v", name, slices.Sorted(maps.Keys(tests)))
		}
	}
	cfg, ok := data["config"].(map[string]any)
	if !ok {
		t.Fatalf(`data["config"]: got %T, want object`, data["config"])
	}
	if got, want := cfg["appeal_window_days"], json.Number("180"); got != want {
		t.Errorf("config.appeal_window_days: got %v, want %v", got, want)
	}
}

// A directory on disk must load exactly like the embedded copy, so a policy
// replaced at run time is read the same way as the built-in one.
func TestModulesFromDiskMatchesEmbedded(t *testing.T) {
	em, et, ed := loadEmbedded(t)
	dm, dt, dd, err := Modules(os.DirFS("."))
	if err != nil {
		t.Fatalf("Modules(os.DirFS): %v", err)
	}
	if !reflect.DeepEqual(em, dm) || !reflect.DeepEqual(et, dt) || !reflect.DeepEqual(ed, dd) {
		t.Errorf("Modules(os.DirFS(\".\")) differs from Modules(FS)")
	}
}

func TestModulesRejectsIncompletePolicies(t *testing.T) {
	rego := &fstest.MapFile{Data: []byte("package moderation\n")}
	data := &fstest.MapFile{Data: []byte(`{"config": {}}`)}
	tests := []struct {
		name string
		fsys fstest.MapFS
	}{
		{"no modules", fstest.MapFS{"x_test.rego": rego, "data.json": data}},
		{"no data.json", fstest.MapFS{"x.rego": rego}},
		{"data.json not JSON", fstest.MapFS{"x.rego": rego, "data.json": {Data: []byte("{")}}},
		{"data.json null", fstest.MapFS{"x.rego": rego, "data.json": {Data: []byte("null")}}},
		{"data.json not an object", fstest.MapFS{"x.rego": rego, "data.json": {Data: []byte("[1]")}}},
		{"data.json two values", fstest.MapFS{"x.rego": rego, "data.json": {Data: []byte("{} {}")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := Modules(tt.fsys); err == nil {
				t.Errorf("Modules: got nil error, want one")
			}
		})
	}
}

// opa fmt, opa check --strict and opa test --coverage, through OPA's Go
// packages.
func TestRegoIsFormatted(t *testing.T) {
	modules, tests, _ := loadEmbedded(t)
	regocheck.Formatted(t, "policies/", modules, tests)
}

func TestRegoCompilesStrict(t *testing.T) {
	modules, tests, _ := loadEmbedded(t)
	regocheck.CompilesStrict(t, regocheck.Parse(t, modules, tests))
}

func TestRegoTestsPassWithCoverage(t *testing.T) {
	modules, tests, data := loadEmbedded(t)
	regocheck.TestsPass(t, regocheck.Parse(t, modules, tests), data, minCoverage)
}

// Every rule that can block carries what its decision shows an owner, in
// # METADATA: title, description, and custom ground and explanation.
func TestBlockingRulesHaveMetadata(t *testing.T) {
	modules, _, _ := loadEmbedded(t)
	var blocking int
	for name, m := range regocheck.Parse(t, modules) {
		for _, r := range m.Rules {
			if r.Head.Ref().String() != "violations" {
				continue
			}
			blocking++
			if len(r.Annotations) == 0 {
				t.Errorf("%s:%d: violations rule without # METADATA", name, r.Location.Row)
				continue
			}
			a := r.Annotations[0]
			for field, v := range map[string]any{
				"title":              a.Title,
				"description":        a.Description,
				"custom.ground":      a.Custom["ground"],
				"custom.explanation": a.Custom["explanation"],
			} {
				if s, _ := v.(string); strings.TrimSpace(s) == "" {
					t.Errorf("%s:%d: # METADATA %s is empty", name, r.Location.Row, field)
				}
			}
		}
	}
	if blocking == 0 {
		t.Error("found no violations rules")
	}
}

// The judge prepares data.moderation.decision with the rego package; the
// decision must come out the same way, metadata included.
func TestDecisionThroughRegoPackage(t *testing.T) {
	pq := prepare(t, "data.moderation.decision")

	personal := func(ageDays float64, hourStrangers int) map[string]any {
		return map[string]any{
			"account": map[string]any{"id": "acct_1", "type": "personal", "age_days": ageDays, "strikes": 0, "status": "allow"},
			"signals": map[string]any{"bulk_add": map[string]any{"hour_strangers": hourStrangers}},
		}
	}
	official := func(typ string, verified bool, signal string, values map[string]any) map[string]any {
		return map[string]any{
			"account": map[string]any{"id": "acct_2", "type": typ, "verified": verified, "age_days": 400, "strikes": 0, "status": "allow"},
			"signals": map[string]any{signal: values},
		}
	}
	tests := []struct {
		name       string
		input      map[string]any
		wantAction string
		wantTitle  bool
	}{
		// 300 requests to strangers over 2 hours from a 12-hour-old account.
		{"new account 150 an hour", personal(0.5, 150), "limit", true},
		{"two-year-old account adding 5", personal(730, 5), "allow", false},
		{"no signals", map[string]any{"account": map[string]any{"type": "personal"}}, "allow", false},
		{"verified brand, 2 broadcasts today", official("subscription", true, "broadcast_quota", map[string]any{"day": 2, "month": 20}), "allow", false},
		{"subscription, 3 broadcasts today", official("subscription", false, "broadcast_quota", map[string]any{"day": 3, "month": 3}), "limit", true},
		{"tiny account, 1 complaint on 20", official("subscription", false, "complaint_rate", map[string]any{"complaints": 1, "delivered": 20, "rate": 0.05, "wilson_lower": 0.0089}), "allow", false},
		{"fraud storm", official("subscription", false, "complaint_rate", map[string]any{"complaints": 80, "delivered": 1000, "rate": 0.08, "wilson_lower": 0.064, "credible_complaints": 80, "credible_wilson_lower": 0.064, "reason_fraud": 60}), "close", true},
		{"mass campaign", official("service", false, "campaign", map[string]any{"accounts": 250, "ad_score": 0.95}), "close", true},
		{"mass campaign, verified", official("service", true, "campaign", map[string]any{"accounts": 250, "ad_score": 0.95}), "limit", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := pq.Eval(context.Background(), rego.EvalInput(tt.input))
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			if len(rs) != 1 {
				t.Fatalf("got %d results, want 1 (decision must always be defined)", len(rs))
			}
			d, ok := rs[0].Expressions[0].Value.(map[string]any)
			if !ok {
				t.Fatalf("decision: got %T, want object", rs[0].Expressions[0].Value)
			}
			if d["action"] != tt.wantAction {
				t.Errorf("action: got %v, want %v", d["action"], tt.wantAction)
			}
			if got := d["title"] != ""; got != tt.wantTitle {
				t.Errorf("title %q: got present=%v, want %v", d["title"], got, tt.wantTitle)
			}
		})
	}
}

// prepare compiles the embedded policy as the judge does and prepares query.
func prepare(t *testing.T, query string) rego.PreparedEvalQuery {
	t.Helper()
	modules, _, data := loadEmbedded(t)
	opts := []func(*rego.Rego){
		rego.Query(query),
		rego.Store(inmem.NewFromObject(data)),
	}
	for name, src := range modules {
		opts = append(opts, rego.Module(name, src))
	}
	pq, err := rego.New(opts...).PrepareForEval(t.Context())
	if err != nil {
		t.Fatalf("prepare %s: %v", query, err)
	}
	return pq
}

// The judge evaluates the policy only when a watched metric crosses one of
// its watched levels, so the policy must give the same answer anywhere
// between two neighbouring levels. This probes every watched metric of
// every rule, one at a time, with the other signals quiet, just at their
// minimums or high: the answer just under each level and far above all
// must be the answer at the level below (or at 0). A rule that compares a
// signal with a level missing from watch fails here. It runs in Go rather
// than Rego because, traced for coverage under the race detector, the same
// probes take longer than a Rego test may.
func TestDecisionChangesOnlyAtWatchedLevels(t *testing.T) {
	decide := prepare(t, "data.moderation.decision")
	rs, err := prepare(t, "data.moderation.watch").Eval(t.Context())
	if err != nil || len(rs) != 1 {
		t.Fatalf("evaluate watch: %v (%d results)", err, len(rs))
	}
	var watch map[string][]float64
	raw, _ := json.Marshal(rs[0].Expressions[0].Value)
	if err := json.Unmarshal(raw, &watch); err != nil {
		t.Fatalf("watch: %v", err)
	}

	accounts := map[string]map[string]any{
		"new personal":          {"type": "personal", "verified": false, "age_days": 3},
		"established personal":  {"type": "personal", "verified": false, "age_days": 400},
		"subscription":          {"type": "subscription", "verified": false, "age_days": 400},
		"verified subscription": {"type": "subscription", "verified": true, "age_days": 400},
		"service":               {"type": "service", "verified": true, "age_days": 400},
		"enterprise":            {"type": "enterprise", "verified": true, "age_days": 400},
	}
	// The accounts each signal is probed with: the kinds of account its
	// rules have levels for, one of each set of equal levels in data.json.
	accountsFor := map[string][]string{
		"bulk_add":        {"new personal", "established personal"},
		"broadcast_quota": {"subscription", "verified subscription", "service", "enterprise"},
		"ad_content":      {"subscription", "service"},
		"campaign":        {"subscription", "enterprise"},
		"complaint_rate":  {"subscription", "service"},
		"shared_targets":  {"new personal", "established personal"},
		// Verified accounts have levels of their own.
		"destination_campaign": {"subscription", "verified subscription"},
		// account.age_days: the account's own age, probed on every type.
		"account": {"new personal", "established personal", "subscription", "verified subscription", "service", "enterprise"},
	}
	signalSets := map[string]string{
		"quiet": `{
			"bulk_add": {"hour_strangers": 0, "day_strangers": 0, "week_strangers": 0, "month_strangers": 0, "report_ratio": 0, "responses": 0},
			"broadcast_quota": {"day": 0, "month": 0},
			"ad_content": {"share": 0, "broadcasts": 0},
			"campaign": {"accounts": 0, "ad_score": 0},
			"complaint_rate": {"complaints": 0, "wilson_lower": 0, "credible_complaints": 0, "credible_wilson_lower": 0, "unfollows": 0, "unfollow_wilson_lower": 0, "reason_ads": 0, "reason_fraud": 0},
			"shared_targets": {"ring_accounts": 0, "overlap": 0, "shared": 0},
			"destination_campaign": {"accounts": 0, "ad_score": 0}}`,
		"at minimums": `{
			"bulk_add": {"hour_strangers": 40, "day_strangers": 100, "week_strangers": 100, "month_strangers": 150, "report_ratio": 0.3, "responses": 20},
			"broadcast_quota": {"day": 2, "month": 5},
			"ad_content": {"share": 0.8, "broadcasts": 5},
			"campaign": {"accounts": 10, "ad_score": 0.5},
			"complaint_rate": {"complaints": 10, "wilson_lower": 0.005, "credible_complaints": 10, "credible_wilson_lower": 0.005, "unfollows": 20, "unfollow_wilson_lower": 0.004, "reason_ads": 5, "reason_fraud": 5},
			"shared_targets": {"ring_accounts": 8, "overlap": 0.5, "shared": 10},
			"destination_campaign": {"accounts": 3, "ad_score": 0.5}}`,
		"high": `{
			"bulk_add": {"hour_strangers": 120, "day_strangers": 350, "week_strangers": 400, "month_strangers": 450, "report_ratio": 0.4, "responses": 30},
			"broadcast_quota": {"day": 4, "month": 6},
			"ad_content": {"share": 0.9, "broadcasts": 10},
			"campaign": {"accounts": 15, "ad_score": 0.7},
			"complaint_rate": {"complaints": 30, "wilson_lower": 0.012, "credible_complaints": 30, "credible_wilson_lower": 0.012, "unfollows": 40, "unfollow_wilson_lower": 0.01, "reason_ads": 25, "reason_fraud": 6},
			"shared_targets": {"ring_accounts": 12, "overlap": 0.7, "shared": 30},
			"destination_campaign": {"accounts": 5, "ad_score": 0.7}}`,
		// The closing levels of the severe rules take two metrics each, so
		// each is probed with its partner at and above its level.
		"at closing levels": `{
			"bulk_add": {"hour_strangers": 40, "day_strangers": 100, "week_strangers": 100, "month_strangers": 150, "report_ratio": 0.3, "responses": 20},
			"broadcast_quota": {"day": 2, "month": 5},
			"ad_content": {"share": 0.8, "broadcasts": 5},
			"campaign": {"accounts": 100, "ad_score": 0.9},
			"complaint_rate": {"complaints": 50, "wilson_lower": 0.05, "credible_complaints": 50, "credible_wilson_lower": 0.05, "unfollows": 20, "unfollow_wilson_lower": 0.02, "reason_ads": 20, "reason_fraud": 50},
			"shared_targets": {"ring_accounts": 25, "overlap": 0.5, "shared": 10},
			"destination_campaign": {"accounts": 10, "ad_score": 0.5}}`,
		"severe": `{
			"bulk_add": {"hour_strangers": 300, "day_strangers": 600, "week_strangers": 1500, "month_strangers": 2000, "report_ratio": 0.5, "responses": 40},
			"broadcast_quota": {"day": 6, "month": 8},
			"ad_content": {"share": 0.95, "broadcasts": 20},
			"campaign": {"accounts": 150, "ad_score": 0.95},
			"complaint_rate": {"complaints": 200, "wilson_lower": 0.06, "credible_complaints": 200, "credible_wilson_lower": 0.06, "unfollows": 300, "unfollow_wilson_lower": 0.05, "reason_ads": 60, "reason_fraud": 60},
			"shared_targets": {"ring_accounts": 40, "overlap": 0.95, "shared": 80},
			"destination_campaign": {"accounts": 40, "ad_score": 0.95}}`,
	}
	// A ring member whose own wording is milder than the campaign's (own
	// ad score between min_own_ad_score and min_ad_score): only here does
	// destination_campaign.campaign_ad_score decide anything.
	mild := strings.Replace(signalSets["at minimums"], `"destination_campaign": {"accounts": 3, "ad_score": 0.5}`, `"destination_campaign": {"accounts": 3, "ad_score": 0.4}`, 1)
	if mild == signalSets["at minimums"] {
		t.Fatal(`signal set "mild ring member": destination_campaign not found in "at minimums"`)
	}
	signalSets["mild ring member"] = mild

	// outcome is what the judge enforces: action, reasons, restrictions, duration.
	outcome := func(t *testing.T, account map[string]any, signals string, metric string, v float64) string {
		t.Helper()
		var sig map[string]map[string]any
		if err := json.Unmarshal([]byte(signals), &sig); err != nil {
			t.Fatalf("signals: %v", err)
		}
		name, field, _ := strings.Cut(metric, ".")
		acct := maps.Clone(account)
		if name == "account" {
			acct[field] = v
		} else {
			sig[name][field] = v
		}
		acct["id"], acct["strikes"] = "acct_w", 0
		rs, err := decide.Eval(t.Context(), rego.EvalInput(map[string]any{"account": acct, "signals": sig}))
		if err != nil || len(rs) != 1 {
			t.Fatalf("evaluate decision: %v (%d results)", err, len(rs))
		}
		d := rs[0].Expressions[0].Value.(map[string]any)
		var codes []string
		for _, r := range d["reasons"].([]any) {
			codes = append(codes, r.(map[string]any)["code"].(string))
		}
		slices.Sort(codes)
		return fmt.Sprintf("%v %v restricts %v for %q", d["action"], codes, d["restricts"], d["duration"])
	}

	for _, metric := range slices.Sorted(maps.Keys(watch)) {
		levels := watch[metric]
		signal, _, _ := strings.Cut(metric, ".")
		names, ok := accountsFor[signal]
		if !ok {
			t.Errorf("watch names %s: add its signal to accountsFor and signalSets", metric)
			continue
		}
		// Each value is compared with its floor, the highest level at or under it.
		floors := append([]float64{0}, levels...)
		probes := map[float64]float64{10 * levels[len(levels)-1]: levels[len(levels)-1]}
		for i, l := range levels {
			probes[l-l/100] = floors[i]
		}
		for _, set := range slices.Sorted(maps.Keys(signalSets)) {
			for _, name := range names {
				at := make(map[float64]string, len(floors))
				for _, f := range floors {
					at[f] = outcome(t, accounts[name], signalSets[set], metric, f)
				}
				for _, p := range slices.Sorted(maps.Keys(probes)) {
					floor := probes[p]
					if got, want := outcome(t, accounts[name], signalSets[set], metric, p), at[floor]; got != want {
						t.Errorf("%s of %s with signals %s: at %v got %s, want %s as at %v", metric, name, set, p, got, want, floor)
					}
				}
			}
		}
	}
}
