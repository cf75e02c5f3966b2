package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/appeals"
	"moderation/internal/auth"
	"moderation/internal/enforcement"
	"moderation/internal/moderation"
	"moderation/internal/service"
)

// bulkAdd ingests n friend requests to strangers from a 12-hour-old
// account within the last hour, as a platform service would send them.
func bulkAdd(t *testing.T, svc *service.Service, account string, n int) {
	t.Helper()
	now := time.Now()
	var evs []*moderationv1.Event
	for i := range n {
		evs = append(evs, &moderationv1.Event{Id: fmt.Sprintf("%s-%d", account, i), Kind: "friend_add", Account: account,
			At:          timestamppb.New(now.Add(-50*time.Minute + time.Duration(i)*50*time.Minute/time.Duration(n))),
			AccountInfo: &moderationv1.AccountInfo{Type: "personal", CreatedAt: timestamppb.New(now.Add(-12 * time.Hour))},
			Body:        &moderationv1.Event_FriendAdd{FriendAdd: &moderationv1.FriendAdd{Target: fmt.Sprintf("u%d", i), Source: "search"}}})
	}
	if _, err := moderationv1.NewModerationServiceClient(apiConn(t, svc, platform)).Ingest(context.Background(), &moderationv1.IngestRequest{Events: evs}); err != nil {
		t.Fatalf("ingest: %v", err)
	}
}

// awaitStatus polls Check until the account is in status want.
func awaitStatus(t *testing.T, svc *service.Service, account string, want moderationv1.Status) *moderationv1.CheckResponse {
	t.Helper()
	check := checkClient(t, svc)
	var r *moderationv1.CheckResponse
	waitFor(t, account+" "+want.String(), 20*time.Second, func() bool {
		var err error
		r, err = check.Check(context.Background(), &moderationv1.CheckRequest{Account: account})
		return err == nil && r.Status == want
	})
	return r
}

func ownerOf(account string) auth.Identity {
	return auth.Identity{Subject: "owner-" + account, Role: auth.RoleOwner, Account: account}
}

// appealRecords reads every step of an account's appeals from the audit
// stream.
func appealRecords(t *testing.T, svc *service.Service, account string) []appeals.Record {
	t.Helper()
	var out []appeals.Record
	for seq := uint64(1); ; {
		msg, err := svc.Streams.Decisions.GetMsg(context.Background(), seq, jetstream.WithGetMsgSubject("mod.audit.appeal."+account))
		if err != nil {
			return out
		}
		var r appeals.Record
		if err := json.Unmarshal(msg.Data, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
		seq = msg.Sequence + 1
	}
}

// enforcementActions lists the actions published on mod.enforcement.<account>.
func enforcementActions(t *testing.T, svc *service.Service, account string) []string {
	t.Helper()
	var out []string
	for seq := uint64(1); ; {
		msg, err := svc.Streams.Decisions.GetMsg(context.Background(), seq, jetstream.WithGetMsgSubject("mod.enforcement."+account))
		if err != nil {
			return out
		}
		var d moderation.Decision
		if err := json.Unmarshal(msg.Data, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, string(d.Action))
		seq = msg.Sequence + 1
	}
}

// TestAppealOverturnRestoresTheAccount is the whole flow over real gRPC: a
// bulk adder is suspended; its owner reads the statement of reasons and
// appeals; a reviewer claims the appeal and overturns it with a reply; the
// account is clear in Check, restore is published, the owner reads the
// reply, and the audit stream holds every step with its actor.
func TestAppealOverturnRestoresTheAccount(t *testing.T) {
	svc := startService(t)
	ctx := context.Background()
	const account = "acct_sus"
	bulkAdd(t, svc, account, 260)
	suspended := awaitStatus(t, svc, account, moderationv1.Status_STATUS_SUSPENDED)
	suspendedState, _, err := svc.Appeals.Accounts.Get(ctx, account)
	if err != nil {
		t.Fatal(err)
	}

	ownerConn := apiConn(t, svc, ownerOf(account))
	d, err := moderationv1.NewModerationServiceClient(ownerConn).GetDecision(ctx, &moderationv1.GetDecisionRequest{Account: account, DecisionId: suspended.DecisionId})
	if err != nil {
		t.Fatalf("owner reads the decision: %v", err)
	}
	st := d.Statement
	if d.Action != moderationv1.Action_ACTION_SUSPEND || st.Measure == "" || st.Facts == "" || st.Ground == "" || st.Explanation == "" ||
		!strings.Contains(st.Redress, "appeal") || st.AppealDeadline == nil || st.AutomatedDecision == "" {
		t.Fatalf("statement of reasons incomplete: %v", d)
	}
	owner := moderationv1.NewAppealServiceClient(ownerConn)
	filed, err := owner.FileAppeal(ctx, &moderationv1.FileAppealRequest{Account: account, DecisionId: d.DecisionId,
		Statement: "I was inviting my new colleagues after our company's onboarding day.", EvidenceUrls: []string{"https://example.com/onboarding"}})
	if err != nil {
		t.Fatalf("file appeal: %v", err)
	}
	if filed.State != moderationv1.AppealState_APPEAL_STATE_FILED || filed.Rule != "bulk_add" {
		t.Fatalf("filed appeal: %v", filed)
	}

	review := moderationv1.NewReviewServiceClient(apiConn(t, svc, reviewer))
	queue, err := review.ListAppeals(ctx, &moderationv1.ListAppealsRequest{Rule: "bulk_add"})
	if err != nil || len(queue.Appeals) != 1 || queue.Appeals[0].AppealId != filed.AppealId || queue.Appeals[0].AccountType != "personal" {
		t.Fatalf("queue: %v, %v", queue, err)
	}
	claimed, err := review.ClaimAppeal(ctx, &moderationv1.ClaimAppealRequest{AppealId: filed.AppealId})
	if err != nil || claimed.State != moderationv1.AppealState_APPEAL_STATE_IN_REVIEW || claimed.LeaseUntil == nil {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	const reply = "The requests went to people in your company's directory; the limit was wrong for you. Your account is restored."
	decided, err := review.DecideAppeal(ctx, &moderationv1.DecideAppealRequest{AppealId: filed.AppealId,
		Outcome: moderationv1.AppealOutcome_APPEAL_OUTCOME_OVERTURN, Reply: reply})
	if err != nil || decided.State != moderationv1.AppealState_APPEAL_STATE_OVERTURNED {
		t.Fatalf("decide: %v, %v", decided, err)
	}

	clear := awaitStatus(t, svc, account, moderationv1.Status_STATUS_ACTIVE)
	if !clear.Allowed {
		t.Errorf("Check after the overturn: %v", clear)
	}
	if got := enforcementActions(t, svc, account); got[len(got)-1] != "restore" {
		t.Errorf("mod.enforcement.%s: got %v, want it to end with restore", account, got)
	}
	state, _, err := svc.Appeals.Accounts.Get(ctx, account)
	if err != nil || len(state.StrikeTimes) != 0 {
		t.Errorf("strikes after the overturn: %v, %v; want none", state, err)
	}
	seen, err := owner.GetAppeal(ctx, &moderationv1.GetAppealRequest{Account: account, AppealId: filed.AppealId})
	if err != nil || seen.Reply != reply || seen.State != moderationv1.AppealState_APPEAL_STATE_OVERTURNED {
		t.Errorf("owner reads the answer: %v, %v", seen, err)
	}
	var steps []string
	for _, r := range appealRecords(t, svc, account) {
		steps = append(steps, string(r.State)+" by "+r.Actor)
	}
	want := []string{"filed by owner:owner-acct_sus", "in_review by reviewer:alice", "overturned by reviewer:alice"}
	if !slices.Equal(steps, want) {
		t.Errorf("audit steps: got %v, want %v", steps, want)
	}
	tl, err := review.GetTimeline(ctx, &moderationv1.GetTimelineRequest{Account: account})
	if err != nil || len(tl.Appeals) != 1 || tl.Appeals[0].State != moderationv1.AppealState_APPEAL_STATE_OVERTURNED {
		t.Errorf("timeline appeals: %v, %v", tl.GetAppeals(), err)
	}

	// A grant cut short (the appeal written, the account not yet) is
	// finished by the same reviewer deciding again the same way; any other
	// answer is refused.
	raw := enforcement.NewStore(svc.JS, svc.Streams.Accounts)
	before, rev, err := raw.Get(ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	before.Current = suspendedState.Current
	before.StrikeTimes = suspendedState.StrikeTimes
	if _, err := raw.Put(ctx, before, rev); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, svc, account, moderationv1.Status_STATUS_SUSPENDED)
	if _, err := review.DecideAppeal(ctx, &moderationv1.DecideAppealRequest{AppealId: filed.AppealId,
		Outcome: moderationv1.AppealOutcome_APPEAL_OUTCOME_UPHOLD, Reply: "changed my mind"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("a different answer to a decided appeal: got %v, want FailedPrecondition", err)
	}
	if _, err := review.DecideAppeal(ctx, &moderationv1.DecideAppealRequest{AppealId: filed.AppealId,
		Outcome: moderationv1.AppealOutcome_APPEAL_OUTCOME_OVERTURN, Reply: reply}); err != nil {
		t.Fatalf("the same answer again: %v", err)
	}
	awaitStatus(t, svc, account, moderationv1.Status_STATUS_ACTIVE)

	// The quality loop counts the appeal against its rule and policy.
	resp, err := http.Get("http://" + svc.HTTPAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		fmt.Sprintf(`moderation_appeals_filed{policy_version=%q,rule="bulk_add"} 1`, d.PolicyVersion),
		fmt.Sprintf(`moderation_appeals{policy_version=%q,rule="bulk_add",state="overturned"} 1`, d.PolicyVersion),
		fmt.Sprintf(`moderation_appeal_overturn_rate{policy_version=%q,rule="bulk_add"} 1`, d.PolicyVersion),
	} {
		if !strings.Contains(string(body), line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

// TestAppealRefusals: every refusal is refused, and says why.
func TestAppealRefusals(t *testing.T) {
	svc := startServiceWith(t, func(c *service.Config) { c.AppealLease = 2 * time.Second })
	ctx := context.Background()
	admin := moderationv1.NewReviewServiceClient(apiConn(t, svc, admin))
	suspend := func(account string) string {
		d, err := admin.TakeAction(ctx, &moderationv1.TakeActionRequest{Account: account, Action: moderationv1.Action_ACTION_SUSPEND,
			Duration: durationpb.New(72 * time.Hour), ReasonCode: "bulk_add", Detail: "Sent 400 friend requests to strangers in an hour.", Note: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return d.DecisionId
	}
	file := func(account, decision string) (*moderationv1.Appeal, error) {
		return moderationv1.NewAppealServiceClient(apiConn(t, svc, ownerOf(account))).FileAppeal(ctx,
			&moderationv1.FileAppealRequest{Account: account, DecisionId: decision, Statement: "This is wrong."})
	}
	refused := func(what string, err error, code codes.Code, why string) {
		t.Helper()
		if status.Code(err) != code || !strings.Contains(status.Convert(err).Message(), why) {
			t.Errorf("%s: got %v, want %s saying %q", what, err, code, why)
		}
	}

	decA, decB := suspend("acct_a"), suspend("acct_b")
	first, err := file("acct_a", decA)
	if err != nil {
		t.Fatal(err)
	}
	_, err = file("acct_a", decA)
	refused("second open appeal", err, codes.FailedPrecondition, "already open")
	_, err = file("acct_a", decB)
	refused("another account's decision", err, codes.NotFound, "no decision")
	_, err = moderationv1.NewAppealServiceClient(apiConn(t, svc, ownerOf("acct_a"))).FileAppeal(ctx,
		&moderationv1.FileAppealRequest{Account: "acct_b", DecisionId: decB, Statement: "x"})
	refused("an owner on another account", err, codes.PermissionDenied, "own account")

	r1 := moderationv1.NewReviewServiceClient(apiConn(t, svc, reviewer))
	r2 := moderationv1.NewReviewServiceClient(apiConn(t, svc, auth.Identity{Subject: "carol", Role: auth.RoleReviewer}))
	_, err = r1.DecideAppeal(ctx, &moderationv1.DecideAppealRequest{AppealId: first.AppealId, Outcome: moderationv1.AppealOutcome_APPEAL_OUTCOME_UPHOLD, Reply: "r"})
	refused("a decision without a claim", err, codes.FailedPrecondition, "claim it before deciding")

	// Two reviewers claim at once: exactly one gets it.
	var wg sync.WaitGroup
	claims := make([]error, 2)
	for i, r := range []moderationv1.ReviewServiceClient{r1, r2} {
		wg.Go(func() {
			_, claims[i] = r.ClaimAppeal(ctx, &moderationv1.ClaimAppealRequest{AppealId: first.AppealId})
		})
	}
	wg.Wait()
	if (claims[0] == nil) == (claims[1] == nil) {
		t.Fatalf("concurrent claims: got %v and %v, want exactly one to win", claims[0], claims[1])
	}
	holder, other := r1, r2
	if claims[0] != nil {
		holder, other = r2, r1
	}
	// The holder and the other reviewer decide at once: only the holder's
	// decision lands, and only once.
	decisions := make([]error, 4)
	for i := range decisions {
		r, outcome := holder, moderationv1.AppealOutcome_APPEAL_OUTCOME_OVERTURN
		if i%2 == 1 {
			r, outcome = other, moderationv1.AppealOutcome_APPEAL_OUTCOME_UPHOLD
		}
		wg.Go(func() {
			_, decisions[i] = r.DecideAppeal(ctx, &moderationv1.DecideAppealRequest{AppealId: first.AppealId, Outcome: outcome, Reply: "decided"})
		})
	}
	wg.Wait()
	wins := 0
	for i, err := range decisions {
		msg := status.Convert(err).Message()
		switch {
		case i%2 == 0 && err == nil:
			wins++
		case i%2 == 0:
			// The holder's second overturn, if it lost the race, finds the
			// appeal decided.
			if status.Code(err) != codes.FailedPrecondition {
				t.Errorf("the holder's decision: got %v, want success or FailedPrecondition", err)
			}
		default:
			// Refused either while the holder's claim stands or after the
			// holder's decision has landed: both say why.
			if status.Code(err) != codes.FailedPrecondition || !(strings.Contains(msg, "claimed by") || strings.Contains(msg, "already overturned")) {
				t.Errorf("a decision by the reviewer without the claim: got %v, want FailedPrecondition saying it is claimed or already decided", err)
			}
		}
	}
	if wins < 1 || enforcementCount(t, svc, "acct_a", "restore") != 1 {
		t.Errorf("concurrent decisions: %v; want the holder's to land once (restores published: %d)", decisions, enforcementCount(t, svc, "acct_a", "restore"))
	}
	a, err := moderationv1.NewAppealServiceClient(apiConn(t, svc, ownerOf("acct_a"))).GetAppeal(ctx, &moderationv1.GetAppealRequest{Account: "acct_a", AppealId: first.AppealId})
	if err != nil || a.State != moderationv1.AppealState_APPEAL_STATE_OVERTURNED {
		t.Errorf("after the race: %v, %v; want overturned", a, err)
	}
	_, err = file("acct_a", decA)
	refused("an appeal of a decided appeal's decision", err, codes.FailedPrecondition, "already appealed")

	// A lease that runs out returns the appeal to the queue.
	second, err := file("acct_b", decB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r1.ClaimAppeal(ctx, &moderationv1.ClaimAppealRequest{AppealId: second.AppealId}); err != nil {
		t.Fatal(err)
	}
	_, err = r2.ClaimAppeal(ctx, &moderationv1.ClaimAppealRequest{AppealId: second.AppealId})
	refused("a claim on a claimed appeal", err, codes.FailedPrecondition, "claimed by reviewer:alice")
	waitFor(t, "the lease to run out", 10*time.Second, func() bool {
		q, err := r2.ListAppeals(ctx, &moderationv1.ListAppealsRequest{State: moderationv1.AppealState_APPEAL_STATE_FILED})
		return err == nil && len(q.Appeals) == 1 && q.Appeals[0].AppealId == second.AppealId
	})
	_, err = r1.DecideAppeal(ctx, &moderationv1.DecideAppealRequest{AppealId: second.AppealId, Outcome: moderationv1.AppealOutcome_APPEAL_OUTCOME_UPHOLD, Reply: "late"})
	refused("a decision after the lease ran out", err, codes.FailedPrecondition, "ran out")
	if _, err := r2.ClaimAppeal(ctx, &moderationv1.ClaimAppealRequest{AppealId: second.AppealId}); err != nil {
		t.Errorf("claim after the lease ran out: %v", err)
	}
	if _, err := r2.DecideAppeal(ctx, &moderationv1.DecideAppealRequest{AppealId: second.AppealId, Outcome: moderationv1.AppealOutcome_APPEAL_OUTCOME_MODIFY,
		ModifiedAction: moderationv1.Action_ACTION_WARN, Reply: "A warning is enough."}); err != nil {
		t.Fatalf("modify: %v", err)
	}
	warned := awaitStatus(t, svc, "acct_b", moderationv1.Status_STATUS_WARNED)
	if !warned.Allowed {
		t.Errorf("modified to a warning: %v", warned)
	}

	// A reviewer may not review an appeal of their own manual action.
	own, err := r1.TakeAction(ctx, &moderationv1.TakeActionRequest{Account: "acct_c", Action: moderationv1.Action_ACTION_LIMIT, Detail: "d", Note: "n"})
	if err != nil {
		t.Fatal(err)
	}
	third, err := file("acct_c", own.DecisionId)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r1.ClaimAppeal(ctx, &moderationv1.ClaimAppealRequest{AppealId: third.AppealId})
	refused("a claim on an appeal of one's own action", err, codes.PermissionDenied, "another reviewer")

	// A warning restricts nothing and cannot be appealed.
	warn, err := admin.TakeAction(ctx, &moderationv1.TakeActionRequest{Account: "acct_d", Action: moderationv1.Action_ACTION_WARN, Detail: "d", Note: "n"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = file("acct_d", warn.DecisionId)
	refused("an appeal of a warning", err, codes.FailedPrecondition, "only a limit, a suspension or a closure")

	// An owner withdraws, and may file again.
	if _, err := moderationv1.NewAppealServiceClient(apiConn(t, svc, ownerOf("acct_c"))).WithdrawAppeal(ctx,
		&moderationv1.WithdrawAppealRequest{Account: "acct_c", AppealId: third.AppealId}); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	if _, err := file("acct_c", own.DecisionId); err != nil {
		t.Errorf("file again after withdrawing: %v", err)
	}
}

func enforcementCount(t *testing.T, svc *service.Service, account, action string) int {
	t.Helper()
	n := 0
	for _, a := range enforcementActions(t, svc, account) {
		if a == action {
			n++
		}
	}
	return n
}

// TestAppealWindowAndFilingLimit: an appeal past the window is refused,
// and so is filing beyond the daily limit.
func TestAppealWindowAndFilingLimit(t *testing.T) {
	svc := startServiceWith(t, func(c *service.Config) { c.AppealWindow = time.Second; c.AppealFilingsPerDay = 2 })
	ctx := context.Background()
	admin := moderationv1.NewReviewServiceClient(apiConn(t, svc, admin))
	owner := moderationv1.NewAppealServiceClient(apiConn(t, svc, ownerOf("acct_w")))
	var decisions []string
	for range 3 {
		d, err := admin.TakeAction(ctx, &moderationv1.TakeActionRequest{Account: "acct_w", Action: moderationv1.Action_ACTION_SUSPEND, Detail: "d", Note: "n"})
		if err != nil {
			t.Fatal(err)
		}
		decisions = append(decisions, d.DecisionId)
	}
	for i, d := range decisions[:2] {
		if _, err := owner.FileAppeal(ctx, &moderationv1.FileAppealRequest{Account: "acct_w", DecisionId: d, Statement: "s"}); err != nil {
			t.Fatalf("appeal %d: %v", i, err)
		}
	}
	_, err := owner.FileAppeal(ctx, &moderationv1.FileAppealRequest{Account: "acct_w", DecisionId: decisions[2], Statement: "s"})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), "last 24 hours") {
		t.Errorf("third filing in a day: got %v, want ResourceExhausted saying why", err)
	}
	late, err := admin.TakeAction(ctx, &moderationv1.TakeActionRequest{Account: "acct_late", Action: moderationv1.Action_ACTION_CLOSE, Detail: "d", Note: "n"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // past the one-second window: only waiting shows it
	_, err = moderationv1.NewAppealServiceClient(apiConn(t, svc, ownerOf("acct_late"))).FileAppeal(ctx,
		&moderationv1.FileAppealRequest{Account: "acct_late", DecisionId: late.DecisionId, Statement: "s"})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "window") {
		t.Errorf("appeal past the window: got %v, want FailedPrecondition naming the window", err)
	}
}

// TestClosureIsPurgeableOnlyAfterTheWindowWithNoAppealOpen: a closure
// freezes the account; the platform is told it may purge it only once the
// appeal window has passed, and never while an appeal is open.
func TestClosureIsPurgeableOnlyAfterTheWindowWithNoAppealOpen(t *testing.T) {
	svc := startServiceWith(t, func(c *service.Config) { c.AppealWindow = 2 * time.Second; c.PurgeSweep = 100 * time.Millisecond })
	ctx := context.Background()
	admin := moderationv1.NewReviewServiceClient(apiConn(t, svc, admin))
	closeAccount := func(account string) *moderationv1.Decision {
		d, err := admin.TakeAction(ctx, &moderationv1.TakeActionRequest{Account: account, Action: moderationv1.Action_ACTION_CLOSE, Detail: "d", Note: "n"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	quiet, appealed := closeAccount("acct_quiet"), closeAccount("acct_appealed")
	if _, err := moderationv1.NewAppealServiceClient(apiConn(t, svc, ownerOf("acct_appealed"))).FileAppeal(ctx,
		&moderationv1.FileAppealRequest{Account: "acct_appealed", DecisionId: appealed.DecisionId, Statement: "s"}); err != nil {
		t.Fatal(err)
	}
	purged := func(account string) (*appeals.PurgeNotice, bool) {
		msg, err := svc.Streams.Decisions.GetLastMsgForSubject(ctx, "mod.purge."+account)
		if err != nil {
			return nil, false
		}
		var n appeals.PurgeNotice
		if err := json.Unmarshal(msg.Data, &n); err != nil {
			t.Fatal(err)
		}
		return &n, true
	}
	if _, ok := purged("acct_quiet"); ok {
		t.Fatal("purge notice inside the appeal window")
	}
	var notice *appeals.PurgeNotice
	waitFor(t, "the purge notice for acct_quiet", 10*time.Second, func() bool {
		var ok bool
		notice, ok = purged("acct_quiet")
		return ok
	})
	if notice.DecisionID != quiet.DecisionId || notice.EligibleAt.Before(quiet.Statement.AppealDeadline.AsTime()) {
		t.Errorf("purge notice %+v: want decision %s, eligible after %s", notice, quiet.DecisionId, quiet.Statement.AppealDeadline.AsTime())
	}
	time.Sleep(300 * time.Millisecond) // three sweeps: only waiting shows nothing happens
	if _, ok := purged("acct_appealed"); ok {
		t.Error("an account with an open appeal was made purgeable")
	}
	notices := 0
	for seq := uint64(1); ; notices++ {
		msg, err := svc.Streams.Decisions.GetMsg(ctx, seq, jetstream.WithGetMsgSubject("mod.purge.acct_quiet"))
		if err != nil {
			break
		}
		seq = msg.Sequence + 1
	}
	if notices != 1 {
		t.Errorf("purge notices for acct_quiet after several sweeps: got %d, want 1", notices)
	}
}
