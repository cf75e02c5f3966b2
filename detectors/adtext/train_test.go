package adtext

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrainOptionsCheck(t *testing.T) {
	d := DefaultTrainOptions
	with := func(f func(*TrainOptions)) TrainOptions { o := d; f(&o); return o }
	tests := []struct {
		name string
		o    TrainOptions
		want string // "" for valid
	}{
		{"defaults", d, ""},
		{"no hold-out", with(func(o *TrainOptions) { o.HoldOut = 0 }), ""},
		{"negative hold-out", with(func(o *TrainOptions) { o.HoldOut = -0.2 }), "hold-out share -0.2"},
		{"hold-out of one", with(func(o *TrainOptions) { o.HoldOut = 1 }), "hold-out share 1"},
		{"NaN hold-out", with(func(o *TrainOptions) { o.HoldOut = math.NaN() }), "hold-out share NaN"},
		{"zero epochs", with(func(o *TrainOptions) { o.Epochs = 0 }), "epochs 0"},
		{"zero rate", with(func(o *TrainOptions) { o.LearningRate = 0 }), "learning rate 0"},
		{"negative L2", with(func(o *TrainOptions) { o.L2 = -1 }), "L2 -1"},
		{"threshold of one", with(func(o *TrainOptions) { o.Threshold = 1 }), "threshold 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Check()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			case err != nil && strings.ContainsAny(err.Error(), "{}"):
				t.Errorf("got %q, want no Go struct in it", err)
			}
		})
	}
	if _, _, err := Train(Examples(readFixtures(t)), with(func(o *TrainOptions) { o.Epochs = 0 })); err == nil {
		t.Error("Train with zero epochs: got no error")
	}
}

func TestExampleFilesStreams(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.jsonl", "\uFEFF{\"text\": \"买一送一\", \"ad\": true}\n# a comment\n\n{\"text\": \"开会\", \"ad\": false}")
	write("b.jsonl", "{\"text\": \""+strings.Repeat("x", 100<<10)+"\", \"ad\": false}\n")
	write("c.txt", "not read")
	src, err := ExampleFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for l, err := range src {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, filepath.Base(l.File)+":"+string(rune('0'+l.Line)))
	}
	if want := "a.jsonl:1 a.jsonl:4 b.jsonl:1"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s (a byte-order mark skipped, a line of 100 KB read, the last line without a newline read)", got, want)
	}

	write("d.jsonl", "{\"text\": \"ok\", \"ad\": true}\n{\"text\": \""+strings.Repeat("长", maxLine/3+1)+"\", \"ad\": true}\n")
	src, _ = ExampleFiles(filepath.Join(dir, "d.jsonl"))
	var last error
	for _, err := range src {
		last = err
	}
	if last == nil || !strings.Contains(last.Error(), "d.jsonl:2: line longer than") {
		t.Errorf("got %v, want an error naming d.jsonl:2 as too long", last)
	}
}

// TestPlattRecoversTheScaling draws labels from a known sigmoid(a*z + b)
// and checks the fit finds a and b again.
func TestPlattRecoversTheScaling(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const a, b = 0.6, -1.2
	var zs, ys []float64
	for range 20000 {
		z := rng.NormFloat64() * 4
		y := 0.0
		if rng.Float64() < sigmoid(a*z+b) {
			y = 1
		}
		zs, ys = append(zs, z), append(ys, y)
	}
	ga, gb := platt(zs, ys, [2]float64{1, 1})
	if math.Abs(float64(ga)-a) > 0.05 || math.Abs(float64(gb)-b) > 0.1 {
		t.Errorf("got a=%.3f b=%.3f, want about %v and %v", ga, gb, a, b)
	}
	// Separable scores far apart: the smoothed targets keep it finite.
	ga, gb = platt([]float64{-50, -40, 40, 50}, []float64{0, 0, 1, 1}, [2]float64{1, 1})
	if math.IsInf(float64(ga), 0) || math.IsNaN(float64(ga)) || ga <= 0 || ga > 1 || math.Abs(float64(gb)) > 1 {
		t.Errorf("separable: got a=%v b=%v, want a small positive scale", ga, gb)
	}
}

func TestNaiveBayesBaseline(t *testing.T) {
	var gen, hand []Example
	for _, name := range []string{"generated_ads.jsonl", "generated_not_ads.jsonl", "generated_links_not_ads.jsonl", "handwritten_ads.jsonl", "handwritten_not_ads.jsonl"} {
		ex, err := ReadExamples(fixtures + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(name, "generated") {
			gen = append(gen, ex...)
		} else {
			hand = append(hand, ex...)
		}
	}
	nb, err := TrainNaiveBayes(Examples(gen))
	if err != nil {
		t.Fatal(err)
	}
	var c Confusion
	for _, e := range hand {
		c.Add(nb.Score(e.Text) >= 0.5, e.Ad)
	}
	t.Logf("naive Bayes, trained on generated, on hand-written: precision %.3f, recall %.3f, F1 %.3f", c.Precision(), c.Recall(), c.F1())
	if c.F1() < 0.7 {
		t.Errorf("baseline F1: got %.3f, want at least 0.7 (a baseline, but a working one)", c.F1())
	}
	if _, err := TrainNaiveBayes(Examples(hand[:1])); err == nil {
		t.Error("naive Bayes on one class: got no error")
	}
}

// TestDefaultModelOnOrdinaryTextWithLinks scores texts written for this
// test, in no fixture: news, list and newsletter footers, receipts and
// notices carry links, prices and phone numbers and sell nothing.
func TestDefaultModelOnOrdinaryTextWithLinks(t *testing.T) {
	texts := []string{
		"Council publishes the draft budget for consultation, comments close on 14 March: https://www.kent.gov.uk/budget-2027",
		"Thanks, the second patch fixed it.\n\n--\nlibfoo-devel mailing list\nlibfoo-devel@lists.freedesktop.org\nhttps://lists.freedesktop.org/mailman/listinfo/libfoo-devel",
		"Your Uber receipt: Tuesday evening trip, total $23.41 charged to Visa ••1234. Rate your driver or view the trip at https://riders.uber.com/trips/8c1e",
		"Package delivered to the front porch at 2:14pm. Photo of delivery: https://amzn.to/3Xk9Qp",
		"Minutes from Monday's residents' association meeting are up at bit.ly/rA-minutes — next meeting is 4 Nov, all welcome.",
		"You're receiving this because you subscribed to the Ravelry newsletter. Unsubscribe: https://www.ravelry.com/account/email?u=92ab",
		"【国家卫健委】秋冬季流感防治指南发布，全文见 http://www.nhc.gov.cn/xcs/s3574/202610/a1b2.shtml",
		"【建设银行】您尾号6612的信用卡本期账单金额3,204.50元，到期还款日11月25日，详情登录手机银行查看。",
		"【顺丰速运】您的快件SF1402938475已由本人签收，感谢使用顺丰，查看电子签收单 https://www.sf-express.com/waybill/1402",
		"各位家长：下周三秋游的分组名单和注意事项已发到腾讯文档 https://docs.qq.com/sheet/DcXh 请查看，有问题联系班主任 139 1234 5678",
		"报名成功！您已报名" + "市图书馆周六亲子阅读活动，时间10月18日9:30，地点二楼少儿区，取消报名请点击 https://lib.example.cn/act/3381",
	}
	m := Default()
	var wrong []string
	for _, text := range texts {
		p, f := m.Analyze(text)
		t.Logf("%.3f [%s] %s", p, f.Explain(), text)
		if p >= 0.5 {
			wrong = append(wrong, text)
		}
	}
	if len(wrong) > 1 {
		t.Errorf("the built-in model calls %d of %d ordinary texts with links ads, want at most 1: %q", len(wrong), len(texts), wrong)
	}
}

// TestNBWeights trains with naive Bayes scaled features, whose ratios are
// folded into the saved weights: the model must score as well, and the
// same after a save and load.
func TestNBWeights(t *testing.T) {
	o := DefaultTrainOptions
	o.NBWeights = true
	m, rep, err := Train(Examples(readFixtures(t)), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", rep)
	if rep.F1 < 0.95 {
		t.Errorf("held-out F1 with NB weights: got %.3f, want at least 0.95", rep.F1)
	}
	var b, def bytes.Buffer
	if err := m.Save(&b); err != nil {
		t.Fatal(err)
	}
	// Default() is the same training without NB weights (see
	// TestDefaultModelIsTrainedOnFixtures): the option must change the model.
	if err := Default().Save(&def); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(b.Bytes(), def.Bytes()) {
		t.Errorf("NBWeights: got the model trained without them, want other weights")
	}
	got, err := Load(&b)
	if err != nil {
		t.Fatal(err)
	}
	text := "秒杀！蓝牙音箱限时特价59元，点击 t.cn/Ab3dE 抢购"
	if a, b := m.Score(text), got.Score(text); a != b || a < 0.5 {
		t.Errorf("Score(%q): got %v, %v after a round trip, want the same, at least 0.5", text, a, b)
	}
}

// TestBinary: a binary model counts each feature of a text once, in
// training and in scoring alike, keeps the setting through a save and
// load, and a model without it saves as version 2, byte for byte as
// before the flag existed.
func TestBinary(t *testing.T) {
	// Every weight 1 and no calibration: z is the number of features
	// counted over the square root of that number, so sigmoid(sqrt(n)).
	ones := func(binary bool) *Model {
		m := newModel()
		for i := range m.weights {
			m.weights[i] = 1
		}
		m.binary = binary
		return m
	}
	// Four words and three word pairs, of which one word and one pair
	// are distinct.
	const text = "free free free free"
	if got, want := ones(false).Score(text), sigmoid(math.Sqrt(7)); math.Abs(got-want) > 1e-9 {
		t.Errorf("counting model: got %v, want %v", got, want)
	}
	if got, want := ones(true).Score(text), sigmoid(math.Sqrt(2)); math.Abs(got-want) > 1e-9 {
		t.Errorf("binary model: got %v, want %v (each feature once)", got, want)
	}

	o := DefaultTrainOptions
	o.Binary, o.HoldOut = true, 0
	ex := readFixtures(t)
	m, _, err := Train(Examples(ex), o)
	if err != nil {
		t.Fatal(err)
	}
	if !m.binary {
		t.Fatal("Train with Binary: got a counting model")
	}
	// Scoring sums the features as training did: the linear score of an
	// example's training vector is the one Score computes.
	for _, e := range ex[:50] {
		v := vectorize(e, true)
		s := modelText(nil, e.Text)
		if got, want := m.linear(s, scan(s)), m.linearVec(&v); got != want {
			t.Fatalf("%q: scored %v, trained on %v", e.Text, got, want)
		}
	}
	var b bytes.Buffer
	if err := m.Save(&b); err != nil {
		t.Fatal(err)
	}
	if v := binary.LittleEndian.Uint16(b.Bytes()[len(modelMagic):]); v != 3 {
		t.Errorf("a binary model saved as version %d, want 3", v)
	}
	got, err := Load(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ex[:50] {
		if a, b := m.Score(e.Text), got.Score(e.Text); a != b {
			t.Fatalf("Score(%q): got %v after a round trip, want %v", e.Text, b, a)
		}
	}
	var def bytes.Buffer
	if err := Default().Save(&def); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(def.Bytes(), defaultModel) {
		t.Error("the built-in model saved again: got other bytes than default.model, want the same")
	}
}

// TestTextOnly: a model trained with TextOnly gives the hand features no
// weight, so a text's links, phone numbers and prices move its score only
// through its words, and it still learns the fixtures' ads.
func TestTextOnly(t *testing.T) {
	o := DefaultTrainOptions
	o.TextOnly = true
	m, rep, err := Train(Examples(readFixtures(t)), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", rep)
	if m.hand != [handInputs]float32{} {
		t.Errorf("hand weights with TextOnly: got %v, want all 0", m.hand)
	}
	if Default().hand == [handInputs]float32{} {
		t.Error("the built-in model has no hand weights: it was trained with them")
	}
	if rep.F1 < 0.9 {
		t.Errorf("held-out F1 with TextOnly: got %.3f, want at least 0.9", rep.F1)
	}
}
