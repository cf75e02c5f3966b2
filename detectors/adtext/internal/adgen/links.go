package main

import (
	"fmt"
	"strings"
)

// Ordinary text that carries links: news with a "read more", mailing-list
// and newsletter footers with unsubscribe links, receipts, delivery and
// bank notices, meeting invitations, release notes, shared documents and
// photo albums. None sells; all have the surface of an ad (links, short
// links, prices, phone numbers, "click", "view"). The built-in model once
// called 28% of real mail with such footers an ad.

func (g *gen) code(n int) string {
	const a = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[g.r.IntN(len(a))]
	}
	return string(b)
}

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *gen) project() string {
	return g.pick("razor", "exmh", "spamassassin", "postgres", "fedora", "debian", "gnome", "kde", "python", "rust", "openbsd", "samba", "apache", "nginx", "zfs", "mutt", "emacs", "vim", "ilug", "openssl")
}

func (g *gen) host() string {
	return g.pick("sourceforge.net", "lists.debian.org", "python.org", "kernel.org", "apache.org", "gnome.org", "freebsd.org", "linux.ie", "redhat.com", "example.org")
}

func (g *gen) usd() string {
	switch g.n(0, 3) {
	case 0:
		return fmt.Sprintf("$%d.%02d", g.n(3, 480), g.n(0, 99))
	case 1:
		return fmt.Sprintf("USD %d.%02d", g.n(3, 480), g.n(0, 99))
	case 2:
		return fmt.Sprintf("£%d.%02d", g.n(3, 300), g.n(0, 99))
	}
	return fmt.Sprintf("€%d,%02d", g.n(3, 300), g.n(0, 99))
}

func (g *gen) shortOrAlbum() string {
	switch g.n(0, 4) {
	case 0:
		return "https://photos.app.goo.gl/" + g.code(12)
	case 1:
		return "https://bit.ly/" + g.code(7)
	case 2:
		return "t.cn/" + g.code(7)
	case 3:
		return "https://docs.qq.com/doc/" + g.code(10)
	}
	return "https://drive.google.com/file/d/" + g.code(20) + "/view"
}

var linkNotAdTemplates = []func(*gen) string{
	// English news with a link
	func(g *gen) string {
		outlet := g.pick("Reuters", "AP", "BBC News", "The Guardian", "NPR", "Local Herald", g.cityEN()+" Times", "CBC")
		what := g.pick(
			"City council approves new bike lanes on Main Street",
			"Storm knocks out power to "+fmt.Sprint(g.n(2, 90))+",000 homes overnight",
			"Central bank holds interest rates at "+fmt.Sprint(g.n(1, 5))+"."+fmt.Sprint(g.n(0, 9))+"%",
			"Museum reopens after two-year renovation",
			"Scientists map the genome of the "+g.pick("olive tree", "honeybee", "axolotl", "barley"),
			"Local school wins national robotics contest",
			"Train strike called off after late-night talks",
			"Heatwave warning issued for the weekend",
			g.cityEN()+" marathon draws record field of runners",
		)
		link := fmt.Sprintf("https://www.%s/%s/%d/%02d/%s-%d", g.pick("reuters.com", "apnews.com", "bbc.co.uk/news", "theguardian.com", "npr.org", "localherald.com"), g.pick("world", "business", "science", "local", "uk"), g.n(2019, 2026), g.n(1, 12), strings.ToLower(strings.ReplaceAll(what[:min(len(what), 24)], " ", "-")), g.n(1000, 99999))
		return g.joinEN(outlet+": "+what+".", g.maybe(0.6, g.pick("Officials said more details would follow.", "Full story:", "Read more:", "Via")), link)
	},
	// mailing-list message with its footer
	func(g *gen) string {
		p := g.project()
		body := g.pick(
			"I see the same crash after upgrading to "+fmt.Sprintf("%d.%d.%d", g.n(0, 5), g.n(0, 20), g.n(0, 9))+"; the patch in the tracker fixes it for me.",
			"Has anyone got this building on ARM? configure fails at the zlib check.",
			"Thanks, that worked. For the archives: set the path in the config and restart.",
			"The meeting notes from Thursday are on the wiki.",
			"Re: your question about the cache size, the default is fine for most setups.",
			"Please test the release candidate and report regressions before Friday.",
		)
		footer := g.pick(
			"_______________________________________________\n"+p+"-users mailing list\n"+p+"-users@lists."+g.host()+"\nhttps://lists."+g.host()+"/mailman/listinfo/"+p+"-users",
			"--\nTo unsubscribe, e-mail: "+p+"-unsubscribe@"+g.host()+"\nFor additional commands, e-mail: "+p+"-help@"+g.host(),
			"-------------------------------------------------------\nThis sf.net email is sponsored by: "+g.pick("ThinkGeek", "OSDN", "JabberConf")+"\nhttp://thinkgeek.com/sf\n_______________________________________________\n"+p+"-devel mailing list\nhttps://lists.sourceforge.net/lists/listinfo/"+p+"-devel",
			"Irish Linux Users' Group: ilug@linux.ie\nhttp://www.linux.ie/mailman/listinfo/ilug for (un)subscription information.\nList maintainer: listmaster@linux.ie",
			"You received this message because you are subscribed to the Google Groups \""+p+"\" group.\nTo unsubscribe from this group and stop receiving emails from it, send an email to "+p+"+unsubscribe@googlegroups.com.\nTo view this discussion visit https://groups.google.com/d/msgid/"+p+"/"+g.code(16),
		)
		return g.pick("", "Hi all,\n", "On "+g.dateEN()+", "+g.pick("Kevin", "Anna", "Jo", "Matthias", "Priya")+" wrote:\n> "+g.pick("does anyone know", "any news on", "is there a fix for")+" this?\n\n") + body + "\n\n" + footer
	},
	// newsletter or blog digest with an unsubscribe link
	func(g *gen) string {
		name := g.pick("The Weekly Digest", "Garden Club News", "Parish Newsletter", "Alumni Update", "Dev Notes", "The Library Bulletin", "Birding Monthly")
		items := []string{
			g.pick("Volunteers planted 40 trees along the river path.", "Our spring lecture series starts next month.", "Minutes of the last meeting are attached.", "A new reading room opens on the second floor.", "We said goodbye to our longtime treasurer.", "Sightings this month include a pair of kingfishers."),
			g.pick("Photos from the open day: ", "Read the full issue online: ", "The archive is at ", "Details: ") + g.pick("https://", "http://") + g.pick("news.", "www.", "blog.") + g.pick("gardenclub.org", "stmarys-parish.org.uk", "alumni.example.edu", "citylibrary.org", "birders.net") + "/" + fmt.Sprint(g.n(2019, 2026)) + "/" + g.code(6),
		}
		unsub := g.pick("Unsubscribe: ", "To stop receiving these emails, click here: ", "Manage your preferences or unsubscribe at ", "You are receiving this because you signed up. Unsubscribe ") + "https://" + g.pick("list-manage.com", "mailchi.mp", "buttondown.email", "substack.com") + "/unsubscribe?u=" + g.code(10)
		return g.joinEN(name+" — "+g.dateEN(), items[0], items[1], unsub)
	},
	// order, shipping and payment receipts
	func(g *gen) string {
		order := g.digits(g.n(8, 12))
		shop := g.pick("Amazon", "your order", "Etsy", "the bookshop", "IKEA", "Apple", "Best Buy", "the pharmacy")
		track := "https://" + g.pick("www.ups.com/track?tracknum=1Z", "tools.usps.com/go/TrackConfirmAction?tLabels=9400", "www.royalmail.com/track-your-item#/tracking-results/RM", "www.dhl.com/track?id=") + g.digits(10)
		return g.pick(
			"Your "+shop+" order #"+order+" has shipped. Total charged: "+g.usd()+". Track your package: "+track,
			"Receipt for your payment of "+g.usd()+" to "+g.pick("City Water", "Greenway Energy", "Dr. Patel's office", "the school canteen", "Parking Services")+" on "+g.dateEN()+". Reference "+order+". View receipt: https://pay."+g.pick("stripe.com", "square.site", "paypal.com")+"/receipts/"+g.code(14),
			"Thanks for your order! Order "+order+": "+fmt.Sprint(g.n(1, 4))+" item(s), subtotal "+g.usd()+", delivery "+g.pick("free", g.usd())+". Estimated arrival "+g.dateEN()+". Order details: https://www.example-shop.com/account/orders/"+order,
			"Your refund of "+g.usd()+" for order "+order+" has been processed and should appear in 3-5 business days. Questions? Call "+g.intlPhone()+" or visit https://help."+g.pick("amazon.com", "ikea.com", "apple.com")+"/refunds",
		)
	},
	// meeting invitations and calendar notes
	func(g *gen) string {
		return g.joinEN(
			g.pick("Team sync", "Parent-teacher meeting", "Book club", "Sprint review", "Board meeting", "Choir rehearsal")+g.pick(" moved to ", " is on ", " reminder: ")+g.dateEN()+" at "+fmt.Sprint(g.n(1, 11))+g.pick("am", "pm", ":30pm"),
			g.pick("Join: ", "Zoom link: ", "Video call: ", "Dial in or join at ")+g.pick("https://zoom.us/j/"+g.digits(10), "https://meet.google.com/"+strings.ToLower(g.code(3))+"-"+strings.ToLower(g.code(4))+"-"+strings.ToLower(g.code(3)), "https://teams.microsoft.com/l/meetup-join/"+g.code(12)),
			g.maybe(0.5, g.pick("Agenda in the doc: ", "Slides: ", "Notes from last time: ")+g.shortOrAlbum()),
		)
	},
	// software release notes
	func(g *gen) string {
		p := g.project()
		v := fmt.Sprintf("%d.%d.%d", g.n(0, 9), g.n(0, 30), g.n(0, 12))
		return g.joinEN(
			p+" "+v+" "+g.pick("is out", "released", "has been tagged")+".",
			g.pick("Fixes a memory leak in the parser and two crashes on startup.", "Security fix for CVE-"+fmt.Sprint(g.n(2019, 2026))+"-"+g.digits(5)+"; upgrade is recommended.", "Adds IPv6 support and drops Python 2.", "Mostly documentation and translation updates."),
			g.pick("Changelog: ", "Release notes: ", "Download: ")+"https://github.com/"+p+"/"+p+"/releases/tag/v"+v,
		)
	},
	// Chinese news with a link
	func(g *gen) string {
		outlet := g.pick("新华社", "央视新闻", "澎湃新闻", "新京报", g.city()+"发布", "中国新闻网", "人民网")
		what := g.pick(
			g.city()+"今年将新增公共停车位"+fmt.Sprint(g.n(2, 9))+"万个",
			"教育部：中小学"+g.pick("暑假", "寒假")+"安全提示发布",
			g.city()+"图书馆新馆"+g.date()+"起试运行",
			"气象台发布"+g.pick("暴雨", "高温", "寒潮", "大风")+g.pick("蓝色", "黄色", "橙色")+"预警",
			g.city()+"公积金新政"+g.date()+"起施行",
			"我国科学家在"+g.pick("量子通信", "水稻育种", "深海探测", "古生物")+"领域取得新进展",
		)
		return g.join("【"+outlet+"】"+what, g.pick("详情：", "全文：", "原文链接：", "点击查看：", "")+g.newsLink())
	},
	// Chinese receipts, bank, delivery and service notices
	func(g *gen) string {
		tail := g.digits(4)
		amt := fmt.Sprintf("%d.%02d", g.n(3, 5000), g.n(0, 99))
		return g.pick(
			"【"+g.pick("工商银行", "建设银行", "招商银行", "农业银行")+"】您尾号"+tail+"的储蓄卡"+g.date()+g.pick("消费", "转账支出", "收入")+amt+"元，余额"+fmt.Sprintf("%d.%02d", g.n(100, 90000), g.n(0, 99))+"元。详情请登录手机银行或致电"+g.pick("95588", "95533", "95555", "95599")+"。",
			"【"+g.pick("菜鸟驿站", "丰巢", "顺丰速运", "中通快递")+"】您的包裹已到"+g.pick("小区东门驿站", "3号楼快递柜", "学校南门服务点")+"，取件码"+g.digits(6)+"，请于"+g.date()+"前取件。查询物流 https://"+g.pick("m.cainiao.com", "www.sf-express.com", "www.zto.com")+"/"+g.code(8),
			"【"+g.pick("京东", "淘宝", "美团", "饿了么", "拼多多")+"】您的订单"+g.digits(12)+"已发货，实付"+g.cnPrice()+"，预计"+g.date()+"送达。订单详情："+g.pick("https://", "")+g.pick("jd.com", "m.tb.cn", "i.meituan.com")+"/"+g.code(8),
			"【"+g.city()+"燃气】您"+g.date()+"的燃气费"+amt+"元已缴费成功，电子发票请点击 https://"+g.pick("fapiao", "einvoice")+"."+g.pick("chinatax.gov.cn", "gas.com.cn")+"/"+g.code(10)+" 下载，客服热线"+g.hotline()+"。",
			"【"+g.pick("12306", "中国铁路")+"】订单"+g.code(8)+"，"+g.date()+g.city()+"至"+g.city()+"G"+fmt.Sprint(g.n(10, 999))+"次"+fmt.Sprint(g.n(1, 16))+"车"+fmt.Sprint(g.n(1, 20))+g.pick("A", "B", "C", "D", "F")+"号，票价"+g.cnPrice()+"。退改签请登录 www.12306.cn。",
		)
	},
	// Chinese shared documents, school and work notices with links
	func(g *gen) string {
		return g.join(
			g.pick("各位家长好", "各位同事", "各位业主", "同学们", "大家好"),
			g.pick("本学期的课程表", "下周的值班安排", "上次会议的纪要", "小区停水通知", "运动会的照片", "期末复习资料")+g.pick("已上传", "已整理好", "已发到共享文档", "在这里"),
			g.pick("请点击", "点击链接", "扫码或打开", "查看：", "")+g.shortOrAlbum()+g.pick("查看", "下载", "", ""),
			g.maybe(0.5, g.pick("有问题请联系", "如有疑问请找", "联系人")+g.pick("王老师", "李主任", "物业张经理", "班长")+" "+g.mobile()),
		)
	},
}
