package main

import (
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"moderation/detectors/adtext"
)

// cvRepeats is how many times cross-validation is run, each time with
// the examples dealt into other folds. Where F1 is flat around its top,
// one dealing moves the best threshold by a tenth or more (0.65 to 0.80
// on the SpamAssassin training groups); the mean of three moves less.
const cvRepeats = 3

// cvScorer is a method cross-validation trains and scores.
type cvScorer struct {
	name  string
	train func(adtext.Source) (func(string) float64, error)
}

// cvChoice is what cross-validation found for one scorer: the threshold at
// which the F1 of its out-of-fold scores is highest, that F1 and the F1 at
// 0.5 (each the mean over the repeats).
type cvChoice struct {
	Threshold, F1, F1AtHalf float64
}

// cvGrid are the thresholds cross-validation tries: 0.01 to 0.99 in
// hundredths, and in the tails the scores at log-odds ±5 to ±30, where
// naive Bayes, whose scores crowd at 0 and 1, has its best.
func cvGrid() []float64 {
	var g []float64
	for z := 30; z >= 5; z-- {
		g = append(g, sigmoid(-float64(z)))
	}
	for i := 1; i <= 99; i++ {
		g = append(g, float64(i)/100)
	}
	for z := 5; z <= 30; z++ {
		g = append(g, sigmoid(float64(z)))
	}
	return g
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// crossValidate chooses each scorer's threshold on the training data
// alone. It deals the examples of src into k folds, trains each scorer on
// all folds but one and scores the fold left out, so that every example
// has a score from a model that did not see it; and it picks the
// threshold at which the F1 of those scores is highest. It maximises the
// F1 of the training data as it is, its own share of ads, and not F1 at
// equal shares or at any other share: the share of the data a model will
// score is not known when it is trained, and the training data is the
// only evidence of it. Examples that name their Source are dealt by it,
// one source's examples to one fold, so that each fold measures sources
// the model has not seen (mail from a new sender, with its own footer and
// template, is where a mail model errs); the others are dealt at random.
// Ties go to the threshold nearest 0.5. It holds the training texts in
// memory.
func crossValidate(src adtext.Source, k int, seed uint64, scorers []cvScorer, progress func(total int64) adtext.Counter) ([]cvChoice, error) {
	var examples []adtext.Example
	var sources []string
	for l, err := range src {
		if err != nil {
			return nil, err
		}
		examples = append(examples, l.Example)
		sources = append(sources, l.Source)
	}
	type job struct{ repeat, fold int }
	fold := make([][]int, cvRepeats) // per repeat, each example's fold
	for r := range fold {
		rng := rand.New(rand.NewPCG(seed, uint64(r)))
		fold[r] = make([]int, len(examples))
		for i, s := range sources {
			if s == "" {
				fold[r][i] = rng.IntN(k)
				continue
			}
			h := fnv.New64a()
			fmt.Fprintf(h, "%d/%d/%s", seed, r, s)
			fold[r][i] = int(h.Sum64() % uint64(k))
		}
	}
	// scores[r][j][i] is scorer j's out-of-fold score of example i in
	// repeat r.
	scores := make([][][]float64, cvRepeats)
	for r := range scores {
		scores[r] = make([][]float64, len(scorers))
		for j := range scorers {
			scores[r][j] = make([]float64, len(examples))
		}
	}
	jobs := make(chan job)
	done := make(chan error)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range jobs {
				done <- func() error {
					var train []adtext.Example
					for i, e := range examples {
						if fold[jb.repeat][i] != jb.fold {
							train = append(train, e)
						}
					}
					for j, sc := range scorers {
						score, err := sc.train(adtext.Examples(train))
						if err != nil {
							return fmt.Errorf("cross-validate %s, fold %d: %w", sc.name, jb.fold+1, err)
						}
						for i, e := range examples {
							if fold[jb.repeat][i] == jb.fold {
								scores[jb.repeat][j][i] = score(e.Text)
							}
						}
					}
					return nil
				}()
			}
		}()
	}
	go func() {
		for r := range cvRepeats {
			for f := range k {
				jobs <- job{r, f}
			}
		}
		close(jobs)
		wg.Wait()
		close(done)
	}()
	count := progress(int64(cvRepeats * k))
	var firstErr error
	for err := range done {
		if err != nil && firstErr == nil {
			firstErr = err
		}
		count.Add(1)
	}
	count.Done()
	if firstErr != nil {
		return nil, firstErr
	}

	grid := cvGrid()
	choices := make([]cvChoice, len(scorers))
	for j := range scorers {
		mean := make([]float64, len(grid))
		for r := range cvRepeats {
			for g, t := range grid {
				var c adtext.Confusion
				for i, p := range scores[r][j] {
					c.Add(p >= t, examples[i].Ad)
				}
				mean[g] += c.F1() / cvRepeats
			}
		}
		best := 0
		for g, t := range grid {
			if mean[g] > mean[best] || mean[g] == mean[best] && math.Abs(t-0.5) < math.Abs(grid[best]-0.5) {
				best = g
			}
		}
		half := slices.Index(grid, 0.5)
		choices[j] = cvChoice{Threshold: grid[best], F1: mean[best], F1AtHalf: mean[half]}
	}
	return choices, nil
}

// cvFlag declares -cv on fs: the number of folds, 0 for none.
func cvFlag(fs *flag.FlagSet) *int {
	return fs.Int("cv", 0, "choose the threshold by cross-validation on the training data in this many folds "+
		"(mail dealt by sender, "+strconv.Itoa(cvRepeats)+" dealings): where the out-of-fold F1 is highest; 0: none")
}

// checkCV says what is wrong with a -cv value.
func checkCV(k int) error {
	if k != 0 && (k < 2 || k > 20) {
		return fmt.Errorf("-cv %d: want 2 to 20 folds, or 0 for none", k)
	}
	return nil
}
