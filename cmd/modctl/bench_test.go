package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestBenchRefusesAnUnknownMix: -mix is checked by name before a server
// is started.
func TestBenchRefusesAnUnknownMix(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"bench", "-mix", "hostile"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "flag -mix") {
		t.Fatalf("modctl bench -mix hostile: got %v, want an error about flag -mix", err)
	}
}

// TestBenchMeasuresTheMixAsked: -mix reaches the run, which then charts
// that mix alone.
func TestBenchMeasuresTheMixAsked(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a guard against a hang
	defer cancel()
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"bench", "-mix", "attack", "-events", "2000", "-seed", "3"}, &out, &errOut); err != nil {
		t.Fatalf("modctl bench -mix attack: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "attack mix: 2,000 events") || strings.Contains(out.String(), "benign mix") {
		t.Errorf("modctl bench -mix attack printed:\n%s\nwant the attack mix's chart alone", out.String())
	}
}
