package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"moderation/detectors/adtext"
)

// TestCrossValidate checks the two things cross-validation promises: no
// fold is scored by a model that saw its source, and the threshold is
// where the out-of-fold F1 is highest, the one nearest 0.5 of a tie.
func TestCrossValidate(t *testing.T) {
	// Ten sources of ten examples each, and twenty without a source. Each
	// text names its source; ads score 0.8, every other non-ad 0.75, the
	// rest 0.2: F1 is 1 from 0.76 to 0.80, less anywhere else.
	var examples []adtext.Labelled
	for i := range 120 {
		src := ""
		if i < 100 {
			src = fmt.Sprintf("s%d", i/10)
		}
		ad := i%3 == 0
		examples = append(examples, adtext.Labelled{Example: adtext.Example{Text: fmt.Sprintf("%s #%d %v", src, i, ad), Ad: ad}, Source: src})
	}
	src := func(yield func(adtext.Labelled, error) bool) {
		for _, l := range examples {
			if !yield(l, nil) {
				return
			}
		}
	}
	var mu sync.Mutex
	trainings := 0
	scorer := cvScorer{"fixed", func(train adtext.Source) (func(string) float64, error) {
		seen := map[string]bool{}
		n := 0
		for l := range train {
			seen[strings.Fields(l.Text)[0]] = true
			n++
		}
		mu.Lock()
		trainings++
		mu.Unlock()
		return func(text string) float64 {
			if f := strings.Fields(text); strings.HasPrefix(f[0], "s") && seen[f[0]] {
				t.Errorf("%q scored by a model trained on its source's examples", text)
			}
			var i int
			var ad bool
			fmt.Sscanf(text[strings.Index(text, "#")+1:], "%d %t", &i, &ad)
			switch {
			case ad:
				return 0.8
			case i%2 == 0:
				return 0.75
			}
			return 0.2
		}, nil
	}}
	choices, err := crossValidate(src, 5, 1, []cvScorer{scorer}, func(int64) adtext.Counter { return nopProgress{} })
	if err != nil {
		t.Fatal(err)
	}
	if want := 5 * cvRepeats; trainings != want {
		t.Errorf("trainings: got %d, want %d (5 folds, %d dealings)", trainings, want, cvRepeats)
	}
	if c := choices[0]; c.Threshold != 0.76 || c.F1 != 1 || !(c.F1AtHalf < 1) {
		t.Errorf("choice: got %+v, want threshold 0.76 at F1 1 and F1 below 1 at 0.5", c)
	}
}

// TestEvalCrossValidation runs eval -cv: it prints what cross-validation
// chose, and the model's figures are those at the chosen threshold, as
// eval -threshold gives them.
func TestEvalCrossValidation(t *testing.T) {
	train := "../../fixtures/ads/generated_ads.jsonl,../../fixtures/ads/generated_not_ads.jsonl"
	data := "../../fixtures/ads/handwritten_ads.jsonl,../../fixtures/ads/handwritten_not_ads.jsonl"
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"eval", "-quiet", "-cv", "3", "-train", train, "-data", data}, &stdout, &stderr); err != nil {
		t.Fatalf("eval -cv: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "cross-validation on the training data (3 folds") {
		t.Errorf("eval -cv does not say what cross-validation chose:\n%s", out)
	}
	m := regexp.MustCompile(`threshold model (\S+), naive Bayes (\S+), chosen by cross-validation`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("eval -cv does not name the chosen thresholds:\n%s", out)
	}
	if cv := tableRow(t, out, "model"); len(cv) != 3 || fmt.Sprintf("%.2f", cv[0]) != m[1] {
		t.Errorf("cross-validation's row: got %v, want the model's threshold %s first", cv, m[1])
	}
	var at bytes.Buffer
	if err := run(context.Background(), []string{"eval", "-quiet", "-threshold", m[1], "-train", train, "-data", data}, &at, &stderr); err != nil {
		t.Fatalf("eval -threshold %s: %v\n%s", m[1], err, stderr.String())
	}
	for _, row := range []string{"true positives", "false positives", "false negatives", "true negatives"} {
		if got, want := tableRow(t, out, row)[0], tableRow(t, at.String(), row)[0]; got != want {
			t.Errorf("model's %s with -cv: got %v, want %v as with -threshold %s", row, got, want, m[1])
		}
	}
}

func TestEvalCrossValidationRefuses(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "-data", "../../fixtures/ads", "-cv", "5"}, "give -train"},
		{[]string{"eval", "-data", "../../fixtures/ads", "-train", "../../fixtures/ads", "-cv", "5", "-threshold", "0.7"}, "-threshold or -cv"},
		{[]string{"eval", "-data", "../../fixtures/ads", "-train", "../../fixtures/ads", "-cv", "1"}, "-cv 1: want 2 to 20"},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), tt.args, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("modctl %v: got error %v, want one containing %q", tt.args, err, tt.want)
		}
	}
	if !slices.Contains(cvGrid(), 0.5) {
		t.Error("the threshold grid lacks 0.5, the default threshold")
	}
}

// TestTrainCrossValidation runs train -cv: the model it writes judges at
// 0.5 as the same training judges at the threshold cross-validation chose,
// which eval -cv chooses too.
func TestTrainCrossValidation(t *testing.T) {
	train := "../../fixtures/ads/generated_ads.jsonl,../../fixtures/ads/generated_not_ads.jsonl"
	data := "../../fixtures/ads/handwritten_ads.jsonl,../../fixtures/ads/handwritten_not_ads.jsonl"
	out := filepath.Join(t.TempDir(), "cv.model")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"train", "-quiet", "-cv", "3", "-data", train, "-out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("train -cv: %v\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`0\.5 is the threshold cross-validation chose, (\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("train -cv does not say the threshold it moved the scores to:\n%s", stdout.String())
	}
	if m[1] == "0.50" {
		t.Fatalf("cross-validation chose 0.50 on the fixtures: the test cannot tell a moved model from one not moved")
	}
	var moved, at bytes.Buffer
	if err := run(context.Background(), []string{"eval", "-quiet", "-model", out, "-data", data}, &moved, &stderr); err != nil {
		t.Fatalf("eval -model: %v\n%s", err, stderr.String())
	}
	if err := run(context.Background(), []string{"eval", "-quiet", "-baseline", "none", "-threshold", m[1], "-train", train, "-data", data}, &at, &stderr); err != nil {
		t.Fatalf("eval -threshold %s: %v\n%s", m[1], err, stderr.String())
	}
	for _, row := range []string{"true positives", "false positives", "false negatives", "true negatives"} {
		if got, want := tableRow(t, moved.String(), row)[0], tableRow(t, at.String(), row)[0]; got != want {
			t.Errorf("%s of the model train -cv wrote, at 0.5: got %v, want %v as the same training at %s", row, got, want, m[1])
		}
	}
}
