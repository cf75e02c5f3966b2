package adtext

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// gen makes the parts of a disguised ad: handles, numbers and the filler
// around them, from a seed, so every evasion is tried in many variants.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) gen { return gen{rand.New(rand.NewPCG(seed, 11))} }

func (g gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// id is a WeChat id: a letter, then 5 to 13 letters, digits and underscores.
func (g gen) id() string {
	const first, rest = "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789_"
	b := []byte{first[g.r.IntN(len(first))]}
	for n := 5 + g.r.IntN(9); len(b) < n; {
		b = append(b, rest[g.r.IntN(len(rest))])
	}
	b = append(b, byte('0'+g.r.IntN(10))) // a digit, as most ids have
	return string(b)
}

// mobile is a Chinese mobile number.
func (g gen) mobile() string {
	b := []byte{'1', byte('3' + g.r.IntN(7))}
	for len(b) < 11 {
		b = append(b, byte('0'+g.r.IntN(10)))
	}
	return string(b)
}

func (g gen) qq() string {
	b := []byte{byte('1' + g.r.IntN(9))}
	for n := 5 + g.r.IntN(6); len(b) < n; {
		b = append(b, byte('0'+g.r.IntN(10)))
	}
	return string(b)
}

var (
	openers = []string{"面膜第二件半价", "今日特价清仓", "新品到货", "代购正品", "兼职日结", "高额返利", "亲们补货啦", "限时秒杀"}
	closers = []string{"手慢无", "名额有限", "速来", "先到先得", "欢迎咨询", "立即抢购", "", "！"}
)

// wrap puts s inside ad filler.
func (g gen) wrap(s string) string {
	return g.pick(openers) + g.pick([]string{"，", " ", "！", "~"}) + s + g.pick([]string{"，", " ", "。"}) + g.pick(closers)
}

func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r < 0x7F {
			r += 0xFF01 - '!'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (g gen) zeroWidth(s string) string {
	zw := []string{"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
		if g.r.IntN(2) == 0 {
			b.WriteString(g.pick(zw))
		}
	}
	return b.String()
}

func (g gen) spaced(s string) string {
	sep := g.pick([]string{" ", ".", "-", "*", "·", "_", "  ", " . "})
	return strings.Join(strings.Split(s, ""), sep)
}

func (g gen) keycaps(digits string) string {
	var b strings.Builder
	for _, r := range digits {
		b.WriteRune(r)
		if g.r.IntN(3) > 0 {
			b.WriteRune(0xFE0F)
		}
		b.WriteRune(0x20E3)
	}
	return b.String()
}

func (g gen) circled(digits string) string {
	var b strings.Builder
	for _, r := range digits {
		d := rune(r - '0')
		if d == 0 {
			b.WriteRune([]rune{0x24EA, 0x24FF}[g.r.IntN(2)]) // ⓪ ⓿
			continue
		}
		base := []rune{0x2460 - 1, 0x2474 - 1, 0x2488 - 1, 0x2776 - 1, 0x2780 - 1, 0x278A - 1, 0x24F5 - 1}[g.r.IntN(7)]
		b.WriteRune(base + d)
	}
	return b.String()
}

func (g gen) numerals(digits string, mix bool) string {
	forms := [10][]string{
		{"零", "〇", "○"}, {"一", "壹", "幺"}, {"二", "贰"}, {"三", "叁"}, {"四", "肆"},
		{"五", "伍"}, {"六", "陆"}, {"七", "柒"}, {"八", "捌"}, {"九", "玖"},
	}
	var b strings.Builder
	for i, r := range digits {
		if mix && g.r.IntN(3) == 0 {
			b.WriteRune(r)
		} else {
			b.WriteString(g.pick(forms[r-'0']))
		}
		if (i == 2 || i == 6) && g.r.IntN(2) == 0 {
			b.WriteString(g.pick([]string{" ", "-"}))
		}
	}
	return b.String()
}

func hasDest(ds []Destination, kind, value string) bool {
	return slices.ContainsFunc(ds, func(d Destination) bool { return d.Kind == kind && d.Value == value })
}

// TestEvasions disguises a handle, a phone or a link in each way the issue
// names, 20 variants each from a seeded generator, and checks that the
// normalised text gives the destination back, that Extract counts it and
// that Found says what was undone.
func TestEvasions(t *testing.T) {
	type sample struct {
		text, kind, value, found string
	}
	classes := []struct {
		name string
		make func(g gen) sample
	}{
		{"full-width", func(g gen) sample {
			id := g.id()
			return sample{g.wrap("加" + fullWidth(g.pick([]string{"VX:", "V:", "WX:", "vx "})+id)), "wechat", id, "full-width letters"}
		}},
		{"full-width phone", func(g gen) sample {
			p := g.mobile()
			return sample{g.wrap("电话" + fullWidth(p)), "phone", p, "full-width letters"}
		}},
		{"zero-width", func(g gen) sample {
			id := g.id()
			return sample{g.wrap(g.zeroWidth("加微信") + "\u200b" + g.zeroWidth(":"+id)), "wechat", id, "zero-width characters"}
		}},
		{"spaced Chinese", func(g gen) sample {
			id := g.id()
			return sample{g.wrap(g.spaced(g.pick([]string{"加微信", "加薇信", "加威信"})) + "：" + id), "wechat", id, "spaced-out Chinese closed"}
		}},
		{"keycap digits", func(g gen) sample {
			p := g.mobile()
			return sample{g.wrap(g.pick([]string{"电话", "手机", "☎", "call "}) + g.keycaps(p)), "phone", p, "keycap digits"}
		}},
		{"circled digits", func(g gen) sample {
			p := g.mobile()
			return sample{g.wrap(g.pick([]string{"电话", "手机", "咨询"}) + g.circled(p)), "phone", p, "circled digits"}
		}},
		{"Chinese numerals", func(g gen) sample {
			p := g.mobile()
			return sample{g.wrap(g.pick([]string{"加薇", "电话", "打", "手机号"}) + g.numerals(p, false)), "phone", p, "Chinese numerals"}
		}},
		{"numerals and digits", func(g gen) sample {
			p := g.mobile()
			return sample{g.wrap("联系" + g.numerals(p, true)), "phone", p, ""}
		}},
		{"WeChat variants", func(g gen) sample {
			id := g.id()
			v := g.pick([]string{"薇信", "徽信", "V信", "v信", "微❤", "v❤", "V❤️", "加V", "加v ", "+V ", "vx", "VX", "wx", "weixin",
				"W e C h a t", "We Chat:", "加卫星", "加薇", "加威", "卫星号", "V-X:", "加v.x", "加 w x", "wei xin:", "加Wei Xin", "V/X:", "v_x:"})
			sep := g.pick([]string{":", "：", " ", "", "➡", "👉", "→"})
			if sep == "" && isASCIILetter(v[len(v)-1]) {
				sep = " " // vxlily88 is ambiguous to a reader too
			}
			return sample{g.wrap(v + sep + id), "wechat", id, "→ "}
		}},
		{"QQ variants", func(g gen) sample {
			n := g.qq()
			v := g.pick([]string{"扣扣", "企鹅", "加Q", "Q:", "qq", "QQ号", "扣扣群", "企鹅号", "q群", "Q ", "Q👉"})
			return sample{g.wrap(v + g.pick([]string{":", "：", " ", "", "➡"}) + n), "qq", n, ""}
		}},
		{"disguised links", func(g gen) sample {
			host := g.pick([]string{"shop", "mall", "buy", "deal"}) + fmt.Sprint(g.r.IntN(1000))
			tld := g.pick([]string{"top", "vip", "xyz", "cc", "shop"})
			dot := g.pick([]string{"[.]", "(.)", "{.}", "[dot]", "(dot)", " dot ", " DOT ", "点", "。", "【点】", " 点 ", "丶", " . "})
			scheme := g.pick([]string{"", "hxxp://", "hxxps://", "http://"})
			return sample{g.wrap(g.pick([]string{"点击", "打开", "访问", "visit "}) + scheme + host + dot + tld + "/x"), "domain", host + "." + tld, " → "}
		}},
		{"disguised short links", func(g gen) sample {
			path := fmt.Sprintf("A%dx%c", g.r.IntN(10000), 'a'+rune(g.r.IntN(26)))
			host, tld, _ := strings.Cut(g.pick([]string{"t.cn", "url.cn", "dwz.cn", "suo.im", "bit.ly"}), ".")
			dot := g.pick([]string{"[.]", "(.)", "[dot]", " dot ", " 点 ", "。"})
			return sample{g.wrap("点击 " + host + dot + tld + "/" + path + " 领取"), "shortlink", host + "." + tld + "/" + path, " → "}
		}},
		{"spaced-out ids", func(g gen) sample {
			id := g.id()
			sep := g.pick([]string{" ", ".", "-", "·", "  ", " . ", " · "}) // not _, which ids contain
			return sample{g.wrap(g.pick([]string{"加V", "➕V", "微信", "wx", "v❤"}) + g.pick([]string{":", "：", " ", "👉"}) + strings.Join(strings.Split(id, ""), sep)), "wechat", id, "→ "}
		}},
		{"glued contact words", func(g gen) sample {
			p := g.mobile()
			if g.r.IntN(2) == 0 {
				p2 := p[:3] + g.pick([]string{".", "-", " "}) + p[3:7] + g.pick([]string{".", "-", " "}) + p[7:]
				return sample{g.wrap(g.pick([]string{"Tel", "TEL", "call", "vx", "Phone"}) + p2), "phone", p, ""}
			}
			return sample{g.wrap(g.pick([]string{"Tel", "TEL", "call", "vx", "Phone"}) + p), "phone", p, ""}
		}},
		{"homophones of 微信", func(g gen) sample {
			id := g.id()
			v := g.pick([]string{"加魏信", "加伟", "维信:", "微芯:", "V芯:", "加微心", "卫信:", "wei信", "威❤"})
			return sample{g.wrap(v + g.pick([]string{"", " ", "👉"}) + id), "wechat", id, "→ 微信"}
		}},
		{"QQ homophones", func(g gen) sample {
			n := g.qq()
			return sample{g.wrap(g.pick([]string{"抠抠", "寇寇", "叩叩", "球球", "蔻蔻"}) + g.pick([]string{":", " ", "："}) + n), "qq", n, "→ QQ"}
		}},
		{"emoji between characters", func(g gen) sample {
			id := g.id()
			e := g.pick([]string{"🌸", "🔥", "✨", "🍀", "☆", "✿"})
			return sample{g.wrap("加" + e + "微" + e + "信" + e + ":" + id), "wechat", id, "spaced-out Chinese closed"}
		}},
		{"Cyrillic look-alikes", func(g gen) sample {
			id := g.id()
			v := g.pick([]string{"wесhаt", "VХ", "wеchat", "vх"})
			return sample{g.wrap(v + ": " + id), "wechat", id, "look-alike letters"}
		}},
		{"dotted phones", func(g gen) sample {
			p := g.mobile()
			return sample{g.wrap("电话" + p[:3] + "." + p[3:7] + "." + p[7:]), "phone", p, ""}
		}},
		{"middle-dot links", func(g gen) sample {
			host := g.pick([]string{"shop", "mall", "buy"}) + fmt.Sprint(g.r.IntN(1000))
			tld := g.pick([]string{"top", "vip", "xyz", "cc"})
			return sample{g.wrap("打开 " + host + g.pick([]string{"·", "•", "・"}) + tld), "domain", host + "." + tld, " → "}
		}},
		{"handles as marketers write them", func(g gen) sample {
			// Issue 11: a handle ring wrote its handles these ways.
			id := g.id()
			form := g.pick([]string{"V我 %s", "【微信】%s", "[微信] %s", "(微信)%s", "微信搜 %s", "微信搜索 %s", "添加微信好友 %s", "微信号码 %s",
				"%s（微信）", "%s (微信)", "%s是我微信", "%s 是我的微信", "V❤X：%s", "v♥x %s", "绿泡泡 %s"})
			return sample{g.wrap(fmt.Sprintf(form, id)), "wechat", id, ""}
		}},
		{"QQ numbers as marketers write them", func(g gen) sample {
			n := g.qq()
			switch g.r.IntN(3) {
			case 0:
				return sample{g.wrap(g.pick([]string{"🐧 ", "🐧:", "🐧"}) + n), "qq", n, "🐧 → QQ"}
			case 1:
				if len(n) < 6 {
					n += "8" // two groups of three or more
				}
				k := 3 + g.r.IntN(len(n)-5)
				return sample{g.wrap("QQ " + n[:k] + g.pick([]string{" ", "-", "."}) + n[k:]), "qq", n, ""}
			}
			return sample{g.wrap("扣扣 " + strings.Join(strings.Split(n, ""), g.pick([]string{"❤", "🌸", "♥", "✨"}))), "qq", n, "→ " + n}
		}},
		{"phones as marketers write them", func(g gen) sample {
			p := g.mobile()
			switch g.r.IntN(4) {
			case 0:
				sep := g.pick([]string{"/", "_"})
				return sample{g.wrap("电话 " + p[:3] + sep + p[3:7] + sep + p[7:]), "phone", p, ""}
			case 1:
				return sample{g.wrap("电话 (" + p[:3] + ")" + p[3:7] + "-" + p[7:]), "phone", p, ""}
			case 2:
				return sample{g.wrap("电话 " + g.pick([]string{"0086-" + p[:3] + "-" + p[3:7] + "-" + p[7:], "0086 " + p})), "phone", p, ""}
			}
			return sample{g.wrap("电话 " + strings.Join(strings.Split(p, ""), g.pick([]string{"🌸", "❤", "🔥"}))), "phone", p, "→ " + p}
		}},
		{"spaced Latin", func(g gen) sample {
			id := g.id()
			return sample{"Add me on " + g.spaced("WeChat") + ": " + id + " " + g.pick([]string{"c l i c k", "b u y", "s a l e"}) + " now", "wechat", id, "→ "}
		}},
	}
	for ci, c := range classes {
		t.Run(c.name, func(t *testing.T) {
			g := newGen(uint64(ci) + 1)
			for range 20 {
				s := c.make(g)
				n := Normalize(s.text)
				ds := Destinations(n.Text)
				if !hasDest(ds, s.kind, s.value) {
					t.Errorf("%q: normalised %q, got destinations %v, want %s %s", s.text, n.Text, ds, s.kind, s.value)
					continue
				}
				f := Extract(s.text)
				switch s.kind {
				case "wechat", "qq":
					if f.Handles == 0 {
						t.Errorf("%q: normalised %q, got %+v, want a contact handle", s.text, n.Text, f)
					}
				case "phone":
					if f.Phones == 0 {
						t.Errorf("%q: normalised %q, got %+v, want a phone", s.text, n.Text, f)
					}
				case "domain", "shortlink":
					if f.Links == 0 {
						t.Errorf("%q: normalised %q, got %+v, want a link", s.text, n.Text, f)
					}
				}
				if s.found != "" && !slices.ContainsFunc(n.Found, func(x string) bool { return strings.Contains(x, s.found) }) {
					t.Errorf("%q: got found %q, want one with %q", s.text, n.Found, s.found)
				}
			}
		})
	}
}

// TestLookAlikes are texts near the evasions that are not evasions: prose
// with numerals, dates, prices, the words 威信 and 卫星, apps named in
// passing. They must gain no contact handle and no phone number.
func TestLookAlikes(t *testing.T) {
	g := newGen(99)
	var texts []string
	for range 10 {
		y, m, d := 2000+g.r.IntN(40), 1+g.r.IntN(12), 1+g.r.IntN(28)
		num := func(n int) string { return g.numerals(fmt.Sprint(n), false) }
		texts = append(texts,
			fmt.Sprintf("%s年%s月%s日，市民一三八人参加了活动。", num(y), g.numerals(fmt.Sprint(m), false), num(d)),
			fmt.Sprintf("会议定于二〇%s年召开，三五成群的代表一五一十地讲述。", num(20+g.r.IntN(10))),
			fmt.Sprintf("今日猪肉价格%d元一斤，鸡蛋%d.%d元，较上周涨%d%%。", 10+g.r.IntN(30), 3+g.r.IntN(5), g.r.IntN(10), 1+g.r.IntN(9)),
			fmt.Sprintf("原价一%s九元，现价%s元", num(g.r.IntN(10)), num(100+g.r.IntN(800))),
			g.pick([]string{"加味逍遥丸的说明书", "微心愿：给山区孩子送书包", "未信先疑不是好习惯", "Привет, как дела? Всё хорошо.", "Το καλοκαίρι στην Ελλάδα", "版本号 3.2.1，发布于2026.11.30", "价格 1.99 元，库存 12.5 吨", "围观群众三五成群"}),
			g.pick([]string{"他在村里很有威信，大家都听他的。", "卫星发射成功，北斗系统再添新星。", "蔷薇花开了，园里一片粉红。", "企鹅宝宝在南极出生。", "QQ音乐年度榜单发布。", "关注我们的微信公众号获取更多资讯。"}),
			g.pick([]string{"We chat every day after school.", "Version 2.1.3 fixes the login bug.", "The V neck dress comes in size M.", "Q3 results beat estimates by 4%.", "Vitamin C and a glass of water.", "We chat about the weather and football."}),
			g.pick([]string{"V我50，请你喝奶茶", "我的微信名字叫小王", "see you at 138/140 Main St", "会议定于2024/12/05 12:30召开", "三三两两的游客，一两天后", "Lily 是我的微信好友", "南极的🐧有2000只", "我爱你1❤2❤3❤4"}),
			g.pick([]string{"微x光的夜晚", "薇x小姐来了", "the V/X ratio is 1/2", "A | B | C", "lOl, l0ve you", "version 1.2.3 on 10.0.0.1, see 3.1.4"}),
			g.pick([]string{"Wei Xin won the 400 m race.", "Solve v x w = 0 for the vectors.", "Size: W x H x D in cm.", "Professor Wei Xin and Dr. Li spoke.", "Press V-X on the remote to zoom."}),
			fmt.Sprintf("第%s届运动会有%s名运动员参赛", num(1+g.r.IntN(30)), num(100+g.r.IntN(900))),
			fmt.Sprintf("Read more at mp.weixin.qq.com/s/%s or weibo.com/n/%d", g.id(), g.r.IntN(1e6)),
		)
	}
	for _, text := range texts {
		n := Normalize(text)
		f := Extract(text)
		if f.Handles > 0 || f.Phones > 0 {
			t.Errorf("%q: normalised %q, got %+v, want no handle and no phone", text, n.Text, f)
		}
		for _, d := range Destinations(n.Text) {
			if d.Kind != "domain" || !d.Generic {
				t.Errorf("%q: normalised %q, got destination %+v, want none but generic domains", text, n.Text, d)
			}
		}
	}
}

// TestNewsHotline: a 400 line in news is a phone number, and nothing more.
func TestNewsHotline(t *testing.T) {
	text := "市场监管总局提醒：消费者如遇问题可拨打投诉热线400-810-8888或12315，详见www.samr.gov.cn"
	f := Extract(text)
	if f.Phones != 1 || f.Handles != 0 {
		t.Errorf("got %+v, want 1 phone and no handle", f)
	}
	ds := Destinations(Normalize(text).Text)
	want := []Destination{{Kind: "phone", Value: "4008108888"}, {Kind: "domain", Value: "samr.gov.cn", Generic: true}}
	if !slices.Equal(ds, want) {
		t.Errorf("got %v, want %v", ds, want)
	}
}

func TestNormalizeExamples(t *testing.T) {
	tests := []struct {
		in, want string
		found    []string
	}{
		{"加 薇 一三八一二三四五六七八", "加微信 13812345678", []string{"spaced-out Chinese closed", "Chinese numerals 一三八… → 138…", "薇 → 微信"}},
		{"ＶＸ：ＡＢＣ１２３", "wechat:ABC123", []string{"full-width letters", "VX → wechat"}},
		{"t[.]cn/AbC", "t.cn/AbC", []string{"t[.]cn → t.cn"}},
		{"taobao dot com", "taobao.com", []string{"taobao dot com → taobao.com"}},
		{"hxxp://a.top", "http://a.top", []string{"hxxp → http"}},
		{"plain ascii text, nothing to undo", "plain ascii text, nothing to undo", nil},
		{"Q 1226952410", "QQ 1226952410", []string{"Q → QQ"}},
		{"call19294517638", "call 19294517638", nil},
		{"找V lily_88，薇 shop_2024", "找微信 lily_88,微信 shop_2024", []string{"V → 微信", "薇 → 微信"}},
		{"+V lily_88 or 1 3 8 1 2 3 4 5 6 7 8", "+微信 lily_88 or 13812345678", []string{"1 3 8 1 2 3 4 5 6 7 8 → 13812345678", "V → 微信"}},
		{"bad \xff utf8 微信", "bad \xff utf8 微信", nil},
		{"1️⃣3️⃣8️⃣", "138", []string{"keycap digits"}},
		{"mp.weixin.qq.com/s/x", "mp.weixin.qq.com/s/x", nil},
		{"V我 lily8888 了解一下", "微信 lily8888 了解一下", []string{"V我 → 微信"}},
		{"V我50", "V我50", nil},
		{"V我：lilyshop", "微信:lilyshop", []string{"V我 → 微信"}},
		{"V我 hello", "V我 hello", nil},
		{"微信号码：wx887751，【微信】wx69062", "微信号码:wx887751,【微信】wx69062", nil},
		{"V❤X：lily8888", "微信:lily8888", []string{"V❤X → 微信"}},
		{"V❤Xiaomi", "微信Xiaomi", []string{"V❤ → 微信"}},
		{"绿泡泡 lily8888", "微信 lily8888", []string{"绿泡泡 → 微信"}},
		{"绿泡泡的故事", "绿泡泡的故事", nil},
		{"🐧12345678", "QQ 12345678", []string{"🐧 → QQ"}},
		{"QQ🐧12345678", "QQ🐧12345678", nil},
		{"扣扣 1❤2❤3❤4❤5❤6❤7", "QQ 1234567", []string{"1❤2❤3❤4❤5❤6❤7 → 1234567", "扣扣 → QQ"}},
		{"我爱你1❤2❤3❤4", "我爱你1❤2❤3❤4", nil},
		{"一三八两三四五六七八九", "13823456789", []string{"Chinese numerals 一三八… → 138…"}},
		{"138两2345678", "13822345678", []string{"Chinese numerals 138… → 138…"}},
		{"一三八两两三四五六七八", "13822345678", []string{"Chinese numerals 一三八… → 138…"}},
		{"三三两两的人群", "三三两两的人群", nil},
		{"Call 138/1234/5678 or 010_6512_3456", "Call 138-1234-5678 or 010-6512-3456", []string{"138/1234/5678 → 138-1234-5678", "010_6512_3456 → 010-6512-3456"}},
		{"see you at 138/140 Main St on 2024/12/05, t.cn/138/1234/5678", "see you at 138/140 Main St on 2024/12/05, t.cn/138/1234/5678", nil},
		{"jia wei xin lily8888 mian mo", "jia wechat lily8888 mian mo", []string{"wei xin → wechat"}},
		{"Wei Xin won the race", "Wei Xin won the race", nil},
	}
	for _, tt := range tests {
		n := Normalize(tt.in)
		if n.Text != tt.want || !slices.Equal(n.Found, tt.found) {
			t.Errorf("Normalize(%q): got %q %q, want %q %q", tt.in, n.Text, n.Found, tt.want, tt.found)
		}
	}
}

func TestDestinations(t *testing.T) {
	tests := []struct {
		in   string
		want []Destination
	}{
		{"加微信 lily_8899 或 QQ:12345678，电话 +86 138-1234-5678", []Destination{{Kind: "wechat", Value: "lily_8899"}, {Kind: "qq", Value: "12345678"}, {Kind: "phone", Value: "13812345678"}}},
		{"详见 https://shop.Example.com.cn/a?b=1 和 t.cn/A6xYz。", []Destination{{Kind: "domain", Value: "example.com.cn"}, {Kind: "shortlink", Value: "t.cn/A6xYz"}}},
		{"http://lists.sourceforge.net/lists/listinfo/x weibo.com/u/1 www.beijing.gov.cn", []Destination{
			{Kind: "domain", Value: "sourceforge.net", Generic: true}, {Kind: "domain", Value: "weibo.com", Generic: true}, {Kind: "domain", Value: "beijing.gov.cn", Generic: true}}},
		{"wechat friends and family", nil},
		{"名额不多,➕微信➡w · x · z · 8 · 2 · 6 · z · 0 · 4 · g · w https://dwz.cn/d8af42", []Destination{{Kind: "wechat", Value: "wxz826z04gw"}, {Kind: "shortlink", Value: "dwz.cn/d8af42"}}},
		{"微信同号13912345678，010-6512 3456", []Destination{{Kind: "phone", Value: "13912345678"}, {Kind: "phone", Value: "01065123456"}}},
		{"bit.ly/3xYz and bit.ly/3xYz again", []Destination{{Kind: "shortlink", Value: "bit.ly/3xYz"}}},
		// Handles as marketers write them (issue 11), each with a look-alike
		// that must stay as written.
		{"V我 lily8888 了解一下", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"V我50，不然不理你", nil},
		{"【微信】lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"[微信] lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"(微信)lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"【微信】扫码登录更方便，(来自微信)Android", nil},
		{"微信搜 lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"微信搜索 lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"添加微信好友 lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"微信号码 lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"微信搜一搜，看看附近的人", nil},
		{"lily8888（微信）", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"lily8888 (微信)", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"lily8888是我微信", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"lily8888 是我的微信", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"我的微信名字叫小王", nil},
		{"Lily 是我的微信好友，user_12 (微信支付) 已到账", nil},
		{"V❤X：lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"v♥x lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"绿泡泡 lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"绿泡泡是微信的外号", nil},
		{"🐧 12345678", []Destination{{Kind: "qq", Value: "12345678"}}},
		{"🐧:12345678", []Destination{{Kind: "qq", Value: "12345678"}}},
		{"南极的🐧有2000只", nil},
		{"QQ 1234 5678", []Destination{{Kind: "qq", Value: "12345678"}}},
		{"QQ 1234-5678", []Destination{{Kind: "qq", Value: "12345678"}}},
		{"QQ 1234.5678", []Destination{{Kind: "qq", Value: "12345678"}}},
		{"Add my QQ 1234 5678.", []Destination{{Kind: "qq", Value: "12345678"}}},
		{"QQ 12345678 13812345678", []Destination{{Kind: "qq", Value: "12345678"}, {Kind: "phone", Value: "13812345678"}}},
		{"QQ 2024.12.05 更新，QQ 2023-2024 赛季", nil},
		{"扣扣 1❤2❤3❤4❤5❤6❤7", []Destination{{Kind: "qq", Value: "1234567"}}},
		{"电话 1🌸3🌸8🌸1🌸2🌸3🌸4🌸5🌸6🌸7🌸8", []Destination{{Kind: "phone", Value: "13812345678"}}},
		{"比分 1🔥2🔥3，我爱你1❤2❤3❤4", nil},
		{"138/1234/5678", []Destination{{Kind: "phone", Value: "13812345678"}}},
		{"138_1234_5678", []Destination{{Kind: "phone", Value: "13812345678"}}},
		{"(138)1234-5678", []Destination{{Kind: "phone", Value: "13812345678"}}},
		{"0086-138-1234-5678", []Destination{{Kind: "phone", Value: "13812345678"}}},
		{"0086 13812345678", []Destination{{Kind: "phone", Value: "13812345678"}}},
		{"see you at 138/140 Main St on 2024/12/05 at 12:30, size 120 x 80", nil},
		{"电话 一三八两三四五六七八九", []Destination{{Kind: "phone", Value: "13823456789"}}},
		{"三三两两，一两天后二〇二六年三月两日见", nil},
		// More forms (issue 11, second round), each with its look-alikes.
		{"微x：vip3a2b1c", []Destination{{Kind: "wechat", Value: "vip3a2b1c"}}},
		{"薇x vip3a2b1c", []Destination{{Kind: "wechat", Value: "vip3a2b1c"}}},
		{"威x: vip3a2b1c", []Destination{{Kind: "wechat", Value: "vip3a2b1c"}}},
		{"威X：lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"薇x l i l y 8 8 8 8", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"微x光的夜晚，薇x小姐来了", nil},
		{"V | lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"VX／lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"wx·lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"WeChat ID = lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"微信｜lily8888", []Destination{{Kind: "wechat", Value: "lily8888"}}},
		{"1/2 of the V/X ratio, A | B, V | B, wechat / whatsapp, 微信/支付宝", nil},
		{"l39l234O678", []Destination{{Kind: "phone", Value: "13912340678"}}},
		{"电话l39l234O678", []Destination{{Kind: "phone", Value: "13912340678"}}},
		{"lOl, l0ve you, Illlllllll1", nil},
		{"1.3.9.1.2.3.4.5.6.7.8", []Destination{{Kind: "phone", Value: "13912345678"}}},
		{"☎ 1.3.9.1.2.3.4.5.6.7.8", []Destination{{Kind: "phone", Value: "13912345678"}}},
		{"version 1.2.3, host 10.0.0.1, section 3.1.4, 1.2.3.4.5.6.7.8.9.0", nil},
	}
	for _, tt := range tests {
		if got := Destinations(Normalize(tt.in).Text); !slices.Equal(got, tt.want) {
			t.Errorf("Destinations(%q): got %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeASCIIDoesNotAllocate(t *testing.T) {
	text := "Our weekly newsletter: three stories, a recipe and the weather. Read more at example.org/news"
	if n := testing.AllocsPerRun(100, func() { Normalize(text); NormalText(text) }); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}

func BenchmarkNormalize(b *testing.B) {
	texts := map[string]string{
		"ascii":     "Our weekly newsletter: three stories, a recipe and the weather. Read more at example.org/news",
		"chinese":   "面膜第二件半价，原价199元现价99元，加V：lily_8899，点击 t.cn/A6xYz 立即抢购！",
		"disguised": "面膜第二件半价，加 薇 一三八一二三四五六七八\u200b，ＶＸ：ＡＢＣ１２３，点击 t[.]cn/A6xYz 立即抢购！",
		"news":      "市场监管总局提醒：消费者如遇问题可拨打投诉热线400-810-8888，二〇二六年起施行。详见www.samr.gov.cn",
	}
	for _, name := range []string{"ascii", "chinese", "disguised", "news"} {
		text := texts[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				NormalText(text)
			}
		})
	}
}

// FuzzNormalize checks that no input makes Normalize or Destinations panic,
// that valid UTF-8 stays valid, and that normalising twice changes nothing
// more (callers may pass normalised text on to Extract and the model).
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "加 薇 一三八一二三四五六七八", "ＶＸ：ＡＢＣ１２３", "t[.]cn/x", "W e C h a t", "1️⃣⑴❶", "\xff加V", "a b c d e", "taobao dot com", "企鹅 12345", "微❤", "(.)", "二〇二六年",
		"V我 lily8888", "V❤X：ab_12", "🐧1❤2❤3❤4❤5", "绿泡泡 lily88", "一三八两三四五六七八九", "lily8888 (微信)", "(138)1234-5678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if utf8.ValidString(s) && !utf8.ValidString(n.Text) {
			t.Errorf("Normalize(%q) = %q: not valid UTF-8", s, n.Text)
		}
		// Invalid bytes pass through as they are, and dropping a mark
		// between them can make them valid: only valid text is checked.
		if again := Normalize(n.Text).Text; utf8.ValidString(s) && again != n.Text {
			t.Errorf("Normalize(%q) = %q, again %q", s, n.Text, again)
		}
		Destinations(n.Text)
		Destinations(s)
	})
}
