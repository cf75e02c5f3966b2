package service

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"moderation/appeals"
	"moderation/internal/appealstore"
	"moderation/internal/enforcement"
	"moderation/internal/grpcapi"
	"moderation/internal/judge"
	"moderation/internal/lease"
	"moderation/internal/moderation"
)

// singletonTTL is how long a once-per-cluster job's lease outlives its
// holder's last renewal (renewed every third of it): after a crash the job
// moves to another instance within it; after a clean stop, at once.
const singletonTTL = lease.DefaultTTL

// startAppeals opens the appeals store and starts the purge sweep and the
// overturn watcher.
//
// Both are once per cluster: each runs on the one instance holding its
// lease (package lease) and moves when that instance stops or dies. What
// stays on every instance, and why: the quality collector (each instance's
// /metrics answers from the shared bucket); the reconciler (its start-up
// pass over every account publishes each outbox under the message id it
// always had, so a second instance's pass is deduplicated, and its retries
// are the instance's own failed publishes); following token revocations
// and enforcement state (each instance's own memory); and the rules the
// pipeline shadows (each instance's pipeline must shadow them).
func (s *Service) startAppeals(ctx, runCtx context.Context, store *enforcement.Store) error {
	kv, err := appealstore.Open(runCtx, s.Streams.Appeals, s.log)
	if err != nil {
		return err
	}
	rules := appeals.DefaultRules
	if s.cfg.AppealWindow > 0 {
		rules.Window = s.cfg.AppealWindow
	}
	if s.cfg.AppealLease > 0 {
		rules.Lease = s.cfg.AppealLease
	}
	if s.cfg.AppealFilingsPerDay > 0 {
		rules.FilingsPerDay = s.cfg.AppealFilingsPerDay
	}
	s.Appeals = &appeals.Service{Rules: rules, Store: kv, Accounts: store, Decisions: enforcement.NewLog(s.Streams.Decisions)}
	select {
	case <-kv.Ready():
	case <-ctx.Done():
		return fmt.Errorf("load appeals: %w", ctx.Err())
	}
	leases, err := lease.Open(ctx, s.JS, lease.Config{Replicas: s.cfg.Replicas, TTL: singletonTTL, Holder: lease.NewHolder(),
		Metrics: lease.NewMetrics(s.Registry), Log: s.log})
	if err != nil {
		return err
	}
	// Through goRun, so Stop waits for the lease to be released (another
	// instance takes over at once) before it closes the connection.
	singleton := func(name string, job func(context.Context)) {
		s.goRun(name, func() error { leases.Run(runCtx, name, job); return nil })
	}
	every := s.cfg.PurgeSweep
	if every <= 0 {
		every = time.Minute
	}
	singleton("purge-sweep", func(ctx context.Context) { s.sweep(ctx, store, every) })
	if s.cfg.Partitioned {
		// Every instance holds the same windows: one writes them for all
		// (pipeline's partsnap.go says why).
		singleton("window-snapshots", s.Pipeline.WriteSnapshots)
	}

	level, minDecided := s.cfg.OverturnAlertRate, s.cfg.OverturnAlertMin
	if level <= 0 {
		level = 0.3
	}
	if minDecided <= 0 {
		minDecided = 10
	}
	s.Registry.MustRegister(newQualityCollector(kv, level, minDecided))
	// The alert (a warning in the log when a rule is flagged) is said once,
	// by the lease holder. Shadowing the flagged rules is every instance's:
	// each works out the same set from the same bucket, quietly.
	singleton("overturn-watcher", func(ctx context.Context) {
		watchOverturns(ctx, kv, level, minDecided, time.Minute, s.log, nil)
	})
	if s.cfg.ShadowOverturnedRules {
		go watchOverturns(runCtx, kv, level, minDecided, time.Minute, slog.New(slog.DiscardHandler), s.Pipeline.SetSuppressedRules)
	}
	return nil
}

// sweep marks closed accounts whose appeal window passed with no appeal
// open as eligible for purge, and tells the platform.
func (s *Service) sweep(ctx context.Context, store *enforcement.Store, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		states, err := store.States(ctx)
		if err == nil {
			var marked []string
			marked, err = s.Appeals.Sweep(ctx, states)
			for _, a := range marked {
				s.log.Info("closed account eligible for purge", "account", a)
			}
		}
		if err != nil && ctx.Err() == nil {
			s.log.Warn("purge sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// policyVersions remembers every policy this instance has run, live or shadow,
// by version, so closed accounts can be re-evaluated under any of them, and
// in the order loaded, so the console can show the history.
type policyVersions struct {
	mu      sync.Mutex
	byID    map[string]*judge.Policy
	history []grpcapi.PolicyVersion // first loads, oldest first
	current map[string]string       // role (live, shadow) → version
	// stored keeps each first load past a restart (policyhistory.go); nil
	// keeps them in memory only.
	stored *policyHistory
	log    *slog.Logger
}

// add records pol as loaded in role (live or shadow), and stores its first
// load in the history bucket.
func (p *policyVersions) add(role string, pol *judge.Policy) {
	p.mu.Lock()
	if p.byID == nil {
		p.byID, p.current = map[string]*judge.Policy{}, map[string]string{}
	}
	_, seen := p.byID[pol.Version]
	now := time.Now()
	if !seen {
		p.history = append(p.history, grpcapi.PolicyVersion{Version: pol.Version, Role: role, LoadedAt: now})
	}
	p.byID[pol.Version] = pol
	p.current[role] = pol.Version
	stored := p.stored
	p.mu.Unlock()
	if seen || stored == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := stored.record(ctx, role, pol, now); err != nil && p.log != nil {
		// The page still shows it from memory while this instance runs.
		p.log.Warn("policy history not stored", "version", pol.Version, "err", err)
	}
}

func (p *policyVersions) get(version string) (*judge.Policy, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pol, ok := p.byID[version]; ok {
		return pol, nil
	}
	known := make([]string, 0, len(p.byID))
	for v := range p.byID {
		known = append(known, v)
	}
	slices.Sort(known)
	return nil, fmt.Errorf("policy version %q is not one this instance has run (known: %v): %w", version, known, moderation.ErrNotFound)
}

// reevaluator re-judges suspended and closed accounts for the API.
type reevaluator struct {
	svc   *Service
	store *enforcement.Store
}

var _ grpcapi.Reevaluator = reevaluator{}

func (r reevaluator) Reevaluate(ctx context.Context, files map[string]string, version string, req appeals.ReevaluateRequest) (*appeals.ReevaluateReport, error) {
	var pol *judge.Policy
	var err error
	if version != "" {
		pol, err = r.svc.known.get(version)
	} else {
		pol, err = candidate(ctx, files, "reevaluate")
	}
	if err != nil {
		return nil, err
	}
	states, err := r.store.States(ctx)
	if err != nil {
		return nil, err
	}
	return r.svc.Appeals.Reevaluate(ctx, policyJudge{pol}, states, req)
}

// policyJudge asks a policy about the facts a decision recorded.
type policyJudge struct{ p *judge.Policy }

func (j policyJudge) Version() string { return j.p.Version }

func (j policyJudge) Rejudge(ctx context.Context, b *moderation.Basis) (moderation.Action, []moderation.Reason, error) {
	v, err := j.p.Evaluate(ctx, judge.Input{Account: b.Account, Signals: b.Signals,
		Event: &moderation.Event{ID: b.EventID, Kind: b.EventKind, At: b.EventAt}})
	if err != nil {
		return "", nil, err
	}
	return v.Action, v.Reasons, nil
}
