package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"moderation/detectors/adtext"
	"moderation/internal/console"
)

func trainCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "labelled text: a JSON Lines file of {\"text\": ..., \"ad\": true|false}, or a directory of them")
	out := fs.String("out", "ad.model", "where to write the model (load it with moderationd --ad-model)")
	holdOut := fs.Float64("holdout", 0.2, "share of the examples held out to report precision, recall and F1 (0: none)")
	epochs := fs.Int("epochs", 20, "passes over the training data")
	seed := fs.Uint64("seed", 1, "seed of the split and the shuffles: the same data and seed give the same model")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl train -data DIR|FILE.jsonl [-out FILE]\n\nTrains the advertising model on labelled text and reports it on a held-out split.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("train needs -data")
	}
	examples, err := adtext.ReadExamples(*data)
	if err != nil {
		return err
	}
	ads := 0
	for _, e := range examples {
		if e.Ad {
			ads++
		}
	}
	fmt.Fprintf(stderr, "training on %s examples (%s ads, %s not), holding out %.0f%%\n",
		console.FormatInt(int64(len(examples))), console.FormatInt(int64(ads)), console.FormatInt(int64(len(examples)-ads)), *holdOut*100)
	began := time.Now()
	opts := adtext.TrainOptions{HoldOut: *holdOut, Epochs: *epochs, Seed: *seed}
	if *holdOut == 0 {
		opts.HoldOut = -1 // the trainer reads zero as its default share
	}
	model, report, err := adtext.Train(examples, opts)
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	if err := model.Save(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	console.BarChart(stdout, fmt.Sprintf("held-out split: %d examples (trained on %d) in %s", report.Test, report.Train, time.Since(began).Round(time.Millisecond)), "", []console.Bar{
		{Label: "precision", Value: report.Precision},
		{Label: "recall", Value: report.Recall},
		{Label: "F1", Value: report.F1},
		{Label: "accuracy", Value: report.Accuracy},
	}, 40)
	fmt.Fprintf(stdout, "model written to %s; start the service with --ad-model %s\n", *out, *out)
	return nil
}
