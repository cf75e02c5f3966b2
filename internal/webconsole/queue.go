package webconsole

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	moderationv1 "moderation/api/moderation/v1"
)

// queuePageSize is how many appeals the queue page lists: the oldest, the
// ones to work next. The counts cover the whole queue.
const queuePageSize = 100

func (c *Console) queueRoutes() {
	c.handle("GET /queue", c.queuePage)
	c.handle("POST /queue/next", c.queueNext)
	c.handle("POST /queue/claim", c.queueClaim)
	c.handle("POST /queue/decide", c.queueDecide)
	c.reviewRoutes() // the other queue: accounts flagged for a person
}

// queueFilter is the queue's filters, as the page's query string carries
// them.
type queueFilter struct {
	Rule, Type, Policy, Age string
}

func filterOf(v url.Values) queueFilter {
	return queueFilter{Rule: v.Get("rule"), Type: v.Get("type"), Policy: v.Get("policy"), Age: v.Get("age")}
}

// query is the filter as a query string, for links and redirects.
func (f queueFilter) query() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"rule": f.Rule, "type": f.Type, "policy": f.Policy, "age": f.Age} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// request is the filter as a ListAppealsRequest; an age that does not
// parse is the API's to refuse, so it is passed as a negative duration.
func (f queueFilter) request() *moderationv1.ListAppealsRequest {
	req := &moderationv1.ListAppealsRequest{Rule: f.Rule, AccountType: f.Type, PolicyVersion: f.Policy}
	if f.Age != "" {
		d, err := time.ParseDuration(f.Age)
		if err != nil {
			d = -1
		}
		req.MinAge = durationpb.New(d)
	}
	return req
}

// pageURL is the queue page with this filter and appeal sel selected.
func (f queueFilter) pageURL(sel string) string {
	v := f.query()
	if sel != "" {
		v.Set("sel", sel)
	}
	if len(v) == 0 {
		return "/queue"
	}
	return "/queue?" + v.Encode()
}

// cannedReply is a reply to start from, for one outcome.
type cannedReply struct {
	Outcome, Label, Text string
}

// cannedReplies are the replies a reviewer starts from; each is edited to
// the case before it is sent. The first of each outcome is what choosing
// that outcome puts in an empty reply.
var cannedReplies = []cannedReply{
	{"overturn", "Overturn: the measure was wrong", "We reviewed your appeal and the account's activity, and the measure was wrong. It is lifted and its strike removed; your account is restored."},
	{"overturn", "Overturn: context we lacked", "Thank you for the context you gave. With it, what the service counted is ordinary use of your account. The measure is lifted and your account is restored."},
	{"uphold", "Uphold: the facts stand", "We reviewed your appeal and the account's activity. The facts in the statement of reasons are correct and the measure follows the published rules, so it stays in force."},
	{"uphold", "Uphold: repeated after warning", "We reviewed your appeal. The account was warned before and the same activity continued, so the measure stays in force until the date given."},
	{"modify", "Modify: lighter measure", "We reviewed your appeal. The activity broke the rules, but the measure was stronger than needed; it is replaced by a lighter one."},
}

// ageChoice is a choice of the age filter.
type ageChoice struct {
	Value, Label string
	Count        int32
}

type queueData struct {
	Now      time.Time
	Me       string // the actor the API records: role:subject
	Filter   queueFilter
	Appeals  []*moderationv1.Appeal
	Total    int32
	Counts   *moderationv1.AppealCounts
	Ages     []ageChoice
	Selected string
	Canned   []cannedReply
	More     bool
	Clear    string // the page without filters
}

var ageLabels = map[string]string{"1h0m0s": "at least an hour", "24h0m0s": "at least a day", "168h0m0s": "at least a week"}

// queuePage lists the open appeals, oldest first, with counts for every
// filter, from one ListAppeals call.
func (c *Console) queuePage(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx, cancel := apiContext(r)
	defer cancel()
	f := filterOf(r.URL.Query())
	req := f.request()
	req.Open, req.WithCounts, req.PageSize = true, true, queuePageSize
	resp, err := c.review.ListAppeals(ctx, req, s.creds())
	if err != nil {
		c.apiError(w, r, s, err)
		return
	}
	d := queueData{Now: c.now(), Me: actor(s), Filter: f, Appeals: resp.GetAppeals(), Total: resp.GetTotal(),
		Counts: resp.GetCounts(), Selected: r.URL.Query().Get("sel"), Canned: cannedReplies, More: resp.GetNextPageToken() != "",
		Clear: "/queue"}
	for _, a := range resp.GetCounts().GetByAge() {
		d.Ages = append(d.Ages, ageChoice{Value: a.GetValue(), Label: ageLabels[a.GetValue()], Count: a.GetCount()})
	}
	if d.Selected == "" && len(d.Appeals) > 0 {
		d.Selected = d.Appeals[0].GetAppealId()
		// The reviewer's own claim first: that is what they are working on.
		for _, a := range d.Appeals {
			if a.GetState() == moderationv1.AppealState_APPEAL_STATE_IN_REVIEW && a.GetReviewer() == d.Me {
				d.Selected = a.GetAppealId()
				break
			}
		}
	}
	c.render(w, r, s, "queue", d)
}

// actor is how the API names the session's reviewer in appeals and audit.
func actor(s *Session) string {
	return s.Who.Actor()
}

// queueNext claims the oldest unclaimed appeal the filters show.
func (c *Console) queueNext(w http.ResponseWriter, r *http.Request, s *Session) {
	f := filterOf(r.PostForm)
	id, err := c.claimNext(r, s, f)
	if err != nil {
		c.actionError(w, r, s, err, f.pageURL(""))
		return
	}
	if id == "" {
		s.Flash("No unclaimed appeal is waiting" + filterWords(f) + ".")
	} else {
		s.Flash("Claimed " + id + ".")
	}
	http.Redirect(w, r, f.pageURL(id), http.StatusSeeOther)
}

func filterWords(f queueFilter) string {
	if f == (queueFilter{}) {
		return ""
	}
	return " with these filters"
}

// claimNext claims the oldest filed appeal the filter shows, skipping any
// another reviewer claims first and any the reviewer may not take (an
// appeal of their own manual action). It returns "" when none is left.
func (c *Console) claimNext(r *http.Request, s *Session, f queueFilter) (string, error) {
	ctx, cancel := apiContext(r)
	defer cancel()
	req := f.request()
	req.State, req.PageSize = moderationv1.AppealState_APPEAL_STATE_FILED, 20
	for {
		page, err := c.review.ListAppeals(ctx, req, s.creds())
		if err != nil {
			return "", err
		}
		for _, a := range page.GetAppeals() {
			_, err := c.review.ClaimAppeal(ctx, &moderationv1.ClaimAppealRequest{AppealId: a.GetAppealId()}, s.creds())
			switch status.Code(err) {
			case codes.OK:
				return a.GetAppealId(), nil
			case codes.FailedPrecondition, codes.PermissionDenied, codes.NotFound:
				continue // taken meanwhile, or not this reviewer's to take
			default:
				return "", err
			}
		}
		if page.GetNextPageToken() == "" {
			return "", nil
		}
		req.PageToken = page.GetNextPageToken()
	}
}

// queueClaim claims the appeal named, or renews the reviewer's own claim.
func (c *Console) queueClaim(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx, cancel := apiContext(r)
	defer cancel()
	f := filterOf(r.PostForm)
	id := r.PostFormValue("appeal_id")
	a, err := c.review.ClaimAppeal(ctx, &moderationv1.ClaimAppealRequest{AppealId: id}, s.creds())
	if err != nil {
		c.actionError(w, r, s, err, f.pageURL(id))
		return
	}
	s.Flash("Claimed " + a.GetAppealId() + " until " + a.GetLeaseUntil().AsTime().UTC().Format("15:04:05Z") + ".")
	http.Redirect(w, r, f.pageURL(id), http.StatusSeeOther)
}

var outcomeOf = map[string]moderationv1.AppealOutcome{
	"uphold":   moderationv1.AppealOutcome_APPEAL_OUTCOME_UPHOLD,
	"overturn": moderationv1.AppealOutcome_APPEAL_OUTCOME_OVERTURN,
	"modify":   moderationv1.AppealOutcome_APPEAL_OUTCOME_MODIFY,
}

var pastTense = map[string]string{"uphold": "Upheld", "overturn": "Overturned", "modify": "Modified"}

// queueDecide decides the appeal with the reviewer's reply and, with
// next=1, claims the next one.
func (c *Console) queueDecide(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx, cancel := apiContext(r)
	defer cancel()
	f := filterOf(r.PostForm)
	id := r.PostFormValue("appeal_id")
	outcome := r.PostFormValue("outcome")
	req := &moderationv1.DecideAppealRequest{AppealId: id, Outcome: outcomeOf[outcome], Reply: strings.TrimSpace(r.PostFormValue("reply"))}
	if outcome == "modify" {
		req.ModifiedAction = moderationv1.Action(moderationv1.Action_value[r.PostFormValue("modified_action")])
		if v := strings.TrimSpace(r.PostFormValue("modified_duration")); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				s.Flash("The lighter measure's duration " + v + " is not a duration such as 72h.")
				http.Redirect(w, r, f.pageURL(id), http.StatusSeeOther)
				return
			}
			req.ModifiedDuration = durationpb.New(d)
		}
	}
	// An outcome or reply left out is refused by the API's validation, and
	// the reviewer reads its words.
	if _, err := c.review.DecideAppeal(ctx, req, s.creds()); err != nil {
		c.actionError(w, r, s, err, f.pageURL(id))
		return
	}
	done := pastTense[outcome] + " " + id + "."
	if r.PostFormValue("next") != "1" {
		s.Flash(done)
		http.Redirect(w, r, f.pageURL(""), http.StatusSeeOther)
		return
	}
	next, err := c.claimNext(r, s, f)
	if err != nil {
		s.Flash(done)
		c.actionError(w, r, s, err, f.pageURL(""))
		return
	}
	if next == "" {
		s.Flash(done + " No unclaimed appeal is waiting" + filterWords(f) + ".")
	} else {
		s.Flash(done + " Claimed " + next + ".")
	}
	http.Redirect(w, r, f.pageURL(next), http.StatusSeeOther)
}
