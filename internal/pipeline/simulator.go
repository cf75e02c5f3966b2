package pipeline

import (
	"context"
	"io"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"moderation/internal/judge"
	"moderation/internal/moderation"
)

// Simulator runs events through the same detectors, level crossings and
// judging as the live pipeline, with enforcement state kept in memory: what
// a policy would have done with a stretch of history. Nothing it decides
// leaves it.
type Simulator struct {
	p     *Pipeline
	store *MemoryStore
}

// NewSimulator returns a simulator for policy; cfg sets the time zone, ad
// model and memory bound as for the live pipeline.
func NewSimulator(cfg Config, policy *judge.Policy) (*Simulator, error) {
	cfg = cfg.withDefaults()
	cache := newWindowStore(cfg.MaxStateBytes)
	store := NewMemoryStore()
	// newEnv: the cross-account indexes live judging reads (see New); without
	// them a backtest sees no destination campaigns, rings or brigades,
	// and calls the running policy a change.
	p := &Pipeline{
		cfg:     cfg,
		env:     newEnv(cfg),
		store:   store,
		windows: cache,
		metrics: NewMetrics(prometheus.NewRegistry()),
		log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	p.policy.Store(policy)
	return &Simulator{p: p, store: store}, nil
}

// Feed takes one event, in stream order; seq is its stream sequence.
func (s *Simulator) Feed(ctx context.Context, ev *moderation.Event, seq uint64) error {
	in, crossed := s.p.step(ev, seq)
	if err := s.p.judgeSenders(ctx, s.p.takeSenders(), seq); err != nil {
		return err
	}
	if crossed {
		return s.p.judge(ctx, in, ev, seq)
	}
	return nil
}

// Decisions are the decisions made so far, in order.
func (s *Simulator) Decisions() []moderation.Decision { return s.store.Decisions() }

// Evaluations is how often the policy was asked.
func (s *Simulator) Evaluations() float64 { return counterValue(s.p.metrics.Evaluations) }

// MemoryStore is a Store in memory, for simulations and tests.
type MemoryStore struct {
	mu        sync.Mutex
	states    map[string]memoryState
	decisions []moderation.Decision
}

type memoryState struct {
	st moderation.AccountState
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{states: map[string]memoryState{}} }

var _ Store = (*MemoryStore)(nil)

// Apply makes a change in memory, recording its decisions. A simulation
// feeds each event once and nothing crashes, so there is no outbox to
// finish.
func (m *MemoryStore) Apply(_ context.Context, _, account string, fn func(st *moderation.AccountState) (*moderation.Change, error)) (*moderation.Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var st *moderation.AccountState
	if s, ok := m.states[account]; ok {
		c := s.st
		st = &c
	}
	ch, err := fn(st)
	if err != nil || ch == nil || ch.State == nil {
		return ch, err
	}
	m.states[account] = memoryState{st: *ch.State}
	for _, d := range ch.Decisions {
		m.decisions = append(m.decisions, *d)
	}
	return ch, nil
}

// Audit drops audit records: a simulation has nobody to answer to.
func (m *MemoryStore) Audit(context.Context, string, string, any) error { return nil }

// Decisions returns the decisions published, in order.
func (m *MemoryStore) Decisions() []moderation.Decision {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]moderation.Decision(nil), m.decisions...)
}
