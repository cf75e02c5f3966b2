package webconsole_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	moderationv1 "moderation/api/moderation/v1"
)

// TestDecideOutcomes: through the queue's forms, a reply left empty or a
// lighter measure's duration that is not one is refused with words the
// reviewer can act on (the appeal stays claimed); modify replaces the
// suspension with a 72-hour limit; uphold leaves it; with nothing left to
// claim, submit and next says so.
func TestDecideOutcomes(t *testing.T) {
	svc := startService(t)
	mod := appeal(t, svc, "acct_mod", "Only a few of them were strangers.")
	up := appeal(t, svc, "acct_up", "I did nothing.")
	b := newBrowser(t, svc)
	_, page := b.signIn(token(t, svc, reviewer))
	csrf := csrfOf(t, page)
	post := func(path string, form url.Values) string {
		t.Helper()
		form.Set("csrf", csrf)
		_, page := b.post(path, form)
		return flash(page)
	}
	for _, id := range []string{mod.AppealId, up.AppealId} {
		if got := post("/queue/claim", url.Values{"appeal_id": {id}}); !strings.HasPrefix(got, "Claimed "+id) {
			t.Fatalf("claim %s: %q", id, got)
		}
	}

	if got := post("/queue/decide", url.Values{"appeal_id": {mod.AppealId}, "outcome": {"modify"}, "modified_action": {"ACTION_LIMIT"}, "reply": {"  "}}); !strings.Contains(got, "reply") {
		t.Errorf("decide with an empty reply: flash %q, want the API's refusal naming the reply", got)
	}
	if got := post("/queue/decide", url.Values{"appeal_id": {mod.AppealId}, "outcome": {"modify"}, "modified_action": {"ACTION_LIMIT"},
		"modified_duration": {"soon"}, "reply": {"r"}}); !strings.Contains(got, "soon") {
		t.Errorf("decide with a duration that is not one: flash %q", got)
	}
	review := moderationv1.NewReviewServiceClient(apiConn(t, svc, reviewer))
	q, err := review.ListAppeals(context.Background(), &moderationv1.ListAppealsRequest{State: moderationv1.AppealState_APPEAL_STATE_IN_REVIEW})
	if err != nil || q.Total != 2 {
		t.Fatalf("after the refusals: %v in review (%v), want both still claimed", q.GetTotal(), err)
	}

	const reply = "Most requests went to people you know; a limit on adding strangers is enough."
	if got := post("/queue/decide", url.Values{"appeal_id": {mod.AppealId}, "outcome": {"modify"}, "modified_action": {"ACTION_LIMIT"},
		"modified_duration": {"72h"}, "reply": {reply}, "next": {"1"}}); got != "Modified "+mod.AppealId+". No unclaimed appeal is waiting." {
		t.Errorf("modify and next: flash %q", got)
	}
	if got := post("/queue/decide", url.Values{"appeal_id": {up.AppealId}, "outcome": {"uphold"}, "reply": {"The facts stand."}}); got != "Upheld "+up.AppealId+"." {
		t.Errorf("uphold: flash %q", got)
	}
	awaitStatus(t, svc, "acct_mod", moderationv1.Status_STATUS_LIMITED)
	awaitStatus(t, svc, "acct_up", moderationv1.Status_STATUS_SUSPENDED)
	for id, want := range map[string]moderationv1.AppealState{mod.AppealId: moderationv1.AppealState_APPEAL_STATE_MODIFIED, up.AppealId: moderationv1.AppealState_APPEAL_STATE_UPHELD} {
		q, err := review.ListAppeals(context.Background(), &moderationv1.ListAppealsRequest{State: want})
		if err != nil || len(q.Appeals) != 1 || q.Appeals[0].AppealId != id || q.Appeals[0].Reviewer != "reviewer:alice" {
			t.Errorf("%s: %v, %v; want %v by reviewer:alice", id, q, err, want)
		}
	}
}
