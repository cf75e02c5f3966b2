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

// Reloader watches where a policy comes from (a directory or a signed
// bundle) and hands each candidate that passes Candidate to Apply. A
// refused candidate is reported and the running policy stays. It polls, so
// it works the same on every filesystem and with editors that replace
// files; Trigger asks for a look at once (for SIGHUP).
type Reloader struct {
	src      source
	label    string // "live" or "shadow", for reports
	apply    func(*Policy)
	report   func(p *Policy, err error) // called after every attempt
	interval time.Duration
	log      *slog.Logger
	trigger  chan struct{}
	failing  string // the last error reading the source in Run, logged once until it changes
}

// A source is where a Reloader's candidates come from. Only the Reloader
// calls it, from one goroutine at a time, so it may keep what it saw last.
type source interface {
	// fetch returns the candidate's policy files and the name its version
	// carries, or a nil fsys when nothing changed since the last fetch and
	// force is false. An unreadable error means the source could not be
	// read at all (and nothing was seen); any other error refuses what was
	// read.
	fetch(ctx context.Context, force bool) (fsys fs.FS, name string, err error)
	// where names the source in logs.
	where() slog.Attr
}

// unreadable is a source that could not be read, as opposed to a
// candidate that was read and refused: once running, the first is only
// logged (a file server may be down for a while), the second is reported.
type unreadable struct{ err error }

func (u unreadable) Error() string { return u.err.Error() }
func (u unreadable) Unwrap() error { return u.err }

// NewReloader returns a reloader for the policy directory dir; label names
// it in reports, apply takes each accepted policy, report (may be nil)
// hears of every attempt, and interval (default 2 s) paces Run.
func NewReloader(dir, label string, apply func(*Policy), report func(*Policy, error), interval time.Duration, log *slog.Logger) *Reloader {
	return newReloader(&dirSource{dir: dir, label: label}, label, apply, report, interval, log)
}

func newReloader(src source, label string, apply func(*Policy), report func(*Policy, error), interval time.Duration, log *slog.Logger) *Reloader {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	return &Reloader{src: src, label: label, apply: apply, report: report, interval: interval, log: log, trigger: make(chan struct{}, 1)}
}

// Load makes one attempt now, whether or not the source changed; it
// returns the policy applied, or why not.
func (r *Reloader) Load(ctx context.Context) (*Policy, error) {
	p, err := r.attempt(ctx, true)
	if err != nil {
		r.done(nil, err)
	}
	return p, err
}

// attempt fetches the source and, if it changed (or force), loads it. It
// reports an accepted policy; the caller reports errors.
func (r *Reloader) attempt(ctx context.Context, force bool) (*Policy, error) {
	fsys, name, err := r.src.fetch(ctx, force)
	if err != nil || fsys == nil {
		return nil, err
	}
	p, err := Candidate(ctx, fsys, name)
	if err != nil {
		return nil, err
	}
	r.apply(p)
	r.done(p, nil)
	return p, nil
}

func (r *Reloader) done(p *Policy, err error) {
	if err != nil {
		r.log.Error("policy candidate refused; the running policy stays", "policy", r.label, r.src.where(), "err", err)
	} else {
		r.log.Info("policy loaded", "policy", r.label, r.src.where(), "version", p.Version)
	}
	if r.report != nil {
		r.report(p, err)
	}
}

// Trigger asks Run to look at the source now, even if it looks unchanged.
func (r *Reloader) Trigger() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// Run looks at the source every interval, or when triggered, until ctx
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
		_, err := r.attempt(ctx, forced)
		var u unreadable
		switch {
		case errors.As(err, &u):
			if msg := err.Error(); msg != r.failing {
				r.failing = msg
				r.log.Warn("policy source unreadable; the running policy stays", "policy", r.label, r.src.where(), "err", err)
			}
			continue
		case err != nil && ctx.Err() == nil:
			r.done(nil, err)
		}
		r.failing = ""
	}
}

// dirSource is a policy directory, fingerprinted so an unchanged directory
// is not recompiled every tick.
type dirSource struct {
	dir, label string
	seen       string // fingerprint of the last attempt, good or bad
}

func (d *dirSource) fetch(_ context.Context, force bool) (fs.FS, string, error) {
	fp, err := fingerprint(d.dir)
	if err != nil {
		return nil, "", unreadable{err}
	}
	if fp == d.seen && !force {
		return nil, "", nil
	}
	d.seen = fp
	return os.DirFS(d.dir), d.label + ":" + strings.TrimRight(d.dir, "/"), nil
}

func (d *dirSource) where() slog.Attr { return slog.String("dir", d.dir) }

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
