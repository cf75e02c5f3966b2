package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/judge"
	"moderation/policies"
)

// TestAppealCommands takes an appeal through the queue against a real
// service: a reviewer suspends an account, its owner appeals through the
// API, and another reviewer lists, claims and overturns it with modctl,
// after which the account is allowed again. Then the suspensions left are
// re-evaluated, by policy version and from a policy directory.
func TestAppealCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	svc := startService(t)
	const account = "acct_appealer"
	// An operator on the service's host, with a token modctl mints from
	// the key (an admin's, subject modctl:<user>) ...
	api := []string{"-addr", svc.GRPCAddr, "-data-dir", os.Getenv("MODERATION_DATA_DIR")}
	asOperator := func(args ...string) []string { return slices.Concat(args, api) }
	// ... and a reviewer who took no action, with a token of their own:
	// whoever suspended the account may not review its appeal.
	carol, err := svc.Token(auth.Identity{Subject: "carol", Role: auth.RoleReviewer}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	asCarol := func(args ...string) []string { return slices.Concat(args, api, []string{"-token", carol}) }

	var suspended struct {
		DecisionID string `json:"decisionId"`
	}
	out := modctl(t, ctx, asOperator("action", account, "-action", "suspend", "-duration", "72h", "-reason", "spam", "-json",
		"-detail", "Sent the same link to 500 strangers in an hour.", "-note", "Ticket 51.")...)
	if err := json.Unmarshal([]byte(out), &suspended); err != nil || suspended.DecisionID == "" {
		t.Fatalf("action -json: got no decision id (%v):\n%s", err, out)
	}
	// A second suspension stays in force, for reevaluate to consider.
	modctl(t, ctx, asOperator("action", "acct_left_suspended", "-action", "suspend", "-reason", "spam", "-detail", "x", "-note", "Ticket 52.")...)

	appeal := fileAppeal(t, ctx, svc.GRPCAddr, svc.Token, account, suspended.DecisionID)

	t.Run("the queue lists it", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want []string
		}{
			{"filed, by default", asCarol("appeals"), []string{"1 appeal (1 filed), the oldest filed <1m ago; by action: 1 suspend; by rule: 1 spam",
				"appeal", "filed", "age", "account", "type", "rule", "action", "state", "reviewer", appeal.AppealId, account}},
			{"filtered by rule", asCarol("appeals", "-rule", "spam", "-limit", "1"), []string{appeal.AppealId}},
			{"another rule", asCarol("appeals", "-rule", "bulk_add"), []string{"no filed appeals"}},
			{"filed too recently", asCarol("appeals", "-min-age", "1h"), []string{"no filed appeals"}},
			{"another state", asCarol("appeals", "-state", "in_review"), []string{"no in review appeals"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := modctl(t, ctx, tc.args...)
				for _, want := range tc.want {
					if !strings.Contains(out, want) {
						t.Errorf("output lacks %q:\n%s", want, out)
					}
				}
			})
		}
	})

	t.Run("the reviewer who suspended may not claim it", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := run(ctx, asOperator("appeals", "claim", appeal.AppealId), &out, &errOut)
		if got := status.Code(err); got != codes.PermissionDenied || !strings.Contains(err.Error(), "another reviewer") {
			t.Errorf("got %v (%v), want PermissionDenied saying another reviewer must review it", got, err)
		}
	})

	t.Run("another reviewer claims it", func(t *testing.T) {
		out := modctl(t, ctx, asCarol("appeals", "claim", appeal.AppealId)...)
		for _, want := range []string{"appeal         " + appeal.AppealId, "state          in review", "decision       " + suspended.DecisionID,
			"reviewer       reviewer:carol", "lease ends", "decide before then", "statement      I posted my own shop's link once, to my own followers.",
			"evidence       https://example.com/proof/1\n               https://example.com/proof/2"} {
			if !strings.Contains(out, want) {
				t.Errorf("claim output lacks %q:\n%s", want, out)
			}
		}
		// Claiming again extends the lease.
		o := parseJSON(t, modctl(t, ctx, asCarol("appeals", "claim", appeal.AppealId, "-json")...), false)[0]
		if o["state"] != "APPEAL_STATE_IN_REVIEW" || o["reviewer"] != "reviewer:carol" || o["leaseUntil"] == nil {
			t.Errorf("claim -json: got %v, want in review by reviewer:carol with a lease", o)
		}
		out = modctl(t, ctx, asCarol("appeals", "-state", "in_review")...)
		if !strings.Contains(out, appeal.AppealId) || !strings.Contains(out, "reviewer:carol") {
			t.Errorf("appeals -state in_review lacks the claimed appeal:\n%s", out)
		}
	})

	t.Run("the reviewer overturns it and the account is allowed", func(t *testing.T) {
		out := modctl(t, ctx, asCarol("appeals", "decide", appeal.AppealId, "-outcome", "overturn", "-reply", "The link was to your own shop; the suspension is lifted.")...)
		for _, want := range []string{"state          overturned", "closed", "reply          The link was to your own shop"} {
			if !strings.Contains(out, want) {
				t.Errorf("decide output lacks %q:\n%s", want, out)
			}
		}
		eventually(t, "check says allowed", func() (string, bool) {
			out := modctl(t, ctx, asOperator("check", account)...)
			return out, strings.Contains(out, "allowed   yes")
		})
		objs := parseJSON(t, modctl(t, ctx, asCarol("appeals", "-state", "overturned", "-json")...), true)
		if len(objs) != 1 || objs[0]["appealId"] != appeal.AppealId || objs[0]["state"] != "APPEAL_STATE_OVERTURNED" {
			t.Errorf("appeals -state overturned -json: got %v, want the one overturned appeal", objs)
		}
	})

	embedded, err := judge.Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("reevaluate", func(t *testing.T) {
		for _, tc := range []struct {
			name, policy string
			args         []string
			wantVersion  string // prefix
		}{
			{"a version the service runs", embedded.Version, []string{"-dry-run"}, embedded.Version},
			{"a policy directory, with its tests", "../../policies", []string{"-dry-run", "-closed-since", "24h"}, "reevaluate@"},
			{"applied, with a note", "../../policies", []string{"-note", "Ticket 53: rules changed."}, "reevaluate@"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// Only the suspension a person took is left, and
				// reevaluate leaves those to people: considered, skipped.
				var out, errOut bytes.Buffer
				if err := run(ctx, asCarol(slices.Concat([]string{"reevaluate", "-policy", tc.policy}, tc.args)...), &out, &errOut); err != nil {
					t.Fatalf("reevaluate: %v\n%s", err, errOut.String())
				}
				verb := "would be restored"
				if !slices.Contains(tc.args, "-dry-run") {
					verb = "restored"
				}
				for _, want := range []string{"policy " + tc.wantVersion, ": 1 suspended or closed account considered, 1 skipped", "0 accounts " + verb} {
					if !strings.Contains(out.String(), want) {
						t.Errorf("output lacks %q:\n%s", want, out.String())
					}
				}
				if !strings.Contains(errOut.String(), "reevaluate [") || !strings.Contains(errOut.String(), "100%") {
					t.Errorf("stderr lacks the finished progress bar:\n%s", errOut.String())
				}

				o := parseJSON(t, modctl(t, ctx, asCarol(slices.Concat([]string{"reevaluate", "-policy", tc.policy, "-json"}, tc.args)...)...), false)[0]
				// protojson writes int32 as numbers and leaves empty lists out.
				if v, _ := o["policyVersion"].(string); !strings.HasPrefix(v, tc.wantVersion) || o["considered"] != 1.0 || o["skipped"] != 1.0 || o["restored"] != nil {
					t.Errorf("reevaluate -json: got %v, want policy %s*, 1 considered, 1 skipped, none restored", o, tc.wantVersion)
				}
			})
		}
	})
}

// fileAppeal files an appeal as the account's owner, through the API as
// the platform's app does, once the decision is readable.
func fileAppeal(t *testing.T, ctx context.Context, addr string, mint func(auth.Identity, time.Duration) (string, error), account, decisionID string) *moderationv1.Appeal {
	t.Helper()
	token, err := mint(auth.Identity{Subject: "bob", Role: auth.RoleOwner, Account: account}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	req := &moderationv1.FileAppealRequest{Account: account, DecisionId: decisionID,
		Statement:    "I posted my own shop's link once, to my own followers.",
		EvidenceUrls: []string{"https://example.com/proof/1", "https://example.com/proof/2"}}
	var a *moderationv1.Appeal
	eventually(t, "the owner files an appeal", func() (string, bool) {
		// The decision is published as the action returns, but read back
		// from the stream: until it is there the answer is NotFound.
		a, err = moderationv1.NewAppealServiceClient(conn).FileAppeal(ctx, req)
		if status.Code(err) != codes.NotFound && err != nil {
			t.Fatalf("file appeal: %v", err)
		}
		return status.Convert(err).Message(), err == nil
	})
	return a
}

// TestAppealUsageErrors are mistakes caught before any call: no service
// runs at the address given, and each must fail without trying it.
func TestAppealUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"appeals", "-state", "pending"}, "-state"},
		{[]string{"appeals", "-limit", "0"}, "-limit"},
		{[]string{"appeals", "-min-age", "-1h"}, "-min-age"},
		{[]string{"appeals", "apl_1"}, "claim and decide come first"},
		{[]string{"appeals", "claim"}, "APPEAL_ID"},
		{[]string{"appeals", "claim", "apl_1", "apl_2"}, "APPEAL_ID"},
		{[]string{"appeals", "decide", "apl_1", "-reply", "x"}, "-outcome"},
		{[]string{"appeals", "decide", "apl_1", "-outcome", "reverse", "-reply", "x"}, "-outcome"},
		{[]string{"appeals", "decide", "apl_1", "-outcome", "uphold"}, "-reply"},
		{[]string{"appeals", "decide", "apl_1", "-outcome", "modify", "-reply", "x"}, "-action"},
		{[]string{"appeals", "decide", "apl_1", "-outcome", "modify", "-reply", "x", "-action", "close"}, "-action"},
		{[]string{"appeals", "decide", "apl_1", "-outcome", "modify", "-reply", "x", "-action", "warn", "-duration", "-1h"}, "-duration"},
		{[]string{"appeals", "decide", "apl_1", "-outcome", "overturn", "-reply", "x", "-action", "warn"}, "modify only"},
		{[]string{"reevaluate"}, "-policy"},
		{[]string{"reevaluate", "-policy", "embedded@c40678f3a321"}, "-note"},
		{[]string{"reevaluate", "-policy", "embedded@c40678f3a321", "-note", " "}, "-note"},
		{[]string{"reevaluate", "-policy", "embedded@c40678f3a321", "-dry-run", "extra"}, "no arguments"},
		{[]string{"reevaluate", "-policy", "./no/such/dir", "-dry-run"}, "no directory"},
		{[]string{"reevaluate", "-policy", "appeals.go", "-dry-run"}, "is a file"},
		{[]string{"reevaluate", "-policy", t.TempDir(), "-dry-run"}, "no Rego modules"},
		{[]string{"reevaluate", "-policy", "embedded@c40678f3a321", "-dry-run", "-closed-since", "last week"}, "-closed-since"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append(tc.args, "-addr", "127.0.0.1:1"), &out, &errOut)
		if err == nil || status.Code(err) == codes.Unavailable || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("modctl %v: got %v, want a usage error naming %q", tc.args, err, tc.want)
		}
	}
}

// TestPrintAppealsAndReevaluation renders what the service tests above
// cannot reach cheaply: a queue of several appeals, and accounts restored.
func TestPrintAppealsAndReevaluation(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) *timestamppb.Timestamp { return timestamppb.New(now.Add(-ago)) }
	var out bytes.Buffer
	printAppeals(&out, "filed", []*moderationv1.Appeal{
		{AppealId: "apl_b", FiledAt: at(90 * time.Minute), Account: "acct_b", AccountType: "personal", Rule: "bulk_add",
			Action: moderationv1.Action_ACTION_LIMIT, State: moderationv1.AppealState_APPEAL_STATE_FILED},
		{AppealId: "apl_a", FiledAt: at(50 * time.Hour), Account: "acct_a", AccountType: "service", Rule: "ad_content",
			Action: moderationv1.Action_ACTION_SUSPEND, State: moderationv1.AppealState_APPEAL_STATE_IN_REVIEW, Reviewer: "reviewer:carol"},
		{AppealId: "apl_c", FiledAt: at(5 * time.Minute), Account: "acct_c", Rule: "bulk_add",
			Action: moderationv1.Action_ACTION_LIMIT, State: moderationv1.AppealState_APPEAL_STATE_FILED},
	}, now)
	want := `3 appeals (2 filed, 1 in review), the oldest filed 2d02h ago; by action: 2 limit, 1 suspend; by rule: 2 bulk_add, 1 ad_content

appeal  filed                 age    account  type      rule        action   state      reviewer
------  --------------------  -----  -------  --------  ----------  -------  ---------  --------------
apl_a   2026-03-08T10:00:00Z  2d02h  acct_a   service   ad_content  suspend  in review  reviewer:carol
apl_b   2026-03-10T10:30:00Z  1h30m  acct_b   personal  bulk_add    limit    filed
apl_c   2026-03-10T11:55:00Z  5m     acct_c             bulk_add    limit    filed
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("appeals table (-want +got):\n%s", diff)
	}

	res := &moderationv1.ReevaluateResponse{PolicyVersion: "live@1234", Considered: 3, Skipped: 1, BatchId: "batch_42", Restored: []*moderationv1.Reevaluation{
		{Account: "acct_a", DecisionId: "dec_a", Was: moderationv1.Action_ACTION_SUSPEND, Why: "policy live@1234 takes no measure on the recorded signals"},
		{Account: "acct_b", DecisionId: "dec_b", Was: moderationv1.Action_ACTION_CLOSE, Would: moderationv1.Action_ACTION_WARN, Why: "policy live@1234 would only warn: 40 adds in 1h"},
	}}
	for _, tc := range []struct {
		name   string
		dryRun bool
		want   string
	}{
		{"dry run", true, "dry run: 2 accounts would be restored\n"},
		{"applied", false, "2 accounts restored in batch batch_42\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			printReevaluation(&out, res, tc.dryRun)
			want := "policy live@1234: 3 suspended or closed accounts considered, 1 skipped (a person suspended or closed them)\n" + tc.want + `
account  decision  was      would  why
-------  --------  -------  -----  ---------------------------------------------------------
acct_a   dec_a     suspend  allow  policy live@1234 takes no measure on the recorded signals
acct_b   dec_b     close    warn   policy live@1234 would only warn: 40 adds in 1h
`
			if diff := cmp.Diff(want, out.String()); diff != "" {
				t.Errorf("reevaluation (-want +got):\n%s", diff)
			}
		})
	}
}
