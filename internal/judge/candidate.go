package judge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"

	"moderation/policies"
)

// Candidate loads a policy that is to replace a running one: it must
// compile strictly and pass the tests it carries. A policy without tests is
// refused too: nobody could tell what it was meant to do.
func Candidate(ctx context.Context, fsys fs.FS, name string) (*Policy, error) {
	p, err := Compile(ctx, fsys, name)
	if err != nil {
		return nil, err
	}
	if err := runTests(ctx, fsys); err != nil {
		return nil, fmt.Errorf("policy %s: %w", name, err)
	}
	return p, nil
}

func runTests(ctx context.Context, fsys fs.FS) error {
	modules, tests, data, err := policies.Modules(fsys)
	if err != nil {
		return err
	}
	if len(tests) == 0 {
		return errors.New("it carries no tests (*_test.rego)")
	}
	parsed := make(map[string]*ast.Module, len(modules)+len(tests))
	for file, src := range mergeMaps(modules, tests) {
		m, err := ast.ParseModuleWithOpts(file, src, ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
		if err != nil {
			return fmt.Errorf("parse %s: %w", file, err)
		}
		parsed[file] = m
	}
	ch, err := tester.NewRunner().
		SetCompiler(ast.NewCompiler().WithStrict(true)).
		SetStore(inmem.NewFromObject(data)).
		SetModules(parsed).
		// A loaded machine must not refuse a good candidate for being slow.
		SetTimeout(30*time.Second).
		RunTests(ctx, nil)
	if err != nil {
		return fmt.Errorf("run its tests: %w", err)
	}
	ran := 0
	var failed []string
	for r := range ch {
		ran++
		if r.Error != nil || r.Fail {
			failed = append(failed, r.Package+"."+r.Name)
		}
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		return fmt.Errorf("%d of its %d tests fail: %s", len(failed), ran, strings.Join(failed, ", "))
	}
	return nil
}

func mergeMaps(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// Reloader watches a policy directory and hands each candidate that passes
// Candidate to Apply. A refused candidate is reported and the running
// policy stays. It polls, so it works the same on every filesystem and
// with editors that replace files; Trigger asks for a look at once (for
// SIGHUP).
type Reloader struct {
	dir      string
	label    string // "live" or "shadow", for reports
	apply    func(*Policy)
	report   func(p *Policy, err error) // called after every attempt
	interval time.Duration
	log      *slog.Logger
	trigger  chan struct{}
	seen     string // fingerprint of the last attempt, good or bad; used by Run's goroutine only after Load
}

// NewReloader returns a reloader for dir; label names it in reports, apply
// takes each accepted policy, report (may be nil) hears of every attempt,
// and interval (default 2 s) paces Run.
func NewReloader(dir, label string, apply func(*Policy), report func(*Policy, error), interval time.Duration, log *slog.Logger) *Reloader {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	return &Reloader{dir: dir, label: label, apply: apply, report: report, interval: interval, log: log, trigger: make(chan struct{}, 1)}
}

// Load makes one attempt now; it returns the policy applied, or why not.
func (r *Reloader) Load(ctx context.Context) (*Policy, error) {
	fp, err := fingerprint(r.dir)
	if err != nil {
		r.done(nil, err)
		return nil, err
	}
	r.seen = fp
	p, err := Candidate(ctx, os.DirFS(r.dir), r.label+":"+strings.TrimRight(r.dir, "/"))
	if err != nil {
		r.done(nil, err)
		return nil, err
	}
	r.apply(p)
	r.done(p, nil)
	return p, nil
}

func (r *Reloader) done(p *Policy, err error) {
	if err != nil {
		r.log.Error("policy candidate refused; the running policy stays", "policy", r.label, "dir", r.dir, "err", err)
	} else {
		r.log.Info("policy loaded", "policy", r.label, "dir", r.dir, "version", p.Version)
	}
	if r.report != nil {
		r.report(p, err)
	}
}

// Trigger asks Run to look at the directory now, even if it looks unchanged.
func (r *Reloader) Trigger() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// Run looks at the directory every interval, or when triggered, until ctx
// ends, and loads it when its content changed since the last attempt. Call
// Load first, then Run in one goroutine.
func (r *Reloader) Run(ctx context.Context) {
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		forced := false
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-r.trigger:
			forced = true
		}
		fp, err := fingerprint(r.dir)
		if err != nil || (fp == r.seen && !forced) {
			continue
		}
		_, _ = r.Load(ctx) // reported inside
	}
}

// fingerprint hashes the policy files in dir, so an unchanged directory is
// not recompiled every tick.
func fingerprint(dir string) (string, error) {
	fsys := os.DirFS(dir)
	h := sha256.New()
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "", fmt.Errorf("read policy dir %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".rego") || name == "data.json") {
			continue
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", name, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
