package traffic

import (
	"fmt"
	"io"
	"slices"

	"moderation/internal/console"
	"moderation/internal/moderation"
)

// Score is how the service's actions compare with a mix's labels, per
// account: an abusive account is caught when it is limited or worse, a
// legitimate one is wronged when it is.
type Score struct {
	Classes []ClassScore
	// The account-level confusion table: abusive caught (TP) or missed
	// (FN), legitimate limited (FP) or not (TN).
	TP, FN, FP, TN int
	Wrong          []Outcome // every miss and every false positive
}

// ClassScore counts one class's accounts by the strongest action each got.
type ClassScore struct {
	Class    Class
	Accounts int
	Actions  map[moderation.Action]int
	Right    int // abusive: limited or worse; legitimate: below limit
}

// Outcome is one account's strongest action beside its label.
type Outcome struct {
	Account string
	Label   Label
	Action  moderation.Action
}

// Pass reports whether every account of the class was judged right.
func (c ClassScore) Pass() bool { return c.Right == c.Accounts }

// Recall is the share of abusive accounts limited or worse.
func (s *Score) Recall() float64 {
	if s.TP+s.FN == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FN)
}

// Class is the score of one class, zero if the mix had none.
func (s *Score) Class(c Class) ClassScore {
	for _, cs := range s.Classes {
		if cs.Class == c {
			return cs
		}
	}
	return ClassScore{Class: c}
}

// ScoreActions scores the strongest action each account got (absent:
// allow) against labels.
func ScoreActions(labels map[string]Label, strongest map[string]moderation.Action) *Score {
	s := &Score{}
	byClass := map[Class]*ClassScore{}
	accounts := make([]string, 0, len(labels))
	for a := range labels {
		accounts = append(accounts, a)
	}
	slices.Sort(accounts)
	for _, a := range accounts {
		l := labels[a]
		got := strongest[a]
		if got == "" {
			got = moderation.ActionAllow
		}
		cs := byClass[l.Class]
		if cs == nil {
			cs = &ClassScore{Class: l.Class, Actions: map[moderation.Action]int{}}
			byClass[l.Class] = cs
		}
		cs.Accounts++
		cs.Actions[got]++
		limited := got.Severity() >= moderation.ActionLimit.Severity()
		switch {
		case l.Abusive && limited:
			s.TP++
			cs.Right++
		case l.Abusive:
			s.FN++
			s.Wrong = append(s.Wrong, Outcome{a, l, got})
		case limited:
			s.FP++
			s.Wrong = append(s.Wrong, Outcome{a, l, got})
		default:
			s.TN++
			cs.Right++
		}
	}
	for _, c := range Classes {
		if cs := byClass[c]; cs != nil {
			s.Classes = append(s.Classes, *cs)
			delete(byClass, c)
		}
	}
	for _, cs := range byClass { // classes this build does not know
		s.Classes = append(s.Classes, *cs)
	}
	return s
}

// Print writes the per-class table, the confusion table and the figures.
func (s *Score) Print(w io.Writer) {
	rows := make([][]string, 0, len(s.Classes))
	for _, c := range s.Classes {
		want := "below limit"
		if c.Class.Abusive() {
			want = "limit or worse"
		}
		rows = append(rows, []string{string(c.Class), want, fmt.Sprint(c.Accounts),
			fmt.Sprint(c.Actions[moderation.ActionAllow]), fmt.Sprint(c.Actions[moderation.ActionWarn]), fmt.Sprint(c.Actions[moderation.ActionLimit]),
			fmt.Sprint(c.Actions[moderation.ActionSuspend]), fmt.Sprint(c.Actions[moderation.ActionClose]), fmt.Sprintf("%d/%d", c.Right, c.Accounts)})
	}
	console.Table(w, []string{"class", "want", "accounts", "allow", "warn", "limit", "suspend", "close", "right"}, rows)
	fmt.Fprintln(w)
	console.Table(w, []string{"", "limited or worse", "not limited"}, [][]string{
		{"abusive", fmt.Sprint(s.TP), fmt.Sprint(s.FN)},
		{"legitimate", fmt.Sprint(s.FP), fmt.Sprint(s.TN)},
	})
	fmt.Fprintf(w, "\nrecall %.3f (%d of %d abusive accounts limited or worse); false positives %d of %d legitimate accounts\n",
		s.Recall(), s.TP, s.TP+s.FN, s.FP, s.FP+s.TN)
}
