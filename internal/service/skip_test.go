package service_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/enforcement"
	"moderation/internal/natsbus"
	"moderation/internal/service"
)

// TestReadersSkipUndecodableRecords: a record no reader can decode, written
// with the service's own identity where only the service writes (a
// decision, an audit record, an account state, an appeal), breaks no
// listing, lookup, watch or appeal: each reader serves the good records
// around it and counts the one it skipped.
func TestReadersSkipUndecodableRecords(t *testing.T) {
	svc := startService(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	review := moderationv1.NewReviewServiceClient(apiConn(t, svc, reviewer))
	mod := moderationv1.NewModerationServiceClient(apiConn(t, svc, reviewer))
	act := func(account string, action moderationv1.Action) *moderationv1.Decision {
		t.Helper()
		req := &moderationv1.TakeActionRequest{Account: account, Action: action, ReasonCode: "bulk_add", Detail: "Sent 400 friend requests to strangers.", Note: "n"}
		if action == moderationv1.Action_ACTION_SUSPEND {
			req.Duration = durationpb.New(72 * time.Hour)
		}
		d, err := review.TakeAction(ctx, req)
		if err != nil {
			t.Fatalf("take action on %s: %v", account, err)
		}
		return d
	}
	skipped := func(source string) float64 {
		t.Helper()
		return skippedIn(t, svc, source)
	}
	before := map[string]float64{}
	for _, s := range []string{natsbus.SourceDecisions, natsbus.SourceAccountStates, natsbus.SourceAppeals} {
		before[s] = skipped(s)
	}

	warned := act("acct_bad", moderationv1.Action_ACTION_WARN)
	// Undecodable records, where only the service writes: svc.JS is its own
	// connection. The DECISIONS stream denies deletes: they stay for good.
	for _, m := range []struct{ subject, data string }{
		{"mod.enforcement.acct_bad", "not json"},
		{"mod.enforcement.acct_bad", "null"},
		{"mod.enforcement.acct_bad", `{"decision_id":"dec_x","account":"acct_other"}`},
		{"mod.audit.manual.acct_bad", "not json"},
	} {
		if _, err := svc.JS.Publish(ctx, m.subject, []byte(m.data)); err != nil {
			t.Fatalf("publish to %s: %v", m.subject, err)
		}
	}
	if _, err := svc.Streams.Accounts.Put(ctx, "acct_junk", []byte("not json")); err != nil {
		t.Fatalf("put state: %v", err)
	}
	if _, err := svc.Streams.Appeals.Put(ctx, "apl_junk", []byte("not json")); err != nil {
		t.Fatalf("put appeal: %v", err)
	}
	suspended := act("acct_bad", moderationv1.Action_ACTION_SUSPEND)
	other := act("acct_other", moderationv1.Action_ACTION_WARN)
	want := []string{warned.DecisionId, suspended.DecisionId, other.DecisionId}

	ids := func(ds []*moderationv1.Decision) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.DecisionId)
		}
		return out
	}
	t.Run("ListDecisions", func(t *testing.T) {
		all, err := mod.ListDecisions(ctx, &moderationv1.ListDecisionsRequest{})
		if err != nil {
			t.Fatalf("every account: %v", err)
		}
		if got := ids(all.Decisions); !slices.Equal(got, want) {
			t.Errorf("every account: got %v, want %v", got, want)
		}
		// One at a time, so a page boundary falls on the bad records.
		var got []string
		for token := ""; ; {
			page, err := mod.ListDecisions(ctx, &moderationv1.ListDecisionsRequest{Account: "acct_bad", PageSize: 1, PageToken: token})
			if err != nil {
				t.Fatalf("acct_bad after %v: %v", got, err)
			}
			got = append(got, ids(page.Decisions)...)
			if token = page.NextPageToken; token == "" {
				break
			}
		}
		if want := want[:2]; !slices.Equal(got, want) {
			t.Errorf("acct_bad in pages of 1: got %v, want %v", got, want)
		}
	})
	t.Run("GetDecision", func(t *testing.T) {
		d, err := mod.GetDecision(ctx, &moderationv1.GetDecisionRequest{Account: "acct_bad", DecisionId: suspended.DecisionId})
		if err != nil || d.DecisionId != suspended.DecisionId {
			t.Errorf("got %v, %v; want decision %s", d, err, suspended.DecisionId)
		}
	})
	t.Run("GetTimeline", func(t *testing.T) {
		tl, err := review.GetTimeline(ctx, &moderationv1.GetTimelineRequest{Account: "acct_bad"})
		if err != nil {
			t.Fatalf("got %v, want the timeline", err)
		}
		if got := ids(tl.Decisions); !slices.Equal(got, want[:2]) {
			t.Errorf("decisions: got %v, want %v", got, want[:2])
		}
	})
	t.Run("WatchEnforcement", func(t *testing.T) {
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		stream, err := moderationv1.NewModerationServiceClient(apiConn(t, svc, platform)).WatchEnforcement(wctx, &moderationv1.WatchEnforcementRequest{FromSequence: 1})
		if err != nil {
			t.Fatal(err)
		}
		later := act("acct_later", moderationv1.Action_ACTION_WARN) // the watch goes on past the bad records
		var got []string
		for len(got) < 4 {
			ch, err := stream.Recv()
			if err != nil {
				t.Fatalf("watch after %v: got %v, want more changes", got, err)
			}
			got = append(got, ch.Decision.DecisionId)
		}
		if want := append(slices.Clone(want), later.DecisionId); !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("appeals", func(t *testing.T) {
		owner := moderationv1.NewAppealServiceClient(apiConn(t, svc, auth.Identity{Subject: "owner-bad", Role: auth.RoleOwner, Account: "acct_bad"}))
		filed, err := owner.FileAppeal(ctx, &moderationv1.FileAppealRequest{Account: "acct_bad", DecisionId: suspended.DecisionId, Statement: "They were my classmates."})
		if err != nil {
			t.Fatalf("file appeal: %v", err)
		}
		q, err := review.ListAppeals(ctx, &moderationv1.ListAppealsRequest{})
		if err != nil || len(q.GetAppeals()) != 1 || q.Appeals[0].AppealId != filed.AppealId {
			t.Errorf("queue: got %v, %v; want only appeal %s", q, err, filed.AppealId)
		}
		mine, err := owner.ListMyAppeals(ctx, &moderationv1.ListMyAppealsRequest{Account: "acct_bad"})
		if err != nil || len(mine.GetAppeals()) != 1 {
			t.Errorf("owner's appeals: got %v, %v; want one", mine, err)
		}
	})
	t.Run("account states", func(t *testing.T) {
		states, err := enforcement.NewStore(svc.JS, svc.Streams.Accounts).States(ctx)
		if err != nil {
			t.Fatalf("got %v, want the readable states", err)
		}
		var got []string
		for _, st := range states {
			got = append(got, st.Account)
		}
		slices.Sort(got)
		if want := []string{"acct_bad", "acct_later", "acct_other"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		r, err := checkClient(t, svc).Check(ctx, &moderationv1.CheckRequest{Account: "acct_junk"})
		if err != nil || !r.Allowed {
			t.Errorf("Check on the unreadable state: got %v, %v; want allowed, as an account with none", r, err)
		}
		// A change to that account cannot build on a state it cannot read:
		// the reviewer is told so (DataLoss), and nothing is overwritten.
		_, err = review.TakeAction(ctx, &moderationv1.TakeActionRequest{Account: "acct_junk", Action: moderationv1.Action_ACTION_WARN,
			ReasonCode: "bulk_add", Detail: "Sent 400 friend requests to strangers.", Note: "n"})
		if status.Code(err) != codes.DataLoss {
			t.Errorf("action on the unreadable state: got %v, want DataLoss", err)
		}
		if e, err := svc.Streams.Accounts.Get(ctx, "acct_junk"); err != nil || string(e.Value()) != "not json" {
			t.Errorf("state of acct_junk after the refused action: got %v, want the unreadable record left as it was", err)
			if err == nil {
				t.Errorf("it holds %q", e.Value())
			}
		}
	})

	// Each bad decision was skipped at least once by each reader above; the
	// state by the view and the sweep's listing; the appeal by the watch.
	for source, atLeast := range map[string]float64{natsbus.SourceDecisions: 3, natsbus.SourceAccountStates: 2, natsbus.SourceAppeals: 1} {
		waitFor(t, source+" skips counted", 5*time.Second, func() bool { return skipped(source)-before[source] >= atLeast })
	}
}

// skippedIn reads moderation_records_skipped_total{source} from the
// service's own registry: what /metrics serves.
func skippedIn(t *testing.T, svc *service.Service, source string) float64 {
	t.Helper()
	mfs, err := svc.Registry.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "moderation_records_skipped_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" && l.GetValue() == source {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("moderation_records_skipped_total{source=%q} not on the service's registry", source)
	return 0
}
