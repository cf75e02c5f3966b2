package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"moderation/internal/auth"
)

var (
	grpcurlOnce sync.Once
	grpcurlBin  string
	grpcurlErr  error
)

// grpcurl builds the real grpcurl at the version pinned in go.mod: a
// client no one here wrote.
func grpcurl(t *testing.T) string {
	t.Helper()
	grpcurlOnce.Do(func() {
		dir, err := exec.Command("mktemp", "-d").Output()
		if err != nil {
			grpcurlErr = err
			return
		}
		grpcurlBin = filepath.Join(strings.TrimSpace(string(dir)), "grpcurl")
		if out, err := exec.Command("go", "build", "-o", grpcurlBin, "github.com/fullstorydev/grpcurl/cmd/grpcurl").CombinedOutput(); err != nil {
			grpcurlErr = err
			t.Logf("%s", out)
		}
	})
	if grpcurlErr != nil {
		t.Fatalf("build grpcurl: %v", grpcurlErr)
	}
	return grpcurlBin
}

// TestGRPCurl drives the running binary with grpcurl: reflection lists
// every service without a token, Check answers with one, and each refusal
// carries its code.
func TestGRPCurl(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	bin := grpcurl(t)
	p := start(t, t.TempDir())
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, append([]string{"-plaintext"}, args...)...).CombinedOutput()
		return string(out), err
	}
	services, err := run(p.grpc, "list")
	if err != nil {
		t.Fatalf("grpcurl list: %v\n%s", err, services)
	}
	for _, want := range []string{"moderation.v1.ModerationService", "moderation.v1.ReviewService", "moderation.v1.AppealService",
		"moderation.v1.AdminService", "grpc.health.v1.Health"} {
		if !strings.Contains(services, want) {
			t.Errorf("grpcurl list: %q missing from\n%s", want, services)
		}
	}
	service := "authorization: Bearer " + p.token(t, auth.Identity{Subject: "svc-test", Role: auth.RoleService})
	owner := "authorization: Bearer " + p.token(t, auth.Identity{Subject: "bob", Role: auth.RoleOwner, Account: "acct_bob"})
	const check = "moderation.v1.ModerationService/Check"
	tests := []struct {
		name   string
		args   []string
		wantOK bool
		want   []string
	}{
		{"with a token", []string{"-H", service, "-d", `{"account":"acct_bob","capability":"CAPABILITY_FRIEND_ADD"}`, p.grpc, check}, true,
			[]string{`"account": "acct_bob"`, `"allowed": true`, `"status": "STATUS_ACTIVE"`}},
		{"owner on own account", []string{"-H", owner, "-d", `{"account":"acct_bob"}`, p.grpc, check}, true, []string{`"allowed": true`}},
		{"without a token", []string{"-d", `{"account":"acct_bob"}`, p.grpc, check}, false, []string{"Code: Unauthenticated"}},
		{"owner on another account", []string{"-H", owner, "-d", `{"account":"acct_alice"}`, p.grpc, check}, false,
			[]string{"Code: PermissionDenied", "own account"}},
		{"malformed account", []string{"-H", service, "-d", `{"account":"not valid!"}`, p.grpc, check}, false,
			[]string{"Code: InvalidArgument", "account"}},
		{"unknown capability", []string{"-H", service, "-d", `{"account":"acct_bob","capability":7}`, p.grpc, check}, false,
			[]string{"Code: InvalidArgument", "capability"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(tt.args...)
			if (err == nil) != tt.wantOK {
				t.Fatalf("got error %v, want success %v\n%s", err, tt.wantOK, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if strings.Contains(p.logText(), strings.TrimPrefix(service, "authorization: Bearer ")) {
		t.Error("a token reached the log")
	}
}

// TestInsecureDevSaysSoLoudly: without --insecure-dev no call is served
// unauthenticated (TestGRPCurl); with it, calls are, and the log warns.
func TestInsecureDevSaysSoLoudly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	p := start(t, t.TempDir(), "--insecure-dev")
	out, err := exec.Command(grpcurl(t), "-plaintext", "-d", `{"account":"acct_bob"}`, p.grpc, "moderation.v1.ModerationService/Check").CombinedOutput()
	if err != nil {
		t.Fatalf("Check without a token under --insecure-dev: %v\n%s", err, out)
	}
	if !strings.Contains(p.logText(), `"level":"WARN","msg":"INSECURE`) {
		t.Errorf("the log does not warn about --insecure-dev:\n%s", p.logText())
	}
}
