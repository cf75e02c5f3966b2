package traffic

import (
	"math/rand/v2"
	"strings"
	"testing"

	"moderation/detectors/adtext"
)

// TestDisguisedContactsAreRead writes handles as the mixes' disguised ads
// and handle rings do, and checks that the detector reads each back as its
// destination: a disguise it cannot read would be a kind of ad no rule
// keyed on handles could catch, and the mix would not say so. (The one
// form the detector does not read by design, an id of letters alone
// before its marker or after "V我 ", contact does not write: see there.)
func TestDisguisedContactsAreRead(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 11))
	n := 0
	// The forms issue 11 added, counted so the test fails if contact stops
	// writing one.
	newForms := []string{"V我", "【微信】", "搜", "好友", "号码", "V❤X", "v♥x", "绿泡泡", "🐧", "微信）", "是我", "❤", "0086", "/", "两",
		"微x", "薇x", "威X", "V | ", "VX／", "wx·", "WeChat ID = ", "微信｜", ".3.", "l3"}
	forms := map[string]int{}
	const texts = 4000
	for range texts {
		h := newHandle(r)
		text := contact(r, h, true)
		for _, f := range newForms {
			if strings.Contains(text, f) {
				forms[f]++
			}
		}
		normal := adtext.Normalize(text).Text
		found := false
		for _, d := range adtext.Destinations(normal) {
			found = found || d.Kind == h.kind && d.Value == h.value
		}
		if found {
			n++
			continue
		}
		t.Errorf("%s %s: %q normalised %q, destinations %v", h.kind, h.value, text, normal, adtext.Destinations(normal))
	}
	t.Logf("%d of %d read", n, texts)
	for _, f := range newForms {
		if forms[f] == 0 {
			t.Errorf("no disguised contact has %q", f)
		}
	}
}
