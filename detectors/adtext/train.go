package adtext

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Example is one labelled text.
type Example struct {
	Text string `json:"text"`
	Ad   bool   `json:"ad"`
}

// Source yields labelled examples one at a time, so that a corpus larger
// than memory can be trained on.
type Source = iter.Seq2[Labelled, error]

// Labelled is an example and where it came from.
type Labelled struct {
	Example
	File string // the file (or group) it came from
	Line int    // its line in File, 0 when the file holds one example
	// Source is who wrote it when known (a mail's sender domain), ""
	// when not: cross-validation keeps one source's examples in one fold,
	// so that it measures texts from sources the model has not seen.
	Source string
}

// Examples is a Source over examples in memory.
func Examples(ex []Example) Source {
	return func(yield func(Labelled, error) bool) {
		for i, e := range ex {
			if !yield(Labelled{Example: e, File: "examples", Line: i + 1}, nil) {
				return
			}
		}
	}
}

// maxLine bounds one line of a JSONL file: a broadcast is far shorter, a
// mail with its body well under it.
const maxLine = 4 << 20

// ExampleFiles is a Source over a JSON Lines file, one
// {"text": "...", "ad": true} per line, or every *.jsonl file in a
// directory, in name order. Blank lines and lines starting with # are
// skipped, and a UTF-8 byte-order mark at the start of a file is ignored.
// The files are read as the Source is iterated, not before.
func ExampleFiles(path string) (Source, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read examples: %w", err)
	}
	files := []string{path}
	if info.IsDir() {
		if files, err = filepath.Glob(filepath.Join(path, "*.jsonl")); err != nil {
			return nil, fmt.Errorf("read examples: %w", err)
		}
		slices.Sort(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("read examples: no *.jsonl files in %s", path)
		}
	}
	return func(yield func(Labelled, error) bool) {
		for _, name := range files {
			if !readJSONL(name, yield) {
				return
			}
		}
	}, nil
}

// ReadExamples reads every example of ExampleFiles(path) into memory.
func ReadExamples(path string) ([]Example, error) {
	src, err := ExampleFiles(path)
	if err != nil {
		return nil, err
	}
	var out []Example
	for l, err := range src {
		if err != nil {
			return nil, err
		}
		out = append(out, l.Example)
	}
	return out, nil
}

var bom = []byte("\uFEFF")

// readJSONL yields the examples of one file; it returns false when yield
// asked to stop or after yielding an error.
func readJSONL(name string, yield func(Labelled, error) bool) bool {
	f, err := os.Open(name)
	if err != nil {
		yield(Labelled{}, fmt.Errorf("read examples: %w", err))
		return false
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var long []byte
	for line := 1; ; line++ {
		b, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// Long lines are joined here rather than by a Scanner, which
			// fails on them without saying which line.
			long = append(long[:0], b...)
			for err == bufio.ErrBufferFull && len(long) <= maxLine {
				b, err = r.ReadSlice('\n')
				long = append(long, b...)
			}
			if len(long) > maxLine {
				yield(Labelled{}, fmt.Errorf("read examples %s:%d: line longer than %d bytes", name, line, maxLine))
				return false
			}
			b = long
		}
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			yield(Labelled{}, fmt.Errorf("read examples %s:%d: %w", name, line, err))
			return false
		}
		if line == 1 {
			b = bytes.TrimPrefix(b, bom)
		}
		if t := bytes.TrimSpace(b); len(t) > 0 && t[0] != '#' {
			e, perr := parseExample(t)
			if perr != nil {
				yield(Labelled{}, fmt.Errorf("read examples %s:%d: %w", name, line, perr))
				return false
			}
			if !yield(Labelled{Example: e, File: name, Line: line}, nil) {
				return false
			}
		}
		if err == io.EOF {
			return true
		}
	}
}

func parseExample(b []byte) (Example, error) {
	var raw struct {
		Text *string `json:"text"`
		Ad   *bool   `json:"ad"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Example{}, err
	}
	if raw.Text == nil || strings.TrimSpace(*raw.Text) == "" || raw.Ad == nil {
		return Example{}, errors.New(`need a non-empty "text" and an "ad" true or false`)
	}
	return Example{Text: *raw.Text, Ad: *raw.Ad}, nil
}

// TrainOptions tunes Train. Use DefaultTrainOptions and change what you
// need: every field is taken as given and checked.
type TrainOptions struct {
	HoldOut      float64 // share of examples held out to calibrate and report, in [0, 1); 0: none
	Epochs       int     // passes over the data, at least 1
	LearningRate float64 // initial SGD step, decaying as 1/sqrt(epoch)
	L2           float64 // weight decay per step, >= 0
	Threshold    float64 // score at which the report counts an ad, in (0, 1)
	Seed         uint64  // for the split and the shuffles
	// Balance weighs each class by the inverse of its share, so a corpus
	// with five times more non-ads than ads still learns ads.
	Balance bool
	// NBWeights scales each feature by its naive Bayes log-count ratio
	// before the regression (NBSVM, Wang and Manning 2012): features that
	// the counts already say much about start ahead, which holds up better
	// than either method alone when the test data drifts from the training.
	NBWeights bool
	// Binary counts each feature once per text, however often it occurs,
	// as NBSVM does: a long mail that repeats its words weighs by the
	// words it has, not by its length. The model keeps the setting and
	// scores the same way.
	Binary bool
	// TextOnly trains on the text's n-grams alone, leaving the hand
	// Features out of the model (their weights stay 0, so the model scores
	// as any other). They count what marks a broadcast ad (links, phone
	// numbers, prices, discount words, calls to action), which in mail
	// ordinary messages carry as much as spam: list footers, receipts,
	// newsletters. The Features are still counted for evidence.
	TextOnly bool
	// Progress, when set, is told of each stage of training with its size
	// in examples (0 when not known yet) and counts the stage's steps.
	Progress func(stage string, total int64) Counter
}

// Counter counts the steps of one stage of training; console.Progress is one.
type Counter interface {
	Add(n int64)
	Done()
}

// DefaultTrainOptions are the options default.model was trained with.
var DefaultTrainOptions = TrainOptions{HoldOut: 0.2, Epochs: 20, LearningRate: 0.5, L2: 1e-5, Threshold: 0.5, Seed: 1, Balance: true}

// Check says what is wrong with the options, in the words of their flags.
func (o TrainOptions) Check() error {
	var bad []string
	if !(o.HoldOut >= 0 && o.HoldOut < 1) {
		bad = append(bad, fmt.Sprintf("hold-out share %v is not in [0, 1)", o.HoldOut))
	}
	if o.Epochs < 1 {
		bad = append(bad, fmt.Sprintf("epochs %d is not at least 1", o.Epochs))
	}
	if !(o.LearningRate > 0) || math.IsInf(o.LearningRate, 0) {
		bad = append(bad, fmt.Sprintf("learning rate %v is not positive", o.LearningRate))
	}
	if !(o.L2 >= 0) || math.IsInf(o.L2, 0) {
		bad = append(bad, fmt.Sprintf("L2 %v is negative", o.L2))
	}
	if !(o.Threshold > 0 && o.Threshold < 1) {
		bad = append(bad, fmt.Sprintf("threshold %v is not in (0, 1)", o.Threshold))
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// Report is how a model trained on the training split did on the held-out
// split, at Threshold. Test is 0 when nothing was held out.
type Report struct {
	Train, Test int
	Ads         int // ads among all examples
	Precision   float64
	Recall      float64
	F1          float64
	Accuracy    float64
	Threshold   float64
}

func (r Report) String() string {
	if r.Test == 0 {
		return fmt.Sprintf("trained on %d, nothing held out", r.Train)
	}
	return fmt.Sprintf("train %d, held out %d: precision %.3f, recall %.3f, F1 %.3f, accuracy %.3f at threshold %.2f",
		r.Train, r.Test, r.Precision, r.Recall, r.F1, r.Accuracy, r.Threshold)
}

// Train fits a model to the examples of src. It reads src once, turning
// each text into its hashed features on a temporary file, so memory holds
// the weights and 12 bytes per example, not the texts. It holds out a
// seeded random share of the examples, trains on the rest, fits the Platt
// scaling on the held-out share and reports there; then it trains again on
// all examples and returns that model with the same scaling, so the report
// is an honest estimate for a model that saw slightly less data. The same
// examples and options always give the same model.
func Train(src Source, opts TrainOptions) (*Model, Report, error) {
	o := opts
	if err := o.Check(); err != nil {
		return nil, Report{}, fmt.Errorf("train adtext model: %w", err)
	}
	sp, err := spill(src, o)
	if err != nil {
		return nil, Report{}, err
	}
	defer sp.close()
	rep := Report{Threshold: o.Threshold, Train: len(sp.train), Test: len(sp.test), Ads: sp.ads}
	total := len(sp.train) + len(sp.test)
	if sp.ads == 0 || sp.ads == total {
		return nil, Report{}, fmt.Errorf("train adtext model: need examples of both ads and non-ads, got %d ads of %d", sp.ads, total)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5ad7e47))
	weights := [2]float64{1, 1}
	if o.Balance {
		weights = [2]float64{float64(total) / (2 * float64(total-sp.ads)), float64(total) / (2 * float64(sp.ads))}
	}
	var scale, shift float32 = 1, 0
	if len(sp.test) > 0 {
		m, err := sp.fit(sp.train, o, weights, rng, "train on the training split")
		if err != nil {
			return nil, Report{}, err
		}
		zs, ys, err := sp.linear(m, sp.test)
		if err != nil {
			return nil, Report{}, err
		}
		scale, shift = platt(zs, ys, weights)
		m.scale, m.shift = scale, shift
		rep = evaluate(m, zs, ys, o.Threshold)
		rep.Train, rep.Ads = len(sp.train), sp.ads
	}
	all := append(slices.Clone(sp.train), sp.test...)
	slices.Sort(all)
	m, err := sp.fit(all, o, weights, rng, "train on all examples")
	if err != nil {
		return nil, Report{}, err
	}
	m.scale, m.shift = scale, shift
	return m, rep, nil
}

// vector is an example as the model sees it.
type vector struct {
	idx  []uint32
	hand [handInputs]float32
	y    float64
}

func vectorize(e Example, binary bool) vector {
	var v vector
	s := modelText(nil, e.Text)
	if binary {
		v.idx = distinct(s, nil)
	} else {
		hashes(s, func(i uint32) { v.idx = append(v.idx, i) })
	}
	v.hand = handVector(scan(s))
	if e.Ad {
		v.y = 1
	}
	return v
}

// linearVec mirrors Model.linear on a vectorized example.
func (m *Model) linearVec(v *vector) float64 { return m.linearScaled(v, nil) }

// linearScaled is linearVec with each feature's weight scaled by r, nil for
// none. The sums run in the same order as Analyze's, so training and
// scoring agree.
func (m *Model) linearScaled(v *vector, r []float32) float64 {
	var sum float64
	for _, i := range v.idx {
		w := m.weights[i]
		if r != nil {
			w *= r[i]
		}
		sum += float64(w)
	}
	z := float64(m.bias)
	if len(v.idx) > 0 {
		z += sum / math.Sqrt(float64(len(v.idx)))
	}
	for j, x := range v.hand {
		z += float64(m.hand[j]) * float64(x)
	}
	return z
}

// spilled is the training data as vectors on a temporary file: per
// example its label byte, hand inputs, feature count and features, at the
// offsets in train and test.
type spilled struct {
	f           *os.File
	train, test []int64
	ads         int
	progress    func(string, int64) Counter
	buf         []byte
}

func (sp *spilled) close() {
	sp.f.Close()
	os.Remove(sp.f.Name())
}

const vecHeader = 1 + 4*handInputs + 4

func spill(src Source, o TrainOptions) (*spilled, error) {
	f, err := os.CreateTemp("", "adtext-train-*.vec")
	if err != nil {
		return nil, fmt.Errorf("train adtext model: %w", err)
	}
	sp := &spilled{f: f, progress: o.Progress}
	ok := false
	defer func() {
		if !ok {
			sp.close()
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	var off int64
	split := rand.New(rand.NewPCG(o.Seed, 0x401d007))
	count := sp.stage("read and hash examples", 0)
	defer count.Done()
	var rec []byte
	for l, err := range src {
		if err != nil {
			return nil, err
		}
		v := vectorize(l.Example, o.Binary)
		if o.TextOnly {
			v.hand = [handInputs]float32{}
		}
		rec = rec[:0]
		rec = append(rec, byte(v.y))
		for _, x := range v.hand {
			rec = binary.LittleEndian.AppendUint32(rec, math.Float32bits(x))
		}
		rec = binary.LittleEndian.AppendUint32(rec, uint32(len(v.idx)))
		for _, i := range v.idx {
			rec = binary.LittleEndian.AppendUint32(rec, i)
		}
		if _, err := w.Write(rec); err != nil {
			return nil, fmt.Errorf("train adtext model: %w", err)
		}
		if split.Float64() < o.HoldOut {
			sp.test = append(sp.test, off)
		} else {
			sp.train = append(sp.train, off)
		}
		if l.Ad {
			sp.ads++
		}
		off += int64(len(rec))
		count.Add(1)
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("train adtext model: %w", err)
	}
	ok = true
	return sp, nil
}

type nopCounter struct{}

func (nopCounter) Add(int64) {}
func (nopCounter) Done()     {}

func (sp *spilled) stage(name string, total int64) Counter {
	if sp.progress == nil {
		return nopCounter{}
	}
	return sp.progress(name, total)
}

// read loads the example at off into v, reusing its slice.
func (sp *spilled) read(off int64, v *vector) error {
	var h [vecHeader]byte
	if _, err := sp.f.ReadAt(h[:], off); err != nil {
		return fmt.Errorf("train adtext model: read spilled example: %w", err)
	}
	v.y = float64(h[0])
	for j := range v.hand {
		v.hand[j] = math.Float32frombits(binary.LittleEndian.Uint32(h[1+4*j:]))
	}
	n := int(binary.LittleEndian.Uint32(h[vecHeader-4:]))
	if cap(sp.buf) < 4*n {
		sp.buf = make([]byte, 4*n)
	}
	b := sp.buf[:4*n]
	if _, err := sp.f.ReadAt(b, off+vecHeader); err != nil {
		return fmt.Errorf("train adtext model: read spilled example: %w", err)
	}
	v.idx = v.idx[:0]
	for k := 0; k < n; k++ {
		v.idx = append(v.idx, binary.LittleEndian.Uint32(b[4*k:]))
	}
	return nil
}

// fit runs SGD on the class-weighted logistic loss over the examples at
// rows, in a new shuffled order each epoch.
func (sp *spilled) fit(rows []int64, o TrainOptions, weights [2]float64, rng *rand.Rand, stage string) (*Model, error) {
	m := newModel()
	m.binary = o.Binary
	order := slices.Clone(rows)
	var r []float32
	if o.NBWeights {
		var err error
		if r, err = sp.ratios(rows); err != nil {
			return nil, err
		}
		// The regression runs on features scaled by r: keep the raw
		// weights aside and fold r into the model's at the end, so that
		// the model scores as any other.
		defer func() {
			for i, w := range m.weights {
				m.weights[i] = w * r[i]
			}
		}()
	}
	count := sp.stage(stage, int64(o.Epochs)*int64(len(rows)))
	defer count.Done()
	var v vector
	for epoch := 0; epoch < o.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		lr := o.LearningRate / math.Sqrt(float64(epoch+1))
		decay := float32(1 - lr*o.L2)
		for _, off := range order {
			if err := sp.read(off, &v); err != nil {
				return nil, err
			}
			// The gradient of the weighted log loss with respect to z.
			g := (sigmoid(m.linearScaled(&v, r)) - v.y) * weights[int(v.y)]
			var scale float64
			if len(v.idx) > 0 {
				scale = 1 / math.Sqrt(float64(len(v.idx)))
			}
			step := float32(lr * g * scale)
			if r == nil {
				for _, i := range v.idx {
					m.weights[i] = m.weights[i]*decay - step
				}
			} else {
				for _, i := range v.idx {
					m.weights[i] = m.weights[i]*decay - step*r[i]
				}
			}
			for j, x := range v.hand {
				m.hand[j] = m.hand[j]*decay - float32(lr*g*float64(x))
			}
			m.bias -= float32(lr * g)
		}
		count.Add(int64(len(order)))
	}
	return m, nil
}

// ratios is the naive Bayes log-count ratio of every bucket over the
// examples at rows: log of the bucket's share of the ads' features over
// its share of the non-ads', counting each feature once per example and
// smoothed by one.
func (sp *spilled) ratios(rows []int64) ([]float32, error) {
	var counts [2][]float32
	counts[0], counts[1] = make([]float32, hashBuckets), make([]float32, hashBuckets)
	var totals [2]float64
	var v vector
	seen := make(map[uint32]struct{})
	for _, off := range rows {
		if err := sp.read(off, &v); err != nil {
			return nil, err
		}
		c := int(v.y)
		clear(seen)
		for _, i := range v.idx {
			if _, ok := seen[i]; !ok {
				seen[i] = struct{}{}
				counts[c][i]++
				totals[c]++
			}
		}
	}
	r := make([]float32, hashBuckets)
	for i := range r {
		r[i] = float32(math.Log((float64(counts[1][i])+1)/(totals[1]+hashBuckets)) - math.Log((float64(counts[0][i])+1)/(totals[0]+hashBuckets)))
	}
	return r, nil
}

// linear returns the uncalibrated scores and labels of the examples at rows.
func (sp *spilled) linear(m *Model, rows []int64) (zs, ys []float64, err error) {
	var v vector
	for _, off := range rows {
		if err := sp.read(off, &v); err != nil {
			return nil, nil, err
		}
		zs = append(zs, m.linearVec(&v))
		ys = append(ys, v.y)
	}
	return zs, ys, nil
}

// platt fits p = sigmoid(a*z + b) to labels ys by Newton's method on the
// log loss, with Platt's smoothed targets so that a separable held-out
// split does not drive the scale to infinity (Platt 1999; Lin, Lin and
// Weng 2007). Each example weighs as its class does in training, so with
// balanced classes a score of 0.5 means even odds whatever share of ads
// the training data happened to have.
func platt(zs, ys []float64, weights [2]float64) (float32, float32) {
	var pos, neg float64
	for _, y := range ys {
		if y == 1 {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return 1, 0
	}
	hi, lo := (pos+1)/(pos+2), 1/(neg+2)
	target := func(i int) float64 {
		if ys[i] == 1 {
			return hi
		}
		return lo
	}
	// loss is the cross-entropy against the smoothed targets, written
	// to stay finite for large |a*z+b|.
	loss := func(a, b float64) float64 {
		var l float64
		for i, z := range zs {
			f := a*z + b
			w := weights[int(ys[i])]
			if f >= 0 {
				l += w * ((1-target(i))*f + math.Log1p(math.Exp(-f)))
			} else {
				l += w * (-target(i)*f + math.Log1p(math.Exp(f)))
			}
		}
		return l
	}
	a, b := 1.0, 0.0
	cur := loss(a, b)
	for iter := 0; iter < 100; iter++ {
		var ga, gb, haa, hab, hbb float64
		for i, z := range zs {
			p := sigmoid(a*z + b)
			d := (p - target(i)) * weights[int(ys[i])]
			w := p * (1 - p) * weights[int(ys[i])]
			ga += d * z
			gb += d
			haa += w * z * z
			hab += w * z
			hbb += w
		}
		haa += 1e-12
		hbb += 1e-12
		det := haa*hbb - hab*hab
		if det <= 0 || math.Abs(ga) < 1e-5 && math.Abs(gb) < 1e-5 {
			break
		}
		da := (hbb*ga - hab*gb) / det
		db := (haa*gb - hab*ga) / det
		// Backtrack until the step lowers the loss: a plain Newton step
		// overshoots when the scores are far apart.
		step := 1.0
		for ; step >= 1e-10; step /= 2 {
			if l := loss(a-step*da, b-step*db); l <= cur-1e-4*step*(ga*da+gb*db) {
				a, b, cur = a-step*da, b-step*db, l
				break
			}
		}
		if step < 1e-10 {
			break
		}
	}
	if a <= 0 || math.IsNaN(a) || math.IsNaN(b) {
		return 1, 0 // a model no better than chance on the held-out split: leave it uncalibrated
	}
	return float32(a), float32(b)
}

func evaluate(m *Model, zs, ys []float64, threshold float64) Report {
	var c Confusion
	for i, z := range zs {
		c.Add(m.calibrated(z) >= threshold, ys[i] == 1)
	}
	rep := Report{Test: len(zs), Threshold: threshold}
	rep.Precision, rep.Recall, rep.F1, rep.Accuracy = c.Precision(), c.Recall(), c.F1(), c.Accuracy()
	return rep
}

// Confusion counts predictions against labels.
type Confusion struct{ TP, FP, FN, TN int }

// Add counts one prediction.
func (c *Confusion) Add(predicted, actual bool) {
	switch {
	case predicted && actual:
		c.TP++
	case predicted:
		c.FP++
	case actual:
		c.FN++
	default:
		c.TN++
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Precision is the share of predicted ads that are ads.
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is the share of ads predicted as ads.
func (c Confusion) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall.
func (c Confusion) F1() float64 { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }

// Accuracy is the share of predictions that are right.
func (c Confusion) Accuracy() float64 { return ratio(c.TP+c.TN, c.TP+c.TN+c.FP+c.FN) }
