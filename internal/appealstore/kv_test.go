package appealstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/appeals"
	"moderation/internal/appealstore"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
)

// jetStream is an embedded NATS server with JetStream on a random port
// and the service's streams and buckets. It returns the server too, so a
// test can connect as a second instance of the service.
func jetStream(t *testing.T) (*natsbus.Streams, *natstest.Server) {
	t.Helper()
	srv := natstest.Start(t)
	_, js := srv.Connect(t, natsbus.RoleService)
	streams, err := natsbus.Setup(context.Background(), js, natsbus.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return streams, srv
}

// open opens a store over kv that lives until the test ends, and waits
// until it has loaded.
func open(t *testing.T, kv jetstream.KeyValue) *appealstore.KV {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := appealstore.Open(ctx, kv, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, s)
	return s
}

func waitReady(t *testing.T, s *appealstore.KV) {
	t.Helper()
	select {
	case <-s.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("store never loaded")
	}
}

// t0 is when the fixtures' decisions were taken; whole seconds in UTC, so
// an appeal reads back from JSON equal to what was written.
var t0 = time.Now().UTC().Truncate(time.Second).Add(-48 * time.Hour)

// filed is an appeal, filed at filedAt through the appeal rules, against a
// suspension of account under rule. id replaces the derived one so tests
// can say which of two appeals filed at the same instant comes first.
func filed(t *testing.T, id, account, accountType, rule string, filedAt time.Time) *appeals.Appeal {
	t.Helper()
	d := &moderation.Decision{
		Account:       account,
		Action:        moderation.ActionSuspend,
		DecisionID:    moderation.DecisionID(account, id),
		PolicyVersion: "v1",
		Reasons:       []moderation.Reason{{Code: rule, Detail: "fixture"}},
		At:            t0,
	}
	a, err := appeals.DefaultRules.File(appeals.Filing{
		Account: account, AccountType: accountType, Decision: d,
		Statement: "I did nothing wrong", EvidenceURLs: []string{"https://example.com/proof"},
		Actor: "owner:" + account,
	}, nil, filedAt)
	if err != nil {
		t.Fatal(err)
	}
	a.ID = id
	return a
}

func TestCreateGetUpdate(t *testing.T) {
	streams, _ := jetStream(t)
	s := open(t, streams.Appeals)
	ctx := context.Background()

	a := filed(t, "apl_01", "acct_a", "personal", "bulk_add", t0.Add(time.Hour))
	rev, err := s.Create(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	got, gotRev, err := s.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gotRev != rev {
		t.Errorf("Get revision: got %d, want %d", gotRev, rev)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("Get after Create (-want +got):\n%s", diff)
	}

	now := t0.Add(2 * time.Hour)
	if err := appeals.DefaultRules.Claim(got, "reviewer:alice", now); err != nil {
		t.Fatal(err)
	}
	newRev, err := s.Update(ctx, got, gotRev)
	if err != nil {
		t.Fatal(err)
	}
	if newRev <= rev {
		t.Errorf("Update revision: got %d, want more than %d", newRev, rev)
	}
	again, againRev, err := s.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if againRev != newRev {
		t.Errorf("Get revision after Update: got %d, want %d", againRev, newRev)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("Get after Update (-want +got):\n%s", diff)
	}
	if st := again.StateAt(now); st != appeals.InReview {
		t.Errorf("state after claim: got %s, want %s", st, appeals.InReview)
	}
}

func TestErrors(t *testing.T) {
	streams, _ := jetStream(t)
	s := open(t, streams.Appeals)
	ctx := context.Background()
	a := filed(t, "apl_01", "acct_a", "personal", "bulk_add", t0.Add(time.Hour))
	rev, err := s.Create(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	later := *a
	later.Reply = "newer"
	if _, err := s.Update(ctx, &later, rev); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		op      func() error
		want    error
		wantMsg string
	}{
		{"create twice", func() error { _, err := s.Create(ctx, a); return err }, moderation.ErrConflict, "apl_01"},
		{"update at a stale revision", func() error { _, err := s.Update(ctx, a, rev); return err }, moderation.ErrConflict, "apl_01"},
		{"update a missing appeal", func() error {
			_, err := s.Update(ctx, filed(t, "apl_02", "acct_a", "personal", "bulk_add", t0), 1)
			return err
		}, moderation.ErrConflict, "apl_02"},
		{"update at revision 0", func() error { _, err := s.Update(ctx, a, 0); return err }, moderation.ErrInvalid, "revision"},
		{"get missing", func() error { _, _, err := s.Get(ctx, "apl_x"); return err }, moderation.ErrNotFound, "appeal apl_x not found"},
		{"get an id that cannot be a key", func() error { _, _, err := s.Get(ctx, "apl x>"); return err }, moderation.ErrNotFound, "not found"},
		{"create with an id that cannot be a key", func() error {
			_, err := s.Create(ctx, filed(t, "apl x>", "acct_a", "personal", "bulk_add", t0))
			return err
		}, moderation.ErrInvalid, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if !errors.Is(err, tt.want) {
				t.Fatalf("got error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("got message %q, want it to mention %q", err, tt.wantMsg)
			}
		})
	}

	// The failed writes left the stored appeal as the last good one.
	got, _, err := s.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reply != "newer" {
		t.Errorf("reply after failed writes: got %q, want %q", got.Reply, "newer")
	}
}

// TestConcurrentClaims has eight reviewers read the same appeal and all
// try to claim it from that revision: the compare-and-set must let exactly
// one through.
func TestConcurrentClaims(t *testing.T) {
	streams, _ := jetStream(t)
	s := open(t, streams.Appeals)
	ctx := context.Background()
	const reviewers = 8
	for round := range 5 {
		a := filed(t, fmt.Sprintf("apl_r%d", round), "acct_a", "personal", "bulk_add", t0.Add(time.Hour))
		if _, err := s.Create(ctx, a); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		var read sync.WaitGroup // every reviewer has read before any writes
		read.Add(reviewers)
		var wg sync.WaitGroup
		errs := make([]error, reviewers)
		for i := range reviewers {
			wg.Go(func() {
				got, rev, err := s.Get(ctx, a.ID)
				read.Done()
				if err != nil {
					errs[i] = err
					return
				}
				read.Wait()
				if err := appeals.DefaultRules.Claim(got, fmt.Sprintf("reviewer:%d", i), now); err != nil {
					errs[i] = err
					return
				}
				_, errs[i] = s.Update(ctx, got, rev)
			})
		}
		wg.Wait()

		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: reviewers %d and %d both claimed the appeal", round, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, moderation.ErrConflict):
				t.Fatalf("round %d: reviewer %d: got error %v, want nil or %v", round, i, err, moderation.ErrConflict)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: got no successful claim, want one", round)
		}
		want := fmt.Sprintf("reviewer:%d", winner)
		got, _, err := s.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Reviewer != want {
			t.Errorf("round %d: stored reviewer: got %q, want %q", round, got.Reviewer, want)
		}
		// Read-your-writes: the winner's write is in the list at once.
		listed, err := s.List(ctx, appeals.Filter{State: appeals.InReview, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if !slicesHasReviewer(listed, a.ID, want) {
			t.Errorf("round %d: in-review list %v lacks %s claimed by %s", round, ids(listed), a.ID, want)
		}
	}
}

func slicesHasReviewer(as []*appeals.Appeal, id, reviewer string) bool {
	for _, a := range as {
		if a.ID == id && a.Reviewer == reviewer {
			return true
		}
	}
	return false
}

func ids(as []*appeals.Appeal) []string {
	var out []string // nil when none, to compare with a nil want
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func TestList(t *testing.T) {
	streams, srv := jetStream(t)
	s := open(t, streams.Appeals)
	ctx := context.Background()
	now := time.Now()

	expired := filed(t, "apl_02", "acct_a", "subscription", "spam_links", t0.Add(time.Hour))
	if err := appeals.DefaultRules.Claim(expired, "reviewer:bob", now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	claimed := filed(t, "apl_03", "acct_b", "personal", "bulk_add", t0.Add(2*time.Hour))
	if err := appeals.DefaultRules.Claim(claimed, "reviewer:carol", now); err != nil {
		t.Fatal(err)
	}
	withdrawn := filed(t, "apl_04", "acct_b", "enterprise", "spam_links", t0.Add(3*time.Hour))
	if err := appeals.DefaultRules.Withdraw(withdrawn, "owner:acct_b", now); err != nil {
		t.Fatal(err)
	}
	// apl_05 and apl_01 are filed at the same instant: the id orders them.
	fixtures := []*appeals.Appeal{
		withdrawn,
		filed(t, "apl_05", "acct_c", "personal", "bulk_add", t0),
		claimed,
		filed(t, "apl_01", "acct_a", "personal", "bulk_add", t0),
		expired,
	}
	for _, a := range fixtures {
		if _, err := s.Create(ctx, a); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name string
		f    appeals.Filter
		want []string
	}{
		{"all, oldest first", appeals.Filter{}, []string{"apl_01", "apl_05", "apl_02", "apl_03", "apl_04"}},
		{"account", appeals.Filter{Account: "acct_a"}, []string{"apl_01", "apl_02"}},
		{"filed, with an expired claim", appeals.Filter{State: appeals.Filed}, []string{"apl_01", "apl_05", "apl_02"}},
		{"in review", appeals.Filter{State: appeals.InReview}, []string{"apl_03"}},
		{"in review while both leases ran", appeals.Filter{State: appeals.InReview, Now: now.Add(-45 * time.Minute)}, []string{"apl_02", "apl_03"}},
		{"withdrawn", appeals.Filter{State: appeals.Withdrawn}, []string{"apl_04"}},
		{"rule", appeals.Filter{Rule: "spam_links"}, []string{"apl_02", "apl_04"}},
		{"account type", appeals.Filter{AccountType: "enterprise"}, []string{"apl_04"}},
		{"filed before", appeals.Filter{FiledBefore: t0.Add(90 * time.Minute)}, []string{"apl_01", "apl_05", "apl_02"}},
		{"account and state", appeals.Filter{Account: "acct_b", State: appeals.Filed}, nil},
		{"decision", appeals.Filter{DecisionID: claimed.DecisionID}, []string{"apl_03"}},
		{"no match", appeals.Filter{Account: "acct_z"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("copies", func(t *testing.T) {
		got, err := s.List(ctx, appeals.Filter{Account: "acct_c"})
		if err != nil || len(got) != 1 {
			t.Fatalf("got %v, %v; want one appeal", ids(got), err)
		}
		got[0].State = appeals.Upheld
		got[0].Steps[0].Actor = "mallory"
		got[0].EvidenceURLs[0] = "https://example.com/forged"
		again, err := s.List(ctx, appeals.Filter{Account: "acct_c"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(fixtures[1], again[0]); diff != "" {
			t.Errorf("after changing a listed copy (-want +got):\n%s", diff)
		}
	})

	t.Run("another instance's writes", func(t *testing.T) {
		// A second service instance: its own connection and store on the
		// same bucket.
		_, js2 := srv.Connect(t, natsbus.RoleService)
		kv2, err := js2.KeyValue(ctx, natsbus.AppealsBucket)
		if err != nil {
			t.Fatal(err)
		}
		other := open(t, kv2)
		a := filed(t, "apl_06", "acct_d", "service", "bulk_add", t0.Add(4*time.Hour))
		rev, err := other.Create(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "apl_06 listed", func() bool {
			got, err := s.List(ctx, appeals.Filter{Account: "acct_d"})
			return err == nil && len(got) == 1
		})
		if err := appeals.DefaultRules.Claim(a, "reviewer:dave", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Update(ctx, a, rev); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "apl_06 in review", func() bool {
			got, err := s.List(ctx, appeals.Filter{Account: "acct_d", State: appeals.InReview})
			return err == nil && len(got) == 1 && got[0].Reviewer == "reviewer:dave"
		})
		if err := streams.Appeals.Delete(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "apl_06 gone after delete", func() bool {
			got, err := s.List(ctx, appeals.Filter{Account: "acct_d"})
			return err == nil && len(got) == 0
		})
	})
}

// TestReopen: a store opened on a bucket that already holds appeals has
// them all, at their latest revision, once Ready.
func TestReopen(t *testing.T) {
	streams, _ := jetStream(t)
	ctx := context.Background()
	first, cancel := context.WithCancel(ctx)
	s, err := appealstore.Open(first, streams.Appeals, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var want []*appeals.Appeal
	for i := range 3 {
		a := filed(t, fmt.Sprintf("apl_%02d", i), "acct_a", "personal", "bulk_add", t0.Add(time.Duration(i)*time.Hour))
		rev, err := s.Create(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if err := appeals.DefaultRules.Withdraw(a, "owner:acct_a", time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Update(ctx, a, rev); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, a)
	}
	cancel()

	reopened := open(t, streams.Appeals)
	got, err := reopened.List(ctx, appeals.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reopened (-want +got):\n%s", diff)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
