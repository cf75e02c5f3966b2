package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMixGenThenScore generates a small labelled mix as a scenario and
// scores it from outside against a real service, through NATS with the
// publisher's credentials, as an outside scorer would.
func TestMixGenThenScore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "mix")
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"mix", "gen", "-seed", "9", "-instances", "slow-drip=1,trade-fair=1,coupon-brand=1", "-out", dir}, &out, &errOut); err != nil {
		t.Fatalf("mix gen: %v\n%s", err, errOut.String())
	}
	var exp struct {
		Seed     uint64                     `json:"seed"`
		Accounts map[string]json.RawMessage `json:"accounts"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	if exp.Seed != 9 || len(exp.Accounts) < 4 {
		t.Fatalf("expect.json: got seed %d and %d accounts, want seed 9 and at least 4 (a drip, two or more exhibitors, a brand)", exp.Seed, len(exp.Accounts))
	}

	svc := startService(t)
	out.Reset()
	errOut.Reset()
	if err := run(ctx, []string{"mix", "score", "-nats-url", svc.NATSURL, "-settle", "2s", dir}, &out, &errOut); err != nil {
		t.Fatalf("mix score: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"slow-drip", "trade-fair", "coupon-brand", "limited or worse", "recall ", "false positives "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("mix score output lacks %q:\n%s", want, out.String())
		}
	}
	if got := svc.Pipeline.Processed(); got == 0 {
		t.Errorf("processed: got %d events, want the mix's", got)
	}
}

func TestMixUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"mix"}, {"mix", "frobnicate"}, {"mix", "gen"}, {"mix", "gen", "-out", t.TempDir(), "-instances", "spam=2"}, {"mix", "score"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("modctl %v: got no error", args)
		}
	}
}
