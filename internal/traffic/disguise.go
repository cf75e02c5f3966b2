package traffic

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"
)

// The ways a marketer who has read the README writes a handle, a number or
// a link so that a keyword list or a digit pattern misses it while a reader
// still sees it. Each takes the plain form and returns the disguised one.

// fullWidth writes ASCII letters and digits in their full-width forms
// (ｗｘ１２３).
func fullWidth(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c > ' ' && c < 0x7f {
			c += 0xfee0
		}
		b.WriteRune(c)
	}
	return b.String()
}

var zeroWidths = []rune{'\u200b', '\u200c', '\u200d', '\u2060', '\ufeff'}

// zeroWidth hides zero-width characters between the runes of s.
func zeroWidth(r *rand.Rand, s string) string {
	var b strings.Builder
	for i, c := range []rune(s) {
		if i > 0 && r.IntN(3) > 0 {
			b.WriteRune(zeroWidths[r.IntN(len(zeroWidths))])
		}
		b.WriteRune(c)
	}
	return b.String()
}

var spacers = []string{" ", "  ", " · ", "\u3000", "-"}

// spaced puts a space (or a dot, or an ideographic space) between the runes
// of s: 加 微 信, W e C h a t.
func spaced(r *rand.Rand, s string) string {
	sep := spacers[r.IntN(len(spacers))]
	runes := []rune(s)
	parts := make([]string, 0, len(runes))
	for _, c := range runes {
		if c != ' ' {
			parts = append(parts, string(c))
		}
	}
	return strings.Join(parts, sep)
}

// spaceChinese spaces out every run of Chinese in s, leaving the rest.
func spaceChinese(r *rand.Rand, s string) string {
	sep := []string{" ", "\u3000", " "}[r.IntN(3)]
	var b strings.Builder
	var prevHan bool
	for _, c := range s {
		han := unicode.Is(unicode.Han, c)
		if han && prevHan {
			b.WriteString(sep)
		}
		b.WriteRune(c)
		prevHan = han
	}
	return b.String()
}

// keycap writes digits as keycap emoji (1️⃣3️⃣8️⃣).
func keycap(s string) string {
	var b strings.Builder
	for _, c := range s {
		b.WriteRune(c)
		if c >= '0' && c <= '9' {
			b.WriteString("\ufe0f\u20e3")
		}
	}
	return b.String()
}

// circled writes digits as circled numbers (①③⑧), zero as ⓪.
func circled(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '0':
			b.WriteRune('⓪')
		case c >= '1' && c <= '9':
			b.WriteRune('①' + c - '1')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// chineseNumerals writes digits as Chinese numerals (一三八), zero as 零 or 〇.
func chineseNumerals(r *rand.Rand, s string) string {
	zero := []string{"零", "〇"}[r.IntN(2)]
	digits := []string{zero, "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteString(digits[c-'0'])
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// disguiseDigits applies one of the digit disguises, chosen by r.
func disguiseDigits(r *rand.Rand, s string) (string, string) {
	switch r.IntN(5) {
	case 0:
		return fullWidth(s), "full-width"
	case 1:
		return keycap(s), "keycap"
	case 2:
		return circled(s), "circled"
	case 3:
		return chineseNumerals(r, s), "chinese-numerals"
	default:
		return zeroWidth(r, s), "zero-width"
	}
}

// contactWords are the ways to say "add me on WeChat" around a keyword
// list: homophones (薇, 威), letters (V, vx), a pun (卫星), the word spaced
// out, a heart for an i.
var contactWords = []string{"加薇", "加威", "加V", "+vx", "加卫星", "W e C h a t", "v❤", "➕V", "威信", "薇信", "V信", "加 微 信", "wx", "VX：", "微❤"}

// phoneWords and qqWords introduce phone and QQ numbers.
var phoneWords = []string{"电话", "手机", "热线", "call", "☎", "📞", "咨询", "Tel"}
var qqWords = []string{"QQ", "扣扣", "企鹅", "Q", "qq群"}

// disguiseLink writes a link so a URL pattern misses it: t[.]cn, "dot com",
// a full stop for the dot, hxxps.
func disguiseLink(r *rand.Rand, host, path string) (string, string) {
	name, tld, _ := strings.Cut(host, ".")
	switch r.IntN(5) {
	case 0:
		return fmt.Sprintf("%s[.]%s/%s", name, tld, path), "bracketed-dot"
	case 1:
		return fmt.Sprintf("%s dot %s/%s", name, tld, path), "dot-word"
	case 2:
		return fmt.Sprintf("%s。%s/%s", name, tld, path), "ideographic-dot"
	case 3:
		return fmt.Sprintf("hxxps://%s(.)%s/%s", name, tld, path), "hxxps"
	default:
		return fmt.Sprintf("%s 点 %s/%s", name, tld, path), "dot-chinese"
	}
}

// wechatID makes a WeChat id: a letter, then letters, digits, _ or -.
func wechatID(r *rand.Rand) string {
	const first = "abcdefghjkmnpqrstuvwxyz"
	const rest = "abcdefghjkmnpqrstuvwxyz0123456789"
	prefixes := []string{"", "wx", "vip", "mm", "shop", "xiao", "lucky"}
	var b strings.Builder
	p := prefixes[r.IntN(len(prefixes))]
	if p == "" {
		b.WriteByte(first[r.IntN(len(first))])
	} else {
		b.WriteString(p)
	}
	for n := 5 + r.IntN(6); n > 0; n-- {
		b.WriteByte(rest[r.IntN(len(rest))])
	}
	if r.IntN(3) == 0 {
		b.WriteString(fmt.Sprintf("_%d", r.IntN(100)))
	}
	return b.String()
}

// mobile makes a mainland mobile number: 1, then 3-9, then nine digits.
func mobile(r *rand.Rand) string {
	return fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))
}

// qqNumber makes a QQ number of 6 to 10 digits.
func qqNumber(r *rand.Rand) string {
	return fmt.Sprintf("%d", 100000+r.IntN(2_000_000_000-100000))
}

// handle is a contact destination an ad sends buyers to.
type handle struct {
	kind  string // wechat, phone, qq
	value string
}

func newHandle(r *rand.Rand) handle {
	switch r.IntN(4) {
	case 0:
		return handle{"phone", mobile(r)}
	case 1:
		return handle{"qq", qqNumber(r)}
	default:
		return handle{"wechat", wechatID(r)}
	}
}

// contact writes "contact me at h" the way a spammer would; disguise picks
// whether (and how) the handle is hidden.
func contact(r *rand.Rand, h handle, disguise bool) string {
	v := h.value
	if disguise {
		if h.kind == "wechat" {
			switch r.IntN(3) {
			case 0:
				v = fullWidth(v)
			case 1:
				v = zeroWidth(r, v)
			default:
				v = spaced(r, v)
			}
		} else {
			v, _ = disguiseDigits(r, v)
		}
	} else if h.kind == "phone" && r.IntN(3) == 0 {
		v = groupedPhone(r, v)
	}
	switch h.kind {
	case "phone":
		return pick(r, phoneWords) + pick(r, []string{"：", ":", " ", ""}) + v
	case "qq":
		return pick(r, qqWords) + pick(r, []string{"：", ":", " "}) + v
	}
	word := pick(r, contactWords)
	if !disguise {
		word = pick(r, []string{"加微信", "微信", "加V", "WeChat", "wx"})
	}
	return word + pick(r, []string{"：", ":", " ", "➡", "👉"}) + v
}

// groupedPhone writes an 11-digit mobile number in groups, 3-4-4, as
// people type it: 138-1234-5678, 138 1234 5678.
func groupedPhone(r *rand.Rand, v string) string {
	if len(v) != 11 {
		return v
	}
	sep := pick(r, []string{"-", " ", "."})
	return v[:3] + sep + v[3:7] + sep + v[7:]
}

func pick(r *rand.Rand, options []string) string {
	return options[r.IntN(len(options))]
}
