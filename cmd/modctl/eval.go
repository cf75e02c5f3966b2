package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"moderation/detectors/adtext"
	"moderation/internal/console"
)

func evalCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "the model to measure (written by modctl train); default: the model built into the binary")
	data := fs.String("data", "", "the test data: "+dataHelp)
	train := fs.String("train", "", "training data: train a model on it (with the train flags below) and measure that instead of -model; the baseline is trained on it too")
	baseline := fs.String("baseline", "nb", "baseline printed beside the model when -train is given: nb (multinomial naive Bayes on the same features) or none")
	threshold := fs.Float64("threshold", 0.5, "score at which a text counts as an ad")
	cv := cvFlag(fs)
	options := trainFlags(fs, stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl eval [-model FILE | -train DATA] -data DATA\n\n"+
			"Measures an advertising model on labelled text: precision, recall, F1, ROC AUC, the confusion\n"+
			"table, a threshold sweep and a per-file breakdown. With -train it first trains a model and the\n"+
			"naive Bayes baseline on the training data, and prints both side by side; with -cv it measures each\n"+
			"at the threshold cross-validation on the training data chose for it.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *data == "" || fs.NArg() > 0:
		fs.Usage()
		return errors.New("eval needs -data")
	case *train != "" && *modelPath != "":
		return errors.New("eval takes -model or -train, not both")
	case *baseline != "nb" && *baseline != "none":
		return fmt.Errorf("-baseline %q: want nb or none", *baseline)
	case !(*threshold > 0 && *threshold < 1):
		return fmt.Errorf("-threshold %v: want a score in (0, 1)", *threshold)
	case *cv != 0 && *train == "":
		return errors.New("-cv chooses the thresholds on the -train data: give -train")
	case *cv != 0 && flagSet(fs, "threshold"):
		return errors.New("eval takes -threshold or -cv, not both")
	}
	if err := checkCV(*cv); err != nil {
		return err
	}
	test, err := openData(*data)
	if err != nil {
		return err
	}
	quiet := fs.Lookup("quiet").Value.String() == "true"
	type scorer struct {
		name      string
		score     func(string) float64
		threshold float64
	}
	var scorers []scorer
	switch {
	case *train != "":
		opts, err := options()
		if err != nil {
			return err
		}
		src, err := openData(*train)
		if err != nil {
			return err
		}
		began := time.Now()
		m, rep, err := adtext.Train(src, opts)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "trained on %s (%s examples, %s ads) in %s\n", *train,
			console.FormatInt(int64(rep.Train+rep.Test)), console.FormatInt(int64(rep.Ads)), time.Since(began).Round(time.Millisecond))
		scorers = append(scorers, scorer{"model", m.Score, *threshold})
		if *baseline == "nb" {
			nb, err := adtext.TrainNaiveBayes(src)
			if err != nil {
				return err
			}
			scorers = append(scorers, scorer{"naive Bayes", nb.Score, *threshold})
		}
		if *cv != 0 {
			cvs := modelAndBaseline(opts, *baseline == "nb")
			choices, err := crossValidate(src, *cv, opts.Seed, cvs, cvProgress(stderr, quiet, *train))
			if err != nil {
				return err
			}
			printCV(stdout, *cv, cvs, choices)
			for i, c := range choices {
				scorers[i].threshold = c.Threshold
			}
		}
	case *modelPath != "":
		m, err := adtext.LoadFile(*modelPath)
		if err != nil {
			return err
		}
		scorers = append(scorers, scorer{"model", m.Score, *threshold})
	default:
		scorers = append(scorers, scorer{"built-in model", adtext.Default().Score, *threshold})
	}

	// One pass over the test data, scoring with every scorer; the scores
	// are kept (8 bytes an example and scorer) for AUC and the sweep.
	var files []string
	var fileOf []int
	var labels []bool
	scores := make([][]float64, len(scorers))
	var progress interface {
		Add(int64)
		Done()
	} = nopProgress{}
	if !quiet {
		progress = console.NewProgress(stderr, "score "+*data, 0)
	}
	for l, err := range test {
		if err != nil {
			progress.Done()
			return err
		}
		k := slices.Index(files, l.File)
		if k < 0 {
			k = len(files)
			files = append(files, l.File)
		}
		fileOf = append(fileOf, k)
		labels = append(labels, l.Ad)
		for i, s := range scorers {
			scores[i] = append(scores[i], s.score(l.Text))
		}
		progress.Add(1)
	}
	progress.Done()
	if len(labels) == 0 {
		return fmt.Errorf("no examples in %s", *data)
	}
	ads := 0
	for _, y := range labels {
		if y {
			ads++
		}
	}
	var at []string
	for _, s := range scorers {
		at = append(at, s.name+" "+formatThreshold(s.threshold))
	}
	how := ""
	if *cv != 0 {
		how = ", chosen by cross-validation on the training data"
	}
	fmt.Fprintf(stdout, "\nmeasured on %s: %s examples, %s ads, %s not; threshold %s%s\n\n", *data,
		console.FormatInt(int64(len(labels))), console.FormatInt(int64(ads)), console.FormatInt(int64(len(labels)-ads)), strings.Join(at, ", "), how)

	// confusion is scorer i's table at threshold t over the examples
	// keep takes, nil for all.
	confusion := func(i int, t float64, keep func(int) bool) adtext.Confusion {
		var c adtext.Confusion
		for j, p := range scores[i] {
			if keep == nil || keep(j) {
				c.Add(p >= t, labels[j])
			}
		}
		return c
	}
	f3 := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	header := []string{""}
	for _, s := range scorers {
		header = append(header, s.name)
	}
	rows := [][]string{{"precision"}, {"recall"}, {"F1"}, {"accuracy"}, {"ROC AUC"}, {"true positives"}, {"false positives"}, {"false negatives"}, {"true negatives"}}
	for i, s := range scorers {
		c := confusion(i, s.threshold, nil)
		for r, v := range []string{f3(c.Precision()), f3(c.Recall()), f3(c.F1()), f3(c.Accuracy()), f3(rocAUC(scores[i], labels)),
			strconv.Itoa(c.TP), strconv.Itoa(c.FP), strconv.Itoa(c.FN), strconv.Itoa(c.TN)} {
			rows[r] = append(rows[r], v)
		}
	}
	console.Table(stdout, header, rows)

	fmt.Fprintf(stdout, "\nthreshold sweep (%s", scorers[0].name)
	if len(scorers) > 1 {
		fmt.Fprintf(stdout, "; F1 of %s", scorers[1].name)
	}
	fmt.Fprintln(stdout, ")")
	sweepHeader := []string{"threshold", "precision", "recall", "F1", "false positives", "false negatives"}
	if len(scorers) > 1 {
		sweepHeader = append(sweepHeader, scorers[1].name+" F1")
	}
	var sweep [][]string
	for _, t := range []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99} {
		var cs []adtext.Confusion
		for i := range scorers {
			cs = append(cs, confusion(i, t, nil))
		}
		row := []string{strconv.FormatFloat(t, 'f', 2, 64), f3(cs[0].Precision()), f3(cs[0].Recall()), f3(cs[0].F1()), strconv.Itoa(cs[0].FP), strconv.Itoa(cs[0].FN)}
		if len(cs) > 1 {
			row = append(row, f3(cs[1].F1()))
		}
		sweep = append(sweep, row)
	}
	console.Table(stdout, sweepHeader, sweep)

	fmt.Fprintf(stdout, "\nper file (%s", scorers[0].name)
	if len(scorers) > 1 {
		fmt.Fprintf(stdout, "; errors of %s", scorers[1].name)
	}
	fmt.Fprintln(stdout, ")")
	fileHeader := []string{"file", "examples", "ads", "precision", "recall", "false positives", "false negatives"}
	if len(scorers) > 1 {
		fileHeader = append(fileHeader, scorers[1].name+" FP", scorers[1].name+" FN")
	}
	// A file of one class has no precision or no recall to speak of: "-".
	orDash := func(v float64, defined bool) string {
		if !defined {
			return "-"
		}
		return f3(v)
	}
	var perFile [][]string
	for k, name := range files {
		in := func(j int) bool { return fileOf[j] == k }
		c := confusion(0, scorers[0].threshold, in)
		row := []string{name, strconv.Itoa(c.TP + c.FP + c.FN + c.TN), strconv.Itoa(c.TP + c.FN),
			orDash(c.Precision(), c.TP+c.FN > 0 && c.TN+c.FP > 0), orDash(c.Recall(), c.TP+c.FN > 0), strconv.Itoa(c.FP), strconv.Itoa(c.FN)}
		if len(scorers) > 1 {
			b := confusion(1, scorers[1].threshold, in)
			row = append(row, strconv.Itoa(b.FP), strconv.Itoa(b.FN))
		}
		perFile = append(perFile, row)
	}
	console.Table(stdout, fileHeader, perFile)
	return nil
}

// modelAndBaseline are the model trained with opts (without progress
// lines: cross-validation counts its folds) and, with nb, the naive Bayes
// baseline, as cross-validation trains them.
func modelAndBaseline(opts adtext.TrainOptions, nb bool) []cvScorer {
	opts.Progress = nil
	s := []cvScorer{{"model", func(src adtext.Source) (func(string) float64, error) {
		m, _, err := adtext.Train(src, opts)
		if err != nil {
			return nil, err
		}
		return m.Score, nil
	}}}
	if nb {
		s = append(s, cvScorer{"naive Bayes", func(src adtext.Source) (func(string) float64, error) {
			b, err := adtext.TrainNaiveBayes(src)
			if err != nil {
				return nil, err
			}
			return b.Score, nil
		}})
	}
	return s
}

// cvProgress counts cross-validation's trainings on stderr, or not at all.
func cvProgress(stderr io.Writer, quiet bool, data string) func(int64) adtext.Counter {
	return func(total int64) adtext.Counter {
		if quiet {
			return nopProgress{}
		}
		return console.NewProgress(stderr, "cross-validate on "+data, total)
	}
}

// printCV prints what cross-validation chose for each scorer.
func printCV(w io.Writer, k int, scorers []cvScorer, choices []cvChoice) {
	fmt.Fprintf(w, "\ncross-validation on the training data (%d folds, %d dealings, a sender's mail in one fold): the threshold of highest out-of-fold F1\n", k, cvRepeats)
	f3 := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	var rows [][]string
	for i, c := range choices {
		rows = append(rows, []string{scorers[i].name, formatThreshold(c.Threshold), f3(c.F1), f3(c.F1AtHalf)})
	}
	console.Table(w, []string{"", "threshold", "F1 there", "F1 at 0.50"}, rows)
}

// formatThreshold writes a threshold with two decimals, or, in the tails
// past 0.01 and 0.99, by its distance from 0 or 1: "1-4.5e-05".
func formatThreshold(t float64) string {
	switch {
	case t >= 0.01 && t <= 0.99:
		return strconv.FormatFloat(t, 'f', 2, 64)
	case t > 0.99:
		return "1-" + strconv.FormatFloat(1-t, 'g', 2, 64)
	}
	return strconv.FormatFloat(t, 'g', 2, 64)
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// rocAUC is the area under the ROC curve: the chance that a random ad
// scores above a random non-ad, ties counting half.
func rocAUC(scores []float64, labels []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case scores[a] < scores[b]:
			return -1
		case scores[a] > scores[b]:
			return 1
		}
		return 0
	})
	// Rank sum of the ads, with tied scores sharing their mean rank.
	var rankSum float64
	pos := 0
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mean := float64(i+j+1) / 2 // ranks i+1 .. j
		for k := i; k < j; k++ {
			if labels[idx[k]] {
				rankSum += mean
				pos++
			}
		}
		i = j
	}
	neg := len(idx) - pos
	if pos == 0 || neg == 0 {
		return 0
	}
	return (rankSum - float64(pos)*float64(pos+1)/2) / (float64(pos) * float64(neg))
}

type nopProgress struct{}

func (nopProgress) Add(int64) {}
func (nopProgress) Done()     {}
