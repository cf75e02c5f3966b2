package grpcapi

import (
	"context"
	"io"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/moderation"
)

// states is an Enforcement over a fixed set of account states.
type states map[string]*moderation.AccountState

func (s states) Get(account string) *moderation.AccountState { return s[account] }
func (s states) Stale() bool                                 { return s["__stale"] != nil }

func serve(t *testing.T, enf Enforcement) *grpc.ClientConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, hs := NewServer(enf, Options{DenyUnknownWhenStale: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
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
