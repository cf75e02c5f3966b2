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

// chineseNumerals writes digits as Chinese numerals (一三八), zero as 零 or 〇,
// and in some numbers a 2 inside as 两, as it is read aloud (一三八两…).
func chineseNumerals(r *rand.Rand, s string) string {
	zero := []string{"零", "〇"}[r.IntN(2)]
	digits := []string{zero, "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	liang := r.IntN(2) == 0
	var b strings.Builder
	for i, c := range s {
		switch {
		case c == '2' && liang && i > 0 && i < len(s)-1:
			b.WriteString("两")
		case c >= '0' && c <= '9':
			b.WriteString(digits[c-'0'])
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

var digitDecorations = []string{"❤", "♥", "🌸", "✨", "🔥", "💕"}

// decorated puts one heart or emoji between the digits of s
// (1❤3❤8❤…).
func decorated(r *rand.Rand, s string) string {
	return strings.Join(strings.Split(s, ""), pick(r, digitDecorations))
}

// groupedNumber writes a phone or QQ number in groups the way a digit
// pattern misses: a mobile as 138/1234/5678, 138_1234_5678,
// (138)1234-5678, after 0086, a digit at a time with dots between
// (1.3.9.1.2.3.4.5.6.7.8) or with l and O for some of its 1s and 0s
// (l39l234O678); a QQ number in groups of three or more joined by a
// space, a dash or a dot (1234 5678).
func groupedNumber(r *rand.Rand, s string) string {
	if len(s) == 11 {
		switch r.IntN(7) {
		case 5:
			return strings.Join(strings.Split(s, ""), ".")
		case 6:
			return lookAlikeDigits(r, s)
		case 0:
			return s[:3] + "/" + s[3:7] + "/" + s[7:]
		case 1:
			return s[:3] + "_" + s[3:7] + "_" + s[7:]
		case 2:
			return "(" + s[:3] + ")" + s[3:7] + "-" + s[7:]
		case 3:
			return "0086-" + s[:3] + "-" + s[3:7] + "-" + s[7:]
		default:
			return "0086 " + s
		}
	}
	if len(s) < 6 {
		return s
	}
	k := 3 + r.IntN(len(s)-5) // both groups three digits or more
	return s[:k] + pick(r, []string{" ", "-", "."}) + s[k:]
}

// lookAlikeDigits writes a mobile's first 1 as l and up to two more of its
// 1s and 0s as l and O, as the detector reads them (eight digits or more
// left).
func lookAlikeDigits(r *rand.Rand, s string) string {
	b := []byte(s)
	b[0] = 'l'
	for n, k := 0, 2; n < 2 && k < len(b); k++ {
		if (b[k] == '1' || b[k] == '0') && r.IntN(2) == 0 {
			b[k] = map[byte]byte{'1': 'l', '0': 'O'}[b[k]]
			n++
		}
	}
	return string(b)
}

// disguiseDigits applies one of the digit disguises, chosen by r.
func disguiseDigits(r *rand.Rand, s string) (string, string) {
	switch r.IntN(7) {
	case 5:
		return decorated(r, s), "decorated"
	case 6:
		return groupedNumber(r, s), "grouped"
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
// out, a heart for an i, slang (V我 "WeChat me", 绿泡泡 the green bubble),
// the word as a label in brackets, or with 搜索, 好友, 号码 after it, 微x
// for vx, a bar or slash before the id (see barWords).
var contactWords = []string{"加薇", "加威", "加V", "+vx", "加卫星", "W e C h a t", "v❤", "➕V", "威信", "薇信", "V信", "加 微 信", "wx", "VX：", "微❤",
	"V我", "【微信】", "[微信]", "(微信)", "微信搜", "微信搜索", "添加微信好友", "微信号码", "V❤X：", "v♥x", "绿泡泡",
	"微x", "薇x", "威X", "V | ", "VX／", "wx·", "WeChat ID = ", "微信｜"}

// barWords end with the separator before the id, so contact adds none;
// like 微x, the detector reads only an id with a digit, dash or
// underscore after them (微x光 and "V/X ratio" are not handles).
var barWords = map[string]bool{"V | ": true, "VX／": true, "wx·": true, "WeChat ID = ": true, "微信｜": true}

// idFirst are the ways to name the app after the id: lily8888（微信）,
// lily8888 是我的微信.
var idFirst = []string{"（微信）", " (微信)", "是我微信", " 是我的微信", "(wechat)"}

// phoneWords and qqWords introduce phone and QQ numbers.
var phoneWords = []string{"电话", "手机", "热线", "call", "☎", "📞", "咨询", "Tel"}
var qqWords = []string{"QQ", "扣扣", "企鹅", "Q", "qq群", "🐧"}

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
		sep := pick(r, []string{"：", ":", " ", ""})
		if sep == "" && v[0] == 'l' {
			sep = " " // Tell39l…: the l would be read as part of the word
		}
		return pick(r, phoneWords) + sep + v
	case "qq":
		return pick(r, qqWords) + pick(r, []string{"：", ":", " "}) + v
	}
	word := pick(r, contactWords)
	for lettersOnly(h.value) && (barWords[word] || strings.HasSuffix(word, "x") || strings.HasSuffix(word, "X")) {
		word = pick(r, contactWords) // 微x luckyshop is read no more than 微x光
	}
	if !disguise {
		word = pick(r, []string{"加微信", "微信", "加V", "WeChat", "wx"})
	} else if r.IntN(5) == 0 && !lettersOnly(h.value) {
		// The id first: only an id with a digit or underscore, as the
		// detector reads no other there, so that prose before 微信 is
		// never read as one (a known gap: luckyshop（微信）).
		return v + pick(r, idFirst)
	}
	sep := pick(r, []string{"：", ":", " ", "➡", "👉"})
	if barWords[word] {
		sep = ""
		if strings.HasSuffix(word, "／") && strings.ContainsAny(v, strings.Join(spacers, "")) {
			sep = " " // VX／l i l y: letters spelt out after a slash would be a path
		}
	}
	if word == "V我" && sep == " " && lettersOnly(h.value) {
		sep = "：" // V我 luckyshop is read no more than V我 hello (the same gap)
	}
	return word + sep + v
}

// lettersOnly reports whether id has no digit, dash or underscore.
func lettersOnly(id string) bool {
	return strings.IndexFunc(id, func(c rune) bool { return c < 'a' || c > 'z' }) < 0
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
