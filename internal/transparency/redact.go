package transparency

import (
	"regexp"
	"strings"

	"moderation/detectors/adtext"
)

// Redacted stands where personal data was cut out of exported text.
const Redacted = "[redacted]"

// withheld replaces a text whose contact details could not all be cut
// out: better no facts than someone's phone number in a public database.
const withheld = "The facts quote contact details and are withheld from this export; the account's owner received them in full."

var (
	// The detectors quote a destination as "<kind> <value>" (see
	// detectors.destinationName): keep the kind, cut the value.
	quotedDestination = regexp.MustCompile(`(?i)\b(wechat id)\s+[^\s,;()]+|\b(phone|qq)\s+\+?\d[^\s,;()]*|\b(short link|site)\s+[^\s,;()]+[./][^\s,;()]+`)
	email             = regexp.MustCompile(`[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}`)
	link              = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|io|me|cc|co|top|xyz|info|link|ly|gl|hk|tw)(?:/\S*)?\b`)
	handle            = regexp.MustCompile(`@[\p{L}\p{N}_.-]{2,}`)
	// A contact marker (WeChat, QQ, Telegram and their disguises) and the
	// id after it.
	contactID = regexp.MustCompile(`(?i)(微信|威信|薇信|v信|vx|wx|wechat|weixin|qq|扣扣|telegram|tg|whatsapp|line)\s*(?:号|id)?\s*[:：]?\s*[A-Za-z0-9][-_A-Za-z0-9]{4,}`)
	// A phone or QQ number: five or more digits in a row, or digits in
	// groups (138 0013 8000, +86-138-0013-8000) of nine or more, which
	// leaves dates (2026-11-22) and counts (12,345) alone.
	digits  = regexp.MustCompile(`\d{5,}`)
	grouped = regexp.MustCompile(`\+?\d+(?:[ .-]\d+){2,}`)
)

// Redact cuts personal data out of a text bound for a public export: the
// account's id, contact handles, phone and QQ numbers, e-mail addresses,
// links and @handles. Whatever adtext still finds to be a destination in
// the result (adtext decides what a handle is for the detectors, so it
// checks here too) withholds the whole text.
func Redact(text, account string) string {
	out := text
	out = cutAccount(out, account)
	out = quotedDestination.ReplaceAllString(out, "$1$2$3 "+Redacted)
	out = email.ReplaceAllString(out, Redacted)
	out = link.ReplaceAllString(out, Redacted)
	out = handle.ReplaceAllString(out, Redacted)
	out = contactID.ReplaceAllStringFunc(out, func(s string) string {
		m := contactID.FindStringSubmatch(s)
		// After a Latin marker, a plain word ("QQ group", "wx please")
		// is English, not an id; ids have digits, _ or -.
		if m[1][0] < 0x80 && !strings.ContainsAny(s[len(m[1]):], "0123456789_-") {
			return s
		}
		return m[1] + " " + Redacted
	})
	out = grouped.ReplaceAllStringFunc(out, func(s string) string {
		if countDigits(s) < 9 {
			return s
		}
		return Redacted
	})
	out = digits.ReplaceAllString(out, Redacted)
	if len(adtext.Destinations(adtext.NormalText(out))) > 0 {
		return withheld
	}
	return out
}

// cutAccount replaces the account id where it stands as a whole token
// (ids are [A-Za-z0-9_-]), so a short id does not eat into other words.
func cutAccount(text, account string) string {
	if account == "" {
		return text
	}
	var b strings.Builder
	for {
		i := strings.Index(text, account)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		end := i + len(account)
		whole := (i == 0 || !isIDByte(text[i-1])) && (end == len(text) || !isIDByte(text[end]))
		b.WriteString(text[:i])
		if whole {
			b.WriteString("[account]")
		} else {
			b.WriteString(account)
		}
		text = text[end:]
	}
}

func isIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func countDigits(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}
