package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
