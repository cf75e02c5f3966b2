package grpcapi

import (
	"context"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/authz"
	"moderation/internal/enforcement"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
	"moderation/internal/transparency"
)

var (
	auditReviewer = auth.Identity{Subject: "alice", Role: auth.RoleReviewer}
	auditOwner    = auth.Identity{Subject: "bob", Role: auth.RoleOwner, Account: "acct_0"}
)

// auditServer is the API over a real decisions stream on an embedded
// NATS server, with real tokens and the real authorization policy.
type auditServer struct {
	*server
	js jetstream.JetStream
}

func startAudit(t *testing.T) *auditServer {
	t.Helper()
	nsrv := natstest.Start(t)
	_, js := nsrv.Connect(t, natsbus.RoleService)
	streams, err := natsbus.Setup(context.Background(), js, natsbus.Config{})
	if err != nil {
		t.Fatal(err)
	}
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
	s := &server{addr: ln.Addr().String(), issuer: auth.NewIssuer(key)}
	srv, _, err := NewServer(Deps{Enforcement: states{}, Audit: transparency.NewTrail(streams.Decisions),
		Verifier: auth.NewVerifier(key.Public().(ed25519.PublicKey)), Issuer: s.issuer, Authorizer: az},
		Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return &auditServer{server: s, js: js}
}

// decide stores a decision as the service does, on its account's
// enforcement subject.
func (a *auditServer) decide(t *testing.T, d *moderation.Decision) {
	t.Helper()
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.js.Publish(context.Background(), natsbus.EnforcementPrefix+d.Account, data); err != nil {
		t.Fatal(err)
	}
}

func limitOn(i int, facts string) *moderation.Decision {
	until := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	return &moderation.Decision{Account: fmt.Sprintf("acct_%d", i), Action: moderation.ActionLimit,
		DecisionID: moderation.DecisionID(fmt.Sprintf("acct_%d", i), "e1"), PolicyVersion: "embedded@1",
		At: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), Until: &until,
		Reasons: []moderation.Reason{{Code: "bulk_add", Detail: "120 friend requests in the last hour"}},
		Statement: moderation.Statement{Measure: "Adding friends is limited.", Facts: facts, AutomatedDetection: true,
			AutomatedDecision: "fully", Ground: "Platform rules on adding friends", Explanation: "Bulk adding is how spam starts."}}
}

func fieldsOf(err error) []string {
	var fields []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				fields = append(fields, v.Field)
			}
		}
	}
	return fields
}

// TestSearchAuditOverGRPC: a reviewer finds an account's records and a
// reviewer's actions, page by page; an owner is refused; a range that
// ends before it starts is InvalidArgument naming until.
func TestSearchAuditOverGRPC(t *testing.T) {
	a := startAudit(t)
	ctx := context.Background()
	for i := range 5 {
		a.decide(t, limitOn(i, "bulk_add: 120 friend requests"))
	}
	rec, _ := json.Marshal(enforcement.ManualRecord{Account: "acct_3", Actor: "reviewer:alice", Action: moderation.ActionRestore, DecisionID: "dec_r", Note: "conference"})
	if _, err := a.js.Publish(ctx, "mod.audit.manual.acct_3", rec); err != nil {
		t.Fatal(err)
	}
	client := moderationv1.NewAuditServiceClient(a.dial(t, auditReviewer))

	got, err := client.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Account: "acct_3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Entries) != 2 || got.Entries[0].Kind != "enforcement" || got.Entries[1].Kind != "manual" || got.NextSequence != 0 {
		t.Fatalf("acct_3: got %v", got)
	}
	if e := got.Entries[1]; e.Actor != "reviewer:alice" || e.Summary != "conference" || !strings.Contains(e.RecordJson, `"note":"conference"`) {
		t.Errorf("manual entry: %v", e)
	}
	byActor, err := client.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Actor: "alice"})
	if err != nil || len(byActor.Entries) != 1 || byActor.Entries[0].DecisionId != "dec_r" {
		t.Errorf("by actor: %v, %v", byActor, err)
	}

	none, err := client.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Actor: "nobody"})
	if err != nil || len(none.Entries) != 0 || none.Scanned != 6 || none.NextSequence != 0 {
		t.Errorf("a search that matches nothing: %v, %v; want all 6 records read", none, err)
	}
	rare, err := client.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Actor: "nobody", ScanLimit: 4})
	if err != nil || rare.Scanned != 4 || rare.NextSequence != 5 {
		t.Errorf("scan_limit 4: %v, %v; want 4 read and the next page at 5", rare, err)
	}

	var pages [][]string
	for from := uint64(0); ; {
		page, err := client.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Rule: "bulk_add", Limit: 2, FromSequence: from})
		if err != nil {
			t.Fatal(err)
		}
		var accounts []string
		for _, e := range page.Entries {
			accounts = append(accounts, e.Account)
		}
		pages = append(pages, accounts)
		if page.NextSequence == 0 || len(pages) > 5 {
			break
		}
		from = page.NextSequence
	}
	if fmt.Sprint(pages) != "[[acct_0 acct_1] [acct_2 acct_3] [acct_4]]" {
		t.Errorf("pages by rule: got %v", pages)
	}

	now := time.Now()
	_, err = client.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Since: timestamppb.New(now), Until: timestamppb.New(now.Add(-time.Hour))})
	if status.Code(err) != codes.InvalidArgument || !slices.Contains(fieldsOf(err), "until") {
		t.Errorf("until before since: got %v with fields %v, want InvalidArgument on until", err, fieldsOf(err))
	}
	_, err = client.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Account: "acct 1"})
	if status.Code(err) != codes.InvalidArgument || !slices.Contains(fieldsOf(err), "account") {
		t.Errorf("bad account: got %v with fields %v, want InvalidArgument on account", err, fieldsOf(err))
	}

	owner := moderationv1.NewAuditServiceClient(a.dial(t, auditOwner))
	if _, err := owner.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Account: "acct_0"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("owner: got %v, want PermissionDenied", err)
	}
}

func readExport(t *testing.T, recv func() (*moderationv1.ExportChunk, error)) (chunks []*moderationv1.ExportChunk, data []byte) {
	t.Helper()
	for {
		c, err := recv()
		if errors.Is(err, io.EOF) {
			return chunks, data
		}
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		chunks = append(chunks, c)
		data = append(data, c.Data...)
	}
}

// TestExportAuditOverGRPC: CSV and JSON Lines carry the same records;
// an export needs since.
func TestExportAuditOverGRPC(t *testing.T) {
	a := startAudit(t)
	ctx := context.Background()
	for i := range 3 {
		a.decide(t, limitOn(i, "bulk_add"))
	}
	client := moderationv1.NewAuditServiceClient(a.dial(t, auditReviewer))
	since := timestamppb.New(time.Now().Add(-time.Hour))

	stream, err := client.ExportAudit(ctx, &moderationv1.ExportAuditRequest{Since: since, Format: moderationv1.AuditFormat_AUDIT_FORMAT_CSV})
	if err != nil {
		t.Fatal(err)
	}
	chunks, data := readExport(t, stream.Recv)
	rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != "seq" || rows[3][4] != "acct_2" {
		t.Errorf("csv: got %q", rows)
	}
	if last := chunks[len(chunks)-1]; last.Exported != 3 || last.Total != 3 {
		t.Errorf("csv progress: got exported %d of %d, want 3 of 3", last.Exported, last.Total)
	}

	stream, err = client.ExportAudit(ctx, &moderationv1.ExportAuditRequest{Since: since, Account: "acct_1", Format: moderationv1.AuditFormat_AUDIT_FORMAT_JSONL})
	if err != nil {
		t.Fatal(err)
	}
	_, data = readExport(t, stream.Recv)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var e transparency.Entry
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &e) != nil || e.Account != "acct_1" || e.Rule != "bulk_add" {
		t.Errorf("jsonl: got %q", lines)
	}

	stream, err = client.ExportAudit(ctx, &moderationv1.ExportAuditRequest{Format: moderationv1.AuditFormat_AUDIT_FORMAT_CSV})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.InvalidArgument || !slices.Contains(fieldsOf(err), "since") {
		t.Errorf("no since: got %v with fields %v, want InvalidArgument on since", err, fieldsOf(err))
	}
}

// TestExportStatementsOverGRPC: 150 limits and 10 warnings in range give
// two batches of the API's JSON (100 and 50), the warnings counted as
// skipped, and nothing in them names an account or the handle and phone
// number the facts quoted.
func TestExportStatementsOverGRPC(t *testing.T) {
	a := startAudit(t)
	ctx := context.Background()
	for i := range 160 {
		d := limitOn(i, "bulk_add: 120 friend requests; the requests invite people to add WeChat id lily_vip88 or call 13800138000")
		if i%16 == 15 {
			d.Action = moderation.ActionWarn
		}
		a.decide(t, d)
	}
	client := moderationv1.NewAuditServiceClient(a.dial(t, auditReviewer))
	stream, err := client.ExportStatements(ctx, &moderationv1.ExportStatementsRequest{Since: timestamppb.New(time.Now().Add(-time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	chunks, _ := readExport(t, stream.Recv)
	var batches []transparency.Batch
	var all []byte
	for _, c := range chunks {
		if len(c.Data) == 0 {
			continue
		}
		var b transparency.Batch
		if err := json.Unmarshal(c.Data, &b); err != nil {
			t.Fatalf("chunk is not a statements batch: %v", err)
		}
		batches = append(batches, b)
		all = append(all, c.Data...)
	}
	if len(batches) != 2 || len(batches[0].Statements) != 100 || len(batches[1].Statements) != 50 {
		t.Fatalf("batches: got %d", len(batches))
	}
	last := chunks[len(chunks)-1]
	if last.Exported != 150 || last.Skipped != 10 || last.Scanned != 160 {
		t.Errorf("progress: exported %d, skipped %d, scanned %d; want 150, 10, 160", last.Exported, last.Skipped, last.Scanned)
	}
	text := string(all)
	for _, bad := range []string{"acct_", "lily_vip88", "13800138000"} {
		if strings.Contains(text, bad) {
			t.Errorf("statements contain %q", bad)
		}
	}
	if s := batches[0].Statements[0]; s.PUID != moderation.DecisionID("acct_0", "e1") || s.DecisionProvision != transparency.ProvisionPartialSuspension {
		t.Errorf("first statement: %+v", s)
	}

	stream, err = client.ExportStatements(ctx, &moderationv1.ExportStatementsRequest{Since: timestamppb.New(time.Now().Add(-time.Hour)), TerritorialScope: []string{"DE", "CN"}})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.InvalidArgument || !slices.Contains(fieldsOf(err), "territorial_scope[1]") {
		t.Errorf("scope CN: got %v with fields %v, want InvalidArgument on territorial_scope[1]", err, fieldsOf(err))
	}
	stream, err = client.ExportStatements(ctx, &moderationv1.ExportStatementsRequest{Since: timestamppb.New(time.Now().Add(-time.Hour)), TerritorialScope: []string{"DE", "NO"}})
	if err != nil {
		t.Fatal(err)
	}
	chunks, _ = readExport(t, stream.Recv)
	var scoped transparency.Batch
	if err := json.Unmarshal(chunks[0].Data, &scoped); err != nil || fmt.Sprint(scoped.Statements[0].TerritorialScope) != "[DE NO]" {
		t.Errorf("scope DE, NO: %v, %v", scoped.Statements[0].TerritorialScope, err)
	}

	owner := moderationv1.NewAuditServiceClient(a.dial(t, auth.Identity{Subject: "svc", Role: auth.RoleService}))
	stream, err = owner.ExportStatements(ctx, &moderationv1.ExportStatementsRequest{Since: timestamppb.New(time.Now().Add(-time.Hour))})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("service: got %v, want PermissionDenied", err)
	}
}
