package adtext

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
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

// ReadExamples reads labelled examples from a JSONL file, one
// {"text": "...", "ad": true} per line, or from every *.jsonl file in a
// directory, in name order. Blank lines and lines starting with # are
// skipped.
func ReadExamples(path string) ([]Example, error) {
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
	var out []Example
	for _, name := range files {
		if out, err = readJSONL(name, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readJSONL(name string, out []Example) ([]Example, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read examples: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := strings.TrimSpace(sc.Text())
		if b == "" || strings.HasPrefix(b, "#") {
			continue
		}
		var raw struct {
			Text *string `json:"text"`
			Ad   *bool   `json:"ad"`
		}
		if err := json.Unmarshal([]byte(b), &raw); err != nil {
			return nil, fmt.Errorf("read examples %s:%d: %w", name, line, err)
		}
		if raw.Text == nil || strings.TrimSpace(*raw.Text) == "" || raw.Ad == nil {
			return nil, fmt.Errorf("read examples %s:%d: need a non-empty \"text\" and an \"ad\" true or false", name, line)
		}
		out = append(out, Example{Text: *raw.Text, Ad: *raw.Ad})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read examples %s: %w", name, err)
	}
	return out, nil
}

// TrainOptions tunes Train. The zero value means the defaults.
type TrainOptions struct {
	HoldOut      float64 // share of examples held out for the report; default 0.2, negative for none
	Epochs       int     // passes over the data; default 20
	LearningRate float64 // initial SGD step; default 0.5, decaying as 1/sqrt(epoch)
	L2           float64 // weight decay per step; default 1e-5
	Threshold    float64 // score at which the report counts an ad; default 0.5
	Seed         uint64  // for the split and the shuffles; default 1
}

// DefaultTrainOptions are the options default.model was trained with.
var DefaultTrainOptions = TrainOptions{HoldOut: 0.2, Epochs: 20, LearningRate: 0.5, L2: 1e-5, Threshold: 0.5, Seed: 1}

func (o TrainOptions) withDefaults() TrainOptions {
	d := DefaultTrainOptions
	if o.HoldOut != 0 {
		d.HoldOut = o.HoldOut
	}
	if o.Epochs != 0 {
		d.Epochs = o.Epochs
	}
	if o.LearningRate != 0 {
		d.LearningRate = o.LearningRate
	}
	if o.L2 != 0 {
		d.L2 = o.L2
	}
	if o.Threshold != 0 {
		d.Threshold = o.Threshold
	}
	if o.Seed != 0 {
		d.Seed = o.Seed
	}
	return d
}

// Report is how a model trained on the training split did on the held-out
// split, at Threshold.
type Report struct {
	Train, Test int
	Precision   float64
	Recall      float64
	F1          float64
	Accuracy    float64
	Threshold   float64
}

func (r Report) String() string {
	return fmt.Sprintf("train %d, held out %d: precision %.3f, recall %.3f, F1 %.3f, accuracy %.3f at threshold %.2f",
		r.Train, r.Test, r.Precision, r.Recall, r.F1, r.Accuracy, r.Threshold)
}

// Train fits a model to examples. It shuffles the examples with the seed,
// holds out a share, trains on the rest and reports on the held-out share;
// then it trains again on all examples and returns that model, so the
// report is an honest estimate for a model that saw slightly less data.
// The same examples and options always give the same model.
func Train(examples []Example, opts TrainOptions) (*Model, Report, error) {
	o := opts.withDefaults()
	pos := 0
	for _, e := range examples {
		if e.Ad {
			pos++
		}
	}
	if pos == 0 || pos == len(examples) {
		return nil, Report{}, errors.New("train adtext model: need examples of both ads and non-ads")
	}
	if o.HoldOut >= 1 || o.Epochs < 0 || o.LearningRate < 0 || o.L2 < 0 || o.Threshold <= 0 || o.Threshold >= 1 {
		return nil, Report{}, fmt.Errorf("train adtext model: invalid options %+v", opts)
	}
	vecs := make([]vector, len(examples))
	for i, e := range examples {
		vecs[i] = vectorize(e)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5ad7e47))
	order := rng.Perm(len(vecs))
	rep := Report{Threshold: o.Threshold, Train: len(vecs)}
	if o.HoldOut > 0 {
		nTest := int(math.Round(o.HoldOut * float64(len(vecs))))
		test, train := order[:nTest], order[nTest:]
		m := fit(vecs, train, o, rng)
		rep = evaluate(m, vecs, test, o.Threshold)
		rep.Train = len(train)
	}
	all := make([]int, len(vecs))
	for i := range all {
		all[i] = i
	}
	return fit(vecs, all, o, rng), rep, nil
}

// vector is an example as the model sees it.
type vector struct {
	idx   []uint32
	scale float32 // 1/sqrt(len(idx)): long texts do not shout
	hand  [handInputs]float32
	y     float64
}

func vectorize(e Example) vector {
	s := normalize(nil, e.Text)
	var v vector
	hashes(s, func(i uint32) { v.idx = append(v.idx, i) })
	if len(v.idx) > 0 {
		v.scale = float32(1 / math.Sqrt(float64(len(v.idx))))
	}
	v.hand = handVector(scan(s))
	if e.Ad {
		v.y = 1
	}
	return v
}

// score mirrors Model.Analyze on a vectorized example. The sums run in the
// same order as Analyze's, so training and scoring agree.
func (m *Model) score(v *vector) float64 {
	var sum float64
	for _, i := range v.idx {
		sum += float64(m.weights[i])
	}
	z := float64(m.bias)
	if len(v.idx) > 0 {
		z += sum / math.Sqrt(float64(len(v.idx)))
	}
	for j, x := range v.hand {
		z += float64(m.hand[j]) * float64(x)
	}
	return sigmoid(z)
}

// fit runs SGD on logistic loss over the examples in rows.
func fit(vecs []vector, rows []int, o TrainOptions, rng *rand.Rand) *Model {
	m := newModel()
	order := slices.Clone(rows)
	for epoch := 0; epoch < o.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		lr := o.LearningRate / math.Sqrt(float64(epoch+1))
		for _, r := range order {
			v := &vecs[r]
			g := m.score(v) - v.y // gradient of the log loss with respect to z
			step := float32(lr * g * float64(v.scale))
			decay := float32(1 - lr*o.L2)
			for _, i := range v.idx {
				m.weights[i] = m.weights[i]*decay - step
			}
			for j, x := range v.hand {
				m.hand[j] = m.hand[j]*decay - float32(lr*g*float64(x))
			}
			m.bias -= float32(lr * g)
		}
	}
	return m
}

func evaluate(m *Model, vecs []vector, rows []int, threshold float64) Report {
	var tp, fp, fn, tn float64
	for _, r := range rows {
		ad := m.score(&vecs[r]) >= threshold
		switch {
		case ad && vecs[r].y == 1:
			tp++
		case ad:
			fp++
		case vecs[r].y == 1:
			fn++
		default:
			tn++
		}
	}
	rep := Report{Test: len(rows), Threshold: threshold}
	if tp+fp > 0 {
		rep.Precision = tp / (tp + fp)
	}
	if tp+fn > 0 {
		rep.Recall = tp / (tp + fn)
	}
	if rep.Precision+rep.Recall > 0 {
		rep.F1 = 2 * rep.Precision * rep.Recall / (rep.Precision + rep.Recall)
	}
	if len(rows) > 0 {
		rep.Accuracy = (tp + tn) / float64(len(rows))
	}
	return rep
}
