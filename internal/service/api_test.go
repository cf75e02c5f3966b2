package service_test

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/enforcement"
	"moderation/internal/moderation"
	"moderation/internal/service"
)

var (
	admin    = auth.Identity{Subject: "root", Role: auth.RoleAdmin}
	reviewer = auth.Identity{Subject: "alice", Role: auth.RoleReviewer}
	platform = auth.Identity{Subject: "svc-broadcast", Role: auth.RoleService}
	owner    = auth.Identity{Subject: "bob", Role: auth.RoleOwner, Account: "acct_own"}
)

// TestManualActionDecisionsAndTimeline: a reviewer suspends an account
// with a note; Check refuses it, the decision is listed, fetched, streamed
// and on the timeline with the reviewer as actor, the note is in the audit
// stream only; a restore lifts it and takes back its strike.
func TestManualActionDecisionsAndTimeline(t *testing.T) {
	svc := startService(t)
	ctx := context.Background()
	review := moderationv1.NewReviewServiceClient(apiConn(t, svc, reviewer))
	mod := moderationv1.NewModerationServiceClient(apiConn(t, svc, reviewer))
	check := checkClient(t, svc)

	ingested, err := moderationv1.NewModerationServiceClient(apiConn(t, svc, platform)).Ingest(ctx, &moderationv1.IngestRequest{Events: []*moderationv1.Event{
		friendAdd("e1", "acct_x"), friendAdd("e2", "acct_x"), friendAdd("e1", "acct_x"),
	}})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if got := []bool{ingested.Results[0].Duplicate, ingested.Results[1].Duplicate, ingested.Results[2].Duplicate}; !slices.Equal(got, []bool{false, false, true}) {
		t.Errorf("ingest duplicates: got %v, want [false false true]", got)
	}

	d, err := review.TakeAction(ctx, &moderationv1.TakeActionRequest{
		Account: "acct_x", Action: moderationv1.Action_ACTION_SUSPEND, Duration: durationpb.New(72 * time.Hour),
		ReasonCode: "bulk_add", Detail: "Sent 400 friend requests to strangers in one hour.", Note: "ticket 7: reported by 12 users",
	})
	if err != nil {
		t.Fatalf("take action: %v", err)
	}
	if d.Actor != "reviewer:alice" || d.PolicyVersion != "manual" || d.Statement.AutomatedDecision != "not" || d.Strikes != 1 {
		t.Errorf("decision: got actor %q version %q automated %q strikes %d", d.Actor, d.PolicyVersion, d.Statement.AutomatedDecision, d.Strikes)
	}
	waitFor(t, "Check to refuse acct_x", 5*time.Second, func() bool {
		r, err := check.Check(ctx, &moderationv1.CheckRequest{Account: "acct_x", Capability: moderationv1.Capability_CAPABILITY_BROADCAST})
		return err == nil && !r.Allowed && r.Status == moderationv1.Status_STATUS_SUSPENDED && r.DecisionId == d.DecisionId
	})

	got, err := mod.GetDecision(ctx, &moderationv1.GetDecisionRequest{Account: "acct_x", DecisionId: d.DecisionId})
	if err != nil || got.Sequence == 0 || got.Statement.Facts != "Sent 400 friend requests to strangers in one hour." {
		t.Fatalf("get decision: %v, %v", got, err)
	}
	if _, err := mod.GetDecision(ctx, &moderationv1.GetDecisionRequest{Account: "acct_x", DecisionId: "dec_000000000000000000000000"}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown decision: got %v, want NotFound", err)
	}

	tl, err := review.GetTimeline(ctx, &moderationv1.GetTimelineRequest{Account: "acct_x"})
	if err != nil {
		t.Fatalf("timeline: %v", err)
	}
	if len(tl.Events) != 2 || len(tl.Decisions) != 1 || tl.Current.Status != moderationv1.Status_STATUS_SUSPENDED {
		t.Errorf("timeline: got %d events, %d decisions, status %s; want 2, 1, suspended", len(tl.Events), len(tl.Decisions), tl.Current.Status)
	}

	restore, err := review.TakeAction(ctx, &moderationv1.TakeActionRequest{Account: "acct_x", Action: moderationv1.Action_ACTION_RESTORE,
		Detail: "The requests were to a conference's attendees.", Note: "ticket 7 reopened"})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if restore.Strikes != 0 {
		t.Errorf("restore: got %d strikes, want the suspension's strike taken back", restore.Strikes)
	}
	waitFor(t, "Check to allow acct_x again", 5*time.Second, func() bool {
		r, err := check.Check(ctx, &moderationv1.CheckRequest{Account: "acct_x"})
		return err == nil && r.Allowed
	})
	page, err := mod.ListDecisions(ctx, &moderationv1.ListDecisionsRequest{Account: "acct_x", PageSize: 1})
	if err != nil || len(page.Decisions) != 1 || page.NextPageToken == "" {
		t.Fatalf("list page 1: %v, %v", page, err)
	}
	page2, err := mod.ListDecisions(ctx, &moderationv1.ListDecisionsRequest{Account: "acct_x", PageSize: 1, PageToken: page.NextPageToken})
	if err != nil || len(page2.Decisions) != 1 || page2.NextPageToken != "" || page2.Decisions[0].Action != moderationv1.Action_ACTION_RESTORE {
		t.Fatalf("list page 2: %v, %v", page2, err)
	}

	// The notes are in the audit stream with the actor, never on the
	// enforcement subject the platform (and the owner) sees.
	records := auditRecords[enforcement.ManualRecord](t, svc, "mod.audit.manual.acct_x", 2)
	for i, want := range []string{"ticket 7: reported by 12 users", "ticket 7 reopened"} {
		if records[i].Actor != "reviewer:alice" || records[i].Note != want {
			t.Errorf("audit record %d: got %+v, want actor reviewer:alice note %q", i, records[i], want)
		}
	}
	if records[1].Lifted != d.DecisionId {
		t.Errorf("restore record lifts %q, want %q", records[1].Lifted, d.DecisionId)
	}
}

// tinyPolicy is a candidate that compiles and passes its own test: enough
// to reach the backtest handler.
var tinyPolicy = map[string]string{
	"data.json":            `{}`,
	"moderation.rego":      "package moderation\n\ndecision := {\"action\": \"allow\", \"reasons\": []}\n\nwatch := {\"bulk_add.hour\": [100]}\n",
	"moderation_test.rego": "package moderation_test\n\ntest_allow if data.moderation.decision.action == \"allow\"\n",
}

func friendAdd(id, account string) *moderationv1.Event {
	return &moderationv1.Event{Id: id, Kind: "friend_add", Account: account, At: timestamppb.Now(),
		AccountInfo: &moderationv1.AccountInfo{Type: "personal", CreatedAt: timestamppb.New(time.Now().Add(-24 * time.Hour))},
		Body:        &moderationv1.Event_FriendAdd{FriendAdd: &moderationv1.FriendAdd{Target: "t_" + id, Source: "search"}}}
}

// auditRecords waits for n records of type R on subject in the decisions
// stream and returns them oldest first; a record R does not read is skipped.
func auditRecords[R any](t *testing.T, svc *service.Service, subject string, n int) []R {
	t.Helper()
	var out []R
	waitFor(t, "audit records on "+subject, 5*time.Second, func() bool {
		out = out[:0]
		for _, msg := range storedOn(svc, subject) {
			var r R
			if json.Unmarshal(msg.Data, &r) == nil {
				out = append(out, r)
			}
		}
		return len(out) >= n
	})
	return out
}

// storedOn reads the messages on subject (wildcards allowed) in the
// decisions stream, oldest first.
func storedOn(svc *service.Service, subject string) []*jetstream.RawStreamMsg {
	var out []*jetstream.RawStreamMsg
	for seq := uint64(1); ; {
		msg, err := svc.Streams.Decisions.GetMsg(context.Background(), seq, jetstream.WithGetMsgSubject(subject))
		if err != nil {
			return out
		}
		out = append(out, msg)
		seq = msg.Sequence + 1
	}
}

// TestIngestNamesTheBadField: a batch with an invalid event stores nothing
// and names the event and its field.
func TestIngestNamesTheBadField(t *testing.T) {
	svc := startService(t)
	bad := friendAdd("e2", "acct_y")
	bad.Body = &moderationv1.Event_FriendAdd{FriendAdd: &moderationv1.FriendAdd{Source: "search"}}
	_, err := moderationv1.NewModerationServiceClient(apiConn(t, svc, platform)).Ingest(context.Background(),
		&moderationv1.IngestRequest{Events: []*moderationv1.Event{friendAdd("e1", "acct_y"), bad}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "events[1].friend_add.target") {
		t.Fatalf("got %v, want InvalidArgument naming events[1].friend_add.target", err)
	}
	info, err := svc.Streams.Events.Info(context.Background())
	if err != nil || info.State.Msgs != 0 {
		t.Errorf("events stored after a refused batch: %v, %v", info.State.Msgs, err)
	}
}

// TestWatchEnforcementResumes: a watch from a sequence replays what came
// after it, then follows new changes.
func TestWatchEnforcementResumes(t *testing.T) {
	svc := startService(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	review := moderationv1.NewReviewServiceClient(apiConn(t, svc, reviewer))
	act := func(account string) *moderationv1.Decision {
		d, err := review.TakeAction(ctx, &moderationv1.TakeActionRequest{Account: account, Action: moderationv1.Action_ACTION_WARN, Detail: "d", Note: "n"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	act("acct_a")
	act("acct_b")
	watch := moderationv1.NewModerationServiceClient(apiConn(t, svc, platform))
	stream, err := watch.WatchEnforcement(ctx, &moderationv1.WatchEnforcementRequest{FromSequence: 1})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	// Resume after the first change, as a client does after a broken stream.
	resumed, err := watch.WatchEnforcement(ctx, &moderationv1.WatchEnforcementRequest{FromSequence: first.Sequence + 1})
	if err != nil {
		t.Fatal(err)
	}
	next, err := resumed.Recv()
	if err != nil || next.Decision.Account != "acct_b" {
		t.Fatalf("resumed stream: got %v, %v; want acct_b's change", next, err)
	}
	act("acct_c")
	live, err := resumed.Recv()
	if err != nil || live.Decision.Account != "acct_c" || live.Sequence <= next.Sequence {
		t.Fatalf("live change: got %v, %v; want acct_c after %d", live, err, next.Sequence)
	}
}

// TestEnforcementVisibleInCheckWithin100ms writes account states straight
// to the bucket, as the pipeline does, and measures how long each takes to
// show in Check over gRPC.
func TestEnforcementVisibleInCheckWithin100ms(t *testing.T) {
	svc := startService(t)
	ctx := context.Background()
	store := enforcement.NewStore(svc.JS, svc.Streams.Accounts)
	check := checkClient(t, svc)
	const writes = 30
	var lags []time.Duration
	for i := range writes {
		account := "acct_lag_" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		until := time.Now().Add(time.Hour)
		st := &moderation.AccountState{Account: account, Current: &moderation.Decision{Account: account, Action: moderation.ActionSuspend,
			DecisionID: moderation.DecisionID(account, "e"), Until: &until}}
		if _, err := store.Put(ctx, st, 0); err != nil {
			t.Fatal(err)
		}
		written := time.Now()
		waitFor(t, account+" in Check", 5*time.Second, func() bool {
			r, err := check.Check(ctx, &moderationv1.CheckRequest{Account: account})
			return err == nil && r.Status == moderationv1.Status_STATUS_SUSPENDED
		})
		lags = append(lags, time.Since(written))
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	t.Logf("write to Check: median %s, 90th %s, max %s", lags[writes/2], lags[writes*9/10], lags[writes-1])
	// The goal is every write within 100 ms; a loaded CI machine may stall
	// one, so the test holds nine in ten to it.
	if lags[writes*9/10-1] > 100*time.Millisecond {
		t.Errorf("90%% of writes visible within %s, want within 100ms", lags[writes*9/10-1])
	}
}

// TestRoleMethodMatrix calls every method of the API as each kind of
// caller and checks the authorization policy's answer: at least one
// allowed and one denied case per method. Allowed means the call got past
// authorization (the handler may still refuse the request itself).
func TestRoleMethodMatrix(t *testing.T) {
	svc := startService(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A decision on the owner's account, so watches and lookups have one.
	d, err := moderationv1.NewReviewServiceClient(apiConn(t, svc, admin)).TakeAction(ctx, &moderationv1.TakeActionRequest{
		Account: "acct_own", Action: moderationv1.Action_ACTION_WARN, Detail: "d", Note: "matrix set-up"})
	if err != nil {
		t.Fatal(err)
	}
	conns := map[string]*grpc.ClientConn{}
	for name, id := range map[string]auth.Identity{"admin": admin, "reviewer": reviewer, "service": platform, "owner": owner} {
		conns[name] = apiConn(t, svc, id)
	}
	own, other := "acct_own", "acct_other"
	calls := map[string]func(c *grpc.ClientConn, account string) error{
		"ModerationService/Check": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewModerationServiceClient(c).Check(ctx, &moderationv1.CheckRequest{Account: a})
			return err
		},
		"ModerationService/BatchCheck": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewModerationServiceClient(c).BatchCheck(ctx, &moderationv1.BatchCheckRequest{Checks: []*moderationv1.CheckRequest{{Account: a}}})
			return err
		},
		"ModerationService/Ingest": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewModerationServiceClient(c).Ingest(ctx, &moderationv1.IngestRequest{Events: []*moderationv1.Event{friendAdd("m-"+a, a)}})
			return err
		},
		"ModerationService/GetDecision": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewModerationServiceClient(c).GetDecision(ctx, &moderationv1.GetDecisionRequest{Account: a, DecisionId: d.DecisionId})
			return err
		},
		"ModerationService/ListDecisions": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewModerationServiceClient(c).ListDecisions(ctx, &moderationv1.ListDecisionsRequest{Account: a})
			return err
		},
		"ModerationService/WatchEnforcement": func(c *grpc.ClientConn, a string) error {
			stream, err := moderationv1.NewModerationServiceClient(c).WatchEnforcement(ctx, &moderationv1.WatchEnforcementRequest{Account: a, FromSequence: 1})
			if err != nil {
				return err
			}
			_, err = stream.Recv()
			return err
		},
		"ReviewService/GetTimeline": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewReviewServiceClient(c).GetTimeline(ctx, &moderationv1.GetTimelineRequest{Account: a})
			return err
		},
		"ReviewService/TakeAction": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewReviewServiceClient(c).TakeAction(ctx, &moderationv1.TakeActionRequest{Account: a, Action: moderationv1.Action_ACTION_WARN, Detail: "d", Note: "n"})
			return err
		},
		"ReviewService/Backtest": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewReviewServiceClient(c).Backtest(ctx, &moderationv1.BacktestRequest{Files: tinyPolicy})
			return err
		},
		"ReviewService/ListAppeals": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewReviewServiceClient(c).ListAppeals(ctx, &moderationv1.ListAppealsRequest{})
			return err
		},
		"ReviewService/ClaimAppeal": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewReviewServiceClient(c).ClaimAppeal(ctx, &moderationv1.ClaimAppealRequest{AppealId: "apl_1"})
			return err
		},
		"ReviewService/DecideAppeal": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewReviewServiceClient(c).DecideAppeal(ctx, &moderationv1.DecideAppealRequest{AppealId: "apl_1", Outcome: moderationv1.AppealOutcome_APPEAL_OUTCOME_UPHOLD, Reply: "r"})
			return err
		},
		"ReviewService/Reevaluate": func(c *grpc.ClientConn, a string) error {
			stream, err := moderationv1.NewReviewServiceClient(c).Reevaluate(ctx, &moderationv1.ReevaluateRequest{Files: tinyPolicy, DryRun: true})
			if err != nil {
				return err
			}
			for {
				if _, err := stream.Recv(); err != nil {
					if err == io.EOF {
						return nil
					}
					return err
				}
			}
		},
		"AppealService/FileAppeal": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewAppealServiceClient(c).FileAppeal(ctx, &moderationv1.FileAppealRequest{Account: a, DecisionId: d.DecisionId, Statement: "s"})
			return err
		},
		"AppealService/GetAppeal": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewAppealServiceClient(c).GetAppeal(ctx, &moderationv1.GetAppealRequest{Account: a, AppealId: "apl_1"})
			return err
		},
		"AppealService/ListMyAppeals": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewAppealServiceClient(c).ListMyAppeals(ctx, &moderationv1.ListMyAppealsRequest{Account: a})
			return err
		},
		"AppealService/WithdrawAppeal": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewAppealServiceClient(c).WithdrawAppeal(ctx, &moderationv1.WithdrawAppealRequest{Account: a, AppealId: "apl_1"})
			return err
		},
		"AdminService/MintToken": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewAdminServiceClient(c).MintToken(ctx, &moderationv1.MintTokenRequest{Subject: "svc-new", Role: "service"})
			return err
		},
		"AdminService/RevokeToken": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewAdminServiceClient(c).RevokeToken(ctx, &moderationv1.RevokeTokenRequest{Which: &moderationv1.RevokeTokenRequest_TokenId{TokenId: "matrix-never-minted"}})
			return err
		},
		"AuditService/SearchAudit": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewAuditServiceClient(c).SearchAudit(ctx, &moderationv1.SearchAuditRequest{Account: a})
			return err
		},
		"AuditService/ExportAudit": func(c *grpc.ClientConn, a string) error {
			stream, err := moderationv1.NewAuditServiceClient(c).ExportAudit(ctx, &moderationv1.ExportAuditRequest{Account: a,
				Since: timestamppb.New(time.Now().Add(-time.Hour)), Format: moderationv1.AuditFormat_AUDIT_FORMAT_JSONL})
			if err != nil {
				return err
			}
			for {
				if _, err := stream.Recv(); err != nil {
					if err == io.EOF {
						return nil
					}
					return err
				}
			}
		},
		"AuditService/ExportStatements": func(c *grpc.ClientConn, a string) error {
			stream, err := moderationv1.NewAuditServiceClient(c).ExportStatements(ctx, &moderationv1.ExportStatementsRequest{Since: timestamppb.New(time.Now().Add(-time.Hour))})
			if err != nil {
				return err
			}
			for {
				if _, err := stream.Recv(); err != nil {
					if err == io.EOF {
						return nil
					}
					return err
				}
			}
		},
		"ConsoleService/GetPolicy": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewConsoleServiceClient(c).GetPolicy(ctx, &moderationv1.GetPolicyRequest{})
			return err
		},
		"ConsoleService/GetMetrics": func(c *grpc.ClientConn, a string) error {
			_, err := moderationv1.NewConsoleServiceClient(c).GetMetrics(ctx, &moderationv1.GetMetricsRequest{})
			return err
		},
	}
	type tc struct {
		caller, account string
		allowed         bool
	}
	all := func(account string, allowed map[string]bool) []tc {
		var out []tc
		for _, caller := range []string{"admin", "reviewer", "service", "owner"} {
			out = append(out, tc{caller, account, allowed[caller]})
		}
		return out
	}
	staff := map[string]bool{"admin": true, "reviewer": true, "service": true}
	reviewers := map[string]bool{"admin": true, "reviewer": true}
	admins := map[string]bool{"admin": true}
	owners := map[string]bool{"admin": true, "owner": true}
	matrix := map[string][]tc{
		"ModerationService/Check":            append(all(other, staff), tc{"owner", own, true}),
		"ModerationService/BatchCheck":       all(other, staff),
		"ModerationService/Ingest":           append(all(other, map[string]bool{"admin": true, "service": true}), tc{"owner", own, false}),
		"ModerationService/GetDecision":      append(all(other, staff), tc{"owner", own, true}),
		"ModerationService/ListDecisions":    append(append(all(other, staff), tc{"owner", own, true}), tc{"owner", "", false}, tc{"service", "", true}),
		"ModerationService/WatchEnforcement": append(append(all(own, map[string]bool{"admin": true, "reviewer": true, "service": true, "owner": true}), tc{"owner", other, false}), tc{"owner", "", false}),
		"ReviewService/GetTimeline":          append(all(other, reviewers), tc{"owner", own, false}),
		"ReviewService/TakeAction":           append(all(other, reviewers), tc{"owner", own, false}),
		"ReviewService/Backtest":             all("", reviewers),
		"ReviewService/ListAppeals":          all("", reviewers),
		"ReviewService/ClaimAppeal":          all("", reviewers),
		"ReviewService/DecideAppeal":         all("", reviewers),
		"ReviewService/Reevaluate":           all("", reviewers),
		"AppealService/FileAppeal":           append(all(own, owners), tc{"owner", other, false}),
		"AppealService/GetAppeal":            append(all(own, owners), tc{"owner", other, false}),
		"AppealService/ListMyAppeals":        append(all(own, owners), tc{"owner", other, false}),
		"AppealService/WithdrawAppeal":       append(all(own, owners), tc{"owner", other, false}),
		"AdminService/MintToken":             all("", admins),
		"AdminService/RevokeToken":           all("", admins),
		"AuditService/SearchAudit":           append(all(other, reviewers), tc{"owner", own, false}),
		"AuditService/ExportAudit":           append(all("", reviewers), tc{"owner", own, false}),
		"AuditService/ExportStatements":      all("", reviewers),
		"ConsoleService/GetPolicy":           all("", reviewers),
		"ConsoleService/GetMetrics":          all("", reviewers),
	}
	if len(matrix) != len(calls) {
		t.Fatalf("matrix covers %d methods, calls %d", len(matrix), len(calls))
	}
	for method, cases := range matrix {
		var sawAllowed, sawDenied bool
		for _, c := range cases {
			t.Run(method+"/"+c.caller+"/"+c.account, func(t *testing.T) {
				err := calls[method](conns[c.caller], c.account)
				code := status.Code(err)
				denied := code == codes.PermissionDenied
				if code == codes.Unauthenticated || code == codes.InvalidArgument {
					t.Fatalf("got %v: the test's request or token is wrong", err)
				}
				if denied == c.allowed {
					t.Errorf("got %v, want allowed=%v", err, c.allowed)
				}
			})
			sawAllowed = sawAllowed || c.allowed
			sawDenied = sawDenied || !c.allowed
		}
		if !sawAllowed || !sawDenied {
			t.Errorf("%s: the matrix needs an allowed and a denied case", method)
		}
	}
}
