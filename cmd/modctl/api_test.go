package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"

	"moderation/internal/auth"
)

// TestAPICommands drives every API command against a real service: the
// bulk adder's fixture is replayed and judged, then listed, shown and
// charted; a reviewer suspends and restores another account; a watch from
// the start prints all of it.
func TestAPICommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	svc := startService(t)
	// As an operator on the service's host: modctl mints its own token
	// from the key in the data directory.
	api := []string{"-addr", svc.GRPCAddr, "-data-dir", os.Getenv("MODERATION_DATA_DIR")}
	cmd := func(args ...string) []string { return slices.Concat(args[:1], api, args[1:]) }

	modctl(t, ctx, "replay", "-nats-url", svc.NATSURL, "../../fixtures/scenarios/bulk-adder-new-account")
	var bulk struct {
		Allowed    bool
		Status     string
		DecisionID string `json:"decisionId"`
	}
	eventually(t, "the bulk adder is limited", func() (string, bool) {
		out := modctl(t, ctx, cmd("check", "-json", "-capability", "friend_add", "acct_bulk_new")...)
		// protojson leaves false out: start from zero, not the last answer.
		bulk.Allowed, bulk.DecisionID = false, ""
		if err := json.Unmarshal([]byte(out), &bulk); err != nil {
			t.Fatalf("check -json: %v\n%s", err, out)
		}
		return out, !bulk.Allowed && bulk.DecisionID != ""
	})
	eventually(t, "the decision is listed", func() (string, bool) {
		out := modctl(t, ctx, cmd("decisions", "-account", "acct_bulk_new")...)
		return out, strings.Contains(out, bulk.DecisionID)
	})

	t.Run("text output", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want []string
		}{
			{"decisions of one account", cmd("decisions", "-account", "acct_bulk_new"),
				[]string{"sequence", "policy", "acct_bulk_new", "limit", "bulk_add", bulk.DecisionID}},
			{"one decision with its statement of reasons", cmd("decisions", "-account", "acct_bulk_new", "-id", bulk.DecisionID),
				[]string{"decision               " + bulk.DecisionID, "reason                 bulk_add: ", "statement of reasons", "redress", "appeal by"}},
			{"timeline, flags after the account", cmd("timeline", "acct_bulk_new", "-limit", "500", "-since", "24h"),
				[]string{"status    limited", "signals", "bulk_add", "events: the latest 300, by kind", "to user_1000 via search", "decisions", bulk.DecisionID, "appeals: none"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := modctl(t, ctx, tc.args...)
				for _, want := range tc.want {
					if !strings.Contains(out, want) {
						t.Errorf("output lacks %q:\n%s", want, out)
					}
				}
			})
		}
	})

	t.Run("several accounts in one BatchCheck", func(t *testing.T) {
		out := modctl(t, ctx, cmd("check", "-capability", "friend_add", "acct_bulk_new", "acct_never_seen")...)
		got := map[string]string{}
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) >= 3 && !strings.HasPrefix(line, "-") {
				got[f[0]] = f[1] + " " + f[2]
			}
		}
		want := map[string]string{"account": "status allowed", "acct_bulk_new": "limited NO", "acct_never_seen": "active yes"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("check of two accounts (-want +got):\n%s\n%s", diff, out)
		}
	})

	t.Run("a reviewer suspends and restores", func(t *testing.T) {
		out := modctl(t, ctx, cmd("action", "acct_reviewed", "-action", "suspend", "-duration", "72h", "-reason", "spam",
			"-detail", "Sent the same link to 500 strangers in an hour.", "-note", "Ticket 42.")...)
		for _, want := range []string{"action                 suspend", "reason                 spam: Sent the same link", "actor                  ", "modctl:", "until"} {
			if !strings.Contains(out, want) {
				t.Errorf("action output lacks %q:\n%s", want, out)
			}
		}
		eventually(t, "check says suspended", func() (string, bool) {
			out := modctl(t, ctx, cmd("check", "acct_reviewed")...)
			return out, strings.Contains(out, "status    suspended") && strings.Contains(out, "allowed   NO")
		})

		out = modctl(t, ctx, cmd("action", "acct_reviewed", "-action", "restore", "-json", "-detail", "Suspended in error.", "-note", "Ticket 43.")...)
		var restored struct{ Action, Actor string }
		if err := json.Unmarshal([]byte(out), &restored); err != nil {
			t.Fatalf("action -json: %v\n%s", err, out)
		}
		if restored.Action != "ACTION_RESTORE" || !strings.Contains(restored.Actor, "modctl:") {
			t.Errorf("restore: got action %s by %q, want ACTION_RESTORE by modctl:<user>", restored.Action, restored.Actor)
		}
		eventually(t, "check says allowed", func() (string, bool) {
			out := modctl(t, ctx, cmd("check", "acct_reviewed")...)
			return out, strings.Contains(out, "allowed   yes")
		})
	})

	t.Run("the same -request-id twice is one decision", func(t *testing.T) {
		decisionID := func(requestID string) string {
			t.Helper()
			out := modctl(t, ctx, cmd("action", "acct_retried", "-action", "warn", "-json", "-request-id", requestID,
				"-detail", "Sent 300 friend requests to strangers.", "-note", "Ticket 44.")...)
			var d struct {
				DecisionID string `json:"decisionId"`
			}
			if err := json.Unmarshal([]byte(out), &d); err != nil || d.DecisionID == "" {
				t.Fatalf("action -json: got %v, want a decision id\n%s", err, out)
			}
			return d.DecisionID
		}
		first, again, other := decisionID("review-retry-1"), decisionID("review-retry-1"), decisionID("review-retry-2")
		if again != first {
			t.Errorf("same -request-id: got decisions %s and %s, want the first returned again", first, again)
		}
		if other == first {
			t.Errorf("another -request-id: got decision %s again, want a new one", other)
		}
	})

	t.Run("JSON output parses", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			args  []string
			lines bool // one object per line rather than one indented object
			check func(t *testing.T, objs []map[string]any)
		}{
			{"decisions -all", cmd("decisions", "-all", "-json"), true, func(t *testing.T, objs []map[string]any) {
				var accounts []string
				for _, o := range objs {
					accounts = append(accounts, o["account"].(string))
				}
				if !slices.Contains(accounts, "acct_bulk_new") || !slices.Contains(accounts, "acct_reviewed") {
					t.Errorf("got decisions on %v, want acct_bulk_new and acct_reviewed among them", accounts)
				}
			}},
			{"decisions -limit 1", cmd("decisions", "-limit", "1", "-json"), true, func(t *testing.T, objs []map[string]any) {
				if len(objs) != 1 {
					t.Errorf("got %d decisions, want 1", len(objs))
				}
			}},
			{"decisions -id", cmd("decisions", "-account", "acct_bulk_new", "-id", bulk.DecisionID, "-json"), false, func(t *testing.T, objs []map[string]any) {
				if got := objs[0]["decisionId"]; got != bulk.DecisionID {
					t.Errorf("got decision %v, want %s", got, bulk.DecisionID)
				}
			}},
			{"timeline", cmd("timeline", "acct_bulk_new", "-json", "-limit", "10"), false, func(t *testing.T, objs []map[string]any) {
				events, _ := objs[0]["events"].([]any)
				decisions, _ := objs[0]["decisions"].([]any)
				if len(events) != 10 || len(decisions) == 0 {
					t.Errorf("got %d events and %d decisions, want 10 and some", len(events), len(decisions))
				}
			}},
			{"check of several accounts", cmd("check", "-json", "acct_bulk_new", "acct_reviewed", "acct_never_seen"), false, func(t *testing.T, objs []map[string]any) {
				if results, _ := objs[0]["results"].([]any); len(results) != 3 {
					t.Errorf("got %d results, want 3", len(results))
				}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := modctl(t, ctx, tc.args...)
				objs := parseJSON(t, out, tc.lines)
				if len(objs) == 0 {
					t.Fatalf("no JSON output")
				}
				tc.check(t, objs)
			})
		}
	})

	t.Run("watch from the start", func(t *testing.T) {
		w := startWatch(t, ctx, cmd("watch", "-from", "1")...)
		eventually(t, "watch prints every change so far", func() (string, bool) {
			out := w.out.String()
			return out, strings.Contains(out, bulk.DecisionID) && strings.Count(out, "acct_reviewed") == 2
		})
		if err := w.end(t); err != nil {
			t.Errorf("interrupted watch: got %v, want a clean exit", err)
		}

		w = startWatch(t, ctx, cmd("watch", "-from", "1", "-account", "acct_reviewed", "-json")...)
		var objs []map[string]any
		eventually(t, "watch -json prints the account's changes", func() (string, bool) {
			objs = parseJSON(t, w.out.String(), true)
			return w.out.String(), len(objs) == 2
		})
		if err := w.end(t); err != nil {
			t.Errorf("interrupted watch: got %v, want a clean exit", err)
		}
		for _, o := range objs {
			d, _ := o["decision"].(map[string]any)
			if d["account"] != "acct_reviewed" || o["sequence"] == nil {
				t.Errorf("got change %v, want one on acct_reviewed with its sequence", o)
			}
		}
	})

	t.Run("errors the server returns", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			code codes.Code
			want string
		}{
			{"a reason code the API refuses", cmd("action", "acct_reviewed", "-action", "warn", "-reason", "Not A Code", "-detail", "x", "-note", "y"),
				codes.InvalidArgument, "field reason_code: "},
			{"a decision that does not exist", cmd("decisions", "-account", "acct_bulk_new", "-id", "dec_doesnotexist"), codes.NotFound, "get decision dec_doesnotexist: NotFound"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var out, errOut bytes.Buffer
				err := run(ctx, tc.args, &out, &errOut)
				if got := status.Code(err); got != tc.code || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("got %v (%v), want %v naming %q", got, err, tc.code, tc.want)
				}
			})
		}
	})
}

// TestAPIAuthentication checks each way modctl finds a token, and that
// calling without one says how to get one.
func TestAPIAuthentication(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc := startService(t)
	serviceDir, elsewhere := os.Getenv("MODERATION_DATA_DIR"), t.TempDir()
	reviewer, err := svc.Token(auth.Identity{Subject: "alice", Role: auth.RoleReviewer}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _, err := auth.LoadOrCreateKey(filepath.Join(t.TempDir(), "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	foreign, _, err := auth.NewIssuer(otherKey).Mint(auth.Identity{Subject: "mallory", Role: auth.RoleAdmin}, time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		args     []string
		envToken string
		code     codes.Code
		want     []string
	}{
		{"minted from the service's key", []string{"-data-dir", serviceDir}, "", codes.OK, nil},
		{"given with -token", []string{"-data-dir", elsewhere, "-token", reviewer}, "", codes.OK, nil},
		{"given in MODERATION_TOKEN", []string{"-data-dir", elsewhere}, reviewer, codes.OK, nil},
		{"none", []string{"-data-dir", elsewhere}, "", codes.Unauthenticated, []string{"no token was sent", "-token", "modctl token", auth.DefaultKeyFile(elsewhere)}},
		{"signed by another key", []string{"-data-dir", elsewhere, "-token", foreign}, "", codes.Unauthenticated, []string{"was refused", "-token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MODERATION_TOKEN", tc.envToken)
			var out, errOut bytes.Buffer
			err := run(ctx, slices.Concat([]string{"decisions", "-addr", svc.GRPCAddr, "-limit", "1"}, tc.args), &out, &errOut)
			if got := status.Code(err); got != tc.code {
				t.Fatalf("got %v (%v), want %v", got, err, tc.code)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

// TestWatchResumesAfterRestart stops the service under a running watch and
// starts it again on the same address and data: the watch says so, and
// carries on after the last change it printed, without repeating it.
func TestWatchResumesAfterRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, v := range []string{"MODERATION_TOKEN", "MODERATION_TLS_CA", "MODERATION_TLS_CERT", "MODERATION_TLS_KEY"} {
		t.Setenv(v, "")
	}
	dir := t.TempDir()
	first := startServiceIn(t, dir, "127.0.0.1:0")
	stopFirst := sync.OnceFunc(first.Stop)
	t.Cleanup(stopFirst)
	api := []string{"-addr", first.GRPCAddr, "-data-dir", dir}
	act := func(account string) {
		t.Helper()
		modctl(t, ctx, slices.Concat([]string{"action", account, "-action", "warn", "-detail", "x", "-note", "y"}, api)...)
	}

	act("acct_before")
	w := startWatch(t, ctx, slices.Concat([]string{"watch", "-json", "-from", "1"}, api)...)
	var seq uint64
	eventually(t, "the change before the restart", func() (string, bool) {
		for _, o := range parseJSON(t, w.out.String(), true) {
			// protojson writes 64-bit integers as strings.
			seq, _ = strconv.ParseUint(fmt.Sprint(o["sequence"]), 10, 64)
		}
		return w.out.String(), seq > 0
	})

	stopFirst()
	second := startServiceIn(t, dir, first.GRPCAddr)
	t.Cleanup(second.Stop)
	act("acct_after")
	eventually(t, "the change after the restart", func() (string, bool) {
		return w.out.String(), strings.Contains(w.out.String(), "acct_after")
	})
	if err := w.end(t); err != nil {
		t.Errorf("interrupted watch: got %v, want a clean exit", err)
	}
	if n := strings.Count(w.out.String(), "acct_before"); n != 1 {
		t.Errorf("the change before the restart printed %d times, want once:\n%s", n, w.out.String())
	}
	if want := "resuming from sequence " + strconv.FormatUint(seq+1, 10); !strings.Contains(w.errOut.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, w.errOut.String())
	}
}

func TestCallErrorSaysWhatToDo(t *testing.T) {
	withDetails := func(st *status.Status, detail protoadapt.MessageV1) *status.Status {
		t.Helper()
		st, err := st.WithDetails(detail)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	str := proto.String
	for _, tc := range []struct {
		name      string
		st        *status.Status
		tokenFrom string
		want      string
	}{
		{"a BadRequest detail", withDetails(status.New(codes.InvalidArgument, "account bad"), &errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "account", Description: "must match [A-Za-z0-9_-]{1,64}"}},
		}), "x", "check a b: InvalidArgument: account bad\n  field account: must match [A-Za-z0-9_-]{1,64}"},
		{"protovalidate violations", withDetails(status.New(codes.InvalidArgument, "invalid request"), &validate.Violations{Violations: []*validate.Violation{
			{Field: &validate.FieldPath{Elements: []*validate.FieldPathElement{{FieldName: str("checks"), Subscript: &validate.FieldPathElement_Index{Index: 1}}, {FieldName: str("account")}}}, Message: str("value does not match regex pattern")},
			{Field: &validate.FieldPath{Elements: []*validate.FieldPathElement{{FieldName: str("files"), Subscript: &validate.FieldPathElement_StringKey{StringKey: "data.json"}}}}, Message: str("too long")},
		}}), "x", "check a b: InvalidArgument: invalid request\n  field checks[1].account: value does not match regex pattern\n  field files[\"data.json\"]: too long"},
		{"no token", status.New(codes.Unauthenticated, "a bearer token is required"), "",
			"check a b: Unauthenticated: a bearer token is required\nno token was sent: pass -token (or set MODERATION_TOKEN), or run `modctl token` on the service's host; " +
				"modctl mints one itself when it can read the service's key at " + auth.DefaultKeyFile("/srv/mod") + " (-data-dir)"},
		{"a refused token", status.New(codes.Unauthenticated, "token expired"), "MODERATION_TOKEN",
			"check a b: Unauthenticated: token expired\nthe token (MODERATION_TOKEN) was refused: pass a current one with -token, or run `modctl token`"},
		{"no service", status.New(codes.Unavailable, "connection refused"), "x",
			"check a b: Unavailable: connection refused\nis the service listening on 127.0.0.1:1? (-addr, MODERATION_GRPC_LISTEN)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clientFlags{addr: "127.0.0.1:1", dataDir: "/srv/mod", tokenFrom: tc.tokenFrom}
			err := c.callErr("check a b", tc.st.Err())
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error text (-want +got):\n%s", diff)
			}
			if got := status.Code(err); got != tc.st.Code() {
				t.Errorf("status.Code: got %v, want %v", got, tc.st.Code())
			}
		})
	}
	if err := (&clientFlags{}).callErr("read", errors.New("disk on fire")); err.Error() != "read: disk on fire" {
		t.Errorf("a non-gRPC error: got %q, want it wrapped plainly", err)
	}
}

func TestResolveToken(t *testing.T) {
	withKey := t.TempDir()
	key, _, err := auth.LoadOrCreateKey(auth.DefaultKeyFile(withKey))
	if err != nil {
		t.Fatal(err)
	}
	verifier := auth.NewVerifier(key.Public().(ed25519.PublicKey))
	now := time.Now()
	const minted = "(minted)"
	for _, tc := range []struct {
		name, flag, env, dataDir string
		want                     string // the token sent: minted, or "" for none
	}{
		{"-token wins", "given", "from-env", withKey, "given"},
		{"then MODERATION_TOKEN", "", "from-env", withKey, "from-env"},
		{"then one minted from a readable key", "", "", withKey, minted},
		{"else none", "", "", t.TempDir(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MODERATION_TOKEN", tc.env)
			c := &clientFlags{token: tc.flag, dataDir: tc.dataDir}
			b, err := c.resolveToken(now)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if b != nil || c.tokenFrom != "" {
					t.Errorf("got a token from %q, want none", c.tokenFrom)
				}
				return
			}
			md, err := b.GetRequestMetadata(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			token, ok := strings.CutPrefix(md["authorization"], "Bearer ")
			if !ok {
				t.Fatalf("got metadata %v, want authorization: Bearer <token>", md)
			}
			if tc.want != minted {
				if token != tc.want {
					t.Errorf("got token %q, want %q", token, tc.want)
				}
				return
			}
			id, err := verifier.Verify(token, now)
			if err != nil {
				t.Fatal(err)
			}
			if id.Role != auth.RoleAdmin || !strings.HasPrefix(id.Subject, "modctl:") {
				t.Errorf("got %+v, want role admin and subject modctl:<user>", id)
			}
			if exp := b.expires.Sub(now); exp > localTokenTTL || exp < localTokenTTL-time.Second {
				t.Errorf("token lives %v, want %v", exp, localTokenTTL)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args           []string
		wantPositional []string
		wantSince      string
		wantJSON       bool
	}{
		{[]string{"acct_1"}, []string{"acct_1"}, "", false},
		{[]string{"-since", "1h", "acct_1"}, []string{"acct_1"}, "1h", false},
		{[]string{"acct_1", "-since", "1h", "-json"}, []string{"acct_1"}, "1h", true},
		{[]string{"a", "-json", "b", "-since=2h", "c"}, []string{"a", "b", "c"}, "2h", true},
		{[]string{"a", "--", "-json"}, []string{"a", "-json"}, "", false},
	} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		since := fs.String("since", "", "")
		asJSON := fs.Bool("json", false, "")
		got, err := parseArgs(fs, tc.args)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if !slices.Equal(got, tc.wantPositional) || *since != tc.wantSince || *asJSON != tc.wantJSON {
			t.Errorf("%v: got %v since=%q json=%v, want %v since=%q json=%v", tc.args, got, *since, *asJSON, tc.wantPositional, tc.wantSince, tc.wantJSON)
		}
	}
}

// TestAPIUsageErrors are mistakes caught before any call: no service runs.
func TestAPIUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"check", "-capability", "teleport", "acct_1", "acct_2"},
		{"decisions", "acct_1"},
		{"decisions", "-id", "dec_1"},
		{"decisions", "-limit", "0"},
		{"watch", "acct_1"},
		{"timeline"},
		{"timeline", "acct_1", "acct_2"},
		{"timeline", "acct_1", "-limit", "5000"},
		{"timeline", "acct_1", "-since", "last tuesday"},
		{"action", "acct_1", "-action", "ban", "-detail", "x", "-note", "y"},
		{"action", "acct_1", "-action", "warn", "-note", "y"},
		{"action", "acct_1", "-action", "warn", "-detail", "x"},
		{"action", "acct_1", "-action", "limit", "-detail", "x", "-note", "y", "-restricts", "broadcast,teleport"},
		{"action", "acct_1", "-action", "limit", "-detail", "x", "-note", "y", "-duration", "-1h"},
		{"action", "-action", "warn", "-detail", "x", "-note", "y"},
	} {
		var out, errOut bytes.Buffer
		// An address nothing listens on: a command that got as far as
		// calling would fail differently, with Unavailable.
		err := run(context.Background(), append(args, "-addr", "127.0.0.1:1"), &out, &errOut)
		if err == nil || status.Code(err) == codes.Unavailable {
			t.Errorf("modctl %v: got %v, want a usage error", args, err)
		}
	}
}

// modctl runs one command and returns what it printed, failing the test
// if it fails.
func modctl(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(ctx, args, &out, &errOut); err != nil {
		t.Fatalf("modctl %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// eventually polls f until it is done, for at most 20 s; last is what to
// show if it never is.
func eventually(t *testing.T, what string, f func() (last string, done bool)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		last, done := f()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s; last output:\n%s", what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// parseJSON parses one indented object, or one object per line.
func parseJSON(t *testing.T, out string, lines bool) []map[string]any {
	t.Helper()
	var objs []map[string]any
	if !lines {
		var o map[string]any
		if err := json.Unmarshal([]byte(out), &o); err != nil {
			t.Fatalf("output is not one JSON object: %v\n%s", err, out)
		}
		return append(objs, o)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var o map[string]any
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("line is not a JSON object: %v\n%s", err, sc.Text())
		}
		objs = append(objs, o)
	}
	return objs
}

// watching is a watch command running in the background, as in a
// terminal until Ctrl-C.
type watching struct {
	out, errOut syncBuffer
	interrupt   context.CancelFunc
	done        chan error
}

func startWatch(t *testing.T, ctx context.Context, args ...string) *watching {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	w := &watching{interrupt: cancel, done: make(chan error, 1)}
	go func() { w.done <- run(ctx, args, &w.out, &w.errOut) }()
	return w
}

// end interrupts the watch and returns what it returned.
func (w *watching) end(t *testing.T) error {
	t.Helper()
	w.interrupt()
	select {
	case err := <-w.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not end within 10 s of its interrupt")
		return nil
	}
}

// syncBuffer is a bytes.Buffer a command writes from its goroutine while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
