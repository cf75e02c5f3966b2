package grpcapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/authz"
	"moderation/internal/moderation"
)

// states is an Enforcement over a fixed set of account states.
type states map[string]*moderation.AccountState

func (s states) Get(account string) *moderation.AccountState { return s[account] }
func (s states) Stale() bool                                 { return s["__stale"] != nil }

// server is the API over fixed states, with real token checks and the
// real authorization policy.
type server struct {
	addr   string
	issuer *auth.Issuer
	log    *bytes.Buffer
}

func start(t *testing.T, enf Enforcement, opts Options) *server {
	t.Helper()
	return startAt(t, enf, opts, slog.LevelDebug)
}

// startAt is start with the service's log at level.
func startAt(t *testing.T, enf Enforcement, opts Options, level slog.Level) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: ln.Addr().String(), issuer: auth.NewIssuer(key), log: &bytes.Buffer{}}
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(lockedWriter{&mu, s.log}, &slog.HandlerOptions{Level: level}))
	srv, hs, err := NewServer(Deps{Enforcement: enf, Verifier: auth.NewVerifier(key.Public().(ed25519.PublicKey)), Issuer: s.issuer, Authorizer: az}, opts, log)
	if err != nil {
		t.Fatal(err)
	}
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return s
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// dial connects as id; a zero id sends no token.
func (s *server) dial(t *testing.T, id auth.Identity) *grpc.ClientConn {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if id.Role != "" {
		token, _, err := s.issuer.Mint(id, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, grpc.WithPerRPCCredentials(auth.Bearer(token)))
	}
	conn, err := grpc.NewClient(s.addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

var platform = auth.Identity{Subject: "svc-test", Role: auth.RoleService}

// serve is a connection as a platform service to the API over states.
func serve(t *testing.T, enf Enforcement) *grpc.ClientConn {
	t.Helper()
	return start(t, enf, Options{DenyUnknownWhenStale: true}).dial(t, platform)
}

func TestCheck(t *testing.T) {
	future := time.Now().Add(time.Hour)
	past := time.Now().Add(-time.Hour)
	decision := func(a moderation.Action, until *time.Time, restricts ...moderation.Capability) *moderation.AccountState {
		return &moderation.AccountState{Current: &moderation.Decision{Action: a, DecisionID: "dec_1", PolicyVersion: "v1", Until: until,
			Restricts: restricts, Reasons: []moderation.Reason{{Code: "bulk_add", Detail: "312 requests"}}}}
	}
	client := moderationv1.NewModerationServiceClient(serve(t, states{
		"limited":   decision(moderation.ActionLimit, &future, moderation.CapFriendAdd),
		"expired":   decision(moderation.ActionLimit, &past, moderation.CapFriendAdd),
		"suspended": decision(moderation.ActionSuspend, &future),
		"closed":    decision(moderation.ActionClose, nil),
		"warned":    decision(moderation.ActionWarn, nil),
		"restored":  decision(moderation.ActionRestore, nil),
	}))
	const (
		any       = moderationv1.Capability_CAPABILITY_UNSPECIFIED
		friendAdd = moderationv1.Capability_CAPABILITY_FRIEND_ADD
		broadcast = moderationv1.Capability_CAPABILITY_BROADCAST
	)
	tests := []struct {
		account     string
		capability  moderationv1.Capability
		wantAllowed bool
		wantStatus  moderationv1.Status
	}{
		{"never_seen", friendAdd, true, moderationv1.Status_STATUS_ACTIVE},
		{"limited", friendAdd, false, moderationv1.Status_STATUS_LIMITED},
		{"limited", broadcast, true, moderationv1.Status_STATUS_LIMITED},
		{"limited", any, false, moderationv1.Status_STATUS_LIMITED},
		{"expired", friendAdd, true, moderationv1.Status_STATUS_ACTIVE},
		{"suspended", broadcast, false, moderationv1.Status_STATUS_SUSPENDED},
		{"closed", friendAdd, false, moderationv1.Status_STATUS_CLOSED},
		{"warned", friendAdd, true, moderationv1.Status_STATUS_WARNED},
		{"restored", any, true, moderationv1.Status_STATUS_ACTIVE},
	}
	for _, tt := range tests {
		t.Run(tt.account+"/"+tt.capability.String(), func(t *testing.T) {
			resp, err := client.Check(context.Background(), &moderationv1.CheckRequest{Account: tt.account, Capability: tt.capability})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Allowed != tt.wantAllowed || resp.Status != tt.wantStatus {
				t.Errorf("got allowed=%v status=%s, want allowed=%v status=%s", resp.Allowed, resp.Status, tt.wantAllowed, tt.wantStatus)
			}
			enforced := tt.wantStatus != moderationv1.Status_STATUS_ACTIVE
			if enforced != (resp.DecisionId == "dec_1" && len(resp.Reasons) == 1) {
				t.Errorf("got decision %q with %d reasons; want them only when enforced", resp.DecisionId, len(resp.Reasons))
			}
		})
	}
}

func TestCheckInvalidArgumentNamesField(t *testing.T) {
	client := moderationv1.NewModerationServiceClient(serve(t, states{}))
	tests := []struct {
		req   *moderationv1.CheckRequest
		field string
	}{
		{&moderationv1.CheckRequest{}, "account"},
		{&moderationv1.CheckRequest{Account: "has.dots"}, "account"},
		{&moderationv1.CheckRequest{Account: "ok", Capability: 99}, "capability"},
		{&moderationv1.CheckRequest{Account: strings.Repeat("a", 65)}, "account"},
	}
	for _, tt := range tests {
		_, err := client.Check(context.Background(), tt.req)
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument {
			t.Errorf("Check(%v): got %s, want InvalidArgument", tt.req, st.Code())
			continue
		}
		var fields []string
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				for _, v := range br.FieldViolations {
					fields = append(fields, v.Field)
				}
			}
		}
		if !slices.Contains(fields, tt.field) {
			t.Errorf("Check(%v): got field violations %v, want %q", tt.req, fields, tt.field)
		}
	}
}

// TestReflectionAndHealth: what grpcurl and orchestrators rely on.
func TestReflectionAndHealth(t *testing.T) {
	conn := serve(t, states{})
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.Name)
	}
	for _, want := range []string{"moderation.v1.ModerationService", "grpc.health.v1.Health"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, want %s among them", names, want)
		}
	}
	h, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health: got %v, %v; want SERVING", h, err)
	}
}

// TestCheckWhenStale: with NATS unreachable, Check still answers what it
// knows, says the answer may be behind, and (configured to fail closed)
// refuses accounts it knows nothing about.
func TestCheckWhenStale(t *testing.T) {
	future := time.Now().Add(time.Hour)
	client := moderationv1.NewModerationServiceClient(serve(t, states{
		"__stale":   &moderation.AccountState{},
		"suspended": {Current: &moderation.Decision{Action: moderation.ActionSuspend, Until: &future, DecisionID: "dec_1"}},
	}))
	for _, tt := range []struct {
		account     string
		wantAllowed bool
		wantStatus  moderationv1.Status
	}{
		{"suspended", false, moderationv1.Status_STATUS_SUSPENDED},
		{"never_seen", false, moderationv1.Status_STATUS_ACTIVE},
	} {
		resp, err := client.Check(context.Background(), &moderationv1.CheckRequest{Account: tt.account})
		if err != nil {
			t.Fatal(err)
		}
		if !resp.Stale || resp.Allowed != tt.wantAllowed || resp.Status != tt.wantStatus {
			t.Errorf("%s: got stale=%v allowed=%v status=%s, want stale, allowed=%v, %s", tt.account, resp.Stale, resp.Allowed, resp.Status, tt.wantAllowed, tt.wantStatus)
		}
	}
}

// TestAuthentication: no call reaches a handler without a valid token,
// except health and reflection, which say nothing about any account.
func TestAuthentication(t *testing.T) {
	s := start(t, states{}, Options{})
	_, otherKey, _ := ed25519.GenerateKey(nil)
	forged, _, err := auth.NewIssuer(otherKey).Mint(platform, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := s.issuer.Mint(platform, time.Minute, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	req := &moderationv1.CheckRequest{Account: "acct_1"}
	for name, token := range map[string]string{"none": "", "forged": forged, "expired": expired, "garbage": "not-a-jwt"} {
		opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
		if token != "" {
			opts = append(opts, grpc.WithPerRPCCredentials(auth.Bearer(token)))
		}
		conn, err := grpc.NewClient(s.addr, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = moderationv1.NewModerationServiceClient(conn).Check(context.Background(), req)
		if got := status.Code(err); got != codes.Unauthenticated {
			t.Errorf("%s token: got %s, want Unauthenticated", name, got)
		}
		if token != "" && strings.Contains(status.Convert(err).Message(), token) {
			t.Errorf("%s token: the error echoes the token", name)
		}
		if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
			t.Errorf("%s token: health: %v, want it served without a token", name, err)
		}
	}
	if strings.Contains(s.log.String(), forged) || strings.Contains(s.log.String(), expired) {
		t.Error("a token reached the log")
	}
}

// TestCallLogCarriesRequestIDAndRole: every call's log line names the
// request and the caller's role, never the token.
func TestCallLogCarriesRequestIDAndRole(t *testing.T) {
	s := start(t, states{}, Options{})
	conn := s.dial(t, platform)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-request-id", "req-42")
	var header metadata.MD
	if _, err := moderationv1.NewModerationServiceClient(conn).Check(ctx, &moderationv1.CheckRequest{Account: "acct_1"}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if got := header.Get("x-request-id"); !slices.Equal(got, []string{"req-42"}) {
		t.Errorf("response header x-request-id: got %v, want [req-42]", got)
	}
	var line map[string]any
	waitForLog(t, s, func() bool {
		for _, l := range strings.Split(s.log.String(), "\n") {
			if strings.Contains(l, `"req-42"`) {
				return json.Unmarshal([]byte(l), &line) == nil
			}
		}
		return false
	})
	for k, want := range map[string]any{"request_id": "req-42", "role": "service", "subject": "svc-test", "grpc.method": "Check", "grpc.code": "OK"} {
		if line[k] != want {
			t.Errorf("log field %s: got %v, want %v (line %v)", k, line[k], want, line)
		}
	}
	if strings.Contains(s.log.String(), "Bearer") {
		t.Error("the authorization header reached the log")
	}
}

func waitForLog(t *testing.T, s *server, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("log line not written; log:\n%s", s.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOwnerRateLimit: an owner's calls beyond the burst are refused with
// ResourceExhausted; a platform service's are not limited.
func TestOwnerRateLimit(t *testing.T) {
	s := start(t, states{}, Options{OwnerRate: 0.001, OwnerBurst: 3})
	owner := moderationv1.NewModerationServiceClient(s.dial(t, auth.Identity{Subject: "o", Role: auth.RoleOwner, Account: "acct_o"}))
	var codesSeen []codes.Code
	for range 5 {
		_, err := owner.Check(context.Background(), &moderationv1.CheckRequest{Account: "acct_o"})
		codesSeen = append(codesSeen, status.Code(err))
	}
	want := []codes.Code{codes.OK, codes.OK, codes.OK, codes.ResourceExhausted, codes.ResourceExhausted}
	if !slices.Equal(codesSeen, want) {
		t.Errorf("owner calls: got %v, want %v", codesSeen, want)
	}
	svc := moderationv1.NewModerationServiceClient(s.dial(t, platform))
	for i := range 10 {
		if _, err := svc.Check(context.Background(), &moderationv1.CheckRequest{Account: "acct_o"}); err != nil {
			t.Fatalf("service call %d: %v", i, err)
		}
	}
}

// panicky is an Enforcement that fails as badly as a handler can.
type panicky struct{ states }

func (panicky) Get(string) *moderation.AccountState { panic("corrupt state") }

// TestPanicBecomesInternal: a panic in a handler is Internal for that
// caller, and the server goes on serving.
func TestPanicBecomesInternal(t *testing.T) {
	s := start(t, panicky{}, Options{})
	client := moderationv1.NewModerationServiceClient(s.dial(t, platform))
	_, err := client.Check(context.Background(), &moderationv1.CheckRequest{Account: "acct_1"})
	if got := status.Code(err); got != codes.Internal {
		t.Fatalf("got %s, want Internal", got)
	}
	if _, err := healthpb.NewHealthClient(s.dial(t, auth.Identity{})).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("after the panic: health %v", err)
	}
}

// TestHotPathLogsRefusalsOnly: at info level Check's successes are not
// logged (that is most of the traffic), its refusals are, with the same
// fields as every other call's line.
func TestHotPathLogsRefusalsOnly(t *testing.T) {
	s := startAt(t, states{}, Options{}, slog.LevelInfo)
	ok := moderationv1.NewModerationServiceClient(s.dial(t, platform))
	if _, err := ok.Check(context.Background(), &moderationv1.CheckRequest{Account: "acct_ok"}); err != nil {
		t.Fatal(err)
	}
	owner := moderationv1.NewModerationServiceClient(s.dial(t, auth.Identity{Subject: "bob", Role: auth.RoleOwner, Account: "acct_bob"}))
	if _, err := owner.Check(context.Background(), &moderationv1.CheckRequest{Account: "acct_other"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("got %v, want PermissionDenied", err)
	}
	var line map[string]any
	waitForLog(t, s, func() bool {
		for _, l := range strings.Split(s.log.String(), "\n") {
			if strings.Contains(l, "PermissionDenied") {
				return json.Unmarshal([]byte(l), &line) == nil
			}
		}
		return false
	})
	for k, want := range map[string]any{"role": "owner", "subject": "bob", "grpc.method": "Check", "grpc.code": "PermissionDenied", "level": "INFO"} {
		if line[k] != want {
			t.Errorf("log field %s: got %v, want %v (line %v)", k, line[k], want, line)
		}
	}
	if line["request_id"] == nil || line["request_id"] == "" {
		t.Errorf("no request_id in %v", line)
	}
	if strings.Contains(s.log.String(), "acct_ok") || strings.Count(s.log.String(), "finished call") != 1 {
		t.Errorf("a successful Check was logged at info:\n%s", s.log.String())
	}
}

// TestHandCheckMatchesProtovalidate: Check's requests are validated by hand
// for speed; this holds the hand check to the rules written in the .proto.
func TestHandCheckMatchesProtovalidate(t *testing.T) {
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	accounts := []string{"", "a", "acct_42", "A-Z_0-9", strings.Repeat("x", 64), strings.Repeat("x", 65), "has.dot", "has space",
		"ünïcode", "tab\t", "new\nline", "slash/", "star*", ">", "账号", "a\x00b"}
	for _, a := range accounts {
		for _, c := range []moderationv1.Capability{0, 1, 2, 3, -1} {
			req := &moderationv1.CheckRequest{Account: a, Capability: c}
			want := v.Validate(req) == nil
			got := validCheck("", req) == nil
			if got != want {
				t.Errorf("account %q capability %d: hand check valid=%v, protovalidate valid=%v", a, c, got, want)
			}
		}
	}
	for _, n := range []int{0, 1, 1000, 1001} {
		req := &moderationv1.BatchCheckRequest{}
		for range n {
			req.Checks = append(req.Checks, &moderationv1.CheckRequest{Account: "a"})
		}
		want := v.Validate(req) == nil
		_, err := (&moderationService{api: &api{deps: Deps{Enforcement: states{}}, now: time.Now}}).BatchCheck(context.Background(), req)
		if got := err == nil; got != want {
			t.Errorf("%d checks: hand check valid=%v, protovalidate valid=%v", n, got, want)
		}
	}
}
