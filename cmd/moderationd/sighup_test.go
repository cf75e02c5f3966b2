package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"moderation/policies"
)

// TestSIGHUPReloadsPolicy: with polling set to an hour, a changed policy
// directory is taken up on SIGHUP, and only then.
func TestSIGHUPReloadsPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary")
	}
	dir := t.TempDir()
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, t.TempDir(), "--policy-dir", dir, "--policy-poll", "1h")
	loaded := func() []string { // versions the log says were loaded from the directory, in order
		var versions []string
		for _, line := range strings.Split(p.logText(), "\n") {
			var rec struct{ Msg, Policy, Version string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "policy loaded" && rec.Policy == "live" {
				versions = append(versions, rec.Version)
			}
		}
		return versions
	}
	if got := loaded(); len(got) != 1 {
		t.Fatalf("policy loads at start: got %v, want one", got)
	}

	// A change whose tests still pass: one more rule, so a new version.
	if err := os.WriteFile(filepath.Join(dir, "note.rego"), []byte("package moderation\n\nreload_note := \"taken up on SIGHUP\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // nothing may happen without the signal; give it the chance to go wrong
	if got := loaded(); len(got) != 1 {
		t.Fatalf("the change was taken up without SIGHUP: %v", got)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	poll(t, "the policy reloaded after SIGHUP", 30*time.Second, func() bool { return len(loaded()) == 2 })
	if got := loaded(); got[0] == got[1] {
		t.Errorf("version after SIGHUP %s is the version before", got[1])
	}
}
