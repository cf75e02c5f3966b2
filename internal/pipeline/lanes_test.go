package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"moderation/internal/enforcement"
	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
	"moderation/internal/replay"
	"moderation/internal/traffic"
	"moderation/policies"
)

// watchedStore is the JetStream store, counting how lanes use it: changes
// begun, the most under way at once, and changes made the synchronous way.
type watchedStore struct {
	*enforcement.Store
	mu                    sync.Mutex
	begun, underWay, most int
	applied               int
}

func (s *watchedStore) Apply(ctx context.Context, path, account string, fn func(st *moderation.AccountState) (*moderation.Change, error)) (*moderation.Change, error) {
	s.mu.Lock()
	s.applied++
	s.mu.Unlock()
	return s.Store.Apply(ctx, path, account, fn)
}

func (s *watchedStore) Begin(ctx context.Context, path, account string, from *enforcement.StateAt, fn func(st *moderation.AccountState) (*moderation.Change, error), done func(*enforcement.Write)) (*enforcement.Write, error) {
	s.mu.Lock()
	s.underWay++ // before the write is sent: done may come before Begin returns
	s.most = max(s.most, s.underWay)
	s.mu.Unlock()
	w, err := s.Store.Begin(ctx, path, account, from, fn, func(w *enforcement.Write) {
		s.mu.Lock()
		s.underWay--
		s.mu.Unlock()
		done(w)
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || w.Change == nil || w.Change.State == nil {
		s.underWay-- // nothing sent: done is not called
	} else {
		s.begun++
	}
	return w, err
}

// TestPipelinedLanesDecideAsOneAtATime: lanes that send their changes
// without waiting for them (several under way at once) make exactly the
// decisions, account by account and in order, that judging each crossing
// to the end before the next makes (the Simulator) on a spam wave in which
// accounts cross level after level; every event is acknowledged, and none
// is decided twice.
func TestPipelinedLanesDecideAsOneAtATime(t *testing.T) {
	srv := natstest.Start(t)
	nc, js := srv.Connect(t, natsbus.RoleService)
	_, pubJS := srv.Connect(t, natsbus.RolePublisher)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	streams, err := natsbus.Setup(ctx, js, natsbus.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := judge.Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := traffic.Attack(6_000, 5)
	if err != nil {
		t.Fatal(err)
	}

	// One at a time, in memory.
	_, want := simulated(t, ctx, pol, recs)

	// Live, with the View the service gives the store.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	view, err := enforcement.Watch(ctx, streams.Accounts, 0, nc.IsConnected, log)
	if err != nil {
		t.Fatal(err)
	}
	store := &watchedStore{Store: enforcement.NewStore(js, streams.Accounts)}
	store.Known = view
	p, err := New(Config{Location: time.UTC}, js, streams, store, pol, NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	started := make(chan struct{})
	go func() { ran <- p.Run(runCtx, started) }()
	<-started
	if _, err := replay.Publish(ctx, pubJS, recs, nil); err != nil {
		t.Fatal(err)
	}
	for p.Processed() < uint64(len(recs)) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	cons := *p.cons.Load()
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if info.AckFloor.Stream != uint64(len(recs)) || info.NumAckPending != 0 {
		t.Errorf("ack floor %d with %d unacknowledged; want every one of %d events acknowledged", info.AckFloor.Stream, info.NumAckPending, len(recs))
	}

	got := map[string][]string{}
	decisions, err := js.Stream(ctx, natsbus.DecisionsStream)
	if err != nil {
		t.Fatal(err)
	}
	dinfo, err := decisions.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for seq := uint64(1); seq <= dinfo.State.LastSeq; seq++ {
		msg, err := decisions.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var d moderation.Decision
		if err := json.Unmarshal(msg.Data, &d); err != nil || d.DecisionID == "" {
			continue // not a decision
		}
		if seen[d.DecisionID] {
			t.Errorf("decision %s stored twice", d.DecisionID)
		}
		seen[d.DecisionID] = true
		got[d.Account] = append(got[d.Account], d.DecisionID+" "+string(d.Action))
	}
	if len(want) < 100 {
		t.Fatalf("the one-at-a-time run decided about %d accounts; the wave should make many change", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decisions by account (-one at a time +pipelined):\n%s", diff)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	t.Logf("%d events, %d accounts decided; %d changes begun, at most %d under way at once, %d made the synchronous way", len(recs), len(got), store.begun, store.most, store.applied)
	if store.most < 2 {
		t.Errorf("at most %d change under way at once: the lanes waited for each", store.most)
	}
}
