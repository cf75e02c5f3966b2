package adtext

import (
	"testing"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Features
	}{
		{"empty", "", Features{}},
		{"plain chinese", "今天天气很好，我们去公园散步了。", Features{}},
		{"wechat ad", "面膜第二件半价，原价199元现价99元，加V：lily_8899，点击 t.cn/A6xYz 立即抢购！",
			Features{Links: 1, ShortLinks: 1, Handles: 1, Prices: 2, Promos: 2, Calls: 3}},
		{"fullwidth evasion", "加ＶＸ：ａｂｃ１２３ 特价￥９９", Features{Handles: 1, Prices: 1, Promos: 1}},
		{"zero-width evasion", "加\u200b微信 meimei88，秒\ufeff杀", Features{Handles: 1, Promos: 1}},
		{"mobile with spaces", "电话 138 1234 5678", Features{Phones: 1}},
		{"mobile with dashes and +86", "联系+86 139-1234-5678或13712345678", Features{Phones: 2}},
		{"landline and hotline", "咨询电话010-65123456，客服热线400-123-4567", Features{Phones: 2, Calls: 1}},
		{"international", "WhatsApp +44 7700 900123 or call 555-123-4567", Features{Phones: 2, Handles: 1}},
		{"dates and times are not phones", "2026-05-01 10:00至2026-05-03 18:00", Features{}},
		{"discount after a number", "全场3.8折，五折起，满300减50", Features{Promos: 2}},
		{"crowd is not a price", "每日限流3万人次，门票旺季60元", Features{Prices: 1}},
		{"temperature and version are not prices", "气温23.5℃，版本3.5，增长12.5%", Features{}},
		{"bare price ending in 9", "只要9.9，今天19.99", Features{Prices: 2}},
		{"dollar and yuan", "Adults $15, kids free; 成人票80元", Features{Prices: 2, Promos: 1}},
		{"links", "see https://www.news.cn/a/1.html and bit.ly/3xYz and shop88.vip/p1 or www.example.com.",
			Features{Links: 4, ShortLinks: 1}},
		{"not links", "e.g. 3.5 a.m. node.js v2.0 report.pdf", Features{}},
		{"email host is not a second link", "write to anna@mail.com", Features{Links: 0}},
		{"english promo", "FLASH SALE! 50% off today only. Buy now, link in bio. DM me for a promo code.",
			Features{Handles: 1, Promos: 4, Calls: 2}},
		{"word boundaries", "freedom, wholesale, clicked, deals", Features{Promos: 1}},
		{"longest keyword wins", "加微信领取", Features{Handles: 1, Calls: 1}},
		{"museum, a hard negative", "博物馆开放时间9:00-17:00，周一闭馆，门票60元，学生半价，咨询电话 010-65123456",
			Features{Phones: 1, Prices: 1, Promos: 1, Calls: 1}},
		{"university event, a hard negative", "讲座将于5月18日举行，欢迎扫码报名", Features{Calls: 2}},
		{"ID digits are not numbers", "iphone15 lily_8899 abc2024", Features{}},
		{"phones with slashes, underscores, brackets, 0086", "电话138/1234/5678，138_1234_5678，(138)1234-5678，0086-138-1234-5678",
			Features{Phones: 4}},
		{"slashes in addresses and dates are not phones", "see you at 138/140 Main St on 2024/12/05 at 12:30", Features{}},
		{"handle before its marker", "lily8888（微信） lily_8899 是我的微信", Features{Handles: 2}},
		{"prose before its marker", "Lily 是我的微信好友", Features{}},
		{"QQ in groups", "QQ 1234 5678", Features{Handles: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Extract(tt.text); got != tt.want {
				t.Errorf("Extract(%q):\n got %+v\nwant %+v", tt.text, got, tt.want)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		f    Features
		want string
	}{
		{Features{}, "no advertising features"},
		{Features{Links: 2, Phones: 1, Handles: 1, Prices: 3}, "2 links, a phone number, a contact handle, 3 prices"},
		{Features{Links: 1, ShortLinks: 1, Calls: 2}, "a short link, 2 calls to action"},
		{Features{Links: 3, ShortLinks: 2, Promos: 1}, "3 links (2 short), a discount or urgency word"},
	}
	for _, tt := range tests {
		if got := tt.f.Explain(); got != tt.want {
			t.Errorf("%+v.Explain(): got %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Hello\n\n  WORLD ", "hello world"},
		{"ＶＸ：ＡＢＣ１２３", "wechat:abc123"},
		{"加\u200bV\u3000信", "加微信"},
		{"ÀÉÎ Ωmega", "àéî ωmega"},
		{"bad \xff utf8", "bad \xff utf8"},
	}
	for _, tt := range tests {
		if got := string(normalize(nil, tt.in)); got != tt.want {
			t.Errorf("normalize(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExtractDoesNotAllocate(t *testing.T) {
	text := "面膜第二件半价，原价199元现价99元，加V：lily_8899，点击 t.cn/A6xYz 立即抢购！"
	m := Default()
	if n := testing.AllocsPerRun(100, func() { Extract(text); m.Score(text) }); n != 0 {
		t.Errorf("Extract and Score: got %v allocations, want 0", n)
	}
}

// FuzzScore checks that no input, valid UTF-8 or not, makes Extract or
// Score panic or leave 0..1. The seeds run as part of go test.
func FuzzScore(f *testing.F) {
	for _, s := range []string{"", "加V", "\xff\xfe\x80", "http://", "+", "1", "1,", "9.", "$", "【", "\xe5\x8a", "138 1234 567\xff8"} {
		f.Add(s)
	}
	m := Default()
	f.Fuzz(func(t *testing.T, s string) {
		Extract(s)
		if p := m.Score(s); !(p >= 0 && p <= 1) {
			t.Errorf("Score(%q) = %v, want 0..1", s, p)
		}
	})
}
