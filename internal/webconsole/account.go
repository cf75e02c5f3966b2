package webconsole

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/detectors/adtext"
)

const (
	// accountEvents is how many of the account's latest events the page
	// reads: the API's most.
	accountEvents = 1000
	// timelineRows bounds the timeline shown, newest first.
	timelineRows = 300
	// evidenceTexts is how many of the latest broadcasts are shown as
	// evidence.
	evidenceTexts = 20
)

func (c *Console) accountRoutes() {
	c.handle("GET /accounts", c.accountFind)
	c.handle("GET /accounts/{account}", c.accountPage)
	c.handle("POST /accounts/{account}/action", c.accountAction)
}

var accountID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// accountFind opens the account named in ?account=, or asks for one.
func (c *Console) accountFind(w http.ResponseWriter, r *http.Request, s *Session) {
	if a := strings.TrimSpace(r.URL.Query().Get("account")); a != "" {
		http.Redirect(w, r, "/accounts/"+url.PathEscape(a), http.StatusSeeOther)
		return
	}
	c.render(w, r, s, "account", accountData{})
}

// timelineItem is one line of the merged timeline.
type timelineItem struct {
	At     time.Time
	Kind   string // event, decision, appeal, audit
	What   string
	Detail string
	// Count and From: a run of Count events of one kind, from From to At.
	Count int
	From  time.Time
}

// compact folds runs of events of one kind (newest first) into a line
// each, with the first few details: a burst of 260 friend requests is one
// line of the story, not 260.
func compact(items []timelineItem) []timelineItem {
	const examples = 3
	var out []timelineItem
	for _, it := range items {
		if n := len(out); n > 0 && it.Kind == "event" && out[n-1].Kind == "event" && out[n-1].What == it.What {
			last := &out[n-1]
			last.Count++
			last.From = it.At
			if last.Count <= examples {
				last.Detail += "; " + it.Detail
			} else if last.Count == examples+1 {
				last.Detail += "; …"
			}
			continue
		}
		it.Count, it.From = 1, it.At
		out = append(out, it)
	}
	return out
}

// evidenceText is a broadcast as sent and as its reader sees it.
type evidenceText struct {
	At           time.Time
	ID           string
	Sent, Normal string
	Undone       []string // what normalisation undid
	Destinations []adtext.Destination
	Features     string
	Score        float64
}

// linked is an account another one is linked to, and how.
type linked struct {
	Account, How string
}

type accountData struct {
	Account    string
	Now        time.Time
	Current    *moderationv1.CheckResponse
	Statement  *moderationv1.Statement // of the decision in force, as the owner reads it
	Decision   *moderationv1.Decision
	Kind       accountKind
	Signals    []*moderationv1.Signal
	Timeline   []timelineItem
	Events     int
	Charts     []chart
	Texts      []evidenceText
	Targets    []string // friend-request targets, latest first
	TargetsAll int
	Reporters  []string // who complained
	Links      []*moderationv1.Signal
	Linked     []linked
	Policy     string
	AuditNote  string // why audit records are missing, if they are
	Actions    []string
}

// accountPage is everything known about an account: its status and the
// statement its owner read, a timeline, charts of what the detectors
// counted, the evidence, linked accounts and the manual action form.
func (c *Console) accountPage(w http.ResponseWriter, r *http.Request, s *Session) {
	account := r.PathValue("account")
	ctx, cancel := apiContext(r)
	defer cancel()
	tl, err := c.review.GetTimeline(ctx, &moderationv1.GetTimelineRequest{Account: account, Limit: accountEvents}, s.creds())
	if err != nil {
		c.apiError(w, r, s, err)
		return
	}
	now := c.now()
	d := accountData{Account: account, Now: now, Current: tl.GetCurrent(), Signals: tl.GetSignals(), Events: len(tl.GetEvents()),
		Kind: kindOf(tl.GetEvents()), Actions: []string{"warn", "limit", "suspend", "close", "restore"}}
	// The statement exactly as the owner's API gives it: the same call.
	if id := tl.GetCurrent().GetDecisionId(); id != "" {
		dec, err := c.moderation.GetDecision(ctx, &moderationv1.GetDecisionRequest{Account: account, DecisionId: id}, s.creds())
		if err != nil {
			c.apiError(w, r, s, err)
			return
		}
		d.Decision, d.Statement = dec, dec.GetStatement()
	}
	pol, err := c.console.GetPolicy(ctx, &moderationv1.GetPolicyRequest{}, s.creds())
	if err != nil {
		c.apiError(w, r, s, err)
		return
	}
	d.Policy = pol.GetLiveVersion()
	d.Charts = accountCharts(tl.GetEvents(), parseConfig(pol.GetFiles()["data.json"]), d.Kind, now)

	d.Timeline = timelineOf(tl)
	audit, err := c.audit.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Account: account, Limit: 1000}, s.creds())
	if err != nil {
		d.AuditNote = "The audit trail could not be read: " + err.Error()
	} else {
		for _, e := range audit.GetEntries() {
			if e.GetKind() == "enforcement" {
				continue // the decisions themselves are listed already
			}
			d.Timeline = append(d.Timeline, timelineItem{At: e.GetTime().AsTime(), Kind: "audit", What: e.GetKind() + " " + e.GetAction(),
				Detail: strings.TrimSpace(e.GetActor() + " " + e.GetSummary())})
		}
		if audit.GetNextSequence() != 0 {
			d.AuditNote = "Only the first 1,000 audit records are shown; the Audit page has the rest."
		}
	}
	slices.SortStableFunc(d.Timeline, func(a, b timelineItem) int { return b.At.Compare(a.At) })
	d.Timeline = compact(d.Timeline)
	if len(d.Timeline) > timelineRows {
		d.Timeline = d.Timeline[:timelineRows]
	}
	d.Texts, d.Targets, d.TargetsAll, d.Reporters = evidenceOf(tl.GetEvents())
	d.Links, d.Linked = linksOf(tl.GetSignals(), account)
	d.Linked = append(d.Linked, c.sameSource(r, s, tl.GetSignals(), account, d.Linked)...)
	c.render(w, r, s, "account", d)
}

// timelineOf merges the account's events, decisions and appeals.
func timelineOf(tl *moderationv1.Timeline) []timelineItem {
	var out []timelineItem
	for _, te := range tl.GetEvents() {
		e := te.GetEvent()
		it := timelineItem{At: e.GetAt().AsTime(), Kind: "event", What: e.GetKind()}
		switch b := e.GetBody().(type) {
		case *moderationv1.Event_FriendAdd:
			it.Detail = "to " + b.FriendAdd.GetTarget()
			if src := b.FriendAdd.GetSource(); src != "" {
				it.Detail += " via " + src
			}
		case *moderationv1.Event_Broadcast:
			it.Detail = fmt.Sprintf("to %d recipients: %s", b.Broadcast.GetRecipients(), clip(b.Broadcast.GetText(), 120))
		case *moderationv1.Event_Complaint:
			it.Detail = "by " + b.Complaint.GetReporter() + " (" + b.Complaint.GetReason() + ")"
		case *moderationv1.Event_Unfollow:
			it.Detail = "by " + b.Unfollow.GetFollower()
		case *moderationv1.Event_FriendResponse:
			it.Detail = b.FriendResponse.GetTarget() + " " + b.FriendResponse.GetResponse()
		}
		out = append(out, it)
	}
	for _, dec := range tl.GetDecisions() {
		var why []string
		for _, r := range dec.GetReasons() {
			why = append(why, r.GetCode()+": "+r.GetDetail())
		}
		out = append(out, timelineItem{At: dec.GetAt().AsTime(), Kind: "decision",
			What:   actionWord(dec.GetAction()) + " (" + cmp.Or(dec.GetActor(), dec.GetPolicyVersion()) + ")",
			Detail: strings.Join(why, "; ")})
	}
	for _, a := range tl.GetAppeals() {
		out = append(out, timelineItem{At: a.GetFiledAt().AsTime(), Kind: "appeal", What: "appeal " + a.GetAppealId() + " filed",
			Detail: clip(a.GetStatement(), 200)})
		if a.GetClosedAt() != nil {
			out = append(out, timelineItem{At: a.GetClosedAt().AsTime(), Kind: "appeal",
				What:   "appeal " + a.GetAppealId() + " " + lowerEnum(a.GetState().String(), "APPEAL_STATE_"),
				Detail: strings.TrimSpace(a.GetReviewer() + ": " + clip(a.GetReply(), 200))})
		}
	}
	return out
}

func actionWord(a moderationv1.Action) string { return lowerEnum(a.String(), "ACTION_") }

func lowerEnum(s, prefix string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s, prefix)), "_", " ")
}

// clip shortens s to n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// evidenceOf lists the latest broadcasts as sent and as normalised, with
// the destinations and ad features found, and the friend-request targets
// and complainants.
func evidenceOf(evs []*moderationv1.TimelineEvent) (texts []evidenceText, targets []string, allTargets int, reporters []string) {
	model := adtext.Default()
	seenT, seenR := map[string]bool{}, map[string]bool{}
	for _, te := range slices.Backward(evs) {
		e := te.GetEvent()
		switch b := e.GetBody().(type) {
		case *moderationv1.Event_Broadcast:
			if len(texts) < evidenceTexts {
				n := adtext.Normalize(b.Broadcast.GetText())
				score, f := model.Analyze(b.Broadcast.GetText())
				texts = append(texts, evidenceText{At: e.GetAt().AsTime(), ID: b.Broadcast.GetId(), Sent: b.Broadcast.GetText(),
					Normal: n.Text, Undone: n.Found, Destinations: adtext.Destinations(n.Text), Features: f.Explain(), Score: score})
			}
		case *moderationv1.Event_FriendAdd:
			if t := b.FriendAdd.GetTarget(); !seenT[t] {
				seenT[t] = true
				allTargets++
				if len(targets) < 100 {
					targets = append(targets, t)
				}
			}
		case *moderationv1.Event_Complaint:
			if r := b.Complaint.GetReporter(); !seenR[r] {
				seenR[r] = true
				reporters = append(reporters, r)
			}
		}
	}
	return texts, targets, allTargets, reporters
}

// linkSignals are the signals that tie an account to others.
var linkSignals = []string{"campaign", "destination_campaign", "shared_targets", "brigade"}

// brigadeNames finds the accounts a brigade signal names: its reporters
// (after "): ") and their other targets (after "targets: ").
var brigadeNames = regexp.MustCompile(`(?:\): |targets: )([^;]*)`)

// linksOf picks the linking signals that find other accounts, and the
// accounts they name.
func linksOf(signals []*moderationv1.Signal, self string) (links []*moderationv1.Signal, accounts []linked) {
	seen := map[string]bool{self: true}
	for _, sig := range signals {
		if !slices.Contains(linkSignals, sig.GetName()) {
			continue
		}
		v := sig.GetValues()
		if v["accounts"] <= 1 && v["ring_accounts"] <= 1 && v["brigade_reporters"] == 0 {
			continue // the signal found nobody else
		}
		links = append(links, sig)
		if sig.GetName() != "brigade" {
			continue
		}
		for _, m := range brigadeNames.FindAllStringSubmatch(sig.GetEvidence(), -1) {
			how := "complained with the brigade"
			if strings.HasPrefix(m[0], "targets") {
				how = "also complained about by the brigade"
			}
			for _, name := range strings.Split(m[1], ", ") {
				name, _, _ = strings.Cut(name, " and ")
				if accountID.MatchString(name) && !seen[name] {
					seen[name] = true
					accounts = append(accounts, linked{Account: name, How: how})
				}
			}
		}
	}
	return links, accounts
}

// sharedSources find, in a campaign or destination signal's evidence, what
// the accounts it counts share: the campaign's id, or the destination as
// the evidence words it. The policy quotes the evidence in its reasons, so
// the same words find the other accounts the rule measured.
var sharedSources = map[string]*regexp.Regexp{
	"campaign":             regexp.MustCompile(`\(campaign [^)]+\)`),
	"destination_campaign": regexp.MustCompile(`sends buyers to [^;]+?, which`),
}

// sameSourceWindow is how far back the audit trail is searched for the
// other accounts: the detectors' windows are a day (campaigns) and three
// days (destinations).
const sameSourceWindow = 7 * 24 * time.Hour

// sameSource lists the accounts the campaign and destination rules
// measured for the same campaign or destination as this account's
// signals, from the audit trail (their decisions' reasons quote the same
// evidence). A search that fails leaves them out: the page still shows
// the signals.
func (c *Console) sameSource(r *http.Request, s *Session, signals []*moderationv1.Signal, self string, have []linked) []linked {
	seen := map[string]bool{self: true}
	for _, l := range have {
		seen[l.Account] = true
	}
	var out []linked
	for _, sig := range signals {
		re := sharedSources[sig.GetName()]
		if re == nil || sig.GetValues()["accounts"] <= 1 {
			continue
		}
		key := re.FindString(sig.GetEvidence())
		if key == "" {
			continue
		}
		ctx, cancel := apiContext(r)
		res, err := c.audit.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Kind: "enforcement", Rule: sig.GetName(),
			Since: timestamppb.New(c.now().Add(-sameSourceWindow)), Limit: 1000}, s.creds())
		cancel()
		if err != nil {
			continue
		}
		how := "same " + strings.TrimSuffix(strings.TrimPrefix(key, "sends buyers to "), ", which") + " (" + sig.GetName() + ")"
		for _, e := range res.GetEntries() {
			if a := e.GetAccount(); !seen[a] && strings.Contains(e.GetSummary(), key) {
				seen[a] = true
				out = append(out, linked{Account: a, How: how})
			}
		}
	}
	return out
}

var actionOf = map[string]moderationv1.Action{
	"warn": moderationv1.Action_ACTION_WARN, "limit": moderationv1.Action_ACTION_LIMIT, "suspend": moderationv1.Action_ACTION_SUSPEND,
	"close": moderationv1.Action_ACTION_CLOSE, "restore": moderationv1.Action_ACTION_RESTORE,
}

var capabilityOf = map[string]moderationv1.Capability{
	"broadcast": moderationv1.Capability_CAPABILITY_BROADCAST, "friend_add": moderationv1.Capability_CAPABILITY_FRIEND_ADD,
}

// accountAction takes a manual action with the reviewer's note (TakeAction:
// audited with the reviewer as actor). What the API refuses, the reviewer
// reads on the account page.
func (c *Console) accountAction(w http.ResponseWriter, r *http.Request, s *Session) {
	account := r.PathValue("account")
	back := "/accounts/" + account
	ctx, cancel := apiContext(r)
	defer cancel()
	action := r.PostFormValue("action")
	req := &moderationv1.TakeActionRequest{Account: account, Action: actionOf[action], ReasonCode: strings.TrimSpace(r.PostFormValue("reason_code")),
		Detail: strings.TrimSpace(r.PostFormValue("detail")), Note: strings.TrimSpace(r.PostFormValue("note"))}
	if req.ReasonCode == "" && action != "restore" {
		req.ReasonCode = "manual"
	}
	if v := strings.TrimSpace(r.PostFormValue("duration")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			s.Flash("The duration " + v + " is not a duration such as 72h.")
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
		req.Duration = durationpb.New(d)
	}
	for _, cp := range r.PostForm["restricts"] {
		if x, ok := capabilityOf[cp]; ok {
			req.Restricts = append(req.Restricts, x)
		}
	}
	dec, err := c.review.TakeAction(ctx, req, s.creds())
	if err != nil {
		c.actionError(w, r, s, err, back)
		return
	}
	s.Flash(fmt.Sprintf("Took %s on %s (%s).", actionWord(dec.GetAction()), account, dec.GetDecisionId()))
	http.Redirect(w, r, back, http.StatusSeeOther)
}
