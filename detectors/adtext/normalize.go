package adtext

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// Normalized is a text as its reader sees it, and what it took to get there.
type Normalized struct {
	// Text is the text with the disguises a reader does not notice undone:
	// compatibility forms (full-width, circled, mathematical letters and
	// digits) folded, zero-width and joiner characters removed, spacing and
	// dots inside Chinese runs closed, spaced-out Latin words joined,
	// keycap digits and Chinese numerals in number runs written as ASCII
	// digits, variant spellings of contact words made canonical (微信,
	// wechat, QQ, 电话) and disguised links (t[.]cn, "dot com", hxxp)
	// written as links. Case is kept.
	Text string
	// Found lists what normalisation undid, for evidence: "zero-width
	// characters", "薇信 → 微信", "t[.]cn → t.cn".
	Found []string
}

// maxFound bounds Normalized.Found: evidence names a few examples, not all.
const maxFound = 8

// Normalize returns text as its reader sees it, and what was undone.
// A pure-ASCII text with nothing to undo is returned as it is.
func Normalize(text string) Normalized {
	if !needsWork(text) {
		return Normalized{Text: text}
	}
	var f found
	var buf [normBuf]byte
	out := appendNormal(buf[:0], text, &f)
	return Normalized{Text: string(out), Found: f.list}
}

// NormalText is Normalize(text).Text without the list of what was undone.
// It does not allocate when there is nothing to undo.
func NormalText(text string) string {
	if !needsWork(text) {
		return text
	}
	var buf [normBuf]byte
	return string(appendNormal(buf[:0], text, nil))
}

// found collects what normalisation undid, without repeats. A nil *found
// collects nothing, so the scoring path builds no strings.
type found struct{ list []string }

func (f *found) add(s string) {
	if f == nil || len(f.list) >= maxFound {
		return
	}
	for _, x := range f.list {
		if x == s {
			return
		}
	}
	f.list = append(f.list, s)
}

func (f *found) change(from []rune, to string) {
	if f == nil {
		return
	}
	f.add(runesString(from) + " → " + to)
}

func runesString(rs []rune) string {
	var b strings.Builder
	for _, r := range rs {
		writeRune(&b, r)
	}
	return b.String()
}

func writeRune(b *strings.Builder, r rune) {
	if r >= rawByte {
		b.WriteByte(byte(r - rawByte))
		return
	}
	b.WriteRune(r)
}

// rawByte marks a byte that is not valid UTF-8: rawByte+b stands for byte b
// and is written back unchanged, so normalisation never invents text.
const rawByte = 0x110000

// runeBuf is how many runes a text is normalised in without allocating.
const runeBuf = 1024

// needsWork reports whether text may hold something Normalize undoes. Any
// non-ASCII text may; pure ASCII only with a marker: a bracketed or spelt
// dot, hxxp, a contact word or letters spaced out one by one.
func needsWork(text string) bool {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= utf8.RuneSelf {
			return true
		}
		switch lower(c) {
		case '.':
			if i > 0 && text[i-1] == ' ' && i+1 < len(text) && text[i+1] == ' ' {
				return true // shop . top
			}
		case '[', '(', '{', '<':
			if i+1 < len(text) && (text[i+1] == '.' || lower(text[i+1]) == 'd') {
				return true
			}
		case 'h':
			if i+4 <= len(text) && strings.EqualFold(text[i:i+4], "hxxp") {
				return true
			}
		case '+':
			if i+1 < len(text) && (lower(text[i+1]) == 'v' || lower(text[i+1]) == 'q') {
				return true // +V lily88
			}
		case '/', '_':
			if i >= 3 && isDigit(text[i-1]) && isDigit(text[i-2]) && isDigit(text[i-3]) && i+3 < len(text) &&
				isDigit(text[i+1]) && isDigit(text[i+2]) && isDigit(text[i+3]) {
				return true // 138/1234/5678
			}
		}
		if isDigit(c) && (i == 0 || !isASCIIAlnum(text[i-1])) && i+4 < len(text) &&
			isLatinSep(rune(text[i+1])) && isDigit(text[i+2]) && isLatinSep(rune(text[i+3])) && isDigit(text[i+4]) &&
			(i+5 == len(text) || !isASCIIAlnum(text[i+5])) {
			return true // 1 3 8 1 2 …
		}
		if !isASCIILetter(c) || i > 0 && isASCIIAlnum(text[i-1]) {
			continue
		}
		j := i
		for j < len(text) && isASCIILetter(text[j]) {
			j++
		}
		if j-i > 6 {
			i = j - 1
			continue
		}
		var lw [6]byte
		for k := i; k < j; k++ {
			lw[k-i] = lower(text[k])
		}
		switch w := lw[:j-i]; string(w) {
		case "vx", "wx", "weixin", "wechat", "qq", "dot":
			return true
		case "we":
			if j+5 <= len(text) && strings.EqualFold(text[j:j+5], " chat") {
				return true
			}
		case "wei":
			if j+4 <= len(text) && isSplitSep(rune(text[j])) && strings.EqualFold(text[j+1:j+4], "xin") {
				return true // wei xin lily88, jia wei xin: the pinyin, in a text all ASCII
			}
		case "tel", "call", "phone", "mobile", "cell":
			if j < len(text) && isDigit(text[j]) {
				return true // Tel13812345678
			}
		default:
			if len(w) == 1 && (w[0] == 'q' || w[0] == 'v') && j+1 < len(text) && text[j] == ' ' && isDigit(text[j+1]) {
				return true // Q 12345678
			}
			if len(w) == 1 && w[0] == 'l' && j < len(text) && isDigit(text[j]) {
				return true // l39l234O678: l and O for 1 and 0 in a mobile
			}
			if len(w) == 1 && w[0] == 'v' && (j < len(text) && isBar(rune(text[j])) || j+1 < len(text) && text[j] == ' ' && isBar(rune(text[j+1]))) {
				return true // V | lily8888
			}
			if len(w) == 1 {
				if j < len(text) && text[j] == ':' {
					return true
				}
				if j+3 < len(text) && isLatinSep(rune(text[j])) && isASCIIAlnum(text[j+1]) && isLatinSep(rune(text[j+2])) {
					return true
				}
			}
		}
	}
	return false
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isASCIIAlnum(c byte) bool  { return isASCIILetter(c) || isDigit(c) }

func isLetterRune(r rune) bool { return r < utf8.RuneSelf && isASCIILetter(byte(r)) }
func isDigitRune(r rune) bool  { return r >= '0' && r <= '9' }
func isAlnumRune(r rune) bool  { return isLetterRune(r) || isDigitRune(r) }

// isHan reports whether r is a Chinese character (the blocks texts use).
func isHan(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF || r == 0x3007 ||
		r >= 0xF900 && r <= 0xFAFF || r >= 0x20000 && r <= 0x2FFFF
}

// appendNormal appends the normalised text to dst, noting in f (if not
// nil) what it undid. The steps run over runes in a stack buffer:
//  1. decode, folding compatibility forms and dropping invisible runes;
//  2. close spacing inside Chinese runs and join spaced-out Latin letters;
//  3. write Chinese numerals in number runs as digits;
//  4. encode, rewriting contact words and disguised links on the way.
func appendNormal(dst []byte, text string, f *found) []byte {
	var buf [runeBuf]rune
	rs := decodeFolded(buf[:0], text, f)
	// Closing spaces can make a number run of single numerals (一 三 八 …)
	// and writing numerals as digits can leave a single character between
	// separators (薇 亅3456): repeat until neither changes anything, so that
	// normalising twice is normalising once.
	for range 4 {
		n := len(rs)
		rs = closeSpacing(rs, f)
		var changed bool
		rs, changed = chineseNumerals(rs, f)
		if len(rs) == n && !changed {
			break
		}
	}
	return encodeRewriting(dst, rs, f)
}

// decodeFolded appends the runes of text to rs with compatibility forms
// folded (NFKC, and width folding for the half- and full-width block),
// circled and parenthesised digits as digits, invisible runes dropped and
// every run of white space made one space.
func decodeFolded(rs []rune, text string, f *found) []rune {
	var zeroWidth, keycap, fullWidth, compat, circled bool
	space := true // drops leading space
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
				if !space {
					rs = append(rs, ' ')
					space = true
				}
				continue
			}
			rs = append(rs, rune(c))
			space = false
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && size == 1 {
			rs = append(rs, rawByte+rune(c))
			i++
			space = false
			continue
		}
		raw := text[i : i+size]
		i += size
		switch {
		case r == 0x200B || r == 0x200C || r == 0x200D || r == 0x2060 || r == 0xFEFF || r == 0x180E ||
			r >= 0x2061 && r <= 0x2064 || r == 0x00AD || r == 0x034F || r == 0x200E || r == 0x200F ||
			r == 0x061C || r == 0x115F || r == 0x1160 || r == 0x3164 || r == 0xFFA0 || r >= 0x202A && r <= 0x202E ||
			r >= 0x2066 && r <= 0x2069 || r >= 0xE0000 && r <= 0xE007F:
			zeroWidth = true
			continue
		case r == 0x20E3: // combining enclosing keycap: 1️⃣ is 1, U+FE0F, U+20E3
			keycap = true
			continue
		case r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0100 && r <= 0xE01EF: // variation selectors
			continue
		case r >= 0x4E00 && r <= 0x9FFF || r >= 0x3041 && r <= 0x30FF || r >= 0xAC00 && r <= 0xD7A3:
			// Chinese, kana, Hangul: the bulk of most texts, already in
			// NFKC, so skip the tables.
			rs = append(rs, r)
			space = false
			continue
		}
		if d, ok := circledDigit(r); ok {
			rs = append(rs, d...)
			circled = true
			space = false
			continue
		}
		if r >= 0xFF00 && r <= 0xFFEF {
			// Width folding for the full-width forms of ASCII; the
			// half-width kana and Hangul go on to NFKC, which folds them
			// to the forms NFKC keeps.
			if w := width.LookupRune(r).Folded(); w != 0 && w < utf8.RuneSelf {
				if w == ' ' {
					if !space {
						rs = append(rs, ' ')
						space = true
					}
					continue
				}
				if isAlnumRune(w) {
					fullWidth = true
				}
				rs = append(rs, w)
				space = false
				continue
			}
		}
		if unicode.IsSpace(r) {
			if !space {
				rs = append(rs, ' ')
				space = true
			}
			continue
		}
		if p := norm.NFKC.PropertiesString(raw); len(p.Decomposition()) > 0 && !(r >= 0xAC00 && r <= 0xD7A3) {
			var tmp [32]byte
			folded := norm.NFKC.AppendString(tmp[:0], raw)
			for _, fr := range string(folded) {
				if fr >= 0x300 && fr <= 0x36F && len(folded) > 2 {
					continue // a lone combining mark from a ligature's decomposition
				}
				if isAlnumRune(fr) {
					compat = true
				}
				if fr == ' ' {
					if !space {
						rs = append(rs, ' ')
						space = true
					}
					continue
				}
				rs = append(rs, fr)
				space = false
			}
			continue
		}
		rs = append(rs, r)
		space = false
	}
	if n := len(rs); n > 0 && rs[n-1] == ' ' {
		rs = rs[:n-1]
	}
	if latinLookAlikes(rs) {
		compat = true
	}
	if f != nil {
		if zeroWidth {
			f.add("zero-width characters")
		}
		if keycap {
			f.add("keycap digits")
		}
		if circled {
			f.add("circled digits")
		}
		if fullWidth {
			f.add("full-width letters")
		}
		if compat {
			f.add("look-alike letters")
		}
	}
	return rs
}

// lookAlike maps the Cyrillic and Greek letters that look like Latin ones
// (the Cyrillic а, е, о, с, х in "wесhаt") to those Latin letters. NFKC
// leaves them alone: they are letters of their own scripts.
var lookAlike = map[rune]rune{
	'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y',
	'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ѵ': 'v', 'һ': 'h', 'ӏ': 'l',
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T', 'У': 'Y',
	'Х': 'X', 'І': 'I', 'Ј': 'J', 'Ѕ': 'S', 'Ԛ': 'Q', 'Ԝ': 'W', 'Ѵ': 'V',
	'α': 'a', 'ο': 'o', 'ν': 'v', 'τ': 't', 'ι': 'i', 'κ': 'k', 'ρ': 'p', 'χ': 'x', 'υ': 'u',
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N', 'Ο': 'O',
	'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
}

// latinLookAlikes writes Cyrillic and Greek look-alikes as the Latin
// letters they imitate where they touch a Latin letter or digit (wесhаt,
// VХ, lilу88), in place, and reports whether it wrote any. Words all in
// Cyrillic or Greek are left as they are: they are Russian or Greek.
func latinLookAlikes(rs []rune) bool {
	changed := false
	for i, r := range rs {
		if r < 0x370 || r > 0x52F {
			continue
		}
		l, ok := lookAlike[r]
		if !ok {
			continue
		}
		latin := i > 0 && isAlnumRune(rs[i-1])
		for k := i + 1; !latin && k < len(rs) && k < i+4; k++ {
			if isAlnumRune(rs[k]) {
				latin = true
			} else if _, ok := lookAlike[rs[k]]; !ok {
				break
			}
		}
		if latin {
			rs[i] = l
			changed = true
		}
	}
	return changed
}

// digitRunes backs circledDigit's answers, so they cost no allocation.
var digitRunes = []rune("0123456789")
var tenToTwenty = [...][]rune{
	[]rune("10"), []rune("11"), []rune("12"), []rune("13"), []rune("14"), []rune("15"),
	[]rune("16"), []rune("17"), []rune("18"), []rune("19"), []rune("20"),
}

// circledDigit writes the circled, parenthesised, full-stop and dingbat
// numbers (① ⑴ ⒈ ❶ ➀ ➊ ⓵ ⓪) as bare digits: NFKC writes ⑴ as "(1)" and
// leaves the dingbats alone, and a phone number spelt with them must read
// as digits.
func circledDigit(r rune) ([]rune, bool) {
	n := -1
	switch {
	case r >= 0x2460 && r <= 0x2473: // ①..⑳
		n = int(r - 0x2460 + 1)
	case r >= 0x2474 && r <= 0x2487: // ⑴..⒇
		n = int(r - 0x2474 + 1)
	case r >= 0x2488 && r <= 0x249B: // ⒈..⒛
		n = int(r - 0x2488 + 1)
	case r == 0x24EA || r == 0x24FF || r == 0x1F10B || r == 0x1F10C: // ⓪ ⓿ 🄋 🄌
		n = 0
	case r >= 0x24F5 && r <= 0x24FE: // ⓵..⓾
		n = int(r - 0x24F5 + 1)
	case r >= 0x2776 && r <= 0x277F: // ❶..❿
		n = int(r - 0x2776 + 1)
	case r >= 0x2780 && r <= 0x2789: // ➀..➉
		n = int(r - 0x2780 + 1)
	case r >= 0x278A && r <= 0x2793: // ➊..➓
		n = int(r - 0x278A + 1)
	case r >= 0x24EB && r <= 0x24F4: // ⓫..⓴
		n = int(r - 0x24EB + 11)
	case r >= 0x1F100 && r <= 0x1F10A: // 🄀 🄁..🄊
		n = int(r - 0x1F100)
		if n > 0 {
			n-- // 🄁 is "0,", 🄂 "1,"
		}
	}
	switch {
	case n < 0:
		return nil, false
	case n < 10:
		return digitRunes[n : n+1], true
	}
	return tenToTwenty[n-10], true
}

// isChineseSep is a separator a marketer puts between Chinese characters
// to break up a keyword: 加 微 信, 加.微.信, 加-微-信, 加*微*信.
func isChineseSep(r rune) bool {
	switch r {
	case ' ', '.', '·', '•', '-', '_', '*', '|', '/', '\\', '~', '^', '`', '丶', '・', '～', '☆', '★', '♪', '♫', '✿', '❀', '✦', '✧':
		return true
	}
	// Emoji between single characters (加🌸微🌸信), but not the hearts and
	// pointers that stand for words.
	return isDecoration(r)
}

// isDecoration reports whether r is an emoji or symbol a marketer strews
// between characters or before a handle (加🌸微🌸信🌸:lily88) — not the
// hearts, pointers and telephones that stand for words.
func isDecoration(r rune) bool {
	return (r >= 0x1F300 && r <= 0x1FAFF || r >= 0x2600 && r <= 0x27BF) && !isHeart(r) && !isPointer(r) &&
		r != '☎' && r != '☏' && r != 0x1F4DE && r != 0x1F4F1 && r != '➕'
}

// isLatinSep is a separator between letters spelt out one by one: W e C h
// a t, c.l.i.c.k.
func isLatinSep(r rune) bool {
	switch r {
	case ' ', '.', '-', '_', '*', '·':
		return true
	}
	return false
}

// closeSpacing closes separators between Chinese characters and joins
// Latin letters spelt out one by one (three or more single letters or
// digits each followed by one separator: "W e C h a t" is WeChat), in
// place.
func closeSpacing(rs []rune, f *found) []rune {
	w := 0
	spacedHan := 0
	for i := 0; i < len(rs); {
		r := rs[i]
		if isChineseSep(r) && w > 0 && isHan(rs[w-1]) {
			j := i
			for j < len(rs) && j-i < 3 && isChineseSep(rs[j]) {
				j++
			}
			// A spaced-out word has single characters between the
			// separators: 加 微 信, 加微 信. Phrases a writer spaced (二〇二六年
			// 一三八, 北京 上海) stay apart: closing them would run words
			// (and numbers) together.
			if j < len(rs) && isHan(rs[j]) && j-i <= 3 && (w < 2 || !isHan(rs[w-2]) || j+1 >= len(rs) || !isHan(rs[j+1])) {
				spacedHan++
				i = j
				continue
			}
		}
		if isDigitRune(r) && (i == 0 || !isDigitRune(rs[i-1]) && rs[i-1] != '_') {
			// A letter may come before (Tel1❤3❤8…): no word is spelt so.
			end := decoratedDigits(rs, i)
			if end == 0 {
				end = dottedMobile(rs, i)
			}
			if end > 0 {
				w = keepOnly(rs, w, i, end, isDigitRune, f)
				i = end
				continue
			}
		}
		if isAlnumRune(r) && (i == 0 || !isAlnumRune(rs[i-1])) {
			if n, end := spacedLetters(rs, i); n >= 3 {
				// An underscore is a letter of the id unless it is the
				// separator (W_e_C_h_a_t).
				underscoreSep := rs[i+1] == '_' // read before the copy below overwrites it
				keep := func(r rune) bool { return isAlnumRune(r) || r == '_' && !underscoreSep }
				w = keepOnly(rs, w, i, end, keep, f)
				i = end
				continue
			}
		}
		rs[w] = r
		w++
		i++
	}
	if spacedHan > 0 {
		f.add("spaced-out Chinese closed")
	}
	return rs[:w]
}

// decoratedDigits returns the end of a number spelt out digit by digit
// with a heart or an emoji after each (1❤3❤8❤…, 1🌸3🌸8🌸…) starting at
// rs[i], or 0 if there is none: five digits or more, as spacedLetters asks
// of digits alone.
func decoratedDigits(rs []rune, i int) int {
	n, j := 0, i
	for j < len(rs) && isDigitRune(rs[j]) {
		n++
		j++
		if j+1 < len(rs) && (isDecoration(rs[j]) || isHeart(rs[j])) && isDigitRune(rs[j+1]) {
			j++
			continue
		}
		break
	}
	if n < 5 || j < len(rs) && isAlnumRune(rs[j]) || j-i == n {
		return 0 // too short, glued to a word, or no decoration at all
	}
	return j
}

// dottedMobile returns the end of a mobile number written digit by digit
// with a dot between (1.3.9.1.2.3.4.5.6.7.8) starting at rs[i], or 0 if
// there is none: eleven single digits, 1 then 3 to 9, as a mobile starts.
// A letter may come before (Tel1.3.9…), as decoratedDigits allows.
// Versions (1.2.3), addresses (10.0.0.1) and section numbers (3.1.4) are
// shorter or have longer groups.
func dottedMobile(rs []rune, i int) int {
	if i > 0 && (isDigitRune(rs[i-1]) || rs[i-1] == '.') || i+21 > len(rs) {
		return 0
	}
	j := i
	for n := range 11 {
		if !isDigitRune(rs[j]) || n < 10 && rs[j+1] != '.' {
			return 0
		}
		j += 2
	}
	j-- // past the last digit, not a dot
	if j < len(rs) && (isAlnumRune(rs[j]) || rs[j] == '.' && j+1 < len(rs) && isAlnumRune(rs[j+1])) {
		return 0
	}
	if rs[i] != '1' || rs[i+2] < '3' || rs[i+2] > '9' {
		return 0
	}
	return j
}

// lookAlikeMobile reports whether rs[i:i+11] is an 11-digit mobile with l
// or I written for 1 and O or o for 0 (l39l234O678), nothing alphanumeric
// after: it starts with 1 (or l) then 3 to 9, and at least eight of its
// eleven are digits, so no word (lOl, l0ve) is one.
func lookAlikeMobile(rs []rune, i int) bool {
	if i+11 > len(rs) || i+11 < len(rs) && (isAlnumRune(rs[i+11]) || rs[i+11] == '_') {
		return false
	}
	digits := 0
	for _, r := range rs[i : i+11] {
		switch {
		case isDigitRune(r):
			digits++
		case mobileLookAlike(r) == 0:
			return false
		}
	}
	second := rs[i+1]
	if d := mobileLookAlike(second); d != 0 {
		second = d
	}
	return digits >= 8 && digits < 11 && (rs[i] == '1' || mobileLookAlike(rs[i]) == '1') && second >= '3' && second <= '9'
}

// mobileLookAlike is the digit a letter stands for in lookAlikeMobile, 0
// if none.
func mobileLookAlike(r rune) rune {
	switch r {
	case 'l', 'I':
		return '1'
	case 'O', 'o':
		return '0'
	}
	return 0
}

// keepOnly moves the runes of rs[i:end] that keep accepts to rs[w:], as
// closeSpacing compacts in place (w <= i), and returns the new w; f, when
// recording, notes the change.
func keepOnly(rs []rune, w, i, end int, keep func(rune) bool, f *found) int {
	if f != nil {
		var b strings.Builder
		for _, r := range rs[i:end] {
			if keep(r) {
				b.WriteRune(r)
			}
		}
		f.change(rs[i:end], b.String())
	}
	for k := i; k < end; k++ {
		if keep(rs[k]) {
			rs[w] = rs[k]
			w++
		}
	}
	return w
}

// spacedLetters counts the single letters or digits from rs[i] each
// separated from the next by the same separator (one to three separator
// runes: "W e C h a t", "W . e . C"); end is the index after the last.
// Dots only join letters (1.2.3 is a version), and a run of digits alone
// needs five (1 2 3 is a count).
func spacedLetters(rs []rune, i int) (n, end int) {
	if i > 0 && !endsSpelling(rs[i-1]) || i > 0 && (rs[i-1] == '.' || rs[i-1] == '-' || rs[i-1] == '_') {
		return 0, 0 // inside a version, an id or a link: v.1.2.3, a-b-c-d, lily_8 s
	}
	if c := rs[i] | 0x20; (c == 'v' || c == 'q') && contactBefore(rs, i) {
		return 0, 0 // 加V v i p 8 8: the V is the contact word, the handle follows
	}
	if rs[i]|0x20 == 'x' && i >= 2 && isHeart(rs[i-1]) && rs[i-2]|0x20 == 'v' {
		return 0, 0 // v♥x l i l y 8 8: the x ends the contact word
	}
	if _, ok := wechatLike(rs[max(i-1, 0)]); rs[i]|0x20 == 'x' && i >= 1 && (ok || rs[i-1] == '微') {
		return 0, 0 // 微x l i l y 8 8: the x ends the contact word
	}
	var sep [3]rune
	nsep := 0
	letters := 0
	j := i
	for {
		// rs[j] is a letter or a digit, or an underscore inside an id
		// spelt out (l u c k y _ 6 8).
		if j >= len(rs) || !isAlnumRune(rs[j]) && (rs[j] != '_' || j == i) || j+1 < len(rs) && isAlnumRune(rs[j+1]) {
			break
		}
		if j+1 < len(rs) && !isLatinSep(rs[j+1]) && !endsSpelling(rs[j+1]) && !bracketedWord(rs, j+1) {
			break // t[.]cn, a.b/c: a link, not a spelt word
		}
		if j > i && hostStart(rs, j) {
			break // l u c k y t dot cn: the t starts a link
		}
		if isLetterRune(rs[j]) {
			letters++
		}
		n++
		if rs[j] != '_' {
			end = j + 1
		}
		if nsep == 0 {
			k := j + 1
			for k < len(rs) && k-j-1 < 3 && isLatinSep(rs[k]) {
				k++
			}
			if k == j+1 || k >= len(rs) || !isAlnumRune(rs[k]) {
				break
			}
			nsep = copy(sep[:], rs[j+1:k])
			if slices.Contains(sep[:nsep], '.') && !isLetterRune(rs[j]) {
				break
			}
			j = k
			continue
		}
		k := j + 1 + nsep
		if k >= len(rs) || !slices.Equal(sep[:nsep], rs[j+1:k]) || !isAlnumRune(rs[k]) && rs[k] != '_' {
			break
		}
		if m := k + 1; m < len(rs) && isLatinSep(rs[m]) {
			// W e C h a t s-h-o-p: the s starts the next word, spelt
			// with another separator.
			r := sepRun(rs, m, sep[:nsep])
			if (r != nsep || !slices.Equal(sep[:nsep], rs[m:m+nsep])) && spelledAt(rs, m+r) {
				break
			}
		}
		j = k
	}
	return spelt(n, letters, end)
}

// bracketedWord reports whether a word in brackets that is not a dot
// starts at rs[k]: l i l y 8 8（微信）ends the spelt id at the bracket, as
// t(.)cn and t[dot]cn do not.
func bracketedWord(rs []rune, k int) bool {
	if k+1 >= len(rs) || rs[k] != '(' && rs[k] != '[' {
		return false
	}
	next := rs[k+1]
	return isHan(next) && next != '点' && next != '點' || k+7 < len(rs) && equalFoldRunes(rs[k+1:k+7], "wechat")
}

// spelledAt reports whether letters spelt out one by one start at rs[t]: a
// single letter or digit, separators, and another.
func spelledAt(rs []rune, t int) bool {
	if t >= len(rs) || !isAlnumRune(rs[t]) || t+1 < len(rs) && isAlnumRune(rs[t+1]) {
		return false
	}
	u := t + 1
	for u < len(rs) && u-t-1 < 3 && isLatinSep(rs[u]) {
		u++
	}
	return u > t+1 && u < len(rs) && isAlnumRune(rs[u]) && (u+1 == len(rs) || !isAlnumRune(rs[u+1]))
}

// hostStart reports whether the letter at rs[j] starts a host name written
// with a dot, plain or disguised: t.cn, t dot cn, t 点 cn, t[.]cn.
func hostStart(rs []rune, j int) bool {
	k := j + 1
	if k+1 < len(rs) && rs[k] == '.' && isLetterRune(rs[k+1]) {
		return tldAt(rs, k+1)
	}
	if k < len(rs) && rs[k] == ' ' {
		k++
	}
	switch {
	case k >= len(rs):
		return false
	case isSpokenDot(rs[k]):
		return tldAt(rs, k+1)
	case k+4 < len(rs) && equalFoldRunes(rs[k:k+3], "dot") && rs[k+3] == ' ':
		return tldAt(rs, k+4)
	case k+2 < len(rs) && strings.ContainsRune("[({<【〔「", rs[k]) && (rs[k+1] == '.' || rs[k+1] == '点' || rs[k+1] == '點' || rs[k+1]|0x20 == 'd'):
		return true
	}
	return false
}

// tldAt reports whether a top-level domain (com, cn, im …) starts at rs[k],
// after at most one space.
func tldAt(rs []rune, k int) bool {
	if k < len(rs) && rs[k] == ' ' {
		k++
	}
	var label [6]byte
	n := 0
	for k+n < len(rs) && isLetterRune(rs[k+n]) {
		if n == len(label) {
			return false
		}
		label[n] = byte(rs[k+n]) | 0x20
		n++
	}
	return n > 0 && tlds[string(label[:n])]
}

// sepRun is how many separator runes (at most 3) start at rs[m]; an
// underscore counts only if sep has one (otherwise it is part of the id).
func sepRun(rs []rune, m int, sep []rune) int {
	underscore := slices.Contains(sep, '_')
	n := 0
	for m+n < len(rs) && n < 3 && isLatinSep(rs[m+n]) && (rs[m+n] != '_' || underscore) {
		n++
	}
	return n
}

// spelt is spacedLetters' answer: three or more, with a letter or five
// digits.
func spelt(n, letters, end int) (int, int) {
	if n < 3 || letters == 0 && n < 5 {
		return 0, 0
	}
	return n, end
}

// endsSpelling reports whether r may follow the last letter of a spelt-out
// word: punctuation and white space, not the start of a link or an id.
func endsSpelling(r rune) bool {
	switch r {
	case '[', '(', '{', '<', '/', '@', '\\', '#', '_', '&', '=', '%':
		return false
	}
	return !isAlnumRune(r)
}

// chineseDigit returns the digit a Chinese numeral stands for in a number
// read out digit by digit (一三八 is 138): the everyday and the financial
// forms, 〇 and ○ for zero and 幺 for one as telephonists say it.
func chineseDigit(r rune) (rune, bool) {
	switch r {
	case '零', '〇', '○', '洞':
		return '0', true
	case '一', '壹', '幺', '弌':
		return '1', true
	case '二', '贰', '貳', '弍':
		return '2', true
	case '三', '叁', '參', '弎':
		return '3', true
	case '四', '肆':
		return '4', true
	case '五', '伍':
		return '5', true
	case '六', '陆', '陸':
		return '6', true
	case '七', '柒':
		return '7', true
	case '八', '捌':
		return '8', true
	case '九', '玖':
		return '9', true
	}
	return 0, false
}

// liangInRun reports whether rs[j] is 两 inside the number run that
// chineseNumerals reads from rs[i]: after a numeral, digit or 两 of the run
// and, past any more 两, before a numeral or digit (一三八两三…, 一三八两两三…),
// where it is 2 read aloud. Alone or at either end (两个, 三三两两) it is a
// word.
func liangInRun(rs []rune, i, j int) bool {
	if rs[j] != '两' || j == i {
		return false
	}
	k := j + 1
	for k < len(rs) && rs[k] == '两' {
		k++
	}
	if k == len(rs) {
		return false
	}
	_, after := chineseDigit(rs[k])
	return after || isDigitRune(rs[k])
}

// runDigit is chineseDigit inside a run that chineseNumerals converts,
// where 两 is 2 too (liangInRun let it in).
func runDigit(r rune) (rune, bool) {
	if r == '两' {
		return '2', true
	}
	return chineseDigit(r)
}

// chineseNumerals writes Chinese numerals as digits where they are a
// number read out digit by digit: a run of five or more numerals and
// digits (一三八一二三四五六七八, 138一二三四5678) with at least two
// numerals, or one numeral between digits. Shorter runs are prose (一三八,
// 二〇二六年, 三五成群) and stay. Separators inside a converted run go.
func chineseNumerals(rs []rune, f *found) (_ []rune, changed bool) {
	w := 0
	for i := 0; i < len(rs); {
		r := rs[i]
		if _, ok := chineseDigit(r); !ok && !isDigitRune(r) {
			rs[w] = r
			w++
			i++
			continue
		}
		if isDigitRune(r) && i > 0 && (isLetterRune(rs[i-1]) || rs[i-1] == '_') {
			rs[w] = r // part of an id: lily8899
			w++
			i++
			continue
		}
		// Read the run: numerals and digits, single separators between.
		cn, dg, seps, between := 0, 0, 0, false
		end := i
		for j := i; j < len(rs); {
			_, ok := chineseDigit(rs[j])
			ok = ok || liangInRun(rs, i, j)
			if ok || isDigitRune(rs[j]) {
				if ok {
					cn++
					if j > i && isDigitRune(rs[j-1]) && j+1 < len(rs) && isDigitRune(rs[j+1]) {
						between = true
					}
				} else {
					dg++
				}
				j++
				end = j
				continue
			}
			if j+1 < len(rs) && (rs[j] == ' ' || rs[j] == '-' || rs[j] == '.') {
				if _, ok := chineseDigit(rs[j+1]); ok || isDigitRune(rs[j+1]) {
					seps++
					j++
					continue
				}
			}
			break
		}
		// A run broken by separators (一三八 零 九九…) must be long enough
		// to be a phone or QQ number: 二〇二六年 一三八 三五 is prose.
		need := 5
		if seps > 0 {
			need = 7
		}
		if cn == 0 || !(cn+dg >= need && cn >= 2 || between && cn+dg >= need) {
			for ; i < end; i++ {
				rs[w] = rs[i]
				w++
			}
			continue
		}
		if f != nil {
			var from, to strings.Builder
			for k := i; k < end && k < i+3; k++ {
				from.WriteRune(rs[k])
				if d, ok := runDigit(rs[k]); ok {
					to.WriteRune(d)
				} else {
					to.WriteRune(rs[k])
				}
			}
			f.add("Chinese numerals " + from.String() + "… → " + to.String() + "…")
		}
		changed = true
		for ; i < end; i++ {
			if d, ok := runDigit(rs[i]); ok {
				rs[w] = d
				w++
			} else if isDigitRune(rs[i]) {
				rs[w] = rs[i]
				w++
			}
		}
	}
	return rs[:w], changed
}

// isHeart reports whether r is a heart a marketer writes for 信 (微❤, v❤).
func isHeart(r rune) bool {
	return r == '❤' || r == '♥' || r == '♡' || r == '❥' || r >= 0x1F493 && r <= 0x1F49F ||
		r == 0x1F9E1 || r == 0x1F90D || r == 0x1F90E || r == 0x1F5A4 || r == 0x1FA75 || r == 0x1FA76 || r == 0x1FA77
}

// wechatLike are characters a marketer writes for 微 in 微信: they sound or
// look alike. 威信 and 维信 are also words (prestige, a county), so those
// are read as 微信 only where a handle follows or 加 precedes.
func wechatLike(r rune) (always, ok bool) {
	switch r {
	case '薇', '徽', '溦', '嶶', '媺', '㣲':
		return true, true
	case '威', '维', '維', '危', '唯', '围', '魏', '伟', '偉', '卫', '衛', '韦', '尾', '未', '位', '味', '胃', '喂',
		'惟', '纬', '玮', '炜', '葳', '委', '为', '為', '巍':
		return false, true
	}
	return false, false
}

// isXin reports whether r stands for 信 after 微 or one of its stand-ins:
// 信 itself, or a character that sounds or looks like it (芯, 心, 新, 鑫).
func isXin(r rune) bool {
	switch r {
	case '信', '芯', '心', '新', '鑫', '杏', '訫', '伩', '㐰':
		return true
	}
	return false
}

// contactBefore reports whether the rune before rs[i] invites contact:
// 加, +, 添.
func contactBefore(rs []rune, i int) bool {
	for i > 0 && rs[i-1] == ' ' {
		i--
	}
	return i > 0 && (rs[i-1] == '加' || rs[i-1] == '+' || rs[i-1] == '➕' || rs[i-1] == '添' || rs[i-1] == '家' || rs[i-1] == '嘉')
}

// handleAfter reports whether a handle or a number follows rs[i]: an
// optional colon, 号 or space, then a letter or digit.
func handleAfter(rs []rune, i int) bool {
	for k := 0; k < 3 && i < len(rs) && (rs[i] == ':' || rs[i] == ' ' || rs[i] == '号' || rs[i] == '=' || rs[i] == '是' || isPointer(rs[i]) || isDecoration(rs[i])); k++ {
		i++
	}
	return i < len(rs) && isAlnumRune(rs[i])
}

// digitsAfter is handleAfter for numbers alone (QQ numbers).
func digitsAfter(rs []rune, i int) bool {
	for k := 0; k < 3 && i < len(rs) && (rs[i] == ':' || rs[i] == ' ' || rs[i] == '号' || rs[i] == '群' || rs[i] == '是' || isPointer(rs[i]) || isDecoration(rs[i])); k++ {
		i++
	}
	return i < len(rs) && isDigitRune(rs[i])
}

// idAfter reports whether an id follows rs[i]: after spaces, a colon or a
// pointer, six or more letters, digits, dashes or underscores with a digit
// or underscore among them (lily_88, wx12345), as ids are and words are not.
func idAfter(rs []rune, i int) bool {
	for k := 0; k < 3 && i < len(rs) && (rs[i] == ' ' || rs[i] == ':' || isPointer(rs[i])); k++ {
		i++
	}
	n, marked := 0, false
	for i+n < len(rs) && (isAlnumRune(rs[i+n]) || rs[i+n] == '_' || rs[i+n] == '-') {
		if !isLetterRune(rs[i+n]) {
			marked = true
		}
		n++
	}
	return n >= 6 && n <= 20 && marked && i < len(rs) && isLetterRune(rs[i])
}

// isBar is a separator written between a contact word and its id (V |
// lily88, 微信｜lily88, VX／lily88, wx·lily88).
func isBar(r rune) bool {
	return r == '|' || r == '/' || r == '·'
}

// barredIDAfter reports whether a bar, then an id as idAfter reads it,
// follow rs[i] (spaces allowed around the bar): the V of V | lily88 is
// WeChat, that of "V/X ratio" or "V | B" is not.
func barredIDAfter(rs []rune, i int) bool {
	if i < len(rs) && rs[i] == ' ' {
		i++
	}
	return i < len(rs) && isBar(rs[i]) && idAfter(rs, i+1)
}

// labelledIDAfter reports whether a colon or a pointer, then letters,
// follow rs[i] (V我：lilyshop, V我👉lilyshop): an id of letters alone, as
// a colon marks it.
func labelledIDAfter(rs []rune, i int) bool {
	if i < len(rs) && rs[i] == ' ' {
		i++
	}
	if i >= len(rs) || rs[i] != ':' && !isPointer(rs[i]) {
		return false
	}
	i++
	if i < len(rs) && rs[i] == ' ' {
		i++
	}
	return i < len(rs) && isLetterRune(rs[i])
}

// numberAfter reports whether 5 to 11 digits follow rs[i] after one
// space: "Q 12345678" is a QQ number, "Q 3" a quarter.
func numberAfter(rs []rune, i int) bool {
	if i < len(rs) && rs[i] == ' ' {
		i++
	}
	// Digits, in groups joined by one space, dash or dot (191.9888.8734),
	// or by a slash or underscore between groups of three or more
	// (187_3290_9610), as scanPhone reads them; up to 15 (0086 and a
	// mobile).
	n, k, group := 0, i, 0
	for k < len(rs) {
		if isDigitRune(rs[k]) {
			n++
			group++
			k++
			continue
		}
		if n > 0 && k+1 < len(rs) && (rs[k] == ' ' || rs[k] == '-' || rs[k] == '.') && isDigitRune(rs[k+1]) ||
			group >= 3 && (rs[k] == '/' || rs[k] == '_') && digitRunAt(rs, k+1) >= 3 {
			group = 0
			k++
			continue
		}
		break
	}
	return n >= 5 && n <= 15 && (k == len(rs) || !isAlnumRune(rs[k]) && rs[k] != '_' && rs[k] != '-')
}

// digitRunAt is how many digits start at rs[k].
func digitRunAt(rs []rune, k int) int {
	n := 0
	for k+n < len(rs) && isDigitRune(rs[k+n]) {
		n++
	}
	return n
}

// wechatBefore reports whether the normalised text dst ends with a WeChat
// marker (微信, wechat), so that what follows is the id: 微信:wx69062 is
// the id wx69062, not wx and a number.
func wechatBefore(dst []byte) bool {
	k := len(dst)
	for k > 0 && (dst[k-1] == ' ' || dst[k-1] == ':') {
		k--
	}
	for _, p := range [...]string{"👉", "➡", "→", "号码", "号", "搜索", "搜", "好友", "】", "]", ")"} {
		if hasSuffix(dst[:k], p) {
			k -= len(p)
			break
		}
	}
	return hasSuffix(dst[:k], "微信") || k >= 6 && strings.EqualFold(string(dst[k-6:k]), "wechat")
}

// slashedPhone returns how many runes at rs[i] spell a phone number in
// groups of three or more digits joined by one slash or underscore, the
// same throughout (138/1234/5678, 010_6512_3456), 0 if none: a mobile of
// 11 digits or a landline of 10 to 12 starting with 0. Dates (2024/12/05)
// and addresses (138/140) have too few digits or too short a group.
func slashedPhone(rs []rune, i int) int {
	var sep rune
	digits, groups, j := 0, 0, i
	var first [2]rune
	for {
		k := j
		for k < len(rs) && isDigitRune(rs[k]) {
			if digits < 2 {
				first[digits] = rs[k]
			}
			digits++
			k++
		}
		if k-j < 3 {
			return 0
		}
		groups++
		j = k
		if j+1 < len(rs) && (rs[j] == '/' || rs[j] == '_') && (sep == 0 || rs[j] == sep) && isDigitRune(rs[j+1]) {
			sep = rs[j]
			j++
			continue
		}
		break
	}
	if groups < 2 || j < len(rs) && (isAlnumRune(rs[j]) || rs[j] == '/' || rs[j] == '_') {
		return 0
	}
	mobile := digits == 11 && first[0] == '1' && first[1] >= '3' && first[1] <= '9'
	landline := digits >= 10 && digits <= 12 && first[0] == '0'
	if !mobile && !landline {
		return 0
	}
	return j - i
}

// qqBefore reports whether the normalised text dst ends with a QQ marker
// (QQ🐧12345678 is not QQQQ).
func qqBefore(dst []byte) bool {
	k := len(dst)
	for k > 0 && (dst[k-1] == ' ' || dst[k-1] == ':') {
		k--
	}
	return k >= 2 && strings.EqualFold(string(dst[k-2:k]), "qq") || hasSuffix(dst[:k], "扣扣")
}

// isPointer reports whether r points from a contact word to its handle:
// 加V➡lily88, 微信👉lily88.
func isPointer(r rune) bool {
	switch r {
	case '➡', '→', '⇒', '☞', '➜', '➔', '▶', '►', '⇨', '⟶', '⬇', '>', '»', 0x1F449, 0x1F447:
		return true
	}
	return false
}

// encodeRewriting appends rs to dst as UTF-8, rewriting contact words to
// their canonical forms and disguised links to links.
func encodeRewriting(dst []byte, rs []rune, f *found) []byte {
	for i := 0; i < len(rs); {
		r := rs[i]
		if r >= 0x4E00 && r <= 0x9FFF && !startsRewrite(r) {
			// Most of a Chinese text: nothing to rewrite starts here.
			dst = utf8.AppendRune(dst, r)
			i++
			continue
		}
		switch {
		case r >= rawByte:
			dst = append(dst, byte(r-rawByte))
			i++
			continue
		case r == '☎' || r == '☏' || r == 0x1F4DE || r == 0x1F57F || r == 0x1F4F1 && i+1 < len(rs) && handleAfter(rs, i+1):
			f.change(rs[i:i+1], "电话")
			dst = append(dst, "电话"...)
			i++
			continue
		case r == '[' || r == '(' || r == '{' || r == '<' || r == '【' || r == '〔' || r == '「':
			if n := bracketDot(rs, i, dst); n > 0 {
				if f != nil {
					f.change(linkSample(rs, i, n, dst), string(hostTail(dst))+"."+string(labelAfter(rs, i+n)))
				}
				dst = append(dst, '.')
				i += n
				continue
			}
		case r == ' ' || isSpokenDot(r):
			if n := spokenDot(rs, i, dst); n > 0 {
				if f != nil {
					f.change(linkSample(rs, i, n, dst), string(hostTail(dst))+"."+string(labelAfter(rs, i+n)))
				}
				dst = append(dst, '.')
				i += n
				continue
			}
		case isHeart(r) && len(dst) > 0 && (hasSuffix(dst, "微") || hasSuffix(dst, "薇")):
			// 微❤: the heart stands for 信.
			if f != nil {
				f.change(rs[i-1:i+1], "微信")
			}
			dst = trimLastRune(dst)
			dst = append(dst, "微信"...)
			i++
			continue
		case r == '扣' && i+1 < len(rs) && rs[i+1] == '扣',
			i+1 < len(rs) && qqLike(r, rs[i+1]) && (digitsAfter(rs, i+2) || contactBefore(rs, i)):
			f.change(rs[i:i+2], "QQ")
			dst = append(dst, "QQ"...)
			if i+2 < len(rs) && isDigitRune(rs[i+2]) {
				dst = append(dst, ' ') // 企鹅12345 is QQ 12345, not the word QQ12345
			}
			i += 2
			continue
		case (isDigitRune(r) || mobileLookAlike(r) == '1') && (i == 0 || !isAlnumRune(rs[i-1]) && !inHost(rs[i-1])) && lookAlikeMobile(rs, i):
			// l39l234O678: a mobile with letters for 1 and 0.
			var d [11]byte
			for k, c := range rs[i : i+11] {
				if m := mobileLookAlike(c); m != 0 {
					c = m
				}
				d[k] = byte(c)
			}
			f.change(rs[i:i+11], string(d[:]))
			dst = append(dst, d[:]...)
			i += 11
			continue
		case isDigitRune(r) && (i == 0 || !isAlnumRune(rs[i-1]) && !inHost(rs[i-1])):
			if n := slashedPhone(rs, i); n > 0 {
				// 138/1234/5678 → 138-1234-5678: a phone as plainly written,
				// as dates and fractions write their slashes.
				dashed := strings.Map(func(r rune) rune {
					if r == '/' || r == '_' {
						return '-'
					}
					return r
				}, string(rs[i:i+n]))
				f.change(rs[i:i+n], dashed)
				dst = append(dst, dashed...)
				i += n
				continue
			}
		case r == 0x1F427 && digitsAfter(rs, i+1) && !qqBefore(dst):
			// 🐧 12345678: the penguin of QQ's logo, where a number follows.
			f.change(rs[i:i+1], "QQ")
			dst = append(dst, "QQ"...)
			if i+1 < len(rs) && isDigitRune(rs[i+1]) {
				dst = append(dst, ' ')
			}
			i++
			continue
		case r == '绿' && i+2 < len(rs) && rs[i+1] == '泡' && rs[i+2] == '泡' && (handleAfter(rs, i+3) || contactBefore(rs, i)):
			// 绿泡泡 lily8888: the green bubble of WeChat's logo.
			f.change(rs[i:i+3], "微信")
			dst = append(dst, "微信"...)
			i += 3
			continue
		case r == '卫' && i+1 < len(rs) && rs[i+1] == '星' && (handleAfter(rs, i+2) || contactBefore(rs, i)):
			f.change(rs[i:i+2], "微信")
			dst = append(dst, "微信"...)
			i += 2
			continue
		}
		if _, ok := wechatLike(r); (ok || r == '微') && i+1 < len(rs) && rs[i+1]|0x20 == 'x' &&
			(i+2 == len(rs) || !isAlnumRune(rs[i+2])) && idAfter(rs, i+2) {
			// 微x lily_88, 威X：lily88: the x of vx stands for 信, where an id
			// follows (微x光 and 薇x小姐 stay).
			f.change(rs[i:i+2], "微信")
			dst = append(dst, "微信"...)
			i += 2
			continue
		}
		if always, ok := wechatLike(r); ok || r == '微' && i+1 < len(rs) && rs[i+1] != '信' && isXin(rs[i+1]) {
			next := rune(0)
			if i+1 < len(rs) {
				next = rs[i+1]
			}
			switch {
			case next == '信' && always, isXin(next) && (handleAfter(rs, i+2) || contactBefore(rs, i)):
				f.change(rs[i:i+2], "微信")
				dst = append(dst, "微信"...)
				i += 2
				continue
			case isHeart(next) && r != '微':
				f.change(rs[i:i+2], "微信")
				dst = append(dst, "微信"...)
				i += 2
				continue
			case (contactBefore(rs, i) || next == ':' || always && idAfter(rs, i+1)) && !isHan(next) && handleAfter(rs, i+1) && r != '微':
				// 加薇 lily8899, 薇: lily8899
				f.change(rs[i:i+1], "微信")
				dst = append(dst, "微信"...)
				i++
				continue
			}
		}
		if r == '微' && i+1 < len(rs) && rs[i+1] == ':' && handleAfter(rs, i+1) {
			f.change(rs[i:i+2], "微信:")
			dst = append(dst, "微信"...)
			i++
			continue
		}
		if isLetterRune(r) && (i == 0 || !isAlnumRune(rs[i-1]) && !inHost(rs[i-1])) {
			if n, to := latinContact(rs, i, wechatBefore(dst)); n > 0 && !(i+n+1 < len(rs) && inHost(rs[i+n]) && isAlnumRune(rs[i+n+1])) {
				if word := strings.TrimSpace(to); f != nil && !equalFoldRunes(rs[i:i+n], strings.ToLower(word)) {
					f.change(rs[i:i+n], word) // vx → wechat, not qq → QQ or Tel → Tel
				}
				dst = append(dst, to...)
				if isASCIILetter(to[len(to)-1]) && i+n < len(rs) && isDigitRune(rs[i+n]) && numberAfter(rs, i+n) {
					dst = append(dst, ' ') // +Q12345678 is QQ 12345678, as a second reading would glue it
				}
				i += n
				continue
			}
		}
		if r < utf8.RuneSelf {
			dst = append(dst, byte(r))
		} else {
			dst = utf8.AppendRune(dst, r)
		}
		i++
	}
	return dst
}

// inHost reports whether r joins the parts of a host, a path or an id, so a
// contact word next to it (mp.weixin.qq.com, t.cn/vx12) is part of a name.
func inHost(r rune) bool {
	return r == '.' || r == '/' || r == '-' || r == '_' || r == '@' || r == '=' || r == '&' || r == '?' || r == '%'
}

// startsRewrite reports whether a rewrite in encodeRewriting may start at
// the Chinese character r.
func startsRewrite(r rune) bool {
	switch r {
	case '点', '點', '扣', '企', '球', '抠', '寇', '蔻', '叩', '卫', '微', '丶', '绿':
		return true
	}
	_, ok := wechatLike(r)
	return ok
}

// qqLike reports whether a and b spell QQ by sound or by a nickname
// (企鹅, the penguin in its logo): read as QQ where a number follows.
func qqLike(a, b rune) bool {
	switch {
	case a == '企' && b == '鹅', a == '球' && b == '球', a == '抠' && b == '抠', a == '寇' && b == '寇',
		a == '蔻' && b == '蔻', a == '叩' && b == '叩':
		return true
	}
	return false
}

// latinContact reads a Latin contact word at rs[i] (at a word start) and
// returns how many runes it spans and its canonical form: vx, wx, weixin,
// We Chat → wechat; V信, v❤, 加V → 微信; qq, 加Q → QQ; hxxp → http.
func latinContact(rs []rune, i int, afterWechat bool) (int, string) {
	j := i
	for j < len(rs) && isLetterRune(rs[j]) {
		j++
	}
	n := j - i
	if n > 8 {
		return 0, ""
	}
	var w [8]byte
	for k := 0; k < n; k++ {
		w[k] = byte(rs[i+k]) | 0x20
	}
	next := rune(0)
	if j < len(rs) {
		next = rs[j]
	}
	if m := splitContact(rs, i, j, string(w[:n])); m > 0 {
		return m, "wechat"
	}
	// A contact word glued to a number (vx13812345678, Tel13812345678)
	// reads as the word, then the number.
	glued := isDigitRune(next) && numberAfter(rs, j) && !afterWechat
	switch string(w[:n]) {
	case "vx", "wx", "weixin", "weichat", "wchat", "vchat":
		switch {
		case glued:
			return n, "wechat "
		case !isAlnumRune(next):
			return n, "wechat"
		}
	case "tel", "call", "phone", "mobile", "cell", "whatsapp", "wechat":
		if glued {
			return n, string(rs[i:j]) + " "
		}
	case "we":
		// "We Chat" and "we chat:" are the app; "we chat every day" is
		// prose.
		if j+5 <= len(rs) && rs[j] == ' ' && equalFoldRunes(rs[j+1:j+5], "chat") && (j+5 == len(rs) || !isAlnumRune(rs[j+5])) &&
			(rs[j+1] == 'C' || handleAfter(rs, j+5) && (j+5 < len(rs) && rs[j+5] == ':' || contactBefore(rs, i))) {
			return n + 5, "wechat"
		}
	case "wei":
		if next == '信' {
			return 4, "微信"
		}
	case "hxxp", "hxxps":
		return n, "http" + strings.Repeat("s", n-4)
	case "qq":
		switch {
		case glued:
			return n, "QQ "
		case !isAlnumRune(next) || isDigitRune(next):
			return n, "QQ"
		}
	case "v":
		switch {
		case next == '信' || isXin(next) && (handleAfter(rs, j+1) || contactBefore(rs, i)):
			return 2, "微信"
		case next == ' ' && j+1 < len(rs) && rs[j+1] == '信':
			return 3, "微信"
		case isHeart(next) && j+1 < len(rs) && rs[j+1]|0x20 == 'x' && (j+2 == len(rs) || !isAlnumRune(rs[j+2])):
			return 3, "微信" // V❤X: the heart between the letters of VX
		case isHeart(next):
			return 2, "微信"
		case barredIDAfter(rs, j):
			return 1, "微信" // V | lily_88, V/lily_88: a bar or slash between V and its id
		case next == '我' && (idAfter(rs, j+1) || labelledIDAfter(rs, j+1)):
			return 2, "微信" // V我 lily_88, "WeChat me"; V我50 is a request for money, no id
		case isDigitRune(next) || isLetterRune(next):
		case contactBefore(rs, i) && !isHan(next) || (next == ':' || isPointer(next)) && handleAfter(rs, j):
			return 1, "微信"
		case i > 0 && isHan(rs[i-1]) && idAfter(rs, j):
			return 1, "微信" // 找V lily_88: V in Chinese text, an id after it
		}
	case "q":
		switch {
		case isDigitRune(next) && contactBefore(rs, i):
			return 1, "QQ"
		case isLetterRune(next) || isDigitRune(next):
		case (contactBefore(rs, i) || next == ':' || next == '群' || next == '号' || isPointer(next)) && digitsAfter(rs, j):
			return 1, "QQ"
		case next == ' ' && (numberAfter(rs, j) || j+1 < len(rs) && (rs[j+1] == ':' || isPointer(rs[j+1])) && digitsAfter(rs, j+1)):
			return 1, "QQ" // Q 12345678, Q :12345678
		}
	}
	return 0, ""
}

// splitContact reads vx, wx or weixin written in two parts with one
// separator between them (V-X, v.x, w x, wei xin), first being the
// lower-cased letters at rs[i:j]: it returns the runes spanned, or 0. Only
// where an id or a number follows, or 加 comes before, is it the app:
// "Wei Xin" is also a name, and "W x H" a size.
func splitContact(rs []rune, i, j int, first string) int {
	var second string
	switch first {
	case "v", "w":
		second = "x"
	case "wei":
		second = "xin"
	default:
		return 0
	}
	end := j + 1 + len(second)
	if end > len(rs) || !isSplitSep(rs[j]) || !equalFoldRunes(rs[j+1:end], second) || end < len(rs) && isAlnumRune(rs[end]) {
		return 0
	}
	if !contactBefore(rs, i) && !idAfter(rs, end) && !digitsAfter(rs, end) {
		return 0
	}
	return end - i
}

// isSplitSep is what splits a contact word in two: a space, a dash, a dot,
// a slash, an underscore or a middle dot.
func isSplitSep(r rune) bool {
	switch r {
	case ' ', '-', '.', '/', '_', '·', '|':
		return true
	}
	return false
}

func equalFoldRunes(rs []rune, s string) bool {
	if len(rs) != len(s) {
		return false
	}
	for k := range rs {
		if rs[k] >= utf8.RuneSelf || byte(rs[k])|0x20 != s[k] {
			return false
		}
	}
	return true
}

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

func trimLastRune(b []byte) []byte {
	_, size := utf8.DecodeLastRune(b)
	return b[:len(b)-size]
}

// hostTail is the host label that dst ends with: the letters, digits,
// dashes and dots after the last other byte.
func hostTail(dst []byte) []byte {
	k := len(dst)
	for k > 0 && (isASCIIAlnum(dst[k-1]) || dst[k-1] == '-' || dst[k-1] == '.') {
		k--
	}
	return dst[k:]
}

// labelAfter is the host label starting at rs[i], skipping one space.
func labelAfter(rs []rune, i int) []rune {
	if i < len(rs) && rs[i] == ' ' {
		i++
	}
	j := i
	for j < len(rs) && (isAlnumRune(rs[j]) || rs[j] == '-') {
		j++
	}
	return rs[i:j]
}

// linkSample is the disguised link as written, for Found: the host label
// before, the disguise rs[i:i+n], and the label after.
func linkSample(rs []rune, i, n int, dst []byte) []rune {
	tail := hostTail(dst)
	out := make([]rune, 0, len(tail)+n+16)
	for _, c := range tail {
		out = append(out, rune(c))
	}
	out = append(out, rs[i:i+n]...)
	return append(out, labelAfter(rs, i+n)...)
}

func isSpokenDot(r rune) bool {
	switch r {
	case '点', '點', '。', '丶', '·', '•', '∙', '⋅', '・', '｡':
		return true
	}
	return false
}

// bracketDot returns how many runes at rs[i] spell a dot between host
// labels in brackets: [.] (.) {.} <.> [dot] (dot) 【点】 (点); 0 if none.
func bracketDot(rs []rune, i int, dst []byte) int {
	if len(hostTail(dst)) == 0 {
		return 0
	}
	open := rs[i]
	var close rune
	switch open {
	case '[':
		close = ']'
	case '(':
		close = ')'
	case '{':
		close = '}'
	case '<':
		close = '>'
	case '【':
		close = '】'
	case '〔':
		close = '〕'
	case '「':
		close = '」'
	}
	j := i + 1
	switch {
	case j < len(rs) && (rs[j] == '.' || rs[j] == '点' || rs[j] == '點' || rs[j] == '。'):
		j++
	case j+3 <= len(rs) && equalFoldRunes(rs[j:j+3], "dot"):
		j += 3
	default:
		return 0
	}
	if j >= len(rs) || rs[j] != close || j+1 >= len(rs) || !isAlnumRune(rs[j+1]) {
		return 0
	}
	return j + 1 - i
}

// spokenDot returns how many runes at rs[i] spell a dot in words between a
// host label and a top-level domain: " dot com", "点com", "。cn"; 0 if
// none. The label after must be a known top-level domain (or be followed
// by another spelt dot), so prose with 点 or "dot" stays.
func spokenDot(rs []rune, i int, dst []byte) int {
	tail := hostTail(dst)
	if len(tail) == 0 || tail[len(tail)-1] == '.' {
		return 0
	}
	j := i
	switch {
	case rs[j] == ' ' && j+4 < len(rs) && equalFoldRunes(rs[j+1:j+4], "dot") && rs[j+4] == ' ':
		j += 5
	case rs[j] == ' ' && j+1 < len(rs) && (isSpokenDot(rs[j+1]) || rs[j+1] == '.'):
		j += 2 // shop 点 top, shop . top
		if j < len(rs) && rs[j] == ' ' {
			j++
		}
	case rs[j] == ' ':
		return 0
	default:
		j++
		if j < len(rs) && rs[j] == ' ' {
			j++
		}
	}
	k := j
	for k < len(rs) && isLetterRune(rs[k]) {
		k++
	}
	if k == j || k-j > 6 || k < len(rs) && isDigitRune(rs[k]) {
		return 0
	}
	var label [6]byte
	for m := j; m < k; m++ {
		label[m-j] = byte(rs[m]) | 0x20
	}
	if tlds[string(label[:k-j])] {
		return j - i
	}
	// taobao dot shop dot com: another spelt dot follows.
	if k+1 < len(rs) && (rs[k] == '点' || rs[k] == '點' || rs[k] == '.') || k+5 < len(rs) && rs[k] == ' ' && equalFoldRunes(rs[k+1:k+4], "dot") && rs[k+4] == ' ' {
		return j - i
	}
	return 0
}
