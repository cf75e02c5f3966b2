package traffic

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// offer is what an ad sells: one product at a price, however it is worded.
type offer struct {
	product, productEN string
	was, now           int
}

var products = []string{"面膜", "减肥茶", "名牌包", "手表", "护肤套装", "代购奶粉", "茅台酒", "高仿鞋", "香水", "美白精华", "保健品", "蓝牙耳机"}
var productsEN = []string{"designer bags", "slimming tea", "watches", "skin care sets", "sneakers", "perfume", "supplements", "earbuds"}

func newOffer(r *rand.Rand) offer {
	was := 200 + r.IntN(1800)
	return offer{product: pick(r, products), productEN: pick(r, productsEN), was: was, now: 9 + r.IntN(was/4)}
}

// adTemplates are ways to word one offer: different order, words and
// emoji, so that text fingerprints of two of them share little. %[1]s is
// the product, %[2]d the old price, %[3]d the new one, %[4]s the contact,
// %[5]s a link or nothing.
var adTemplates = []string{
	"【清仓】%[1]s原价%[2]d元，现价只要%[3]d元！%[4]s 领取，仅限今天 %[5]s",
	"姐妹们看过来😍 %[1]s 今天特价 %[3]d 元（专柜%[2]d），名额不多，%[4]s %[5]s",
	"工厂直供%[1]s，不要%[2]d，只要%[3]d💰 %[4]s 先到先得 %[5]s",
	"%[4]s ← 想要%[1]s的宝宝私我，%[3]d元包邮，比专柜便宜%[2]d %[5]s",
	"今日福利：%[1]s 限量50份，%[3]d元秒杀！咨询%[4]s %[5]s",
	"还在花%[2]d买%[1]s？我这里%[3]d就能拿到正品，%[4]s %[5]s",
	"🔥爆款%[1]s🔥 原%[2]d 现%[3]d 买二送一 %[4]s 下单 %[5]s",
	"%[1]s内部价%[3]d元，外面卖%[2]d，懂的来 %[4]s %[5]s",
	"新到一批%[1]s，%[3]d元一套，手慢无～%[4]s 了解 %[5]s",
	"兼职代理招募，%[1]s拿货价%[3]d，零售%[2]d，日赚三百 %[4]s %[5]s",
}

var adTemplatesEN = []string{
	"Genuine %[1]s, was $%[2]d, now only $%[3]d!! Limited stock, %[4]s %[5]s",
	"Ladies 😍 %[1]s for $%[3]d today only (retail $%[2]d). %[4]s to order %[5]s",
	"Factory price %[1]s: $%[3]d instead of $%[2]d, DM me → %[4]s %[5]s",
}

// adText words o with one of the templates, sending buyers to contactText
// (and link, if not empty).
func adText(r *rand.Rand, o offer, contactText, link string) string {
	if r.IntN(6) == 0 {
		return strings.TrimSpace(fmt.Sprintf(pick(r, adTemplatesEN), o.productEN, o.was, o.now, contactText, link))
	}
	return strings.TrimSpace(fmt.Sprintf(pick(r, adTemplates), o.product, o.was, o.now, contactText, link))
}

var shortHosts = []string{"t.cn", "dwz.cn", "url.cn", "suo.im", "bit.ly"}

// adLink is a short link, written plainly or disguised.
func adLink(r *rand.Rand, disguise bool) string {
	host, path := pick(r, shortHosts), fmt.Sprintf("%x", r.Uint32()&0xffffff)
	if disguise {
		s, _ := disguiseLink(r, host, path)
		return s
	}
	return "https://" + host + "/" + path
}

var newsTopics = []string{"市政府发布新版交通规划", "本周末地铁2号线部分站点临时封闭", "区图书馆延长开放时间", "春季流感疫苗开始接种",
	"老城区改造方案公示", "暴雨预警：请市民减少外出", "本地中学招生政策解读", "夜市下月起恢复营业", "河道清理志愿者招募",
	"The council approved the new bus lines", "Road works on Main Street start Monday", "Flu shots now available at clinics"}

// newsText is a news item with a link to the paper's site; now and then
// its dates and counts are set in full-width digits, as Chinese
// typesetting often does.
func newsText(r *rand.Rand, domain string, k int) string {
	if r.IntN(3) == 0 {
		return fmt.Sprintf("%s月%s日 %s，%s人参加，详情见 https://%s/a/%d", fullWidth(fmt.Sprint(1+r.IntN(12))), fullWidth(fmt.Sprint(1+r.IntN(28))),
			pick(r, newsTopics), fullWidth(fmt.Sprint(50+r.IntN(5000))), domain, 1000+k*7+r.IntN(7))
	}
	return fmt.Sprintf("%s，详情见 https://%s/a/%d", pick(r, newsTopics), domain, 1000+k*7+r.IntN(7))
}

var smallTopics = []string{"读书会本周四晚七点见", "社区跑团周六早上集合", "本周菜谱：番茄炒蛋", "摄影小组作品展下周开幕",
	"Our choir rehearses on Friday", "Garden club: seed swap this Sunday", "本店周一休息一天", "手工课报名开始啦"}

var cities = []string{"北京", "上海", "广州", "成都", "武汉", "西安", "杭州", "南京", "郑州", "长沙"}
var goods = []string{"白菜", "猪肉", "鸡蛋", "土豆", "西红柿", "黄瓜", "大米", "牛肉", "带鱼", "苹果", "香蕉", "菜籽油"}

// priceStyles are the ways organisations head and close their price
// lists: %[1]s the city, %[2]s the hotline, %[3]s the site, %[4]d the day.
var priceStyles = [][2]string{
	{"【%[1]s今日菜价】", "批发咨询热线 %[2]s，完整行情 https://%[3]s/%[4]d"},
	{"%[1]s农贸市场行情播报：", "如需订货请致电%[2]s，更多品种见 https://%[3]s/d/%[4]d"},
	{"早安！%[1]s批发价速递 📈 ", "客服电话：%[2]s 历史价格 https://%[3]s/%[4]d"},
	{"[%[1]s] 今日价格参考 ", "（数据来源本中心，热线%[2]s，%[3]s/%[4]d）"},
}

// priceReport is a market's daily price list: prices, a hotline, a link.
func priceReport(r *rand.Rand, style int, city, hotline, domain string, day int) string {
	if r.IntN(4) == 0 {
		return fmt.Sprintf("Daily metals %s: gold $%d.%02d/oz, silver $%d.%02d/oz, copper $%d.%02d/lb. Desk hotline %s. Full table: https://%s/daily/%d",
			city, 2300+r.IntN(100), r.IntN(100), 26+r.IntN(4), r.IntN(100), 4, r.IntN(100), hotline, domain, day)
	}
	var b strings.Builder
	fmt.Fprintf(&b, priceStyles[style][0], city)
	unit := []string{"元/斤", "元/公斤", "元每斤"}[style%3]
	for _, i := range r.Perm(len(goods))[:5+r.IntN(4)] {
		fmt.Fprintf(&b, "%s%d.%d%s，", goods[i], 1+r.IntN(40), r.IntN(10), unit)
	}
	fmt.Fprintf(&b, priceStyles[style][1], "", hotline, domain, day)
	if style == 3 { // this organisation sets its figures full-width
		return fullWidth(b.String())
	}
	return b.String()
}

var brands = []string{"优衣库", "星巴克", "Nike", "瑞幸咖啡", "屈臣氏", "肯德基", "Adidas", "海底捞", "名创优品", "喜茶"}

// coupon is a verified brand's promotion to its own followers.
func coupon(r *rand.Rand, brand, domain string, k int) string {
	code := fmt.Sprintf("%s%d", pick(r, []string{"SPRING", "VIP", "MEMBER", "HAPPY", "NEW"}), 10+r.IntN(40))
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf("Members: use code %s for %d%% off today, shop at https://%s/c/%d", code, 10+r.IntN(30), domain, k)
	case 1:
		return fmt.Sprintf("【%s】会员专享：满%d减%d，券码 %s，今晚24点截止 👉 https://%s/c/%d", brand, 99+r.IntN(200), 10+r.IntN(50), code, domain, k)
	case 2:
		return fmt.Sprintf("%s新品上市！领取%d元优惠券（券码%s），门店与小程序通用 https://%s/new", brand, 5+r.IntN(30), code, domain)
	default:
		return fmt.Sprintf("第二杯半价☕ 今日下单输入 %s 立减%d元，%s官方商城 https://%s/m/%d", code, 3+r.IntN(15), brand, domain, k)
	}
}

var greetings = []string{"", "", "你好，交个朋友", "hi, nice to meet you", "我是做微商的，加一下", "老乡你好", "看到你在群里，加个好友", "hello 😊"}
