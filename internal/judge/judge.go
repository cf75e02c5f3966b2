// Package judge asks the OPA policy what to do about an account and turns
// the answer into a decision with its statement of reasons. It knows OPA
// and the domain types; it does not know NATS or gRPC.
package judge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"moderation/detectors"
	"moderation/policies"
)

const (
	decisionQuery = "data.moderation.decision"
	watchQuery    = "data.moderation.watch"
)

// Policy is one compiled version of the policy: prepared once, evaluated
// many times.
type Policy struct {
	Version      string
	watched      []Watched // metrics and the levels at which the answer can change
	ageLevels    *Watched  // the levels the account's age is compared against, if the policy says
	AppealWindow time.Duration
	StrikeExpiry time.Duration // strikes older than this no longer escalate
	// Files are the policy's source by file name (modules, their tests,
	// data.json), for reviewers to read and start a candidate from.
	// Read-only.
	Files  map[string]string
	decide rego.PreparedEvalQuery
	memo   *memo // nil when the policy reads what the memo's key leaves out
	// outcomes answers EvaluateAbove by the levels reached (outcome.go);
	// nil when memo is.
	outcomes *outcomes
}

// Compile loads the Rego modules and data.json in fsys (the embedded
// policies or a directory), compiles them strictly and prepares the
// decision query. name labels the version ("embedded", a directory name).
func Compile(ctx context.Context, fsys fs.FS, name string) (*Policy, error) {
	modules, tests, data, err := policies.Modules(fsys)
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", name, err)
	}
	if len(modules) == 0 {
		return nil, fmt.Errorf("read policy %s: no Rego modules", name)
	}
	parsed := make(map[string]*ast.Module, len(modules))
	for _, file := range slices.Sorted(maps.Keys(modules)) {
		m, err := ast.ParseModuleWithOpts(file, modules[file], ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
		if err != nil {
			return nil, fmt.Errorf("parse policy %s: %w", name, err)
		}
		parsed[file] = m
	}
	compiler := ast.NewCompiler().WithStrict(true).WithEnablePrintStatements(false)
	if compiler.Compile(parsed); compiler.Failed() {
		return nil, fmt.Errorf("compile policy %s: %w", name, compiler.Errors)
	}
	// Data is read as AST values: otherwise every reference to data.config
	// converts the document again at each evaluation, which cost more than
	// the rules (BenchmarkEvaluate).
	store := inmem.NewFromObjectWithOpts(data, inmem.OptReturnASTValuesOnRead(true))
	decide, err := rego.New(rego.Query(decisionQuery), rego.Compiler(compiler), rego.Store(store)).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare %s in policy %s: %w", decisionQuery, name, err)
	}
	p := &Policy{Version: name + "@" + contentHash(modules, data), decide: decide, Files: sourceFiles(modules, tests, data)}
	if memoizable(compiler) {
		p.memo = newMemo()
	}
	if err := p.loadWatch(ctx, compiler, store); err != nil {
		return nil, fmt.Errorf("policy %s: %w", name, err)
	}
	if p.memo != nil {
		p.outcomes = newOutcomes(p.watched, p.ageLevels)
	}
	p.AppealWindow, p.StrikeExpiry = 180*24*time.Hour, 90*24*time.Hour
	if cfg, ok := data["config"].(map[string]any); ok {
		if days, ok := number(cfg["appeal_window_days"]); ok && days > 0 {
			p.AppealWindow = time.Duration(days * 24 * float64(time.Hour))
		}
		if days, ok := number(cfg["strike_expiry_days"]); ok && days > 0 {
			p.StrikeExpiry = time.Duration(days * 24 * float64(time.Hour))
		}
	}
	return p, nil
}

func (p *Policy) loadWatch(ctx context.Context, compiler *ast.Compiler, store storage.Store) error {
	rs, err := rego.New(rego.Query(watchQuery), rego.Compiler(compiler), rego.Store(store)).Eval(ctx)
	if err != nil {
		return fmt.Errorf("evaluate %s: %w", watchQuery, err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return fmt.Errorf("%s is undefined: the judge would never evaluate", watchQuery)
	}
	raw, err := json.Marshal(rs[0].Expressions[0].Value)
	if err != nil {
		return fmt.Errorf("encode %s: %w", watchQuery, err)
	}
	var watch map[string][]float64
	if err := json.Unmarshal(raw, &watch); err != nil {
		return fmt.Errorf("%s must map metric names to arrays of numbers: %w", watchQuery, err)
	}
	known := detectors.Metrics()
	for _, metric := range slices.Sorted(maps.Keys(watch)) {
		if metric == ageMetric {
			levels := slices.Compact(slices.Sorted(slices.Values(watch[metric])))
			p.ageLevels = &Watched{Name: metric, Levels: levels}
			continue
		}
		if !slices.Contains(known, metric) {
			return fmt.Errorf("%s names %q, which no detector reports (known: %v)", watchQuery, metric, known)
		}
		levels := watch[metric]
		sort.Float64s(levels)
		levels = slices.Compact(levels)
		p.watched = append(p.watched, Watched{Name: metric, Levels: levels})
	}
	return nil
}

// sourceFiles is what a policy was compiled from, data.json re-encoded
// from the document read (numbers exactly as written).
func sourceFiles(modules, tests map[string]string, data map[string]any) map[string]string {
	files := make(map[string]string, len(modules)+len(tests)+1)
	maps.Copy(files, modules)
	maps.Copy(files, tests)
	if raw, err := json.MarshalIndent(data, "", "  "); err == nil {
		files[policies.DataFile] = string(raw) + "\n"
	}
	return files
}

// contentHash names a policy version by what it contains, so the same files
// loaded anywhere carry the same version.
func contentHash(modules map[string]string, data map[string]any) string {
	h := sha256.New()
	for _, file := range slices.Sorted(maps.Keys(modules)) {
		fmt.Fprintf(h, "%s\x00%s\x00", file, modules[file])
	}
	_ = json.NewEncoder(h).Encode(data) // map keys are sorted by encoding/json
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// ageMetric names, in watch, the levels the account's age is compared
// against: not a signal, so it triggers no evaluation, but the outcome
// memo keys on the levels reached (outcome.go).
const ageMetric = "account.age_days"

// Watched is one metric the policy compares against levels.
type Watched struct {
	Name   string
	Levels []float64 // ascending
}

// Reached counts the levels v has reached.
func (w Watched) Reached(v float64) int {
	n := 0
	for _, l := range w.Levels {
		if v < l {
			break
		}
		n++
	}
	return n
}

// Metrics lists the watched metrics in a stable order.
func (p *Policy) Metrics() []Watched { return p.watched }

// MergeWatched unites the watched levels of several policies (nil ones are
// skipped), metric by metric, in a stable order.
func MergeWatched(pols ...*Policy) []Watched {
	levels := map[string][]float64{}
	for _, p := range pols {
		if p == nil {
			continue
		}
		for _, w := range p.watched {
			levels[w.Name] = append(levels[w.Name], w.Levels...)
		}
	}
	out := make([]Watched, 0, len(levels))
	for _, name := range slices.Sorted(maps.Keys(levels)) {
		l := levels[name]
		sort.Float64s(l)
		out = append(out, Watched{Name: name, Levels: slices.Compact(l)})
	}
	return out
}
