package authz

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/tester"
)

// These tests run the checks the style asks of every Rego change (opa fmt,
// opa check --strict, opa test --coverage) on this directory through OPA's
// Go packages, as policies_test.go does for the moderation policy, so
// `go test ./...` is the whole gate. Authorization is held to full coverage:
// a line no test reaches is a grant or refusal nobody has seen work.

// minCoverage is the share of Rego lines the Rego tests must reach, in percent.
const minCoverage = 100.0

// testTimeout bounds each Rego test.
const testTimeout = 30 * time.Second

func loadEmbedded(t *testing.T) (modules, tests map[string]string) {
	t.Helper()
	modules, tests, err := Modules()
	if err != nil {
		t.Fatalf("Modules: %v", err)
	}
	return modules, tests
}

// parseAll parses every module and test as `opa check` does: Rego v1, with
// # METADATA processed.
func parseAll(t *testing.T, sources ...map[string]string) map[string]*ast.Module {
	t.Helper()
	parsed := make(map[string]*ast.Module)
	for _, src := range sources {
		for name, text := range src {
			m, err := ast.ParseModuleWithOpts(name, text, ast.ParserOptions{
				RegoVersion:       ast.RegoV1,
				ProcessAnnotation: true,
			})
			if err != nil {
				t.Fatalf("parse %s: %v", name, err)
			}
			parsed[name] = m
		}
	}
	return parsed
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

// Equivalent of `opa fmt --list`: every file is already formatted.
func TestRegoIsFormatted(t *testing.T) {
	modules, tests := loadEmbedded(t)
	for _, src := range []map[string]string{modules, tests} {
		for name, text := range src {
			got, err := format.Source(name, []byte(text))
			if err != nil {
				t.Errorf("format %s: %v", name, err)
				continue
			}
			if string(got) != text {
				t.Errorf("%s is not formatted: run opa fmt -w policies/authz/", name)
			}
		}
	}
}

// Equivalent of `opa check --strict`: modules and tests compile together in
// strict mode.
func TestRegoCompilesStrict(t *testing.T) {
	modules, tests := loadEmbedded(t)
	c := ast.NewCompiler().
		WithStrict(true).
		WithEnablePrintStatements(true).
		WithUseTypeCheckAnnotations(true)
	if c.Compile(parseAll(t, modules, tests)); c.Failed() {
		for _, e := range c.Errors {
			t.Errorf("strict compile: %v", e)
		}
	}
}

// Equivalent of `opa test --coverage`: every Rego test passes and the tests
// cover every line.
func TestRegoTestsPassWithFullCoverage(t *testing.T) {
	modules, tests := loadEmbedded(t)
	parsed := parseAll(t, modules, tests)
	cov := cover.New()
	runner := tester.NewRunner().
		// Tests that iterate over the whole method table take under a
		// second with `opa test`, but tracing for coverage under the race
		// detector on a busy machine slows them several times over, close
		// to the runner's default 5s; a hung test still fails here.
		SetTimeout(testTimeout).
		SetCompiler(ast.NewCompiler().WithEnablePrintStatements(true).WithUseTypeCheckAnnotations(true)).
		CapturePrintOutput(true).
		SetCoverageQueryTracer(cov).
		SetModules(parsed)
	ch, err := runner.RunTests(t.Context(), nil)
	if err != nil {
		t.Fatalf("run Rego tests: %v", err)
	}
	var ran, failed int
	for r := range ch {
		ran++
		name := r.Package + "." + r.Name
		switch {
		case r.Error != nil:
			failed++
			t.Errorf("%s: error: %v", name, r.Error)
		case r.Fail:
			failed++
			var cases []string
			for path, sub := range r.SubResults.Iter {
				if sub.Fail && len(sub.SubResults) == 0 {
					cases = append(cases, strings.Join(path, "/"))
				}
			}
			slices.Sort(cases)
			t.Errorf("%s (%v): FAIL %s", name, r.Location, strings.Join(cases, ", "))
			if len(r.Output) > 0 {
				t.Logf("%s printed:\n%s", name, r.Output)
			}
		}
	}
	if ran == 0 {
		t.Fatal("no Rego tests ran")
	}
	if failed > 0 {
		// Coverage of a failing suite means little.
		return
	}
	report := cov.Report(parsed)
	t.Logf("Rego tests: %d passed; coverage %.1f%%", ran, report.Coverage)
	if report.Coverage < minCoverage {
		for file, fr := range report.Files {
			for _, rng := range fr.NotCovered {
				t.Logf("not covered: %s:%d-%d", file, rng.Start.Row, rng.End.Row)
			}
		}
		t.Errorf("Rego coverage: got %.1f%%, want %.0f%%", report.Coverage, minCoverage)
	}
}

// The decision rule says what it decides in # METADATA, like every rule
// that can block in the moderation policy.
func TestDecisionHasMetadata(t *testing.T) {
	modules, _ := loadEmbedded(t)
	var found int
	for name, m := range parseAll(t, modules) {
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
