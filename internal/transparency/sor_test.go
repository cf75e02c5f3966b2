package transparency

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"moderation/detectors/adtext"
	"moderation/internal/moderation"
)

var update = flag.Bool("update", false, "rewrite the golden files from what the code produces")

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

// decisions are one of each kind the service makes: the policy's limit,
// suspension and closure, a reviewer's closure, and a warning and a
// restore, which restrict nothing and have no statement. Their facts
// quote what the detectors and reviewers write, contact details included.
func decisions() []*moderation.Decision {
	return []*moderation.Decision{
		{Account: "acct_bulk_new", Action: moderation.ActionLimit, DecisionID: "dec_8bc2506deeec7fd30afb4798", PolicyVersion: "embedded@1",
			At: at("2026-11-21T09:59:36Z"), Until: ptr(at("2026-11-22T09:59:36Z")), Restricts: []moderation.Capability{moderation.CapFriendAdd},
			Reasons: []moderation.Reason{{Code: "bulk_add", Detail: "100 friend requests in the last hour"}},
			Statement: moderation.Statement{Measure: "Adding friends is limited until 22 November 2026.",
				Facts:              "bulk_add: 100 friend requests in the last hour, 100 (100%) to strangers found by search or in groups, 100 distinct people; limit for accounts under 30 days: 100 to strangers in one hour",
				AutomatedDetection: true, AutomatedDecision: "fully", Ground: "Platform rules on adding friends",
				Explanation: "New accounts that add many strangers at once are how spam and scam networks start.",
				Redress:     "You can appeal.", AppealDeadline: at("2027-05-20T09:59:36Z")}},
		{Account: "acct_ring_7", Action: moderation.ActionSuspend, DecisionID: "dec_0f1e2d3c4b5a69788796a5b4", PolicyVersion: "embedded@1",
			At: at("2026-11-21T10:15:00Z"), Until: ptr(at("2026-11-28T10:15:00Z")),
			Reasons: []moderation.Reason{{Code: "destination_campaign", Detail: "ring"}},
			Statement: moderation.Statement{Measure: "Your account is suspended for 7 days.",
				Facts:              "destination_campaign: the latest broadcast sends buyers to WeChat id shop_lily88, which 6 other accounts also sent buyers to in 3 days; their broadcasts naming it read as ads with a mean score of 0.91. It also names phone 13800138000 and 加微信: lily_vip2026.",
				AutomatedDetection: true, AutomatedDecision: "fully", Ground: "Platform rules on advertising",
				Explanation: "Several accounts sending buyers to one place is an advertising ring."}},
		{Account: "acct_complained", Action: moderation.ActionLimit, DecisionID: "dec_aaaaaaaaaaaaaaaaaaaaaaaa", PolicyVersion: "embedded@1",
			At: at("2026-11-21T11:00:00Z"), Until: ptr(at("2026-11-28T11:00:00Z")), Restricts: []moderation.Capability{moderation.CapBroadcast},
			Reasons: []moderation.Reason{{Code: "complaint_rate", Detail: "complaints"}},
			Statement: moderation.Statement{Measure: "Broadcasting is limited for 7 days.",
				Facts:              "complaint_rate: 42 credible complaints on 1,200 delivered broadcasts (3.5%, at least 2.6% at 95% confidence)",
				AutomatedDetection: true, AutomatedDecision: "fully", Ground: "Platform rules on unwanted broadcasts",
				Explanation: "Followers complain about this account's broadcasts far more than about others'."}},
		{Account: "acct_scammer", Action: moderation.ActionClose, DecisionID: "dec_bbbbbbbbbbbbbbbbbbbbbbbb", PolicyVersion: moderation.ManualPolicyVersion,
			At: at("2026-11-21T12:00:00Z"), Actor: "reviewer:alice",
			Reasons: []moderation.Reason{{Code: "complaint_fraud", Detail: "fraud"}},
			Statement: moderation.Statement{Measure: "Closure of the account, decided by a reviewer.",
				Facts:             "acct_scammer asked buyers to pay a deposit to +86 138-0013-8000 or to @lily_pay, and at https://pay.example.cn/x?id=7; mail lily@example.com.",
				AutomatedDecision: "not", Ground: "Platform rules on complaint fraud",
				Explanation: "acct_scammer asked buyers to pay a deposit to +86 138-0013-8000 or to @lily_pay, and at https://pay.example.cn/x?id=7; mail lily@example.com."}},
		{Account: "acct_warned", Action: moderation.ActionWarn, DecisionID: "dec_cccccccccccccccccccccccc", At: at("2026-11-21T13:00:00Z"),
			Reasons: []moderation.Reason{{Code: "ad_content", Detail: "ads"}}},
		{Account: "acct_bulk_new", Action: moderation.ActionRestore, DecisionID: "dec_dddddddddddddddddddddddd", At: at("2026-11-21T14:00:00Z"),
			Actor: "reviewer:bob", Reasons: []moderation.Reason{{Code: "manual", Detail: "overturned"}}},
	}
}

func statementsOf(t *testing.T, ds []*moderation.Decision) Batch {
	t.Helper()
	var b Batch
	for _, d := range ds {
		if s, ok := StatementOf(d, Options{}); ok {
			b.Statements = append(b.Statements, s)
		}
	}
	return b
}

// TestStatementsGolden holds the export to a reviewed file: the API's
// field names and enumerated values, one statement per restriction.
func TestStatementsGolden(t *testing.T) {
	got, err := json.MarshalIndent(statementsOf(t, decisions()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "statements.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("statements differ from %s (run with -update after checking the change):\n%s", golden, got)
	}
}

// TestStatementsFollowTheTables: each action and rule is reported as the
// one table says, so a change to a row shows here as well as in the
// golden file.
func TestStatementsFollowTheTables(t *testing.T) {
	b := statementsOf(t, decisions())
	if len(b.Statements) != 4 {
		t.Fatalf("got %d statements, want 4: a warning and a restore restrict nothing", len(b.Statements))
	}
	limit, suspend, complained, closed := b.Statements[0], b.Statements[1], b.Statements[2], b.Statements[3]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"limit provision", limit.DecisionProvision, ProvisionPartialSuspension},
		{"limit end", limit.EndDateServiceRestriction, "2026-11-22"},
		{"limit account", limit.DecisionAccount, ""},
		{"limit category", limit.Category, CategoryScamsAndFraud},
		{"limit content", limit.ContentType[0] + "/" + limit.ContentTypeOther, ContentOther + "/Friend requests"},
		{"limit source", limit.SourceType, SourceVoluntary},
		{"limit detection", limit.AutomatedDetection, DetectionYes},
		{"limit decision", limit.AutomatedDecision, AutomatedFully},
		{"limit application", limit.ApplicationDate, "2026-11-21"},
		{"limit puid", limit.PUID, "dec_8bc2506deeec7fd30afb4798"},
		{"suspend account", suspend.DecisionAccount, AccountSuspended},
		{"suspend end", suspend.EndDateAccountRestriction, "2026-11-28"},
		{"suspend content", suspend.ContentType[0], ContentText},
		{"complaints source", complained.SourceType, SourceOtherNotification},
		{"complaints category", complained.Category, CategoryScopeOfPlatform},
		{"close account", closed.DecisionAccount, AccountTerminated},
		{"close end", closed.EndDateAccountRestriction, ""},
		{"close decision", closed.AutomatedDecision, AutomatedNot},
		{"close detection", closed.AutomatedDetection, DetectionNo},
		{"ground", closed.DecisionGround, GroundIncompatible},
		{"scope", len(closed.TerritorialScope), 27},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestExportHasNoPersonalData: the batch names no account, and none of
// the handles, numbers, links or addresses the facts quoted; what adtext
// recognises as a destination is found nowhere in it.
func TestExportHasNoPersonalData(t *testing.T) {
	ds := decisions()
	data, err := json.Marshal(statementsOf(t, ds))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	forbidden := []string{"shop_lily88", "13800138000", "138-0013-8000", "lily_vip2026", "lily_pay", "pay.example.cn", "lily@example.com", "example.com"}
	for _, d := range ds {
		forbidden = append(forbidden, d.Account)
	}
	for _, f := range forbidden {
		if strings.Contains(text, f) {
			t.Errorf("export contains %q:\n%s", f, text)
		}
	}
	var b Batch
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	for _, s := range b.Statements {
		for _, field := range []string{s.DecisionFacts, s.IncompatibleContentGround, s.IncompatibleContentExplanation} {
			if found := adtext.Destinations(adtext.NormalText(field)); len(found) > 0 {
				t.Errorf("statement %s still names %v in %q", s.PUID, found, field)
			}
		}
	}
	// The facts are redacted, not dropped: what the owner was told stays.
	if !strings.Contains(b.Statements[1].DecisionFacts, "WeChat id "+Redacted+", which 6 other accounts") {
		t.Errorf("facts lost more than the handle: %q", b.Statements[1].DecisionFacts)
	}
	if b.Statements[0].DecisionFacts != ds[0].Statement.Facts {
		t.Errorf("facts with nothing personal changed: %q", b.Statements[0].DecisionFacts)
	}
}

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"100 friend requests in the last hour, 12,345 in total since 2026-11-01", "100 friend requests in the last hour, 12,345 in total since 2026-11-01"},
		{"2 links (1 short), a phone number and a WeChat id", "2 links (1 short), a phone number and a WeChat id"},
		{"call 13800138000 now", "call " + Redacted + " now"},
		{"call +86 138 0013 8000 now", "call " + Redacted + " now"},
		{"加微信 lily_vip2026 领取", "加微信 " + Redacted + " 领取"},
		{"vx: abc_12345 please", "vx " + Redacted + " please"},
		{"QQ 12345678 and QQ group", "QQ " + Redacted + " and QQ group"},
		{"sends buyers to short link t.cn/A6xYz", "sends buyers to short link " + Redacted},
		{"sends buyers to site shop.example.com.cn", "sends buyers to site " + Redacted},
		{"write to @lily_pay or lily@example.com", "write to " + Redacted + " or " + Redacted},
		{"see https://example.org/a?b=c today", "see " + Redacted + " today"},
		{"acct_x7 sent it", "[account] sent it"},
		{"acct_x70 and acct_x7, (acct_x7)", "acct_x70 and [account], ([account])"},
	} {
		if got := Redact(c.in, "acct_x7"); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// A short id is cut where it stands alone, not out of other words.
	if got := Redact("limit: a limit on a", "a"); got != "limit: [account] limit on [account]" {
		t.Errorf("Redact with account a: %q", got)
	}
}

// TestRedactWithholdsWhatItCannotCut: a handle disguised past the
// patterns is still a destination to adtext, and the text is withheld.
func TestRedactWithholdsWhatItCannotCut(t *testing.T) {
	in := "加 V 信：ｌｉｌｙ＿ｖｉｐ"
	found := adtext.Destinations(adtext.NormalText(in))
	if len(found) == 0 {
		t.Skipf("adtext finds no destination in %q; pick another disguise", in)
	}
	if got := Redact(in, ""); got != withheld {
		t.Errorf("Redact(%q) = %q, want the text withheld", in, got)
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("字", 600)
	got := clip(long, maxGround)
	if n := len([]rune(got)); n != maxGround || !strings.HasSuffix(got, "…") {
		t.Errorf("clip: got %d characters ending %q, want %d ending …", n, got[len(got)-3:], maxGround)
	}
	if clip("short", maxGround) != "short" {
		t.Error("clip changed a short text")
	}
}

func TestValidScope(t *testing.T) {
	if err := ValidScope([]string{"DE", "NO", "IS"}); err != nil {
		t.Errorf("EU and EEA countries refused: %v", err)
	}
	err := ValidScope([]string{"DE", "CN"})
	if fe, ok := err.(*moderation.FieldError); !ok || fe.Field != "territorial_scope[1]" {
		t.Errorf("CN: got %v, want an error on territorial_scope[1]", err)
	}
}
