package moderationv1

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedCodeIsCurrent regenerates the code with the //go:generate
// line of generate.go into a temporary directory and fails if a committed
// file differs. It needs the module proxy or a filled module cache, so it
// runs only with MODERATION_CHECK_GENERATED=1.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if os.Getenv("MODERATION_CHECK_GENERATED") != "1" {
		t.Skip("set MODERATION_CHECK_GENERATED=1 to check the generated code")
	}
	args := generateArgs(t)
	out := t.TempDir()
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) {
			args[i+1] = out
		}
	}
	cmd := exec.Command(args[0], args[1:]...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}

	generated, err := filepath.Glob(filepath.Join(out, "moderation", "v1", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := filepath.Glob("*.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(generated) == 0 {
		t.Fatalf("generation wrote no Go files under %s", out)
	}
	seen := map[string]bool{}
	for _, g := range generated {
		name := filepath.Base(g)
		seen[name] = true
		want, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s is generated but not committed; run go generate ./api/...", name)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date; run go generate ./api/...", name)
		}
	}
	for _, c := range committed {
		if !seen[c] {
			t.Errorf("%s is committed but no longer generated; delete it", c)
		}
	}
}

// generateArgs returns the command of the //go:generate line in generate.go.
func generateArgs(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("generate.go")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "//go:generate "); ok {
			args := strings.Fields(rest)
			if args[0] == "go" {
				args[0] = goCommand()
			}
			return args
		}
	}
	t.Fatal("no //go:generate line in generate.go")
	return nil
}

// goCommand is the go command running this test, as go generate would use.
func goCommand() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
