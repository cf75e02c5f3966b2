package adtext

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
)

// Destination is where a text sends its reader: a contact handle or a link.
type Destination struct {
	// Kind is "wechat", "phone", "qq", "domain" or "shortlink".
	Kind string
	// Value is canonical, so the same destination written two ways is
	// equal: a WeChat id lowercased, a phone number or QQ number as digits
	// (no +86, spaces or dashes), a domain as its registrable domain
	// lowercased (shop.example.com.cn → example.com.cn), a short link as
	// host and path (t.cn/A6xYz), since the shortener is not the
	// destination.
	Value string
	// Generic marks domains that millions of honest texts link to (weibo.com,
	// qq.com, gov.cn, mailing-list hosts): true destinations, but not
	// evidence that two accounts work together.
	Generic bool
}

// Destinations returns the destinations in a normalised text (see
// Normalize), each once, in order of first appearance.
func Destinations(normalised string) []Destination {
	var out []Destination
	add := func(d Destination) {
		for _, x := range out {
			if x.Kind == d.Kind && x.Value == d.Value {
				return
			}
		}
		out = append(out, d)
	}
	// The scanners read lowercase; s keeps every byte where it is in
	// normalised, so a short link's path keeps its case.
	var buf [normBuf]byte
	s := buf[:0]
	for k := 0; k < len(normalised); k++ {
		s = append(s, lower(normalised[k]))
	}
	for i := 0; i < len(s); {
		c := s[i]
		if isAlnum(c) && (i == 0 || !isHostByte(s[i-1]) && s[i-1] != '@') {
			if end, _, ok := scanLink(s, i); ok {
				add(linkDestination(normalised[i:end]))
				i = end
				continue
			}
		}
		if isDigit(c) {
			if i > 0 && (isLetter(s[i-1]) || s[i-1] == '_') {
				for i < len(s) && isAlnum(s[i]) {
					i++
				}
				continue
			}
			if end, digits, ok := phoneAt(s, i); ok {
				add(Destination{Kind: "phone", Value: digits})
				i = end
				continue
			}
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			continue
		}
		if n := wechatMarker(s, i); n > 0 {
			if end, id, ok := wechatID(s, i+n, s[i] < 0x80 && !chineseBefore(s, i)); ok {
				add(Destination{Kind: "wechat", Value: id})
				i = end
				continue
			}
			if id, ok := wechatIDBefore(s, i, i+n); ok {
				add(Destination{Kind: "wechat", Value: id})
			}
			i += n
			continue
		}
		if n := qqMarker(s, i); n > 0 {
			if end, num, ok := qqNumber(s, i+n); ok {
				add(Destination{Kind: "qq", Value: num})
				i = end
				continue
			}
			i += n
			continue
		}
		i += runeLen(c)
	}
	return out
}

// chineseBefore reports whether the text before s[i], past spaces and
// ASCII punctuation, is Chinese (or + / 加): a Latin marker there
// (面膜,wechat lily) is followed by an id, as it is not in English prose
// ("add me on WeChat tonight").
func chineseBefore(s []byte, i int) bool {
	for i > 0 && (s[i-1] == ' ' || s[i-1] == ',' || s[i-1] == ':' || s[i-1] == '!' || s[i-1] == '.') {
		i--
	}
	return i > 0 && (s[i-1] >= utf8.RuneSelf || s[i-1] == '+')
}

// wechatMarkers are the WeChat markers of a normalised text.
var wechatMarkers = [...]string{"微信", "wechat", "vx", "wx", "v信"}

// wechatMarker returns the length of a WeChat marker at s[i] (微信,
// wechat, vx, wx), 0 if none.
func wechatMarker(s []byte, i int) int {
	for _, m := range wechatMarkers {
		if hasPrefix(s, i, m) {
			if isLetter(m[0]) && i > 0 && isLetter(s[i-1]) {
				return 0
			}
			if end := i + len(m); isLetter(m[len(m)-1]) && end < len(s) && isLetter(s[end]) && m != "wechat" {
				return 0
			}
			return len(m)
		}
	}
	return 0
}

// wechatID reads a WeChat id after a marker ending at s[i]: after an
// optional 号, id, colon, 是 or spaces, a letter then 5 to 19 letters,
// digits, dashes or underscores. After a Latin marker with nothing between
// ("wechat friends"), an id needs a digit, dash or underscore, so that
// prose is not read as one.
func wechatID(s []byte, i int, latin bool) (end int, id string, ok bool) {
	explicit, barred := false, false
	for k := 0; k < 6; k++ { // WeChat ID = lily8888: five steps to the id
		switch {
		case !barred && i < len(s) && (s[i] == '|' || s[i] == '/') || hasPrefix(s, i, "·"):
			// 微信｜lily8888, vx/lily8888, wechat·lily8888: an id with a
			// digit, dash or underscore (below), so that "wechat / whatsapp"
			// is not one.
			i += runeLen(s[i])
			barred = true
			continue
		}
		switch {
		case k == 0 && closingBracket(s, i) && bracketedMarker(s, i):
			// 【微信】lily8888, (微信)lily8888: the marker as a label.
			i += runeLen(s[i])
			explicit = true
		case hasPrefix(s, i, "号码"), hasPrefix(s, i, "好友"), hasPrefix(s, i, "搜索"):
			// 微信号码 lily8888, 添加微信好友 lily8888, 微信搜索 lily8888
			i += len("号码")
			explicit = true
		case hasPrefix(s, i, "号"), hasPrefix(s, i, "搜"): // 微信搜 lily8888
			i += len("号")
			explicit = true
		case hasPrefix(s, i, "是"):
			i += len("是")
			explicit = true
		case hasPrefix(s, i, "id") && (i+2 == len(s) || !isAlnum(s[i+2]) || s[i+2] == ':'):
			i += 2
			explicit = true
		case i < len(s) && (s[i] == ':' || s[i] == '='):
			i++
			explicit = true
		case i < len(s) && s[i] == ' ':
			i++
		default:
			if n := pointerAt(s, i); n > 0 {
				i += n
				explicit = true
			}
		}
	}
	if i >= len(s) || !isLetter(s[i]) {
		return 0, "", false
	}
	j := i
	special := false
	for j < len(s) && (isAlnum(s[j]) || s[j] == '-' || s[j] == '_') {
		if !isLetter(s[j]) {
			special = true
		}
		j++
	}
	n := j - i
	if n < 6 || n > 20 || barred && !special || latin && !explicit && !special && proseAfterWechat[string(s[i:j])] {
		return 0, "", false
	}
	switch string(s[i:j]) {
	case "wechat", "weixin", "http", "https":
		return 0, "", false
	}
	return j, string(s[i:j]), true
}

// closingBracket reports whether a bracket that closes a label starts at
// s[i]: ) ] 】 」 〕.
func closingBracket(s []byte, i int) bool {
	return i < len(s) && (s[i] == ')' || s[i] == ']' || hasPrefix(s, i, "】") || hasPrefix(s, i, "」") || hasPrefix(s, i, "〕"))
}

// bracketedMarker reports whether the WeChat marker that ends at s[i]
// opens with a bracket of its own (【微信】, (wechat)): a label, not the end
// of a remark in brackets ("(来自微信)Android").
func bracketedMarker(s []byte, i int) bool {
	for _, m := range wechatMarkers {
		if !hasSuffix(s[:i], m) {
			continue
		}
		k := i - len(m)
		return k > 0 && (s[k-1] == '(' || s[k-1] == '[') || hasSuffix(s[:k], "【") || hasSuffix(s[:k], "「") || hasSuffix(s[:k], "〔")
	}
	return false
}

// wechatIDBefore reads a WeChat id written before the marker s[i:end]:
// "lily8888(微信)", "lily8888 (wechat)", "lily8888是我的微信". Only an id
// with a digit, dash or underscore counts (as idAfter asks), so that prose
// before 微信 ("Lily 是我微信好友") is never read as one; in brackets, only
// the marker alone ("user_12 (微信支付)" is not a handle).
func wechatIDBefore(s []byte, i, end int) (string, bool) {
	closed := closingBracket(s, end)
	switch {
	case i > 0 && (s[i-1] == '(' || s[i-1] == '[') && closed:
		i--
	case (hasSuffix(s[:i], "【") || hasSuffix(s[:i], "「")) && closed:
		i -= len("【")
	default:
		for _, w := range [...]string{"的", "我", "是"} { // 是我的微信, 是我微信, 是微信
			if hasSuffix(s[:i], w) {
				i -= len(w)
			} else if w == "是" {
				return "", false
			}
		}
	}
	if i > 0 && s[i-1] == ' ' {
		i--
	}
	j := i
	marked := false
	for j > 0 && (isAlnum(s[j-1]) || s[j-1] == '-' || s[j-1] == '_') {
		if !isLetter(s[j-1]) {
			marked = true
		}
		j--
	}
	if n := i - j; n < 6 || n > 20 || !marked || !isLetter(s[j]) || j > 0 && (s[j-1] == '.' || s[j-1] == '@' || s[j-1] == '/') {
		return "", false
	}
	return string(s[j:i]), true
}

// proseAfterWechat are English words of six letters or more that follow
// "WeChat" in prose ("WeChat official account", "WeChat friends"): after a
// Latin marker with no colon or "id" between, they are not an id. Any
// other letters are read as one: ids such as vipsafar are not words.
var proseAfterWechat = map[string]bool{
	"account": true, "accounts": true, "official": true, "public": true, "groups": true, "friends": true,
	"friend": true, "contact": true, "contacts": true, "message": true, "messages": true, "moments": true,
	"article": true, "articles": true, "channel": true, "channels": true, "videos": true, "calls": true,
	"payment": true, "payments": true, "wallet": true, "program": true, "programs": true, "mini": true,
	"users": true, "tonight": true, "tomorrow": true, "today": true, "yesterday": true, "instead": true,
	"because": true, "before": true, "during": true, "always": true, "anymore": true, "again": true,
	"please": true, "thanks": true, "should": true, "people": true, "family": true, "number": true,
	"website": true, "platform": true, "services": true, "service": true, "support": true, "update": true,
	"updates": true, "version": true, "status": true, "profile": true, "recently": true, "mostly": true,
	"instead of": true, "sticker": true, "stickers": true, "emoji": true, "translate": true, "search": true,
}

// pointerAt returns the length of an arrow or pointing hand at s[i] that
// points from a contact word to its handle (微信👉lily88), or of an emoji
// strewn there (微信🌸:lily88); 0 if none.
func pointerAt(s []byte, i int) int {
	if i >= len(s) {
		return 0
	}
	if s[i] == '>' {
		return 1
	}
	r, size := utf8.DecodeRune(s[i:])
	if r >= utf8.RuneSelf && (isPointer(r) || isDecoration(r)) {
		return size
	}
	return 0
}

// qqMarker returns the length of a QQ marker at s[i], 0 if none.
func qqMarker(s []byte, i int) int {
	if hasPrefix(s, i, "qq") && (i == 0 || !isLetter(s[i-1])) && (i+2 == len(s) || !isLetter(s[i+2])) {
		return 2
	}
	return 0
}

// qqNumber reads a QQ number after a marker: after 号, 群, 是, colon or
// spaces, 5 to 11 digits.
func qqNumber(s []byte, i int) (end int, num string, ok bool) {
	for k := 0; k < 4; k++ {
		switch {
		case hasPrefix(s, i, "号码"):
			i += len("号码")
		case hasPrefix(s, i, "号"), hasPrefix(s, i, "群"), hasPrefix(s, i, "是"):
			i += 3
		case i < len(s) && (s[i] == ':' || s[i] == ' ' || s[i] == '='):
			i++
		default:
			i += pointerAt(s, i)
		}
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j-i >= 3 && j+1 < len(s) && (s[j] == ' ' || s[j] == '-' || s[j] == '.') && isDigit(s[j+1]) {
		// QQ 1234 5678, QQ 1234-5678: groups of three or more digits
		// joined by one space, dash or dot, 5 to 11 digits in all.
		if end, num, ok := qqGroups(s, i); ok {
			return end, num, true
		}
	}
	if n := j - i; n < 5 || n > 11 || j < len(s) && isLetter(s[j]) {
		return 0, "", false
	}
	return j, string(s[i:j]), true
}

// qqGroups reads a QQ number written in groups of three or more digits
// at s[i] (1234 5678, 123-456-789). A group too short, a letter after,
// more than 11 digits in all or two years (2023-2024) and it is not one.
func qqGroups(s []byte, i int) (end int, num string, ok bool) {
	var d [11]byte
	n := 0
	j := i
	for {
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k-j < 3 || n+k-j > len(d) || n == 4 && k-j == 4 && isYear(d[:4]) && isYear(s[j:k]) {
			return 0, "", false // QQ 2023-2024: a season, not a number
		}
		n += copy(d[n:], s[j:k])
		if k+1 < len(s) && (s[k] == ' ' || s[k] == '-' || s[k] == '.') && isDigit(s[k+1]) {
			j = k + 1
			continue
		}
		if n < 5 || k < len(s) && isLetter(s[k]) {
			return 0, "", false
		}
		return k, string(d[:n]), true
	}
}

// isYear reports whether four digits are a year of these two centuries.
func isYear(d []byte) bool {
	return len(d) == 4 && (d[0] == '1' && d[1] == '9' || d[0] == '2' && d[1] == '0')
}

// phoneAt reads a phone number at s[i] with scanPhone's rules and returns
// it as digits: a Chinese mobile, a landline with its area code, a 400 or
// 800 line; +86 and 86 dropped.
func phoneAt(s []byte, i int) (end int, digits string, ok bool) {
	end, ok = scanPhone(s, i)
	if !ok {
		return 0, "", false
	}
	var d [24]byte
	n := 0
	for _, c := range s[i:end] {
		if isDigit(c) && n < len(d) {
			d[n] = c
			n++
		}
	}
	v := withoutCountryCode(d[:n])
	if len(v) > 15 {
		return 0, "", false
	}
	return end, string(v), true
}

// linkDestination turns a link as scanLink found it into a destination.
func linkDestination(link string) Destination {
	s := link
	for _, scheme := range [...]string{"https://", "http://"} {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			s = s[len(scheme):]
		}
	}
	host, path := s, ""
	if k := strings.IndexAny(s, "/?#:"); k >= 0 {
		host, path = s[:k], s[k:]
	}
	host = strings.ToLower(host)
	host = strings.TrimSuffix(strings.TrimPrefix(host, "www."), ".")
	if shortHosts[host] {
		path = strings.TrimRight(path, ".,;:!?'\"")
		if k := strings.IndexAny(path, "?#"); k >= 0 {
			path = path[:k]
		}
		path = strings.TrimRight(path, "/")
		if len(path) > 1 && path[0] == '/' {
			return Destination{Kind: "shortlink", Value: host + path}
		}
		return Destination{Kind: "domain", Value: host, Generic: true}
	}
	domain, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		domain = host
	}
	return Destination{Kind: "domain", Value: domain, Generic: genericHost(host, domain)}
}

// genericDomains are registrable domains that ordinary texts link to by
// the million: portals, platforms, news, stores' and governments' sites.
// Accounts linking to them are not thereby a ring.
var genericDomains = map[string]bool{
	"qq.com": true, "weibo.com": true, "weibo.cn": true, "weixin.com": true, "wechat.com": true, "baidu.com": true,
	"sina.com.cn": true, "sina.cn": true, "sohu.com": true, "163.com": true, "126.com": true, "ifeng.com": true,
	"people.com.cn": true, "xinhuanet.com": true, "news.cn": true, "cctv.com": true, "chinadaily.com.cn": true,
	"taobao.com": true, "tmall.com": true, "jd.com": true, "pinduoduo.com": true, "yangkeduo.com": true,
	"douyin.com": true, "bilibili.com": true, "zhihu.com": true, "xiaohongshu.com": true, "toutiao.com": true,
	"alipay.com": true, "aliyun.com": true, "meituan.com": true, "ctrip.com": true, "12306.cn": true,
	"google.com": true, "youtube.com": true, "youtu.be": true, "facebook.com": true, "twitter.com": true, "x.com": true,
	"instagram.com": true, "linkedin.com": true, "wikipedia.org": true, "github.com": true, "apple.com": true,
	"microsoft.com": true, "amazon.com": true, "bbc.co.uk": true, "bbc.com": true, "nytimes.com": true,
	"reuters.com": true, "cnn.com": true, "yahoo.com": true, "sourceforge.net": true, "googlegroups.com": true,
	"yahoogroups.com": true, "groups.io": true, "example.com": true, "w3.org": true, "mozilla.org": true,
	"gnu.org": true, "apache.org": true, "python.org": true, "debian.org": true, "redhat.com": true,
}

// genericHost reports whether a link to host (registrable domain domain)
// is one millions of honest texts carry: a generic domain, a government
// or school site, or a mailing-list host (the footer of every message a
// list sends).
func genericHost(host, domain string) bool {
	if genericDomains[domain] {
		return true
	}
	for _, suffix := range [...]string{".gov.cn", ".edu.cn", ".gov", ".edu", ".gov.uk", ".ac.uk", ".org.cn"} {
		if strings.HasSuffix(host, suffix) || host == suffix[1:] {
			return true
		}
	}
	for _, prefix := range [...]string{"lists.", "list.", "mailman.", "listserv.", "groups."} {
		if strings.HasPrefix(host, prefix) {
			return true
		}
	}
	return false
}
