package service_test

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/appeals"
	"moderation/internal/judge"
	"moderation/internal/replay"
	"moderation/internal/service"
	"moderation/policies"
)

// strictPolicy writes the embedded policy with the fixture's data patch and
// its own test into a directory the service can run.
func strictPolicy(t *testing.T, fixture string) string {
	t.Helper()
	dir := t.TempDir()
	names, err := fs.Glob(policies.FS, "*.rego")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.rego") {
			continue // the embedded tests pin the embedded levels
		}
		copyFile(t, policies.FS, name, filepath.Join(dir, name))
	}
	copyFile(t, os.DirFS(fixture), "strict/strict_test.rego", filepath.Join(dir, "strict_test.rego"))
	var data, patch map[string]any
	readJSON(t, policies.FS, "data.json", &data)
	readJSON(t, os.DirFS(fixture), "strict/data.patch.json", &patch)
	merge(data, patch)
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyFile(t *testing.T, fsys fs.FS, name, to string) {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readJSON(t *testing.T, fsys fs.FS, name string, v any) {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// merge applies a JSON merge patch (objects merge, anything else replaces).
func merge(dst, patch map[string]any) {
	for k, v := range patch {
		if sub, ok := v.(map[string]any); ok {
			if d, ok := dst[k].(map[string]any); ok {
				merge(d, sub)
				continue
			}
		}
		dst[k] = v
	}
}

// TestReevaluateRestoresWhatALooserPolicyWouldNotClose: the fixture's
// accounts are closed under a strict policy; a dry run under the embedded
// policy lists exactly the ones it would not limit, and applying it
// restores them in one audited batch, with a restore for each.
func TestReevaluateRestoresWhatALooserPolicyWouldNotClose(t *testing.T) {
	const fixture = "../../fixtures/reevaluation"
	var want struct {
		Closed   []string `json:"closed_under_strict"`
		Restored []string `json:"restored_under_embedded"`
	}
	readJSON(t, os.DirFS(fixture), "expect.json", &want)
	svc := startServiceWith(t, func(c *service.Config) { c.PolicyDir = strictPolicy(t, fixture) })
	ctx := context.Background()
	recs, err := replay.ReadFile(filepath.Join(fixture, "events.jsonl"), replay.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replay.Publish(ctx, svc.JS, recs, nil); err != nil {
		t.Fatal(err)
	}
	for _, a := range want.Closed {
		awaitStatus(t, svc, a, moderationv1.Status_STATUS_CLOSED)
	}
	embedded, err := judge.Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	review := moderationv1.NewReviewServiceClient(apiConn(t, svc, reviewer))
	run := func(dryRun bool) (*moderationv1.ReevaluateResponse, int) {
		t.Helper()
		stream, err := review.Reevaluate(ctx, &moderationv1.ReevaluateRequest{PolicyVersion: embedded.Version, DryRun: dryRun,
			Note: "Enforcement review of 2026-11: established accounts were held to new accounts' levels."})
		if err != nil {
			t.Fatal(err)
		}
		var res *moderationv1.ReevaluateResponse
		steps := 0
		for {
			p, err := stream.Recv()
			if err == io.EOF {
				return res, steps
			}
			if err != nil {
				t.Fatalf("reevaluate: %v", err)
			}
			steps++
			if p.Result != nil {
				res = p.Result
			}
		}
	}
	restoredAccounts := func(r *moderationv1.ReevaluateResponse) []string {
		var out []string
		for _, re := range r.Restored {
			out = append(out, re.Account)
			if re.Was != moderationv1.Action_ACTION_CLOSE || !strings.Contains(re.Why, embedded.Version) {
				t.Errorf("%s: was %s, why %q", re.Account, re.Was, re.Why)
			}
		}
		slices.Sort(out)
		return out
	}

	dry, _ := run(true)
	if got := restoredAccounts(dry); !slices.Equal(got, want.Restored) || dry.Considered != int32(len(want.Closed)) || dry.BatchId != "" {
		t.Fatalf("dry run: restore %v of %d (batch %q), want %v of %d", got, dry.Considered, dry.BatchId, want.Restored, len(want.Closed))
	}
	for _, a := range want.Closed {
		awaitStatus(t, svc, a, moderationv1.Status_STATUS_CLOSED) // a dry run changes nothing
	}

	applied, steps := run(false)
	if got := restoredAccounts(applied); !slices.Equal(got, want.Restored) || applied.BatchId == "" || steps < 2 {
		t.Fatalf("apply: restored %v in batch %q with %d progress messages", got, applied.BatchId, steps)
	}
	for _, a := range want.Closed {
		if slices.Contains(want.Restored, a) {
			awaitStatus(t, svc, a, moderationv1.Status_STATUS_ACTIVE)
			if got := enforcementActions(t, svc, a); got[len(got)-1] != "restore" {
				t.Errorf("%s: enforcement %v, want it to end with restore", a, got)
			}
			var rec struct {
				BatchID string `json:"batch_id"`
				Actor   string `json:"actor"`
			}
			msg, err := svc.Streams.Decisions.GetLastMsgForSubject(ctx, "mod.audit.reevaluate."+a)
			if err != nil || json.Unmarshal(msg.Data, &rec) != nil || rec.BatchID != applied.BatchId || rec.Actor != "reviewer:alice" {
				t.Errorf("%s: audit record %+v, %v", a, rec, err)
			}
		} else {
			awaitStatus(t, svc, a, moderationv1.Status_STATUS_CLOSED)
		}
	}
	msg, err := svc.Streams.Decisions.GetLastMsgForSubject(ctx, "mod.audit.batch."+applied.BatchId)
	if err != nil {
		t.Fatalf("batch record: %v", err)
	}
	var batch appeals.BatchRecord
	if err := json.Unmarshal(msg.Data, &batch); err != nil || len(batch.Restored) != len(want.Restored) || batch.Note == "" {
		t.Errorf("batch record: %+v, %v", batch, err)
	}
}
