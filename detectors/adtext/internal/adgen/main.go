// Command adgen writes the generated part of the labelled advertising
// fixtures in fixtures/ads: templates crossed with varied vocabulary,
// numbers, handles and links, for ads and for non-ads that look like them
// (notices with phone numbers, events with QR codes, museums with ticket
// prices, fraud warnings that quote ad wording). It is deterministic: the
// same seed writes the same files.
//
//	go run ./detectors/adtext/internal/adgen -out fixtures/ads
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	out := flag.String("out", "fixtures/ads", "directory to write generated_ads.jsonl and generated_not_ads.jsonl into")
	n := flag.Int("n", 560, "examples per class")
	seed := flag.Uint64("seed", 2026, "random seed")
	flag.Parse()
	if err := run(*out, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "adgen:", err)
		os.Exit(1)
	}
}

func run(dir string, n int, seed uint64) error {
	g := &gen{r: rand.New(rand.NewPCG(seed, 7))}
	if err := write(filepath.Join(dir, "generated_ads.jsonl"), g.many(n, adTemplates), true); err != nil {
		return err
	}
	if err := write(filepath.Join(dir, "generated_not_ads.jsonl"), g.many(n, notAdTemplates), false); err != nil {
		return err
	}
	// A generator of its own, so adding these left the files above as they were.
	links := &gen{r: rand.New(rand.NewPCG(seed, 11))}
	return write(filepath.Join(dir, "generated_links_not_ads.jsonl"), links.many(n/2, linkNotAdTemplates), false)
}

func write(path string, texts []string, ad bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, t := range texts {
		if err := enc.Encode(struct {
			Text string `json:"text"`
			Ad   bool   `json:"ad"`
		}{t, ad}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

type gen struct{ r *rand.Rand }

// many cycles through the templates so every kind is represented about
// equally, skipping duplicates.
func (g *gen) many(n int, templates []func(*gen) string) []string {
	seen := map[string]bool{}
	var out []string
	for i := 0; len(out) < n && i < n*20; i++ {
		t := strings.TrimSpace(templates[i%len(templates)](g))
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) n(lo, hi int) int         { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) chance(p float64) bool    { return g.r.Float64() < p }

// maybe returns s with probability p, else "".
func (g *gen) maybe(p float64, s string) string {
	if g.chance(p) {
		return s
	}
	return ""
}

// join joins non-empty parts with separators varied the way people type.
func (g *gen) join(parts ...string) string {
	sep := g.pick("，", "，", "。", " ", "！", "\n", "~ ")
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}

func (g *gen) joinEN(parts ...string) string {
	sep := g.pick(" ", " ", "\n", " — ", " | ")
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}

// shuffleMid shuffles the middle parts, keeping the first in place.
func (g *gen) shuffleMid(parts []string) []string {
	if len(parts) > 2 {
		mid := parts[1:]
		g.r.Shuffle(len(mid), func(i, j int) { mid[i], mid[j] = mid[j], mid[i] })
	}
	return parts
}

// ---- shared vocabulary ----

func (g *gen) mobile() string {
	p := g.pick("13", "15", "17", "18", "19", "16", "14") + fmt.Sprint(g.n(0, 9))
	a, b := fmt.Sprintf("%04d", g.n(0, 9999)), fmt.Sprintf("%04d", g.n(0, 9999))
	switch g.n(0, 4) {
	case 0:
		return p + " " + a + " " + b
	case 1:
		return p + "-" + a + "-" + b
	case 2:
		return "+86 " + p + a + b
	}
	return p + a + b
}

func (g *gen) landline() string {
	area := g.pick("010", "021", "020", "0755", "028", "027", "0571", "025", "029", "0531")
	num := fmt.Sprintf("%08d", g.n(20000000, 89999999))
	if len(area) == 4 {
		num = num[:7]
	}
	return area + g.pick("-", "-", " ") + num
}

func (g *gen) hotline() string {
	return fmt.Sprintf("%s-%03d-%04d", g.pick("400", "800"), g.n(100, 999), g.n(0, 9999))
}

func (g *gen) intlPhone() string {
	switch g.n(0, 3) {
	case 0:
		return fmt.Sprintf("+1 %03d-%03d-%04d", g.n(201, 989), g.n(200, 999), g.n(0, 9999))
	case 1:
		return fmt.Sprintf("+44 7%03d %06d", g.n(100, 999), g.n(0, 999999))
	case 2:
		return fmt.Sprintf("+60 1%d-%03d %04d", g.n(0, 9), g.n(100, 999), g.n(0, 9999))
	}
	return fmt.Sprintf("+852 %04d %04d", g.n(5000, 9999), g.n(0, 9999))
}

func (g *gen) handle() string {
	base := g.pick("lily", "xiaomei", "meimei", "anna", "coco", "yoyo", "beauty", "shop", "vip", "kk", "tina", "jia", "xx", "mm", "lucky", "sunny", "wei", "ling", "abc", "hao")
	switch g.n(0, 3) {
	case 0:
		return base + fmt.Sprint(g.n(10, 99999))
	case 1:
		return base + "_" + g.pick("beauty", "shop", "vip", "mall", "hk", "jp", "daigou") + fmt.Sprint(g.n(1, 999))
	case 2:
		return "wxid_" + base + fmt.Sprint(g.n(100, 9999))
	}
	return strings.ToUpper(base[:1]) + base[1:] + fmt.Sprint(g.n(520, 8899))
}

func (g *gen) adLink() string {
	code := func(n int) string {
		const a = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
		b := make([]byte, n)
		for i := range b {
			b[i] = a[g.r.IntN(len(a))]
		}
		return string(b)
	}
	switch g.n(0, 5) {
	case 0:
		return "t.cn/" + code(7)
	case 1:
		return "https://bit.ly/" + code(7)
	case 2:
		return "http://" + g.pick("mall", "shop", "vip", "go", "sale", "win", "bet") + fmt.Sprint(g.n(1, 999)) + "." + g.pick("vip", "top", "xyz", "cc", "shop") + "/" + code(5)
	case 3:
		return "www." + g.pick("tejia", "haohuo", "meizhuang", "daigou", "dai", "lucky") + fmt.Sprint(g.n(1, 99)) + ".com"
	case 4:
		return "https://" + g.pick("m", "h5", "wap") + "." + g.pick("youhui", "quan", "deal", "promo") + fmt.Sprint(g.n(1, 99)) + ".cn/" + code(6)
	}
	return "url.cn/" + code(6)
}

func (g *gen) newsLink() string {
	path := fmt.Sprintf("/%d/%02d/%02d/%s%d.html", g.n(2023, 2026), g.n(1, 12), g.n(1, 28), g.pick("c", "a", "news_", "art"), g.n(1000, 999999))
	return g.pick("https://", "http://", "") + g.pick("www.news.cn", "www.people.com.cn", "www.gov.cn", "www.chinadaily.com.cn", "news.sina.com.cn", "www.thepaper.cn", "www.bjnews.com.cn", "www.xinhuanet.com", "edu.sh.gov.cn", "www.reuters.com", "www.bbc.co.uk") + path
}

func (g *gen) cnPrice() string {
	p := g.n(9, 2999)
	switch g.n(0, 6) {
	case 0:
		return fmt.Sprintf("¥%d", p)
	case 1:
		return fmt.Sprintf("%d元", p)
	case 2:
		return fmt.Sprintf("%d.9", p)
	case 3:
		return fmt.Sprintf("￥%d", p)
	case 4:
		return fmt.Sprintf("%d块", p)
	case 5:
		return fmt.Sprintf("仅需%d", p)
	}
	return fmt.Sprintf("%d.%d9元", p, g.n(0, 9))
}

func (g *gen) city() string {
	return g.pick("北京", "上海", "广州", "深圳", "成都", "杭州", "武汉", "西安", "南京", "重庆", "苏州", "长沙", "青岛", "厦门", "昆明", "天津", "郑州", "合肥")
}

func (g *gen) cityEN() string {
	return g.pick("Springfield", "Portland", "Austin", "Leeds", "Toronto", "Melbourne", "Denver", "Bristol", "Auckland", "Boston", "Vancouver", "Dublin")
}

func (g *gen) date() string { return fmt.Sprintf("%d月%d日", g.n(1, 12), g.n(1, 28)) }

func (g *gen) dateEN() string {
	return fmt.Sprintf("%s %d", g.pick("Jan", "Feb", "March", "April", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "Dec"), g.n(1, 28))
}

func (g *gen) emoji() string {
	return g.pick("🔥", "💰", "✨", "👉", "❤️", "🎁", "💥", "⚡", "🌸", "😍", "👍", "")
}

// ---- ads ----

var adTemplates = []func(*gen) string{
	// 微商 skincare
	func(g *gen) string {
		product := g.pick("面膜", "精华液", "水乳套装", "防晒霜", "眼霜", "美白丸", "祛痘膏", "洗面奶", "口红", "粉底液", "身体乳", "冻干粉", "玻尿酸原液")
		parts := []string{
			g.emoji() + g.pick("姐妹们", "宝宝们", "亲们", "各位美女", "") + g.pick("新品到货", "今天上新", "回馈老客户", "爆款返场", "断货王补货啦") + g.emoji(),
			g.pick("雪肌坊", "花颜", "初颜", "若水", "玉兰堂", "美丽日记", "颜究所", "水光肌", "") + product + g.pick("七天美白", "淡斑祛痘", "补水保湿", "抗衰紧致", "收缩毛孔", "敏感肌可用", "孕妇可用"),
			g.pick("原价"+g.cnPrice()+"现价"+g.cnPrice(), "今日特价"+g.cnPrice(), "第二件半价", "买二送一", "限时秒杀"+g.cnPrice(), "全场五折包邮", "下单送小样"),
			g.pick("加V："+g.handle(), "微信："+g.handle(), "VX "+g.handle(), "薇信"+g.handle(), "加微信"+g.handle()+"备注“"+g.pick("美白", "面膜", "试用")+"”", "私信我了解", "联系"+g.mobile()),
			g.maybe(0.6, g.pick("手慢无", "先到先得", "数量有限", "赶紧下单", "点击链接 "+g.adLink(), "欢迎咨询")),
		}
		return g.join(g.shuffleMid(parts)...)
	},
	// 代购
	func(g *gen) string {
		country := g.pick("日本", "韩国", "香港", "澳洲", "法国", "美国", "泰国", "新西兰", "德国")
		product := g.pick("奶粉", "保健品", "包包", "手表", "化妆品", "鱼油", "维生素", "香水", "护肤品", "药妆", "钙片", "羊毛脂")
		parts := []string{
			g.pick("【"+country+"代购】", country+"直邮", "人在"+country+"，", "本周"+country+"代购团开团"),
			product + g.pick("专柜正品", "假一赔十", "支持验货", "保税仓发货", "小票齐全"),
			g.pick("比国内便宜"+fmt.Sprint(g.n(20, 60))+"%", g.cnPrice()+"起", "代购费全免", "满"+fmt.Sprint(g.n(2, 5))+"件包邮", "价格私聊"),
			g.pick("加V "+g.handle(), "微信号："+g.handle(), "需要的加我vx："+g.handle(), "私信下单", "接单电话"+g.mobile()),
			g.maybe(0.5, g.pick("截单时间"+g.date(), "名额有限", "长期有效", "欢迎咨询")),
		}
		return g.join(g.shuffleMid(parts)...)
	},
	// loans
	func(g *gen) string {
		parts := []string{
			g.pick("急用钱？", "资金周转困难？", "【低息贷款】", "💰借钱找我💰", "缺钱不用愁，"),
			g.pick("无抵押", "不看征信", "黑户可贷", "凭身份证即可", "大学生可办", "信用卡代还"),
			g.pick("最高"+fmt.Sprint(g.n(5, 50))+"万", "额度"+fmt.Sprint(g.n(1, 20))+"万起", "放款"+fmt.Sprint(g.n(3000, 50000))+"元"),
			g.pick("秒批秒下款", fmt.Sprint(g.n(5, 30))+"分钟到账", "当天放款", "日息低至0.0"+fmt.Sprint(g.n(1, 5))+"%", "随借随还"),
			g.pick("电话"+g.mobile(), "加V："+g.handle(), "咨询热线"+g.mobile(), "点击申请 "+g.adLink(), "私信了解"),
		}
		return g.join(g.shuffleMid(parts)...)
	},
	// gambling-ish promos
	func(g *gen) string {
		parts := []string{
			g.pick("【"+g.pick("皇冠", "金沙", "永利", "星耀", "鸿运")+"娱乐】", "🎰火爆开业🎰", "玩家福利来啦", "每天一小时，轻松赚外快"),
			g.pick("首充送"+fmt.Sprint(g.n(20, 200))+"%彩金", "注册即送"+fmt.Sprint(g.n(18, 888))+"元", "每日返水"+fmt.Sprint(g.n(1, 3))+"%", "新人专享"+fmt.Sprint(g.n(50, 500))+"元红包"),
			g.pick("百家乐", "体育竞猜", "捕鱼", "时时彩", "幸运28", "电子游艺") + g.pick("稳赚不赔", "带你上岸", "导师带单", "胜率"+fmt.Sprint(g.n(85, 99))+"%"),
			g.pick("网址 "+g.adLink(), "进群领取："+g.handle(), "加V："+g.handle(), "扫码下载APP", "提款秒到"),
		}
		return g.join(g.shuffleMid(parts)...)
	},
	// course sales
	func(g *gen) string {
		course := g.pick("短视频运营", "抖音带货", "Python入门", "考研英语", "雅思7分", "减脂", "瑜伽", "理财", "直播带货", "小红书爆文", "副业变现", "硬笔书法", "PPT设计", "AI绘画")
		parts := []string{
			g.pick("【"+course+"训练营】", course+"课程", "零基础学"+course, "还在为"+g.pick("副业", "考试", "身材", "工作")+"发愁？"),
			fmt.Sprint(g.n(7, 30)) + "天" + g.pick("包教包会", "带你入门", "月入过万", "轻松上手", "提分"+fmt.Sprint(g.n(10, 40))+"分"),
			g.pick("原价"+fmt.Sprint(g.n(999, 4999))+"元，现在只要"+fmt.Sprint(g.n(9, 299))+"元", "限时"+fmt.Sprint(g.n(1, 3))+"天特价", "前"+fmt.Sprint(g.n(20, 100))+"名立减"+fmt.Sprint(g.n(100, 500)), "今晚8点开抢", "仅需"+fmt.Sprint(g.n(1, 99))+"元"),
			g.pick("扫码报名", "点击链接抢购 "+g.adLink(), "加V："+g.handle()+"领取试听", "私信我报名", "进群领资料"),
		}
		return g.join(g.shuffleMid(parts)...)
	},
	// 加V领取 free gifts
	func(g *gen) string {
		gift := g.pick("试用装", "护肤小样", "电子书", "课程资料", "红包封面", "儿童绘本", "考试真题", "减肥食谱", "面膜一盒", "洗衣液", "纸巾")
		parts := []string{
			g.emoji() + g.pick("免费领取", "0元领", "限时免费送", "福利来了", "送福利") + gift,
			g.pick("加V", "加微", "加微信", "+V", "vx") + g.pick("：", " ", "") + g.handle(),
			"备注" + g.pick("“领取”", "666", "“福利”", gift),
			g.maybe(0.7, g.pick("前"+fmt.Sprint(g.n(50, 500))+"名", "每人限领一份", "包邮到家", "先到先得", "今天截止")),
		}
		return g.join(parts...)
	},
	// discount with links
	func(g *gen) string {
		store := g.pick("优品生活馆", "潮牌折扣店", "家居馆", "母婴优选", "数码旗舰", "运动工厂店", "鲜果园", "零食铺子")
		parts := []string{
			g.pick("【"+store+"】", store+"：", "🎉"+store) + g.pick("618大促", "双11预热", "周年庆", "清仓特卖", "开业酬宾", "会员日", "年货节"),
			g.pick("全场"+fmt.Sprint(g.n(3, 8))+"折起", "满"+fmt.Sprint(g.n(99, 399))+"减"+fmt.Sprint(g.n(20, 100)), "低至"+fmt.Sprint(g.n(1, 5))+"折", "领券再减"+fmt.Sprint(g.n(10, 50))+"元", "爆款"+g.cnPrice()+"起"),
			g.maybe(0.5, g.pick("限时"+fmt.Sprint(g.n(24, 72))+"小时", "仅限今天", "最后一天", "库存告急")),
			g.pick("点击 "+g.adLink()+" 立即抢购", "戳链接 "+g.adLink(), "抢购地址："+g.adLink(), "👉"+g.adLink()),
		}
		return g.join(parts...)
	},
	// part-time job scams
	func(g *gen) string {
		parts := []string{
			g.pick("招聘兼职", "宝妈学生看过来", "在家就能赚钱", "【招代理】", "寻找有缘人"),
			g.pick("手机操作", "动动手指", "点赞关注", "刷单返佣", "打字录入", "朋友圈转发"),
			g.pick("日结"+fmt.Sprint(g.n(100, 300))+"-"+fmt.Sprint(g.n(400, 800))+"元", "一单一结", "月入"+fmt.Sprint(g.n(5, 30))+"k", "佣金"+fmt.Sprint(g.n(5, 20))+"%", "零成本零门槛"),
			g.pick("加V："+g.handle(), "有意者私聊", "vx "+g.handle(), "联系"+g.mobile(), "进群："+g.handle()),
		}
		return g.join(g.shuffleMid(parts)...)
	},
	// health products
	func(g *gen) string {
		parts := []string{
			g.pick("一个月瘦"+fmt.Sprint(g.n(8, 30))+"斤", "三天排毒养颜", "增高"+fmt.Sprint(g.n(3, 8))+"厘米不是梦", "降糖降压效果好", "告别失眠"),
			g.pick("纯天然", "祖传秘方", "进口原料", "不节食不运动", "不反弹") + g.pick("酵素", "减肥茶", "益生菌", "代餐奶昔", "草本精华", "保健胶囊"),
			g.pick("活动价"+g.cnPrice(), "买三送一", "无效退款", "今日下单送同款", "特价"+g.cnPrice()),
			g.pick("咨询微信："+g.handle(), "订购热线"+g.mobile(), "加V "+g.handle(), "私信领取优惠"),
		}
		return g.join(g.shuffleMid(parts)...)
	},
	// property and franchise
	func(g *gen) string {
		if g.chance(0.5) {
			return g.join(
				g.city()+g.pick("地铁口", "市中心", "学区", "湖景")+g.pick("精装公寓", "小户型", "现房", "临街商铺"),
				"首付"+fmt.Sprint(g.n(5, 50))+"万起",
				g.pick("月供"+fmt.Sprint(g.n(1500, 6000))+"元", "总价"+fmt.Sprint(g.n(50, 300))+"万", "买房送车位", "仅剩"+fmt.Sprint(g.n(3, 20))+"套"),
				g.pick("看房热线"+g.mobile(), "置业顾问"+g.mobile()+"（同微信）", "预约看房加V："+g.handle()),
			)
		}
		return g.join(
			"加盟"+g.pick("蜜雪", "茶颜", "鲜丰", "喜茶同款", "网红烤肠", "麻辣烫", "炸鸡")+g.pick("奶茶", "小吃", "快餐", "水果店"),
			g.pick("零经验", "总部扶持", "包教技术", "一店一商圈"),
			fmt.Sprint(g.n(3, 20))+"万开店，"+g.pick("三个月回本", "日营业额过万", "月赚"+fmt.Sprint(g.n(2, 8))+"万"),
			g.pick("招商热线"+g.hotline(), "咨询电话"+g.mobile(), "加V了解："+g.handle()),
		)
	},
	// shop and restaurant promos
	func(g *gen) string {
		shop := g.pick("老王火锅", "一品烧烤", "花间咖啡", "小林美甲", "星光KTV", "悦动健身", "甜心蛋糕", "川味小馆")
		return g.join(
			shop+g.pick("新店开业", "周年庆", "会员日", "夏日特惠"),
			g.pick("全场"+fmt.Sprint(g.n(5, 8))+"折", "双人套餐"+g.cnPrice(), "办卡充"+fmt.Sprint(g.n(200, 1000))+"送"+fmt.Sprint(g.n(100, 500)), "进店送"+g.pick("饮料", "果盘", "甜品")),
			g.maybe(0.6, g.pick("活动仅限本周", "凭此消息到店享优惠", "限时三天", "名额有限")),
			g.pick("订座电话"+g.mobile(), "预约请加V："+g.handle(), "地址："+g.city()+g.pick("人民路", "解放路", "中山路")+fmt.Sprint(g.n(1, 300))+"号，电话"+g.mobile(), "点击领券 "+g.adLink()),
		)
	},
	// electronics and tickets
	func(g *gen) string {
		if g.chance(0.5) {
			return g.join(
				g.pick("全新", "国行", "港版", "99新")+g.pick("iPhone 16", "iPhone 15 Pro", "华为Mate", "小米", "AirPods", "Switch", "iPad")+g.pick("原装正品", "未拆封", "支持验机"),
				g.pick("仅", "只要", "特价")+fmt.Sprint(g.n(999, 7999))+"元",
				g.pick("支持分期", "包邮", "顺丰到付", "可面交"),
				g.pick("加V："+g.handle(), "私聊", "电话"+g.mobile(), "链接："+g.adLink()),
			)
		}
		return g.join(
			g.pick("周杰伦", "五月天", "林俊杰", "陈奕迅", "草莓音乐节", "英超", "NBA中国赛")+g.pick("门票", "内场票", "VIP票"),
			g.pick("有票出", "低价转", "原价转让", "抢不到的找我"),
			g.pick("内场"+g.cnPrice(), "看台"+g.cnPrice(), "价格私聊"),
			g.pick("加V："+g.handle(), "vx "+g.handle(), "电话"+g.mobile()),
		)
	},
	// soft sell in a personal voice: few explicit features
	func(g *gen) string {
		product := g.pick("面霜", "洗发水", "蜂蜜", "腊肠", "茶叶", "睡衣", "四件套", "枸杞", "手工皂", "牛肉干", "精油", "护腰")
		return g.join(
			g.pick("这款"+product+"我自己回购"+fmt.Sprint(g.n(2, 9))+"次了", "老家亲戚自己做的"+product, "朋友圈最后一批"+product+"现货", "好多人问的"+product+"又到货了", "自用款"+product),
			g.pick("效果真的绝", "用过的都说好", "纯手工无添加", "卖完不补", "质量杠杠的"),
			g.maybe(0.6, g.pick(fmt.Sprint(g.n(39, 399))+"一套", "一斤"+fmt.Sprint(g.n(30, 200)), "老价格", "不涨价")),
			g.pick("要的扣1", "需要的私我", "要的戳我", "小窗我", "有需要的加我", "想要的评论区留言", "姐妹们冲"),
		)
	},
	// local services
	func(g *gen) string {
		svc := g.pick("黄金回收", "手机回收", "奢侈品回收", "旧家电回收", "驾照代办", "营业执照代办", "装修", "搬家", "开锁换锁", "管道疏通", "上门保洁", "月嫂育儿嫂", "空调清洗")
		return g.join(
			g.pick("专业", "同城", "24小时", "正规公司")+svc,
			g.pick("上门服务", "价格实惠", "当天打款", "包过", "不满意不收费", "十年老店", "随叫随到"),
			g.maybe(0.6, g.pick("比市场价高"+fmt.Sprint(g.n(2, 10))+"元", "首单立减"+fmt.Sprint(g.n(10, 50)), "起步价"+fmt.Sprint(g.n(50, 200))+"元", "一口价"+fmt.Sprint(g.n(80, 500)))),
			g.pick("电话"+g.mobile(), "微："+g.handle(), "v："+g.handle(), g.mobile()+"（同微信）", "有意者联系"+g.mobile(), "需要的加我"),
		)
	},
	// recruiting into selling teams, giveaways for reach
	func(g *gen) string {
		if g.chance(0.5) {
			return g.join(
				g.pick("加入我的团队", "招募合伙人", "招微商代理", "宝妈创业首选"),
				g.pick("在家就能做", "不压货不囤货", "公司统一发货", "手把手带"),
				g.pick("月入"+fmt.Sprint(g.n(3, 5))+"万不是梦", "已有"+fmt.Sprint(g.n(100, 5000))+"人加入", "零投入", "佣金日结"),
				g.pick("感兴趣的私我", "名额仅剩"+fmt.Sprint(g.n(3, 15))+"个", "加V："+g.handle(), "评论区扣“想做”"),
			)
		}
		return g.join(
			g.pick("转发本条+关注", "点赞评论本条", "关注并@三位好友"),
			"抽"+fmt.Sprint(g.n(1, 20))+"位送"+g.pick("iPhone", "戴森吹风机", "现金红包"+fmt.Sprint(g.n(88, 888))+"元", "护肤套装", "扫地机器人"),
			g.pick(g.date()+"开奖", "本周五开奖", "人越多奖越多"),
			g.maybe(0.6, g.pick("更多福利进群："+g.handle(), "店铺链接："+g.adLink(), "关注店铺领券")),
		)
	},
	// English services and small-business pitches
	func(g *gen) string {
		svc := g.pick("website", "logo", "house cleaning", "moving help", "tax return", "resume rewrite", "lawn care", "car detailing", "wedding photos", "bookkeeping")
		return g.joinEN(
			g.pick("Need a "+svc+"?", "Professional "+svc+" at fair prices.", "Booking "+svc+" for next month now.", "Our "+svc+" service is open for new clients."),
			g.pick("From $"+fmt.Sprint(g.n(15, 299))+".", "Fast turnaround, 5-star reviews.", "Satisfaction guaranteed.", "First consultation free."),
			g.pick("Message me for a quote.", "Comment 'YES' and I'll send details.", "Text us on "+g.intlPhone()+".", "Inbox me to book.", "Call us today: "+g.intlPhone(), "DM for prices."),
		)
	},
	// English shop news that sells
	func(g *gen) string {
		shop := g.pick("bakery", "coffee shop", "bookstore", "barber", "pizzeria", "boutique", "gym", "nail salon")
		return g.joinEN(
			g.pick("Our "+shop+" turns "+fmt.Sprint(g.n(2, 20))+" this weekend!", "New at the "+shop+":", "Grand opening of our new "+shop+"!", "This week at the "+shop+":"),
			g.pick("Free "+g.pick("cupcake", "coffee", "trim", "tote bag")+" with every purchase", fmt.Sprint(g.n(1, 5)*10)+"% off everything", "2-for-1 on all drinks", "members get double points", "Spicy special $"+fmt.Sprint(g.n(6, 15))+".99 all week"),
			g.pick("See you at "+fmt.Sprint(g.n(1, 200))+" "+g.pick("Mill Lane", "King St", "Oak Ave")+"!", "Order on our app for free delivery.", "Book your spot now.", "Don't miss it!"),
		)
	},
	// English promos
	func(g *gen) string {
		product := g.pick("sneakers", "skincare", "summer dresses", "headphones", "phone cases", "vitamins", "handbags", "watches", "yoga mats", "candles")
		pct := fmt.Sprint(g.n(2, 8) * 10)
		parts := []string{
			g.pick("FLASH SALE!", "🔥 Big news!", "Limited time offer:", "Don't miss out!", "Weekend deal:", "Last chance!"),
			g.pick(pct+"% off all "+product, "all "+product+" "+pct+"% OFF", "buy one get one free on "+product, product+" from just $"+fmt.Sprint(g.n(5, 49))+".99", "free shipping on every order of "+product),
			g.maybe(0.6, g.pick("today only", "ends tonight", "while stocks last", "use code "+strings.ToUpper(g.pick("save", "vip", "deal", "glow"))+fmt.Sprint(g.n(10, 50)), "limited stock")),
			g.pick("Shop now: "+g.adLink(), "Link in bio", "Order now at "+g.adLink(), "DM me to order", "Click here "+g.adLink(), "WhatsApp "+g.intlPhone()),
		}
		return g.joinEN(parts...)
	},
	// English money, crypto and loan pitches
	func(g *gen) string {
		return g.joinEN(
			g.pick("Make $"+fmt.Sprint(g.n(2, 9)*100)+"/day from home!", "Earn passive income with crypto.", "Need cash fast?", "Turn $100 into $"+fmt.Sprint(g.n(1, 9))+",000 in a week.", "Online casino bonus!"),
			g.pick("No experience needed.", "Bad credit OK.", "Guaranteed returns.", "Our signals have a "+fmt.Sprint(g.n(85, 98))+"% win rate.", "Deposit $"+fmt.Sprint(g.n(10, 50))+", get $"+fmt.Sprint(g.n(50, 200))+" free."),
			g.pick("Join our Telegram @"+g.handle(), "DM me for details", "Apply now: "+g.adLink(), "Sign up at "+g.adLink(), "WhatsApp me on "+g.intlPhone(), "Add me on WeChat: "+g.handle()),
			g.maybe(0.5, g.pick("Spots are limited!", "Offer ends soon.", "Act now!", "Only "+fmt.Sprint(g.n(3, 20))+" places left.")),
		)
	},
	// English courses and goods
	func(g *gen) string {
		course := g.pick("Excel", "day trading", "copywriting", "TikTok marketing", "IELTS", "piano", "dropshipping", "photography")
		return g.joinEN(
			g.pick("Master "+course+" in "+fmt.Sprint(g.n(7, 30))+" days!", "Our "+course+" course is back.", "Want to learn "+course+"?"),
			g.pick("Enroll today for only $"+fmt.Sprint(g.n(19, 199)), "Was $"+fmt.Sprint(g.n(300, 900))+", now $"+fmt.Sprint(g.n(29, 99)), "Early bird "+fmt.Sprint(g.n(3, 6)*10)+"% off", "First lesson free"),
			g.pick("Sign up: "+g.adLink(), "Book now at "+g.adLink(), "Register here "+g.adLink(), "DM us to join", "Link in bio"),
			g.maybe(0.5, g.pick("Limited seats.", "Offer ends Sunday.", "Hurry!", "Bonus workbook included.")),
		)
	},
}

// ---- not ads ----

var notAdTemplates = []func(*gen) string{
	// news with links
	func(g *gen) string {
		outlet := g.pick("新华社", "人民日报", "央视新闻", "澎湃新闻", "新京报", g.city()+"日报", "中国新闻网")
		event := g.pick(
			g.city()+"地铁"+fmt.Sprint(g.n(2, 19))+"号线今日开通运营，全长"+fmt.Sprint(g.n(12, 60))+"公里，设站"+fmt.Sprint(g.n(10, 35))+"座",
			g.city()+"迎来今年首场降雪，部分路段出现积雪",
			g.city()+"马拉松"+g.date()+"鸣枪开跑，"+fmt.Sprint(g.n(2, 4))+"万名选手参赛",
			"今年全国夏粮总产量"+fmt.Sprint(g.n(2900, 3000))+"亿斤，比上年增长"+fmt.Sprint(g.n(1, 3))+"."+fmt.Sprint(g.n(1, 9))+"%",
			g.city()+"新建"+fmt.Sprint(g.n(3, 20))+"座口袋公园，"+g.date()+"起向市民开放",
			"国家统计局发布数据，"+g.date()+"全国居民消费价格同比上涨0."+fmt.Sprint(g.n(1, 9))+"%",
			"高考成绩将于"+g.date()+"公布，考生可登录省教育考试院网站查询",
			g.city()+"至"+g.city()+"高铁正式通车，最快"+fmt.Sprint(g.n(1, 4))+"小时可达",
		)
		return g.join("【"+outlet+"】"+event, g.pick("详情：", "原文链接：", "阅读全文 ", "")+g.newsLink())
	},
	// government notices with phone numbers
	func(g *gen) string {
		matter := g.pick("2026年度城乡居民医保缴费", "临时停水", "道路施工期间交通管制", "冬季供暖开始", "生活垃圾分类投放时间调整", "养老金领取资格认证", "社保卡换领", "义务教育阶段入学登记", "居住证办理", "独生子女补贴申领")
		return g.join(
			g.pick("关于", "【通知】关于", "")+matter+"的"+g.pick("通知", "公告", "温馨提示"),
			g.pick("办理时间为"+g.date()+"至"+g.date(), "请相关居民于"+g.date()+"前办理", "具体安排如下", "请广大市民相互转告"),
			g.pick("可携带身份证到街道政务服务中心办理", "可通过“"+g.city()+"政务服务”小程序在线办理", "详见区政府官网公告"),
			g.pick("咨询电话：", "如有疑问请拨打", "联系电话", "监督电话：")+g.pick(g.landline(), g.landline(), "12345")+g.maybe(0.5, "（工作日9:00-17:00）"),
			g.pick(g.city()+"市医疗保障局", "××街道办事处", g.city()+"市住房和城乡建设委员会", "区人力资源和社会保障局", ""),
		)
	},
	// museums and libraries: hours and prices
	func(g *gen) string {
		place := g.pick(g.city()+"博物馆", "省美术馆", "自然博物馆", "科技馆", "市图书馆", "革命纪念馆", "海洋馆", "古生物博物馆", "城市规划展览馆")
		return g.join(
			place+g.pick("开放时间", "参观须知", "国庆假期开放安排"),
			g.pick("周二至周日", "每日", "周一至周五")+fmt.Sprintf("%d:00-%d:00", g.n(8, 10), g.n(16, 18))+g.maybe(0.6, "，"+g.pick("16:00", "16:30", "17:00")+"停止入馆"),
			g.pick("周一闭馆（法定节假日除外）", "除夕闭馆", "每周一例行闭馆"),
			g.pick("门票"+fmt.Sprint(g.n(20, 120))+"元，学生、老人半价", "免费开放，需提前预约", "成人票"+fmt.Sprint(g.n(30, 80))+"元，1.2米以下儿童免票", "特展票"+fmt.Sprint(g.n(30, 100))+"元"),
			g.maybe(0.7, g.pick("请通过官方公众号提前预约", "团体参观请拨打"+g.landline(), "现场可购票", "请携带身份证入馆")),
		)
	},
	// university events with QR codes
	func(g *gen) string {
		univ := g.pick("北京大学", "复旦大学", "浙江大学", "武汉大学", "中山大学", "四川大学", "南京大学", "华中科技大学", "同济大学")
		school := g.pick("物理学院", "经济学院", "计算机学院", "图书馆", "研究生院", "校团委", "就业指导中心", "外国语学院")
		return g.join(
			univ+school+g.pick("将于", "定于")+g.date()+g.pick("14:00", "15:30", "19:00")+"在"+g.pick("逸夫楼报告厅", "图书馆三楼", "大学生活动中心", "光华楼东辅楼", "线上腾讯会议")+g.pick("举办", "举行"),
			"“"+g.pick("人工智能与社会", "量子计算前沿", "碳中和路径", "宋代文学", "大模型安全", "城市更新", "职业规划")+"”"+g.pick("学术讲座", "论坛", "分享会", "宣讲会"),
			g.maybe(0.6, "主讲人："+g.pick("王", "李", "张", "陈", "刘", "杨")+g.pick("建国", "晓明", "静", "涛", "秀英", "立新")+g.pick("教授", "研究员", "博士")),
			g.pick("欢迎全校师生扫码报名", "请扫描下方二维码报名", "名额"+fmt.Sprint(g.n(50, 300))+"人，扫码预约", "报名请扫码填写问卷", "欢迎参加"),
			g.maybe(0.4, "咨询："+g.landline()),
		)
	},
	// personal posts
	func(g *gen) string {
		return g.join(
			g.pick("今天", "周末", "昨天", "下班后", "终于")+g.pick("和朋友去爬山了", "带娃去了动物园", "把阳台的花都种好了", "一个人看了场电影", "跑完了第一个半马", "学会了做蛋挞", "搬完家了", "回老家看爸妈"),
			g.pick("天气真好", "累但开心", "好久没这么放松了", "明天继续加油", "记录一下", "有点想哭"),
			g.maybe(0.4, g.pick("菜市场的草莓"+fmt.Sprint(g.n(10, 30))+"块一斤，贵了点", "门票"+fmt.Sprint(g.n(40, 200))+"元，值", "打车花了"+fmt.Sprint(g.n(20, 80))+"块", "下次还来")),
			g.emoji(),
		)
	},
	// brand news without a call to action
	func(g *gen) string {
		brand := g.pick("华为", "比亚迪", "小米", "海尔", "格力", "蔚来", "美的", "联想", "安踏", "宁德时代", "招商银行")
		return g.join(
			brand+g.pick(
				"发布"+fmt.Sprint(g.n(2024, 2025))+"年可持续发展报告，单位产值碳排放下降"+fmt.Sprint(g.n(5, 30))+"%",
				"第"+fmt.Sprint(g.n(1, 4))+"季度营收"+fmt.Sprint(g.n(100, 2000))+"亿元，同比增长"+fmt.Sprint(g.n(3, 40))+"%",
				"在"+g.city()+"的新工厂正式投产，预计年产能"+fmt.Sprint(g.n(10, 100))+"万台",
				"宣布任命新一任首席执行官",
				"与"+g.pick("清华大学", "中科院", "浙江大学")+"共建联合实验室",
				"获得"+g.pick("国家科技进步奖", "红点设计奖", "年度雇主品牌"),
			),
			g.maybe(0.5, g.pick("公司表示将继续加大研发投入", "这是该品牌成立"+fmt.Sprint(g.n(10, 40))+"周年的重要节点", "相关负责人在发布会上介绍了进展")),
		)
	},
	// weather
	func(g *gen) string {
		return g.join(
			g.city()+g.pick("今天", "明天", "周末")+g.pick("多云转晴", "小雨", "阴", "晴", "雷阵雨", "中到大雨", "小雪"),
			fmt.Sprintf("气温%d~%d℃", g.n(-5, 15), g.n(16, 36)),
			g.pick("东南风3级", "北风4-5级", "微风", "西北风2级"),
			g.pick("出门请带伞", "注意防暑降温", "早晚温差大，注意添衣", "空气质量良", "紫外线强，注意防晒"),
		)
	},
	// recipes
	func(g *gen) string {
		dish := g.pick("红烧肉", "番茄炒蛋", "可乐鸡翅", "糖醋排骨", "清蒸鲈鱼", "蒜蓉西兰花", "酸辣土豆丝", "麻婆豆腐")
		return g.join(
			dish+g.pick("做法", "家常做法分享", "的小窍门"),
			g.pick("五花肉", "鸡翅", "排骨", "鲈鱼一条", "豆腐一块", "土豆两个")+fmt.Sprint(g.n(2, 10)*50)+"克，"+g.pick("冰糖", "生抽", "白糖", "料酒")+fmt.Sprint(g.n(1, 4)*10)+"克",
			g.pick("小火炖"+fmt.Sprint(g.n(20, 60))+"分钟", "大火收汁", "蒸"+fmt.Sprint(g.n(8, 15))+"分钟后淋热油", "最后撒葱花"),
			g.maybe(0.5, g.pick("简单又下饭", "孩子很爱吃", "记得先焯水去腥")),
		)
	},
	// fraud warnings that quote ad wording
	func(g *gen) string {
		bait := g.pick("加V领取"+g.pick("福利", "红包", "礼品"), "刷单兼职日结"+fmt.Sprint(g.n(200, 500))+"元", "无抵押秒批贷款", "低价代购", "投资稳赚不赔", "免费领取"+g.pick("口罩", "鸡蛋", "话费"), "点击链接领取补贴")
		return g.join(
			g.pick("【反诈提醒】", "【警方提示】", "【风险提示】", "温馨提醒：", g.city()+"公安提醒："),
			"近期有不法分子以“"+bait+"”为诱饵实施诈骗",
			g.pick("请勿添加陌生人微信", "不要点击来历不明的链接", "凡是要求先交钱的都是诈骗", "切勿向陌生账户转账"),
			g.pick("如遇可疑情况请拨打96110", "发现被骗请立即拨打110报警", "可拨打反诈专线96110咨询", "请下载国家反诈中心APP"),
		)
	},
	// community notices with mobiles
	func(g *gen) string {
		return g.join(
			g.pick(g.pick("阳光", "幸福", "翠湖", "锦绣", "和平")+"小区物业通知", "社区居委会提示", "业主委员会公告"),
			g.pick(g.date()+g.pick("8:00-12:00", "全天", "下午")+"停水检修，请提前储水", g.date()+"起地下车库进行防水施工", "本周六上午开展消防演练", "电梯年检期间请走楼梯", g.date()+"小区组织免费义诊，地点在中心广场"),
			g.pick("给您带来不便，敬请谅解", "请居民相互转告", "感谢配合"),
			g.pick("联系人：王师傅 "+g.mobile(), "物业电话："+g.mobile(), "值班电话"+g.landline(), "如有问题请联系"+g.mobile()),
		)
	},
	// hospital, recall and school notices with contact and booking
	func(g *gen) string {
		switch g.n(0, 2) {
		case 0:
			return g.join(
				g.pick(g.city()+"市第一人民医院", "市妇幼保健院", "中医院", "儿童医院")+g.pick("眼科", "口腔科", "儿科", "皮肤科", "骨科")+"门诊时间调整",
				g.pick("自"+g.date()+"起周六上午开诊", "春节期间门诊安排如下", "专家门诊改为周三下午"),
				g.pick("预约挂号请拨打"+g.landline(), "可通过医院公众号预约挂号", "请提前预约，按时就诊"),
			)
		case 1:
			return g.join(
				g.pick("美的", "海尔", "某品牌", "飞鹤", "雅迪", "九阳")+"召回部分批次"+g.pick("电热水壶", "婴儿奶粉", "电动车充电器", "豆浆机", "儿童座椅"),
				"涉及"+fmt.Sprint(g.n(2019, 2025))+"年"+fmt.Sprint(g.n(1, 12))+"月生产的产品",
				g.pick("消费者可免费更换", "企业将为用户免费维修", "请停止使用"),
				"客服热线"+g.hotline(),
			)
		}
		return g.join(
			g.pick("各位家长您好", "家长朋友们"),
			g.pick("本学期期末考试定于"+g.date()+"举行", "下周一开始实行冬季作息时间", g.date()+"学校组织秋游，费用"+fmt.Sprint(g.n(30, 120))+"元由家委会统一收取", "请为孩子准备好体检表"),
			g.pick("请督促孩子按时到校", "请按时提交回执", "感谢配合"),
			g.maybe(0.6, "班主任电话"+g.mobile()),
		)
	},
	// market reports, transport fares, sport: numbers and prices, no pitch
	func(g *gen) string {
		switch g.n(0, 2) {
		case 0:
			return fmt.Sprintf("收盘：上证指数报%d.%02d点，涨%d.%02d%%；深证成指报%d点；两市成交额%d亿元。%s", g.n(2900, 3500), g.n(0, 99), g.n(0, 2), g.n(0, 99), g.n(9000, 12000), g.n(6000, 15000), g.pick("北向资金净流入。", "券商板块领涨。", "黄金价格创新高。", ""))
		case 1:
			return g.join(g.city()+g.pick("公交", "地铁", "轮渡")+"票价调整方案公布", "普通线路"+fmt.Sprint(g.n(1, 2))+"元", "空调线路"+fmt.Sprint(g.n(2, 3))+"元", g.date()+"起执行", g.maybe(0.5, "老年卡、学生卡优惠不变"))
		}
		return g.join(g.pick("中超第"+fmt.Sprint(g.n(1, 30))+"轮", "CBA常规赛", "女排联赛"), g.pick("山东", "上海", "北京", "广东", "浙江")+"队"+fmt.Sprintf("%d比%d", g.n(1, 4), g.n(0, 3))+"战胜"+g.pick("天津", "四川", "辽宁", "江苏")+"队", g.pick("主场观众"+fmt.Sprint(g.n(1, 5))+"万人", "下一轮将于"+g.date()+"进行", "球队积分升至第"+fmt.Sprint(g.n(1, 8))+"位"))
	},
	// English non-ads: news, civic notices, museums, events, personal, recipes
	func(g *gen) string {
		switch g.n(0, 9) {
		case 0:
			return g.joinEN(g.pick("City council meets Tuesday at 7pm in Room "+fmt.Sprint(g.n(100, 400))+".", "The "+g.cityEN()+" council approved the new bike lane plan."), "Agenda and minutes: "+g.pick("https://www.", "www.")+strings.ToLower(g.cityEN())+".gov/council")
		case 1:
			return g.joinEN("The "+g.pick("Natural History Museum", "City Art Gallery", "Maritime Museum", "Science Center")+" is open "+g.pick("Tue–Sun", "daily", "Wed–Mon")+", "+fmt.Sprint(g.n(9, 10))+"am–"+fmt.Sprint(g.n(4, 6))+"pm.", "Adults $"+fmt.Sprint(g.n(10, 25))+", seniors $"+fmt.Sprint(g.n(5, 12))+", children under 12 free.", g.maybe(0.5, "Closed on public holidays."))
		case 2:
			return g.joinEN("Alumni webinar: \""+g.pick("Careers in climate tech", "Writing a research proposal", "Life after the PhD", "Ethics of AI")+"\", "+g.dateEN()+" at "+fmt.Sprint(g.n(1, 8))+"pm.", g.pick("Register here: ", "Sign up at ", "Registration: ")+"https://alumni."+g.pick("ox", "ucl", "mit", "ubc", "unimelb")+".edu/events/"+fmt.Sprint(g.n(100, 999)), g.maybe(0.5, "Scan the QR code on the poster to RSVP."))
		case 3:
			return g.joinEN(g.pick("Q1", "Q2", "Q3", "Q4")+" results: revenue up "+fmt.Sprint(g.n(2, 30))+"% to $"+fmt.Sprint(g.n(10, 900))+"M; operating margin "+fmt.Sprint(g.n(5, 25))+"%.", g.pick("Full report on our investor site.", "Thanks to our team and partners.", "We will discuss the results on our earnings call."))
		case 4:
			return g.joinEN(g.cityEN()+" weather: "+g.pick("sunny", "showers", "cloudy", "light snow", "thunderstorms")+", high of "+fmt.Sprint(g.n(30, 95))+"°F, low of "+fmt.Sprint(g.n(10, 60))+"°F.", g.pick("Bring an umbrella.", "Stay hydrated.", "Roads may be icy in the morning."))
		case 5:
			return g.joinEN(g.pick("Finally finished my first marathon!", "Made sourdough for the first time.", "Our cat learned to open the fridge.", "Back from two weeks in Portugal.", "First day at the new job today."), g.pick("Exhausted but happy.", "Thanks everyone for the support!", "Photos soon.", "Highly recommend the trip."), g.maybe(0.4, "Dinner was $"+fmt.Sprint(g.n(20, 90))+" for two, worth it."), g.emoji())
		case 6:
			return g.joinEN("Scam alert: "+g.pick("nobody from our bank will ask you to DM them or send money via WhatsApp.", "messages promising \"make $500/day from home\" are fraud.", "fake \"limited time\" prize links are circulating.", "we never ask for your password by text."), "Report suspicious messages to "+g.pick(g.intlPhone(), "7726", "our fraud team in the app")+".")
		case 7:
			return g.joinEN("Road closure on "+g.pick("Main St", "Oak Avenue", "High Street", "5th Ave")+" from "+g.dateEN()+" to "+g.dateEN()+" for water main repairs.", g.pick("Questions? Call "+g.intlPhone()+".", "Detours are signposted.", "Buses 12 and 31 are diverted."))
		case 8:
			return g.joinEN(g.pick("Lost dog near "+g.pick("Riverside Park", "the library", "Elm Street")+": brown lab named "+g.pick("Max", "Buddy", "Charlie")+".", "Found: a set of keys outside the post office."), "Please call "+g.intlPhone()+" if you can help. Thank you!")
		}
		return g.joinEN(g.pick("Reuters", "BBC News", "AP", "The Guardian")+": "+g.pick("Central bank holds rates steady", "Heatwave breaks records across southern Europe", "New species of frog found in the Andes", "Rail strike called off after deal", "Election results expected Friday"), "Read more: "+g.newsLink())
	},
	// consumer-protection and civic notices quoting promotional language
	func(g *gen) string {
		bait := g.pick("限时优惠", "充值送现金", "免费体检", "0元购", "保本高收益", "特价旅游团", "买一送一")
		return g.join(
			g.pick("市消协提醒", "市场监管局提示", "消费警示", "银保监提示"),
			g.pick("购买预付卡要谨慎", "警惕低价旅游陷阱", "老年人谨防保健品骗局", "理财需通过正规渠道"),
			"遇到商家“"+bait+"”等宣传要理性消费",
			g.maybe(0.6, g.pick("投诉举报请拨打12315", "如权益受损可拨打12315", "保留好消费凭证")),
		)
	},
	// personal notes about buying things: products and prices, no pitch
	func(g *gen) string {
		product := g.pick("空气炸锅", "跑鞋", "羽绒服", "扫地机器人", "电动牙刷", "咖啡机", "面霜", "行李箱", "台灯")
		return g.join(
			g.pick("今天在超市买了", "双十一入手的", "用了一个月的", "给爸妈买的", "同事推荐的")+product,
			g.pick("花了"+fmt.Sprint(g.n(99, 1999))+"块", fmt.Sprint(g.n(99, 1999))+"元", "价格不便宜", "打完折还挺划算"),
			g.pick("说说感受：还行吧", "比想象中好用", "有点后悔", "性价比一般", "家里人都挺喜欢"),
			g.maybe(0.4, g.pick("不是广告哈", "纯分享", "大家有什么推荐吗")),
		)
	},
	// civic calls to act: register, donate, apply, with links and QR codes
	func(g *gen) string {
		if g.chance(0.5) {
			return g.join(
				g.pick(g.city()+"市", "区", "街道")+g.pick("第七次全国人口普查入户登记开始", "2026年公开招聘事业单位工作人员公告", "征兵网上报名已开始", "无偿献血招募", "义务植树活动报名"),
				g.pick("报名时间"+g.date()+"至"+g.date(), "请于"+g.date()+"前完成登记", "符合条件者均可报名"),
				g.pick("报名网址 www."+g.pick("gov", "zgzb", "hrss")+".cn", "扫码填写报名表", "详见官网公告", "咨询电话"+g.landline()),
			)
		}
		return g.joinEN(
			g.pick("Register to vote by "+g.dateEN()+".", "Blood donors needed this week.", "Census forms are due "+g.dateEN()+".", "Jury service reminder:", "Applications for the community grant are open."),
			g.pick("It takes two minutes at vote.gov.", "Book a slot at blood.org.uk.", "Complete yours online at census.gov.", "Check your summons for dates.", "Apply at "+strings.ToLower(g.cityEN())+".gov/grants by Friday."),
		)
	},
	// school and charity fundraisers: amounts raised, thanks
	func(g *gen) string {
		if g.chance(0.5) {
			return g.join(
				g.pick(g.pick("实验小学", "第一中学", "阳光幼儿园", "社区")+"爱心义卖", "校友会助学基金", "一元捐"),
				"共筹得善款"+fmt.Sprint(g.n(1000, 90000))+"元",
				g.pick("将全部用于山区学校图书室建设", "用于资助困难学生", "感谢每一位参与的家长和同学"),
			)
		}
		return g.joinEN(
			"Our "+g.pick("school's bake sale", "charity fun run", "book fair", "church fete")+" raised $"+fmt.Sprint(g.n(200, 9000))+" for "+g.pick("the new playground", "the food bank", "library books", "the animal shelter")+".",
			g.pick("Thank you to every family who helped!", "Amazing effort, everyone.", "See photos in the newsletter."),
		)
	},
	// charity, volunteering, community events: asks to join, no sale
	func(g *gen) string {
		return g.join(
			g.pick(g.city()+"青年志愿者协会", "社区党群服务中心", "红十字会", "流浪动物救助站", "市图书馆"),
			g.pick("招募周末志愿者", "发起为山区儿童捐书活动", "本周六举办亲子阅读会", "开展无偿献血活动", "组织垃圾分类宣传"),
			g.pick("已筹得善款"+fmt.Sprint(g.n(1, 50))+"万元，感谢"+fmt.Sprint(g.n(100, 3000))+"位爱心人士", "欢迎居民参加", "报名电话"+g.mobile(), "扫码报名，名额"+fmt.Sprint(g.n(20, 100))+"人", "活动免费，无需报名"),
		)
	},
}
