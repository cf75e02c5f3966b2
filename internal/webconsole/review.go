package webconsole

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
)

// The manual review queue: accounts a rule flagged for a person.
//
// No rule of the policy says "for review" yet, so the queue is the accounts
// measured by the rules that judge coordinated behaviour, whose evidence is
// other accounts (a ring sending buyers to the same handles, young accounts
// adding from one pool of targets, one campaign's texts): one account's
// own conduct may be ordinary, and a person should look at what it was
// grouped with. ringRules is that choice, in one place.
var ringRules = []string{"destination_campaign", "shared_targets", "campaign"}

// Brigades are the other kind of work item: reporters who complained
// together about several accounts. Their complaints are discounted, so
// nobody is measured; the pipeline records each brigade against an account
// (audit records of kind brigade, one an account per complaint window and
// another each time the brigade doubles), and a
// person looks at the reporters and whom else they hit. The reporters are
// named here, to reviewers only.
const brigadeKind = "brigade"

// reviewWindows are the choices of how far back the queue looks.
var reviewWindows = []string{"24h", "72h", "168h", "720h"}

func (c *Console) reviewRoutes() {
	c.handle("GET /review", c.reviewPage)
	c.handle("POST /review/lift", c.reviewLift)
}

// flagged is one account in the manual review queue: its latest measure by
// a ring rule in the window, and its status now.
type flagged struct {
	Account, Rule, Action, Summary, DecisionID, Facts string
	At                                                *timestamppb.Timestamp
	Measures                                          int // measures by ring rules in the window
	Status                                            string
	InForce                                           bool
}

// brigade is one account a brigade complained about: its latest record in
// the window.
type brigade struct {
	Account    string
	At         *timestamppb.Timestamp
	Records    int // records in the window: a new one each time the brigade doubled
	Complaints float64
	// The reporters and the other accounts they complained about, at most
	// ten of each; MoreReporters and MoreTargets are those left out.
	Reporters, Targets         []string
	MoreReporters, MoreTargets int
	Status                     string
}

type reviewData struct {
	Now      time.Time
	Window   string
	Windows  []string
	All      bool // also accounts no longer under a measure
	Accounts []flagged
	Brigades []brigade // oldest first; listed whatever the accounts' status
	Shown    int
	Selected string
	Partial  bool // a search stopped at its scan limit: older records were not read
	// LiftDetail starts what the owner reads when a measure is lifted.
	LiftDetail string
}

// reviewPage lists the flagged accounts, oldest first: one SearchAudit call
// per ring rule and one BatchCheck for their status now.
func (c *Console) reviewPage(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx, cancel := apiContext(r)
	defer cancel()
	q := r.URL.Query()
	window := q.Get("window")
	if !slices.Contains(reviewWindows, window) {
		window = "168h"
	}
	d, _ := time.ParseDuration(window)
	data := reviewData{Now: c.now(), Window: window, Windows: reviewWindows, All: q.Get("all") == "1", Selected: q.Get("sel"), LiftDetail: liftDetail}
	byAccount := map[string]*flagged{}
	for _, rule := range ringRules {
		resp, err := c.audit.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Kind: "enforcement", Rule: rule,
			Since: timestamppb.New(data.Now.Add(-d)), Limit: 1000}, s.creds())
		if err != nil {
			c.apiError(w, r, s, err)
			return
		}
		data.Partial = data.Partial || resp.GetNextSequence() != 0
		for _, e := range resp.GetEntries() { // oldest first: the last one wins
			f := byAccount[e.GetAccount()]
			if f == nil {
				f = &flagged{Account: e.GetAccount()}
				byAccount[e.GetAccount()] = f
			}
			if f.At == nil || !e.GetTime().AsTime().Before(f.At.AsTime()) {
				f.Rule, f.Action, f.Summary, f.DecisionID, f.At = e.GetRule(), e.GetAction(), e.GetSummary(), e.GetDecisionId(), e.GetTime()
				f.Facts = facts(e.GetRecordJson())
			}
			f.Measures++
		}
	}
	accounts := make([]*flagged, 0, len(byAccount))
	for _, f := range byAccount {
		accounts = append(accounts, f)
	}
	slices.SortFunc(accounts, func(a, b *flagged) int {
		return cmp.Or(a.At.AsTime().Compare(b.At.AsTime()), strings.Compare(a.Account, b.Account))
	})
	brigades, partial, err := c.brigades(ctx, s, data.Now.Add(-d))
	if err != nil {
		c.apiError(w, r, s, err)
		return
	}
	data.Partial = data.Partial || partial
	// Their status now.
	names := make([]string, 0, len(accounts)+len(brigades))
	for _, f := range accounts {
		names = append(names, f.Account)
	}
	for _, b := range brigades {
		names = append(names, b.Account)
	}
	status, err := c.statusNow(ctx, s, names)
	if err != nil {
		c.apiError(w, r, s, err)
		return
	}
	for _, f := range accounts {
		st := status[f.Account]
		f.Status = lowerEnum(st.String(), "STATUS_")
		f.InForce = st != moderationv1.Status_STATUS_ACTIVE
		if f.InForce || data.All {
			data.Accounts = append(data.Accounts, *f)
		}
	}
	for _, b := range brigades {
		b.Status = lowerEnum(status[b.Account].String(), "STATUS_")
		data.Brigades = append(data.Brigades, *b)
	}
	if data.Selected == "" && len(data.Accounts) > 0 {
		data.Selected = data.Accounts[0].Account
	}
	c.render(w, r, s, "review", data)
}

// statusNow is each account's status now, in BatchCheck calls of up to
// 1000 accounts.
func (c *Console) statusNow(ctx context.Context, s *Session, accounts []string) (map[string]moderationv1.Status, error) {
	out := make(map[string]moderationv1.Status, len(accounts))
	for from := 0; from < len(accounts); from += 1000 {
		batch := accounts[from:min(from+1000, len(accounts))]
		req := &moderationv1.BatchCheckRequest{}
		for _, a := range batch {
			req.Checks = append(req.Checks, &moderationv1.CheckRequest{Account: a})
		}
		resp, err := c.moderation.BatchCheck(ctx, req, s.creds())
		if err != nil {
			return nil, err
		}
		for i, res := range resp.GetResults() {
			out[batch[i]] = res.GetStatus()
		}
	}
	return out, nil
}

// brigades lists the accounts a brigade complained about since the time
// given, oldest first, each with its latest record; partial when the
// search stopped at its scan limit.
func (c *Console) brigades(ctx context.Context, s *Session, since time.Time) (out []*brigade, partial bool, err error) {
	resp, err := c.audit.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Kind: brigadeKind, Since: timestamppb.New(since), Limit: 1000}, s.creds())
	if err != nil {
		return nil, false, err
	}
	byAccount := map[string]*brigade{}
	for _, e := range resp.GetEntries() { // oldest first: the last one wins
		var rec struct {
			Complaints    float64  `json:"complaints"`
			ReporterCount float64  `json:"reporter_count"`
			Reporters     []string `json:"reporters"`
			Targets       []string `json:"targets"`
			TargetCount   float64  `json:"target_count"`
		}
		if json.Unmarshal([]byte(e.GetRecordJson()), &rec) != nil {
			continue
		}
		b := byAccount[e.GetAccount()]
		if b == nil {
			b = &brigade{Account: e.GetAccount()}
			byAccount[e.GetAccount()] = b
			out = append(out, b)
		}
		b.Records++
		b.At, b.Complaints, b.Reporters, b.Targets = e.GetTime(), rec.Complaints, rec.Reporters, rec.Targets
		b.MoreReporters = max(int(rec.ReporterCount)-len(rec.Reporters), 0)
		b.MoreTargets = max(int(rec.TargetCount)-len(rec.Targets), 0)
	}
	slices.SortFunc(out, func(a, b *brigade) int {
		return cmp.Or(a.At.AsTime().Compare(b.At.AsTime()), strings.Compare(a.Account, b.Account))
	})
	return out, resp.GetNextSequence() != 0, nil
}

// facts is the statement of reasons' facts from a decision record, as the
// owner read them; "" if the record does not carry them.
func facts(record string) string {
	var d struct {
		Statement struct {
			Facts string `json:"facts"`
		} `json:"statement"`
	}
	if json.Unmarshal([]byte(record), &d) != nil {
		return ""
	}
	return d.Statement.Facts
}

// liftDetail is what the owner reads when a reviewer lifts a ring rule's
// measure; the reviewer may change it.
const liftDetail = "A reviewer looked at the accounts this account was grouped with and found that it acted on its own. The measure is lifted."

// reviewLift lifts the measure on an account with a note: a manual restore
// through TakeAction, audited with the reviewer as actor.
func (c *Console) reviewLift(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx, cancel := apiContext(r)
	defer cancel()
	account := r.PostFormValue("account")
	back := reviewURL(r.PostFormValue("window"), r.PostFormValue("all") == "1", account)
	_, err := c.review.TakeAction(ctx, &moderationv1.TakeActionRequest{Account: account, Action: moderationv1.Action_ACTION_RESTORE,
		Detail: strings.TrimSpace(r.PostFormValue("detail")), Note: strings.TrimSpace(r.PostFormValue("note"))}, s.creds())
	if err != nil {
		c.actionError(w, r, s, err, back)
		return
	}
	s.Flash("Lifted the measure on " + account + ".")
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func reviewURL(window string, all bool, sel string) string {
	v := url.Values{}
	if window != "" {
		v.Set("window", window)
	}
	if all {
		v.Set("all", "1")
	}
	if sel != "" {
		v.Set("sel", sel)
	}
	if len(v) == 0 {
		return "/review"
	}
	return "/review?" + v.Encode()
}
