package traffic

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"moderation/detectors/adtext"
)

// TestDisguisedContactsAreRead writes handles as the mixes' disguised ads
// and handle rings do, and checks that the detector reads each back as its
// destination: a disguise it cannot read would be a kind of ad no rule
// keyed on handles could catch, and the mix would not say so. The one
// exception is by design: an id of letters alone before its marker
// (luckyshop（微信）) or after V我 with only a space between, which the
// detector does not read, so that prose is not read as an id.
func TestDisguisedContactsAreRead(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 11))
	n, exempt := 0, 0
	forms := map[string]int{} // the new forms seen, so the test fails if the generator stops making them
	for range 4000 {
		h := newHandle(r)
		text := contact(r, h, true)
		for _, f := range []string{"V我", "【微信】", "搜", "好友", "号码", "V❤X", "v♥x", "绿泡泡", "🐧", "微信）", "是我", "❤", "0086", "/", "两"} {
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
		if h.kind == "wechat" && lettersOnly(h.value) && (strings.HasPrefix(text, "V我 ") || slices.ContainsFunc(idFirst, func(s string) bool { return strings.HasSuffix(text, s) })) {
			exempt++
			continue
		}
		t.Errorf("%s %s: %q normalised %q, destinations %v", h.kind, h.value, text, normal, adtext.Destinations(normal))
	}
	t.Logf("%d read, %d ids of letters alone before the marker or after V我", n, exempt)
	for _, f := range []string{"V我", "【微信】", "搜", "好友", "号码", "V❤X", "v♥x", "绿泡泡", "🐧", "微信）", "是我", "❤", "0086", "/", "两"} {
		if forms[f] == 0 {
			t.Errorf("no disguised contact has %q", f)
		}
	}
}

func lettersOnly(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 'a' || r > 'z' }) < 0
}
