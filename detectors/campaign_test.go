package detectors

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

var campaignBrands = []string{
	"雪肌坊", "花颜", "初颜", "若水", "玉兰堂", "美丽日记", "颜究所", "水光肌", "韩后", "兰芝",
	"珀莱雅", "自然堂", "百雀羚", "相宜本草", "佰草集", "丸美", "薇诺娜", "润百颜", "夸迪", "溪木源",
	"半亩花田", "至本", "玉泽", "谷雨", "花西子", "完美日记", "橘朵", "卡姿兰", "毛戈平", "逐本",
	"瑷尔博士", "HFP", "OGP", "PMPM", "Uniskin", "Olay", "Dr.Wu", "Kiehls", "Fresh", "Clarins",
}

// adVariant is one copy of a campaign ad with the brand (inline, where no
// bracket gives it away), prices, handle, link, a count and the
// punctuation swapped.
func adVariant(i int) string {
	sep := []string{"，", ",", " ", "！"}[i%4]
	return fmt.Sprintf("%s玻尿酸补水面膜今天第二件半价%s原价%d元现价%d.9元%s敏感肌孕妇都可以用，七天见效不满意包退。"+
		"需要的姐妹加V：%s 备注“面膜”%s前%d名下单再送洗面奶小样，点击 https://t.cn/A%dxZ 立即抢购！",
		campaignBrands[i%len(campaignBrands)], sep, 150+i*7, 59+i, sep, fmt.Sprintf("mm_%s%d", []string{"lily", "coco", "anna"}[i%3], 1000+i*37), sep, 50+i, i*913)
}

func adVariantEN(i int) string {
	return fmt.Sprintf("FLASH SALE at %s! %d%% off all summer dresses today only. Free shipping over $%d, use code SUN%d at checkout. "+
		"Shop now at https://bit.ly/%dsale or WhatsApp +1 555-%03d-%04d. Limited stock, don't miss out!",
		[]string{"Bella Boutique", "Luna Style", "Rosa Wear", "Mia Closet", "Ivy & Co"}[i%5], 30+i%5*10, 40+i, 10+i, 100+i, i, i*17)
}

func TestCampaignFortyAccounts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		variant func(int) string
	}{{"chinese", adVariant}, {"english", adVariantEN}} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCampaigns(24*time.Hour, 10000)
			var m Match
			ids := map[string]int{}
			for i := 0; i < 40; i++ {
				m = c.Observe(fmt.Sprintf("acct_%d", i), t0.Add(time.Duration(i)*time.Minute), tc.variant(i))
				ids[m.ID]++
				if m.Accounts != i+1 {
					t.Errorf("broadcast %d: got %d accounts, want %d (id %s)", i, m.Accounts, i+1, m.ID)
				}
			}
			if len(ids) != 1 {
				t.Errorf("got %d campaign ids, want 1: %v", len(ids), ids)
			}
			if !strings.HasPrefix(m.ID, "c_") || len(m.ID) != 18 {
				t.Errorf("id: got %q, want c_ and 16 hex digits", m.ID)
			}
			// The same account again does not add a distinct account.
			if got := c.Observe("acct_0", t0.Add(time.Hour), tc.variant(40)); got.Accounts != 40 || got.ID != m.ID {
				t.Errorf("repeat sender: got %+v, want %s with 40 accounts", got, m.ID)
			}
		})
	}
}

func TestCampaignUnrelatedTexts(t *testing.T) {
	texts := []string{
		"今天天气很好，我们一家人去公园散步，看到了很多盛开的樱花，孩子们玩得很开心。",
		"【新华社】我国成功发射一颗通信卫星，卫星顺利进入预定轨道，发射任务取得圆满成功。",
		"市图书馆开放时间：周二至周日9:00-21:00，周一闭馆，咨询电话 0571-88888888。",
		"红烧肉做法：五花肉500克切块焯水，加冰糖炒糖色，再加生抽老抽小火炖一个小时。",
		"The city council approved the new bike lane plan on Tuesday after a long public debate.",
		"Finally finished my first marathon! Exhausted but happy, thanks everyone for the support.",
		adVariant(0),
		adVariantEN(0),
	}
	c := NewCampaigns(24*time.Hour, 1000)
	for i, text := range texts {
		if m := c.Observe(fmt.Sprintf("acct_%d", i), t0, text); m.Accounts != 1 || m.ID == "" {
			t.Errorf("%q: got %+v, want a campaign of 1", text, m)
		}
	}
}

func TestCampaignShortAndLegitimateTexts(t *testing.T) {
	c := NewCampaigns(24*time.Hour, 1000)
	// Short greetings are too generic to form a campaign however many send them.
	for i := 0; i < 50; i++ {
		if m := c.Observe(fmt.Sprintf("acct_%d", i), t0, "早上好，周末愉快！"); m != (Match{Accounts: 1}) {
			t.Fatalf("short text: got %+v, want no campaign", m)
		}
	}
	if m := c.Observe("a", t0, "Good morning all!"); m != (Match{Accounts: 1}) {
		t.Errorf("short English text: got %+v, want no campaign", m)
	}
	// Two news accounts quoting one headline are a pair, not a campaign of many.
	headline := "央行宣布下调存款准备金率0.5个百分点，释放长期资金约1万亿元"
	c.Observe("news_a", t0, "【快讯】"+headline)
	m := c.Observe("news_b", t0.Add(time.Minute), headline+"。")
	if m.Accounts != 2 {
		t.Errorf("quoted headline: got %d accounts, want 2", m.Accounts)
	}
}

func TestCampaignEvictsAfterWindow(t *testing.T) {
	c := NewCampaigns(time.Hour, 1000)
	for i := 0; i < 10; i++ {
		c.Observe(fmt.Sprintf("acct_%d", i), t0.Add(time.Duration(i)*time.Minute), adVariant(i))
	}
	if m := c.Observe("acct_10", t0.Add(30*time.Minute), adVariant(10)); m.Accounts != 11 {
		t.Fatalf("inside the window: got %d accounts, want 11", m.Accounts)
	}
	// 65 minutes after t0: the broadcasts at t0..t0+5m have left the window.
	if m := c.Observe("acct_11", t0.Add(65*time.Minute), adVariant(11)); m.Accounts != 6 {
		t.Errorf("after 65 minutes: got %d accounts, want 6 (acct_6..9, 10, 11)", m.Accounts)
	}
	// Long after: the cluster is gone; the text starts a new one.
	if m := c.Observe("acct_12", t0.Add(48*time.Hour), adVariant(12)); m.Accounts != 1 {
		t.Errorf("two days later: got %d accounts, want 1", m.Accounts)
	}
	if got := c.Len(); got != 1 {
		t.Errorf("live entries: got %d, want 1", got)
	}
	if got := len(c.clusters); got != 0 {
		t.Errorf("clusters: got %d, want 0 (a lone text has none)", got)
	}
}

func TestCampaignMaxEntries(t *testing.T) {
	c := NewCampaigns(24*time.Hour, 5)
	for i := 0; i < 8; i++ {
		c.Observe(fmt.Sprintf("acct_%d", i), t0.Add(time.Duration(i)*time.Second), adVariant(i))
	}
	if got := c.Len(); got != 5 {
		t.Errorf("live entries: got %d, want 5", got)
	}
	if m := c.Observe("acct_8", t0.Add(time.Minute), adVariant(8)); m.Accounts != 5 {
		t.Errorf("got %d accounts, want 5 (the 4 newest kept plus this one)", m.Accounts)
	}
}

// TestCampaignReplayIsDeterministic feeds the same stream twice.
func TestCampaignReplayIsDeterministic(t *testing.T) {
	stream := func() []Match {
		c := NewCampaigns(time.Hour, 500)
		r := rand.New(rand.NewPCG(1, 2))
		var out []Match
		for i := 0; i < 2000; i++ {
			text := adVariant(r.IntN(40))
			if r.IntN(2) == 0 {
				text = adVariantEN(r.IntN(40))
			}
			if r.IntN(3) == 0 {
				text = randomText(r)
			}
			out = append(out, c.Observe(fmt.Sprintf("acct_%d", r.IntN(300)), t0.Add(time.Duration(i)*10*time.Second), text))
		}
		return out
	}
	a, b := stream(), stream()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("observe %d: got %+v on replay, want %+v", i, b[i], a[i])
		}
	}
}

func TestSimhashIgnoresSwappedDetails(t *testing.T) {
	a, _ := simhash("加V：lily8899 面膜第二件半价，原价199元现价99元，点击 t.cn/A6xYz 立即抢购，数量有限先到先得")
	b, _ := simhash("加v: coco_2266 面膜第二件半价，原价299元现价59.9元，点击 https://bit.ly/3kQ 立即抢购，数量有限先到先得")
	if d := bits.OnesCount64(a ^ b); d != 0 {
		t.Errorf("distance: got %d, want 0 (only handles, numbers and links differ)", d)
	}
}

// randomText is a text unrelated to any other, for load: random Chinese
// characters and Latin words.
func randomText(r *rand.Rand) string {
	var b strings.Builder
	for i := 0; i < 40+r.IntN(60); i++ {
		if r.IntN(4) == 0 {
			b.WriteString(" word")
			b.WriteByte(byte('a' + r.IntN(26)))
			b.WriteByte(byte('a' + r.IntN(26)))
			continue
		}
		b.WriteRune(rune(0x4E00 + r.IntN(3000)))
	}
	return b.String()
}

// BenchmarkCampaignObserve measures one Observe with 100k live entries:
// "unique" texts that match nothing (each is seen again only after 65536
// others), and "campaign" copies of one ad that join a big cluster.
func BenchmarkCampaignObserve(b *testing.B) {
	const live = 100_000
	r := rand.New(rand.NewPCG(3, 4))
	unique := make([]string, 1<<16)
	for i := range unique {
		unique[i] = randomText(r)
	}
	for _, bc := range []struct {
		name string
		text func(i int) string
	}{
		{"unique", func(i int) string { return unique[i%len(unique)] }},
		{"campaign", func(i int) string { return adVariant(i % 40) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := NewCampaigns(24*time.Hour, live)
			for i := 0; i < live; i++ {
				c.Observe(fmt.Sprintf("acct_%d", i), t0.Add(time.Duration(i)*time.Millisecond), randomText(r))
			}
			texts := make([]string, len(unique))
			for i := range texts {
				texts[i] = bc.text(i)
			}
			at := t0.Add(live * time.Millisecond)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Observe("acct_bench", at, texts[i%len(texts)])
				i++
			}
		})
	}
}

// TestCampaignMemoryPerEntry measures the heap a live entry costs.
func TestCampaignMemoryPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates ~20 MB")
	}
	const n = 100_000
	r := rand.New(rand.NewPCG(5, 6))
	texts := make([]string, n)
	accounts := make([]string, n)
	for i := range texts {
		texts[i] = randomText(r)
		if i%10 == 0 {
			texts[i] = adVariant(i % 40) // some clusters too
		}
		accounts[i] = fmt.Sprintf("acct_%d", i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := NewCampaigns(24*time.Hour, n)
	for i := range texts {
		c.Observe(accounts[i], t0.Add(time.Duration(i)*time.Millisecond), texts[i])
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%d live entries: %.0f bytes each measured (incl. the fixed 2 MB band tables), Bytes() estimates %.0f", c.Len(), perEntry, float64(c.Bytes())/n)
	if perEntry > 200 {
		t.Errorf("got %.0f bytes per entry, want at most 200", perEntry)
	}
	runtime.KeepAlive(c)
	runtime.KeepAlive(texts)
	runtime.KeepAlive(accounts)
}
