// Package regocheck runs, through OPA's Go packages, the checks every Rego
// policy of this project is held to: opa fmt, opa check --strict, and
// opa test with a minimum coverage. The policies' own Go tests call it, so
// `go test ./...` is the whole gate and no OPA binary is needed.
package regocheck

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// Parse parses every module and test as `opa check` does: Rego v1, with
// # METADATA processed.
func Parse(t testing.TB, sources ...map[string]string) map[string]*ast.Module {
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

// Formatted is `opa fmt --list`: every file is already formatted. dir names
// the directory in the advice to run opa fmt.
func Formatted(t testing.TB, dir string, sources ...map[string]string) {
	t.Helper()
	for _, src := range sources {
		for name, text := range src {
			got, err := format.Source(name, []byte(text))
			if err != nil {
				t.Errorf("format %s: %v", name, err)
				continue
			}
			if string(got) != text {
				t.Errorf("%s is not formatted: run opa fmt -w %s", name, dir)
			}
		}
	}
}

// CompilesStrict is `opa check --strict`: the modules compile together in
// strict mode (unused variables and imports, shadowed input/data,
// deprecated built-ins are errors).
func CompilesStrict(t testing.TB, parsed map[string]*ast.Module) {
	t.Helper()
	c := ast.NewCompiler().
		WithStrict(true).
		WithEnablePrintStatements(true).
		WithUseTypeCheckAnnotations(true)
	if c.Compile(parsed); c.Failed() {
		for _, e := range c.Errors {
			t.Errorf("strict compile: %v", e)
		}
	}
}

// TestsPass is `opa test --coverage`: every Rego test in parsed passes,
// against data (nil for none), and the tests cover at least minCoverage percent of the
// lines.
func TestsPass(t testing.TB, parsed map[string]*ast.Module, data map[string]any, minCoverage float64) {
	t.Helper()
	if data == nil {
		data = map[string]any{}
	}
	cov := cover.New()
	runner := tester.NewRunner().
		SetCompiler(ast.NewCompiler().WithEnablePrintStatements(true).WithUseTypeCheckAnnotations(true)).
		SetStore(inmem.NewFromObject(data)).
		CapturePrintOutput(true).
		SetCoverageQueryTracer(cov).
		// Tracing for coverage under the race detector on a busy 2-core
		// machine can pass OPA's default 5 s for one test; a hung test
		// still fails.
		SetTimeout(time.Minute).
		SetModules(parsed)
	ch, err := runner.RunTests(t.Context(), nil)
	if err != nil {
		t.Fatalf("run Rego tests: %v", err)
	}
	caseTest := caseTests(parsed)
	var ran, failed int
	for r := range ch {
		ran++
		name := r.Package + "." + r.Name
		switch {
		case r.Error != nil:
			failed++
			t.Errorf("%s: error: %v", name, r.Error)
		case !r.Fail && caseTest[name] && len(r.SubResults) == 0:
			failed++
			t.Errorf("%s (%v): no case ran, so it checked nothing", name, r.Location)
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
		return // coverage of a failing suite means little
	}
	report := cov.Report(parsed)
	t.Logf("Rego tests: %d passed; coverage %.1f%%", ran, report.Coverage)
	if report.Coverage < minCoverage {
		for file, fr := range report.Files {
			for _, rng := range fr.NotCovered {
				t.Logf("not covered: %s:%d-%d", file, rng.Start.Row, rng.End.Row)
			}
		}
		t.Errorf("Rego coverage: got %.1f%%, want >= %.0f%%", report.Coverage, minCoverage)
	}
}

// caseTests names the tests written as test_x[note]: one case for each
// note their body generates. Such a test passes when its generator yields
// nothing (an empty level table, a renamed data.json key), so TestsPass
// requires each to have run at least one case.
func caseTests(parsed map[string]*ast.Module) map[string]bool {
	names := map[string]bool{}
	for _, m := range parsed {
		for _, r := range m.Rules {
			ref := r.Head.Ref()
			if name := ref[0].Value.String(); strings.HasPrefix(name, "test_") && (r.Head.Key != nil || len(ref) > 1) {
				names[m.Package.Path.String()+"."+name] = true
			}
		}
	}
	return names
}
