package service

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"moderation/appeals"
	"moderation/internal/appealstore"
	"moderation/internal/enforcement"
	"moderation/internal/grpcapi"
	"moderation/internal/judge"
	"moderation/internal/moderation"
)

// startAppeals opens the appeals store and starts the purge sweep.
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
	every := s.cfg.PurgeSweep
	if every <= 0 {
		every = time.Minute
	}
	go s.sweep(runCtx, store, every)

	level, minDecided := s.cfg.OverturnAlertRate, s.cfg.OverturnAlertMin
	if level <= 0 {
		level = 0.3
	}
	if minDecided <= 0 {
		minDecided = 10
	}
	s.Registry.MustRegister(newQualityCollector(kv, level, minDecided))
	go watchOverturns(runCtx, kv, level, minDecided, time.Minute, s.log, func(rules []string) {
		if s.cfg.ShadowOverturnedRules {
			s.Pipeline.SetSuppressedRules(rules)
		}
	})
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
// by version, so closed accounts can be re-evaluated under any of them.
type policyVersions struct {
	mu   sync.Mutex
	byID map[string]*judge.Policy
}

func (p *policyVersions) add(pol *judge.Policy) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byID == nil {
		p.byID = map[string]*judge.Policy{}
	}
	p.byID[pol.Version] = pol
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
