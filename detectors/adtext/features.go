// Package adtext scores how much one broadcast text reads like an
// advertisement: countable features a person can check (links, phone
// numbers, contact handles, prices, discount words, calls to action) and a
// linear model over hashed character n-grams that an operator trains on
// labelled text. It knows nothing about accounts, events or policies.
package adtext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Features counts the advertising features of one text. The counts are
// facts about the text, not judgements: a museum's notice has a price and a
// phone number too, which is why the model, not these counts, gives the
// score.
type Features struct {
	Links      int // http(s)://, www. and bare domains such as shop.vip/x
	ShortLinks int // of which short links (t.cn/, bit.ly/ ...)
	Phones     int // Chinese mobiles, landlines, 400/800 lines, +international
	Handles    int // contact handles: 加V, VX, 微信:, DM me, WhatsApp, Telegram ...
	Prices     int // ¥99, 99元, $15, 20 RMB, and bare prices such as 99.9
	Promos     int // discount and urgency words: 5折, 特价, 限时, free, % off, today only ...
	Calls      int // calls to action: 点击, 扫码, 立即, click, buy now, link in bio ...
}

// Kinds is how many kinds of feature the text has, 0 to 6 (short links
// count with links).
func (f Features) Kinds() int {
	n := 0
	for _, c := range [...]int{f.Links, f.Phones, f.Handles, f.Prices, f.Promos, f.Calls} {
		if c > 0 {
			n++
		}
	}
	return n
}

// Explain lists the features found, for evidence: "2 links (1 short), a
// phone number, a contact handle, 3 prices".
func (f Features) Explain() string {
	var parts []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, one)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	switch {
	case f.Links == 1 && f.ShortLinks == 1:
		parts = append(parts, "a short link")
	case f.ShortLinks > 0:
		parts = append(parts, fmt.Sprintf("%d links (%d short)", f.Links, f.ShortLinks))
	default:
		add(f.Links, "a link", "links")
	}
	add(f.Phones, "a phone number", "phone numbers")
	add(f.Handles, "a contact handle", "contact handles")
	add(f.Prices, "a price", "prices")
	add(f.Promos, "a discount or urgency word", "discount or urgency words")
	add(f.Calls, "a call to action", "calls to action")
	if len(parts) == 0 {
		return "no advertising features"
	}
	return strings.Join(parts, ", ")
}

// Extract counts the advertising features of text as its reader sees it
// (see Normalize): 「加 薇 一三八一二三四五六七八」 has a contact handle and
// a phone number.
func Extract(text string) Features {
	var buf [normBuf]byte
	return scan(normalize(buf[:0], text))
}

// normBuf is the size of the stack buffer a text is normalized into; longer
// texts (over ~680 Chinese characters) cost one allocation.
const normBuf = 2048

// normalize appends text to dst as the scanners and the model read it: as
// its reader sees it (Normalize), then folded for matching.
func normalize(dst []byte, text string) []byte {
	if !needsWork(text) {
		return fold(dst, text)
	}
	var buf [normBuf]byte
	return fold(dst, appendNormal(buf[:0], text, nil))
}

// fold appends text to dst folded for matching: ASCII lowercased,
// fullwidth forms (ＶＸ，１３８) mapped to ASCII, zero-width characters
// dropped, and every run of white space made one space. Digits are kept:
// phone and price detection needs them; the n-gram hasher folds them.
func fold[T string | []byte](dst []byte, text T) []byte {
	space := true // drops leading space
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
				if !space {
					dst = append(dst, ' ')
					space = true
				}
				continue
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			space = false
			continue
		}
		var rb [utf8.UTFMax]byte
		r, size := utf8.DecodeRune(rb[:copy(rb[:], text[i:])])
		raw := text[i : i+size]
		i += size
		switch {
		case r == 0x200B || r == 0x200C || r == 0x200D || r == 0x2060 || r == 0xFEFF:
			continue // zero-width characters hide keywords from naive matching
		case caseless(r):
			// Chinese, kana, Hangul, emoji: no case and no space to fold,
			// the bulk of most texts, so skip the Unicode tables.
			dst = append(dst, raw...)
		case r >= 0xFF01 && r <= 0xFF5E: // fullwidth ASCII
			c := byte(r - 0xFF01 + '!')
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		case unicode.IsSpace(r):
			if !space {
				dst = append(dst, ' ')
				space = true
			}
			continue
		default:
			if l := unicode.ToLower(r); l != r {
				dst = utf8.AppendRune(dst, l)
			} else {
				dst = append(dst, raw...)
			}
		}
		space = false
	}
	if n := len(dst); n > 0 && dst[n-1] == ' ' {
		dst = dst[:n-1]
	}
	return dst
}

// caseless reports whether r is in a block without letter case or white
// space: CJK symbols and ideographs, kana, Hangul, compatibility
// ideographs, emoji. U+3000, the ideographic space, is not.
func caseless(r rune) bool {
	return r > 0x3000 && r < 0xA640 || r >= 0xAC00 && r < 0xD800 || r >= 0xF900 && r < 0xFF00 || r >= 0x1F000
}

// scan counts features in normalized text s. It walks s once; at each
// position it tries, in order, a link, a number (phone, price, "5折") and
// the keyword table.
func scan(s []byte) Features {
	var f Features
	for i := 0; i < len(s); {
		c := s[i]
		if isAlnum(c) && (i == 0 || !isHostByte(s[i-1]) && s[i-1] != '@') {
			if end, short, ok := scanLink(s, i); ok {
				f.Links++
				if short {
					f.ShortLinks++
				}
				i = end
				continue
			}
		}
		if isDigit(c) {
			i = scanNumber(s, i, &f)
			continue
		}
		if end, ok := contactAt(s, i); ok {
			f.Handles++
			i = end
			continue
		}
		if k, n := matchKeyword(s, i); n > 0 {
			switch k {
			case kindHandle:
				f.Handles++
			case kindPromo:
				f.Promos++
			case kindCall:
				f.Calls++
			}
			i += n
			continue
		}
		i += runeLen(c)
	}
	return f
}

// contactAt reports whether a contact marker followed by its handle starts
// at s[i] (wechat lily_8899, 微信号 lily8899, QQ 12345678) and where it
// ends. A marker with no handle after it (微信公众号, QQ音乐) is left to the
// keyword table.
func contactAt(s []byte, i int) (end int, ok bool) {
	if n := wechatMarker(s, i); n > 0 {
		if end, _, ok := wechatID(s, i+n, s[i] < utf8.RuneSelf); ok {
			return end, true
		}
		if _, ok := wechatIDBefore(s, i, i+n); ok {
			return i + n, true // lily8888(微信): the id came first
		}
	}
	if n := qqMarker(s, i); n > 0 {
		if end, _, ok := qqNumber(s, i+n); ok {
			return end, true
		}
	}
	return 0, false
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }

// isHostByte reports whether c can be part of a host name.
func isHostByte(c byte) bool { return isAlnum(c) || c == '-' || c == '.' }

// isURLByte reports whether c can continue a URL after its host. URLs end
// at white space, at any non-ASCII character (Chinese text runs straight
// on after a link) and at brackets and quotes.
func isURLByte(c byte) bool {
	if c <= ' ' || c >= utf8.RuneSelf {
		return false
	}
	switch c {
	case '"', '\'', '<', '>', '(', ')', '[', ']', '{', '}', ',', ';', '!':
		return false
	}
	return true
}

func runeLen(c byte) int {
	switch {
	case c < 0xC0:
		return 1
	case c < 0xE0:
		return 2
	case c < 0xF0:
		return 3
	}
	return 4
}

func hasPrefix(s []byte, i int, p string) bool {
	return len(s)-i >= len(p) && string(s[i:i+len(p)]) == p
}

// shortHosts are link shorteners: a short link hides where it goes, which
// is why marketers use them and news rarely does.
var shortHosts = map[string]bool{
	"t.cn": true, "url.cn": true, "dwz.cn": true, "suo.im": true, "bit.ly": true, "tinyurl.com": true,
	"goo.gl": true, "is.gd": true, "ow.ly": true, "t.co": true, "rebrand.ly": true, "cutt.ly": true,
	"reurl.cc": true, "t.me": true, "wa.me": true, "s.id": true, "rb.gy": true, "shorturl.at": true,
}

// tlds are the top-level domains a bare host (no http://, no www.) must end
// with to count as a link, so that "3.5" or "e.g." do not.
var tlds = map[string]bool{
	"com": true, "cn": true, "net": true, "org": true, "top": true, "vip": true, "xyz": true, "cc": true,
	"io": true, "me": true, "co": true, "shop": true, "info": true, "club": true, "site": true, "online": true,
	"store": true, "ly": true, "gl": true, "gd": true, "hk": true, "tw": true, "ink": true, "link": true,
	"gov": true, "edu": true, "uk": true, "us": true, "at": true, "id": true, "gy": true, "app": true,
	"im": true, "tv": true, "ai": true, "pw": true, "ws": true, "biz": true, "mobi": true, "asia": true, "fun": true,
	"icu": true, "work": true, "live": true, "life": true, "wang": true, "ren": true, "tk": true, "ml": true,
	"cyou": true, "xin": true, "ltd": true, "pro": true, "ru": true, "de": true, "jp": true, "kr": true, "sg": true,
	"eu": true, "ca": true, "au": true, "mo": true, "bz": true, "la": true, "vn": true, "ph": true, "my": true,
}

// scanLink reports whether a link starts at s[i] and where it ends.
func scanLink(s []byte, i int) (end int, short, ok bool) {
	host := i
	switch {
	case hasPrefix(s, i, "https://"):
		host = i + 8
	case hasPrefix(s, i, "http://"):
		host = i + 7
	}
	h := host
	for h < len(s) && isHostByte(s[h]) {
		h++
	}
	name := s[host:h]
	for len(name) > 0 && name[len(name)-1] == '.' { // "see abc.com." ends a sentence
		name = name[:len(name)-1]
	}
	dot := strings.LastIndexByte(string(name), '.')
	switch {
	case host > i: // a scheme is enough
		if len(name) == 0 {
			return 0, false, false
		}
	case hasPrefix(s, i, "www."):
	case dot <= 0 || !tlds[string(name[dot+1:])]:
		return 0, false, false
	}
	short = shortHosts[string(name)]
	end = host + len(name)
	if end < len(s) && (s[end] == '/' || s[end] == ':' || s[end] == '?') {
		for end < len(s) && isURLByte(s[end]) {
			end++
		}
	}
	return end, short, true
}

// scanNumber reads the number starting at s[i], counts it as a phone
// number, a price or a discount ("5折") when it is one, and returns where
// scanning resumes.
func scanNumber(s []byte, i int, f *Features) int {
	if i > 0 && (isLetter(s[i-1]) || s[i-1] == '_') {
		// Part of a word or an ID such as iphone15 or lily_8899.
		j := i
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		return j
	}
	if end, ok := scanPhone(s, i); ok {
		f.Phones++
		return end
	}
	// A tight number: 1,299 or 99.9.
	j, dec, last := i, false, byte(0)
	for j < len(s) {
		c := s[j]
		switch {
		case isDigit(c):
			last = c
			j++
			continue
		case c == ',' && j+3 < len(s) && isDigit(s[j+1]) && isDigit(s[j+2]) && isDigit(s[j+3]) &&
			(j+4 == len(s) || !isDigit(s[j+4])): // 1,299 but not 1,2345
			j++
			continue
		case c == '.' && !dec && j+1 < len(s) && isDigit(s[j+1]):
			dec = true
			j++
			continue
		}
		break
	}
	k := skip(s, j)
	switch {
	case hasPrefix(s, k, "折"):
		f.Promos++
		return k + len("折")
	case hasPrefix(s, k, "%") || hasPrefix(s, k, "℃") || hasPrefix(s, k, "°"):
		return j
	}
	if priceBefore(s, i) || priceAfter(s, k) || dec && last == '9' {
		// A bare decimal ending in 9 (9.9, 19.99) is how prices are written;
		// temperatures and versions rarely end that way and carry units.
		f.Prices++
	}
	return j
}

// skip returns the index after at most one space or colon at s[k].
func skip(s []byte, k int) int {
	if k < len(s) && (s[k] == ' ' || s[k] == ':') {
		return k + 1
	}
	return k
}

var pricePrefixes = []string{"$", "¥", "￥", "€", "£", "rmb", "usd", "hk$", "价", "只要", "仅需", "只需", "仅", "低至", "一律"}

func priceBefore(s []byte, i int) bool {
	k := i
	for n := 0; n < 2 && k > 0 && (s[k-1] == ' ' || s[k-1] == ':'); n++ {
		k--
	}
	for _, p := range pricePrefixes {
		if k >= len(p) && string(s[k-len(p):k]) == p {
			return true
		}
	}
	return false
}

// "万" alone is not a price suffix: 3万人次 is a crowd.
var priceSuffixes = []string{"元", "块", "rmb", "usd", "美元", "港币", "dollars", "bucks", "万元", "万起", "千元"}

func priceAfter(s []byte, k int) bool {
	for _, p := range priceSuffixes {
		if hasPrefix(s, k, p) {
			if isLetter(p[0]) && k+len(p) < len(s) && isLetter(s[k+len(p)]) {
				continue
			}
			return true
		}
	}
	return false
}

// scanPhone reports whether a phone number starts at s[i]: digits in
// groups joined by single spaces or dashes (138 1234 5678, 010-6512-3456),
// optionally after +. When two numbers follow each other (138 1234 5678
// 010-6512-3456) the first groups that make a number are taken.
func scanPhone(s []byte, i int) (end int, ok bool) {
	var d [16]byte
	var groups, ends [6]int
	nd, ng := 0, 0
	j := i
	for j < len(s) {
		c := s[j]
		if isDigit(c) {
			if nd < len(d) {
				d[nd] = c
			}
			nd++
			if ng < len(groups) {
				groups[ng]++
				ends[ng] = j + 1
			}
			j++
			continue
		}
		prev := groups[min(ng, len(groups)-1)]
		if (c == ' ' || c == '-' || c == '.' && prev >= 3) && j+1 < len(s) && isDigit(s[j+1]) {
			// 138 1234 5678, 010-6512-3456, 138.1234.5678; a dot after
			// fewer than three digits is a decimal or a date.
			ng++
			j++
			continue
		}
		if (c == '/' || c == '_') && prev >= 3 && digitsAt(s, j+1) >= 3 {
			// 138/1234/5678, 138_1234_5678: a slash or underscore between
			// groups of three or more (2024/12/05 is a date, 138/140 an
			// address: too few digits for a phone in all).
			ng++
			j++
			continue
		}
		if c == ')' && ng == 0 && i > 0 && s[i-1] == '(' && prev >= 3 {
			// (138)1234-5678, (010) 6512 3456: the first group in brackets.
			k := j + 1
			if k < len(s) && s[k] == ' ' {
				k++
			}
			if k < len(s) && isDigit(s[k]) {
				ng++
				j = k
				continue
			}
		}
		break
	}
	ng++
	if j < len(s) && (s[j] == '.' && j+1 < len(s) && isDigit(s[j+1]) || isLetter(s[j])) {
		return 0, false // 13800.5, 2024x: not a phone
	}
	plus := i > 0 && s[i-1] == '+'
	if phoneDigits(d[:min(nd, len(d))], nd, groups[:min(ng, len(groups))], plus) {
		return j, true
	}
	// Try the first groups alone, longest first.
	for g := min(ng, len(groups)) - 1; g >= 1; g-- {
		n := 0
		for _, k := range groups[:g] {
			n += k
		}
		if n <= len(d) && phoneDigits(d[:n], n, groups[:g], plus) {
			return ends[g-1], true
		}
	}
	return 0, false
}

// phoneDigits reports whether nd digits d (the first 16 of them) in groups
// make a phone number.
func phoneDigits(digits []byte, nd int, groups []int, plus bool) bool {
	if nd <= len(digits) {
		if national := withoutCountryCode(digits[:nd]); len(national) < nd {
			if nd == 15 && national[0] != '1' {
				return false // 0086 is dialled before a mobile only
			}
			digits, nd = national, len(national)
		}
	}
	switch {
	case plus && nd >= 8 && nd <= 15:
	case nd == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9':
	case digits[0] == '0' && nd >= 10 && nd <= 12:
	case nd == 10 && (string(digits[:3]) == "400" || string(digits[:3]) == "800"):
	case nd == 10 && len(groups) == 3 && groups[0] == 3 && groups[1] == 3 && groups[2] == 4: // 555-123-4567
	default:
		return false
	}
	return true
}

// withoutCountryCode is the eleven national digits of a number written
// with China's country code, 86 or 0086 (+86 dialled as 00:
// 0086-138-1234-5678), or the digits as they are.
func withoutCountryCode(d []byte) []byte {
	switch {
	case len(d) == 13 && string(d[:2]) == "86":
		return d[2:]
	case len(d) == 15 && string(d[:4]) == "0086":
		return d[4:]
	}
	return d
}

// digitsAt is how many digits start at s[i].
func digitsAt(s []byte, i int) int {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j - i
}

type kind uint8

const (
	kindNone kind = iota
	kindHandle
	kindPromo
	kindCall
)

// keywords are the contact, promotion and call-to-action words, lowercase,
// as they appear after normalize. A keyword that starts or ends with a
// Latin letter only matches at a word boundary there ("sale" does not match
// "wholesale", "free" does not match "freedom").
var keywords = map[kind][]string{
	kindHandle: {
		"加v", "加vx", "+v", "加微", "加微信", "微信:", "微信号", "v信", "vx", "wx", "wx:", "加薇",
		"薇:", "微:", "v:", "扣扣", "qq:", "qq号", "qq群", "加群", "群号", "私聊", "联系我", "加我", "同微信", "微信同号",
		"dm me", "dm us", "dm for", "pm me", "whatsapp", "telegram", "wechat:", "wechat id", "add me on",
		"line id", "text me", "text us", "contact me", "message me", "message us", "inbox me", "kik", "snapchat",
	},
	kindPromo: {
		"特价", "限时", "秒杀", "包邮", "优惠", "免费", "折扣", "打折", "折起", "半价", "一折", "二折", "三折", "四折",
		"五折", "六折", "七折", "八折", "九折", "清仓", "促销", "大促", "满减", "领券", "优惠券", "红包", "福利",
		"爆款", "低至", "原价", "仅剩", "名额有限", "最后一天", "手慢无", "限量", "买一送一", "返利", "返现",
		"佣金", "日赚", "月入", "躺赚", "稳赚", "高收益", "无抵押", "秒批", "秒到", "下款", "彩金", "首充",
		"返水", "招代理", "零门槛", "零成本", "全网最低", "最低价", "厂家直销", "一件代发", "拼团", "活动价",
		"专享", "大酬宾", "赠品", "送礼", "错过",
		"free", "discount", "% off", "%off", "limited time", "today only", "sale", "flash sale", "deal", "deals",
		"promo", "promo code", "coupon", "clearance", "lowest price", "last chance", "hurry", "bonus", "cashback",
		"cash back", "guaranteed", "per day", "/day", "bogo", "buy one get one", "special offer", "exclusive offer",
		"offer ends", "while stocks last", "don't miss", "giveaway", "half price",
	},
	kindCall: {
		"点击", "扫码", "立即", "抢购", "私信", "咨询", "下单", "领取", "长按", "识别二维码", "速来", "赶快", "赶紧",
		"快来", "进群", "入群", "购买", "订购", "报名", "预约", "链接", "马上", "猛戳", "拍下", "来电", "私我", "戳我",
		"小窗", "扣1", "速抢",
		"click", "buy now", "order now", "sign up", "link in bio", "shop now", "tap", "register", "subscribe",
		"call now", "swipe up", "grab", "join now", "order today", "act now", "apply now", "book now",
		"get yours", "visit", "call us", "comment", "apply", "order at", "order on", "claim",
	},
}

type keyword struct {
	text        string
	kind        kind
	startLetter bool
	endLetter   bool
}

// keywordTable dispatches on the first character of a keyword (the first
// two bytes when it is ASCII), so that at most positions the lookup is one
// hash and an empty slot. Each slot is sorted longest first so the longest
// keyword wins ("加微信" over "加微").
var keywordTable [1 << 12][]keyword

// slot hashes the key bytes at s[i]; ok is false when s ends first.
func slot(s []byte, i int) (int, bool) {
	n := 2
	if s[i] >= utf8.RuneSelf {
		n = runeLen(s[i])
	}
	if len(s)-i < n {
		return 0, false
	}
	var h uint32
	for _, c := range s[i : i+n] {
		h = h<<8 | uint32(c)
	}
	return int(h * 2654435761 >> 20), true
}

func init() {
	for k, words := range keywords {
		for _, w := range words {
			kw := keyword{text: w, kind: k, startLetter: isLetter(w[0]), endLetter: isLetter(w[len(w)-1])}
			i, _ := slot([]byte(w), 0)
			keywordTable[i] = append(keywordTable[i], kw)
		}
	}
	for i := range keywordTable {
		t := keywordTable[i]
		// Insertion sort, longest first, then alphabetical: the table must
		// not depend on map iteration order.
		for a := 1; a < len(t); a++ {
			for b := a; b > 0 && (len(t[b].text) > len(t[b-1].text) || len(t[b].text) == len(t[b-1].text) && t[b].text < t[b-1].text); b-- {
				t[b], t[b-1] = t[b-1], t[b]
			}
		}
	}
}

// matchKeyword returns the kind and length of the longest keyword at s[i].
func matchKeyword(s []byte, i int) (kind, int) {
	k, ok := slot(s, i)
	if !ok {
		return kindNone, 0
	}
	for _, kw := range keywordTable[k] {
		if !hasPrefix(s, i, kw.text) {
			continue
		}
		if kw.startLetter && i > 0 && isLetter(s[i-1]) {
			continue
		}
		if end := i + len(kw.text); kw.endLetter && end < len(s) && isLetter(s[end]) {
			continue
		}
		return kw.kind, len(kw.text)
	}
	return kindNone, 0
}
