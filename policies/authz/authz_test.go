package authz

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"

	"moderation/policies/regocheck"
)

// These tests run the checks the style asks of every Rego change (opa fmt,
// opa check --strict, opa test --coverage) on this directory through OPA's
// Go packages, as policies_test.go does for the moderation policy, so
// `go test ./...` is the whole gate. Authorization is held to full coverage:
// a line no test reaches is a grant or refusal nobody has seen work.

// minCoverage is the share of Rego lines the Rego tests must reach, in percent.
const minCoverage = 100.0

func loadEmbedded(t *testing.T) (modules, tests map[string]string) {
	t.Helper()
	modules, tests, err := Modules()
	if err != nil {
		t.Fatalf("Modules: %v", err)
	}
	return modules, tests
}

func TestModulesSplitsTests(t *testing.T) {
	modules, tests := loadEmbedded(t)
	if got, want := slices.Sorted(maps.Keys(modules)), []string{"authz.rego"}; !slices.Equal(got, want) {
		t.Errorf("modules: got %v, want %v", got, want)
	}
	if got, want := slices.Sorted(maps.Keys(tests)), []string{"authz_test.rego"}; !slices.Equal(got, want) {
		t.Errorf("tests: got %v, want %v", got, want)
	}
}

// The embedded copy is what the binary runs; it must be what is on disk
// here, which is what `opa test policies/authz` checks.
func TestEmbeddedMatchesDisk(t *testing.T) {
	modules, tests := loadEmbedded(t)
	for _, src := range []map[string]string{modules, tests} {
		for name, text := range src {
			disk, err := os.ReadFile(name)
			if err != nil {
				t.Fatalf("read %s: %v", name, err)
			}
			if string(disk) != text {
				t.Errorf("%s: embedded copy differs from disk", name)
			}
		}
	}
}

// opa fmt, opa check --strict and opa test --coverage, through OPA's Go
// packages.
func TestRegoIsFormatted(t *testing.T) {
	modules, tests := loadEmbedded(t)
	regocheck.Formatted(t, "policies/authz/", modules, tests)
}

func TestRegoCompilesStrict(t *testing.T) {
	modules, tests := loadEmbedded(t)
	regocheck.CompilesStrict(t, regocheck.Parse(t, modules, tests))
}

func TestRegoTestsPassWithFullCoverage(t *testing.T) {
	modules, tests := loadEmbedded(t)
	regocheck.TestsPass(t, regocheck.Parse(t, modules, tests), nil, minCoverage)
}

// The decision rule says what it decides in # METADATA, like every rule
// that can block in the moderation policy.
func TestDecisionHasMetadata(t *testing.T) {
	modules, _ := loadEmbedded(t)
	var found int
	for name, m := range regocheck.Parse(t, modules) {
		for _, r := range m.Rules {
			if r.Head.Ref().String() != "decision" || r.Default {
				continue
			}
			found++
			if len(r.Annotations) == 0 {
				t.Errorf("%s:%d: decision rule without # METADATA", name, r.Location.Row)
				continue
			}
			a := r.Annotations[0]
			for field, v := range map[string]string{"title": a.Title, "description": a.Description} {
				if strings.TrimSpace(v) == "" {
					t.Errorf("%s:%d: # METADATA %s is empty", name, r.Location.Row, field)
				}
			}
		}
	}
	if found != 1 {
		t.Errorf("decision rules (not default): got %d, want 1", found)
	}
}

// Query compiles in strict mode through the rego package, as the Go
// authorizer prepares it, and is defined for any input.
func TestQueryIsAlwaysDefined(t *testing.T) {
	modules, _ := loadEmbedded(t)
	opts := []func(*rego.Rego){rego.Query(Query), rego.Strict(true)}
	for name, src := range modules {
		opts = append(opts, rego.Module(name, src))
	}
	pq, err := rego.New(opts...).PrepareForEval(t.Context())
	if err != nil {
		t.Fatalf("prepare %s: %v", Query, err)
	}
	tests := []struct {
		name      string
		input     any
		wantAllow bool
	}{
		{"allowed", map[string]any{"method": "moderation.v1.ModerationService/Check", "role": "service", "account": "other"}, true},
		{"refused", map[string]any{"method": "moderation.v1.AdminService/MintToken", "role": "reviewer", "account": "none"}, false},
		{"empty", map[string]any{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := pq.Eval(t.Context(), rego.EvalInput(tt.input))
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			if len(rs) != 1 {
				t.Fatalf("got %d results, want 1", len(rs))
			}
			d, ok := rs[0].Expressions[0].Value.(map[string]any)
			if !ok {
				t.Fatalf("decision: got %T, want object", rs[0].Expressions[0].Value)
			}
			if d["allow"] != tt.wantAllow {
				t.Errorf("allow: got %v, want %v", d["allow"], tt.wantAllow)
			}
			if reason, _ := d["reason"].(string); (reason == "") != tt.wantAllow {
				t.Errorf("reason: got %q for allow=%v", reason, tt.wantAllow)
			}
		})
	}
}
