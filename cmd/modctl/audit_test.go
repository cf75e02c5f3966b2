package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"moderation/internal/transparency"
)

// TestAuditAndExportCommands: reviewers' actions are found by account and
// actor, exported as CSV and JSON Lines, and exported as statements of
// reasons with no account id or the phone number and WeChat id the facts
// quoted; a warning has no statement. The policy's own limit of the bulk
// adder's fixture is exported beside the reviewers' measures.
func TestAuditAndExportCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	svc := startService(t)
	api := []string{"-addr", svc.GRPCAddr, "-data-dir", os.Getenv("MODERATION_DATA_DIR")}
	cmd := func(args ...string) []string { return slices.Concat(args[:1], api, args[1:]) }

	modctl(t, ctx, cmd("action", "acct_seller", "-action", "suspend", "-duration", "72h", "-reason", "destination_campaign",
		"-detail", "Broadcasts sent buyers to WeChat id lily_vip88 and phone 13800138000.", "-note", "ticket 12")...)
	modctl(t, ctx, cmd("action", "acct_adder", "-action", "limit", "-duration", "24h", "-restricts", "friend_add", "-reason", "bulk_add",
		"-detail", "400 friend requests to strangers in one hour.", "-note", "ticket 13")...)
	modctl(t, ctx, cmd("action", "acct_mild", "-action", "warn", "-detail", "One broadcast read as an ad.", "-note", "ticket 14")...)
	// And the policy's own: the bulk adder's fixture, judged live.
	modctl(t, ctx, "replay", "-nats-url", svc.NATSURL, "../../fixtures/scenarios/bulk-adder-new-account")
	eventually(t, "the bulk adder is limited", func() (string, bool) {
		out := modctl(t, ctx, cmd("audit", "-actor", "policy", "-account", "acct_bulk_new")...)
		return out, strings.Contains(out, "limit")
	})

	t.Run("search", func(t *testing.T) {
		out := modctl(t, ctx, cmd("audit", "-account", "acct_seller")...)
		for _, want := range []string{"enforcement", "manual", "acct_seller", "suspend", "destination_campaign", "ticket 12"} {
			if !strings.Contains(out, want) {
				t.Errorf("audit -account: no %q in\n%s", want, out)
			}
		}
		if strings.Contains(out, "acct_adder") {
			t.Errorf("audit -account acct_seller lists another account:\n%s", out)
		}
		out = modctl(t, ctx, cmd("audit", "-rule", "bulk_add")...)
		if !strings.Contains(out, "acct_adder") || strings.Contains(out, "acct_seller") {
			t.Errorf("audit -rule bulk_add:\n%s", out)
		}
		if out := modctl(t, ctx, cmd("audit", "-actor", "policy")...); !strings.Contains(out, "acct_bulk_new") || strings.Contains(out, "acct_seller") {
			t.Errorf("audit -actor policy: got\n%s", out)
		}
		if out := modctl(t, ctx, cmd("audit", "-actor", "nobody")...); !strings.Contains(out, "no records match") {
			t.Errorf("audit -actor nobody: got\n%s", out)
		}
		out = modctl(t, ctx, cmd("audit", "-limit", "2")...)
		if !strings.Contains(out, "the next page is -from") {
			t.Errorf("audit -limit 2 does not say where the next page starts:\n%s", out)
		}
	})

	t.Run("export csv and jsonl", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "audit.csv")
		modctl(t, ctx, cmd("audit", "-format", "csv", "-since", "1h", "-out", file)...)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		// Three manual decisions, their three records, and the policy's
		// warning and limit.
		if len(rows) != 9 || strings.Join(rows[0], ",") != strings.Join(transparency.CSVHeader, ",") {
			t.Errorf("csv: got %d rows: %q", len(rows), rows)
		}
		out := modctl(t, ctx, cmd("audit", "-format", "jsonl", "-since", "1h", "-kind", "manual")...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 {
			t.Fatalf("jsonl: got %d lines, want 3:\n%s", len(lines), out)
		}
		var e transparency.Entry
		if err := json.Unmarshal([]byte(lines[2]), &e); err != nil || e.Account != "acct_mild" || !strings.Contains(string(e.Record), "ticket 14") {
			t.Errorf("jsonl entry: %+v, %v", e, err)
		}
	})

	t.Run("export sor", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "sor.json")
		var out, errOut bytes.Buffer
		if err := run(ctx, cmd("export", "sor", "-since", "1h", "-out", file), &out, &errOut); err != nil {
			t.Fatalf("export sor: %v\n%s", err, errOut.String())
		}
		if !strings.Contains(errOut.String(), "exported 3 statements of reasons in 1 batch to "+file+"; 2 decisions without one") {
			t.Errorf("export sor said:\n%s", errOut.String())
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var b transparency.Batch
		if err := json.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		if len(b.Statements) != 3 || b.Statements[0].DecisionAccount != transparency.AccountSuspended ||
			b.Statements[1].DecisionProvision != transparency.ProvisionPartialSuspension || b.Statements[0].AutomatedDecision != transparency.AutomatedNot {
			t.Fatalf("statements: %s", data)
		}
		// The policy's limit: automated, its facts as the owner read them.
		policy := b.Statements[2]
		if policy.AutomatedDecision != transparency.AutomatedFully || policy.AutomatedDetection != transparency.DetectionYes ||
			policy.Category != transparency.CategoryScamsAndFraud || policy.ContentTypeOther != "Friend requests" ||
			!strings.HasPrefix(policy.DecisionFacts, "100 friend requests in the last hour") || strings.Contains(policy.DecisionFacts, transparency.Redacted) {
			t.Errorf("the policy's statement: %+v", policy)
		}
		for _, bad := range []string{"acct_seller", "acct_adder", "acct_mild", "acct_bulk_new", "lily_vip88", "13800138000", "ticket"} {
			if strings.Contains(string(data), bad) {
				t.Errorf("the export contains %q:\n%s", bad, data)
			}
		}
		if !strings.Contains(b.Statements[0].DecisionFacts, "WeChat id "+transparency.Redacted) {
			t.Errorf("facts: %q", b.Statements[0].DecisionFacts)
		}
	})
}

// TestAuditUsageErrors are mistakes caught before any call.
func TestAuditUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"audit", "acct_1"},
		{"audit", "-format", "xml"},
		{"audit", "-format", "csv"},
		{"audit", "-out", "x.csv"},
		{"audit", "-limit", "0"},
		{"audit", "-since", "last tuesday"},
		{"export"},
		{"export", "statements"},
		{"export", "sor"},
		{"export", "sor", "-since", "yesterday"},
		{"export", "sor", "-since", "1h", "extra"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append(args, "-addr", "127.0.0.1:1"), &out, &errOut)
		if err == nil || status.Code(err) == codes.Unavailable {
			t.Errorf("modctl %v: got %v, want a usage error", args, err)
		}
	}
}
