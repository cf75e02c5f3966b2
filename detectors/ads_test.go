package detectors

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"moderation/detectors/adtext"
)

func TestAdContentSignal(t *testing.T) {
	ad := adtext.Features{Links: 1, Prices: 2, Handles: 1}
	plain := adtext.Features{}
	tests := []struct {
		name         string
		scores       []float64
		wantShare    float64
		wantCount    float64
		wantLast     float64
		wantMean     float64
		wantEvidence string
	}{
		{"none", nil, 0, 0, 0, 0, "no broadcasts yet"},
		{"one ad", []float64{0.9}, 1, 1, 0.9, 0.9, "the only broadcast so far reads as advertising (links, contact handles, prices)"},
		{"no ads", []float64{0.1, 0.2, 0.3}, 0, 3, 0.3, 0.2, "none of the last 3 broadcasts reads as advertising"},
		{"threshold counts", []float64{0.5, 0.49}, 0.5, 2, 0.49, 0.495, "1 of the last 2 broadcasts read as advertising"},
		{"ring keeps the last 20", append(repeat(0.9, 10), repeat(0.1, 20)...), 0, 20, 0.1, 0.1, "none of the last 20"},
		{"14 of 20", append(repeat(0.1, 6), repeat(0.8, 14)...), 0.7, 20, 0.8, 0.59, "14 of the last 20 broadcasts read as advertising"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAdContent()
			for i, s := range tt.scores {
				f := plain
				if s >= 0.5 {
					f = ad
				}
				a.Observe(t0.Add(time.Duration(i)*time.Minute), s, f)
			}
			sig := a.Signal(t0.Unix())
			if sig.Name != "ad_content" {
				t.Errorf("name: got %q, want ad_content", sig.Name)
			}
			for key, want := range map[string]float64{"share": tt.wantShare, "broadcasts": tt.wantCount, "last_score": tt.wantLast, "mean_score": tt.wantMean} {
				if got := sig.Values[key]; got < want-1e-6 || got > want+1e-6 {
					t.Errorf("%s: got %v, want %v", key, got, want)
				}
			}
			if !strings.Contains(sig.Evidence, tt.wantEvidence) {
				t.Errorf("evidence: got %q, want it to contain %q", sig.Evidence, tt.wantEvidence)
			}
			if got := a.Count(); float64(got) != tt.wantCount {
				t.Errorf("Count: got %d, want %v", got, tt.wantCount)
			}
		})
	}
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestAdContentEvidenceNamesFrequentFeatures(t *testing.T) {
	a := NewAdContent()
	for i := 0; i < 10; i++ {
		f := adtext.Features{Phones: 1, Promos: 1}
		if i%2 == 0 {
			f.Handles = 1
		}
		if i == 0 {
			f.Links = 3 // once only: not among the top three
		}
		a.Observe(t0, 0.95, f)
	}
	a.Observe(t0, 0.1, adtext.Features{Links: 1, Calls: 1}) // not an ad: not in the summary
	want := "10 of the last 11 broadcasts read as advertising (phone numbers, discount words, contact handles)"
	if got := a.Signal(t0.Unix()).Evidence; got != want {
		t.Errorf("evidence: got %q, want %q", got, want)
	}
}

func TestAdContentWithModel(t *testing.T) {
	m := adtext.Default()
	a := NewAdContent()
	for _, text := range []string{
		"面膜第二件半价，原价199元现价99元，加V：lily_8899，点击 t.cn/A6xYz 立即抢购！",
		"今天天气很好，和家人去公园散步了。",
		"限时秒杀！蓝牙耳机只要29.9，包邮，戳链接 https://bit.ly/3abcD",
	} {
		p, f := m.Analyze(text)
		a.Observe(t0, p, f)
	}
	sig := a.Signal(t0.Unix())
	if got, want := sig.Values["share"], 2.0/3; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("share: got %v, want %v (%s)", got, want, sig.Evidence)
	}
	t.Log(sig.Evidence)
}

func TestAdContentObserveDoesNotAllocate(t *testing.T) {
	a := NewAdContent()
	f := adtext.Features{Links: 1}
	if n := testing.AllocsPerRun(100, func() { a.Observe(t0, 0.7, f) }); n != 0 {
		t.Errorf("Observe: got %v allocations, want 0", n)
	}
}

// TestAdContentEvidenceShowsTheDisguisedAd: the evidence quotes the latest
// ad as written and as its reader sees it, names what normalisation undid
// and where the ad sends buyers.
func TestAdContentEvidenceShowsTheDisguisedAd(t *testing.T) {
	m := adtext.Default()
	a := NewAdContent()
	text := "面膜第二件半价，加 薇 一三八一二三四五六七八，点击 t[.]cn/A6xYz 立即抢购！"
	p, f := m.Analyze(text)
	a.ObserveText(t0, text, p, f)
	a.ObserveText(t0, "今天天气很好，和家人去公园散步了。", 0.1, adtext.Features{}) // not an ad: not quoted
	got := a.Signal(t0.Unix()).Evidence
	for _, want := range []string{
		`latest ad: "面膜第二件半价，加 薇 一三八一二三四五六七八，点击 t[.]cn/A6xYz 立即抢购！"`,
		`reads as "面膜第二件半价,加微信 13812345678,点击 t.cn/A6xYz 立即抢购!"`,
		"薇 → 微信", "Chinese numerals 一三八… → 138…", "t[.]cn → t.cn",
		"sends buyers to phone 13812345678, short link t.cn/A6xYz",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("evidence: got %q, want it to contain %q", got, want)
		}
	}
	if p < adThreshold {
		t.Errorf("score of the disguised ad: got %v, want at least %v", p, adThreshold)
	}
}

func TestAdContentKeepsABoundedSample(t *testing.T) {
	a := NewAdContent()
	long := strings.Repeat("加微信", 1000)
	a.ObserveText(t0, long, 0.9, adtext.Features{Handles: 1})
	if n := len(a.lastAd); n > adSampleBytes || n == 0 || !utf8.ValidString(a.lastAd) {
		t.Errorf("kept sample: got %d bytes (valid UTF-8: %v), want 1 to %d", n, utf8.ValidString(a.lastAd), adSampleBytes)
	}
	if got := a.Signal(t0.Unix()).Evidence; !strings.Contains(got, "…") {
		t.Errorf("evidence: got %q, want the quote cut with …", got)
	}
}
