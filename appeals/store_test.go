package appeals

import (
	"testing"
	"time"
)

// TestFilterMatches: each field of a Filter narrows the appeals it passes,
// an empty field passes every appeal, and the state is the one at Now (an
// expired claim is filed again).
func TestFilterMatches(t *testing.T) {
	a := appealIn("bulk_add", "live@abc", Filed, 3*time.Hour)
	a.Account, a.DecisionID, a.AccountType = "acct_1", "d1", "personal"
	claimed := appealIn("bulk_add", "live@abc", InReview, time.Hour)
	claimed.LeaseUntil = qualityNow.Add(-time.Minute) // lapsed
	for _, c := range []struct {
		name string
		f    Filter
		a    *Appeal
		want bool
	}{
		{"empty", Filter{Now: qualityNow}, a, true},
		{"account", Filter{Account: "acct_1", Now: qualityNow}, a, true},
		{"other account", Filter{Account: "acct_2", Now: qualityNow}, a, false},
		{"decision", Filter{DecisionID: "d2", Now: qualityNow}, a, false},
		{"state", Filter{State: Filed, Now: qualityNow}, a, true},
		{"lapsed claim is filed", Filter{State: Filed, Now: qualityNow}, claimed, true},
		{"rule", Filter{Rule: "ad_content", Now: qualityNow}, a, false},
		{"account type", Filter{AccountType: "service", Now: qualityNow}, a, false},
		{"policy version", Filter{PolicyVersion: "live@abc", Now: qualityNow}, a, true},
		{"other policy version", Filter{PolicyVersion: "live@def", Now: qualityNow}, a, false},
		{"filed before", Filter{FiledBefore: qualityNow.Add(-2 * time.Hour), Now: qualityNow}, a, true},
		{"filed too late", Filter{FiledBefore: qualityNow.Add(-4 * time.Hour), Now: qualityNow}, a, false},
	} {
		if got := c.f.Match(c.a); got != c.want {
			t.Errorf("%s: Match %v, want %v", c.name, got, c.want)
		}
	}
}
