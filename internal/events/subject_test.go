package events

import "testing"

// TestStoredSubjects: an event decodes from the subject it was published
// on and from the one the events stream stores it under (a partition token
// added); a partition token that is not a plain number is refused.
func TestStoredSubjects(t *testing.T) {
	body := []byte(`{"id":"e1","kind":"friend_add","account":"acct_1","at":"2026-03-02T08:00:00Z","friend_add":{"target":"x","source":"search"}}`)
	for subject, want := range map[string]string{
		"mod.events.friend_add.acct_1":     "",
		"mod.events.friend_add.acct_1.7":   "",
		"mod.events.friend_add.acct_1.31":  "",
		"mod.events.friend_add.acct_1.07":  ReasonBadSubject,
		"mod.events.friend_add.acct_1.x":   ReasonBadSubject,
		"mod.events.friend_add.acct_1.-1":  ReasonBadSubject,
		"mod.events.friend_add.acct_1.3.4": ReasonBadSubject,
	} {
		_, err := Decode(subject, "", body)
		if got := Reason(err); err == nil && want != "" || err != nil && got != want {
			t.Errorf("%s: got %v, want %q", subject, err, want)
		}
	}
	for subject, want := range map[string]struct {
		published string
		partition int
	}{
		"mod.events.friend_add.acct_1":   {"mod.events.friend_add.acct_1", -1},
		"mod.events.friend_add.acct_1.7": {"mod.events.friend_add.acct_1", 7},
		"mod.events.friend_add.acct_1.x": {"mod.events.friend_add.acct_1.x", -1},
	} {
		if got := Published(subject); got != want.published {
			t.Errorf("Published(%s) = %s, want %s", subject, got, want.published)
		}
		if got := Partition(subject); got != want.partition {
			t.Errorf("Partition(%s) = %d, want %d", subject, got, want.partition)
		}
	}
}
