package grpcapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/moderation"
	"moderation/internal/transparency"
)

// AuditTrail reads the audit trail (transparency.Trail).
type AuditTrail interface {
	Scan(ctx context.Context, f transparency.Filter, fn func(e *transparency.Entry, p transparency.Progress) error) (uint64, error)
}

type auditService struct {
	*api
	moderationv1.UnimplementedAuditServiceServer
}

// Bounds of one search page.
const (
	defaultAuditLimit = 100
	defaultScanLimit  = 100_000
	// exportChunk is about how many bytes an export sends at once.
	exportChunk = 64 << 10
)

func auditFilter(account, actor, rule, kind string, since, until *timestamppb.Timestamp) transparency.Filter {
	f := transparency.Filter{Account: account, Actor: actor, Rule: rule, Kind: kind}
	if since != nil {
		f.Since = since.AsTime()
	}
	if until != nil {
		f.Until = until.AsTime()
	}
	return f
}

// exportRange closes an export's range at now when it has no end, and
// refuses a range that ends before it starts.
func (s *auditService) exportRange(f transparency.Filter) (transparency.Filter, error) {
	if f.Until.IsZero() {
		f.Until = s.now()
		if !f.Until.After(f.Since) {
			return f, moderation.Invalid("since", "must be in the past")
		}
	}
	return f, f.Validate()
}

// SearchAudit returns one page of matching records.
func (s *auditService) SearchAudit(ctx context.Context, req *moderationv1.SearchAuditRequest) (*moderationv1.SearchAuditResponse, error) {
	f := auditFilter(req.GetAccount(), req.GetActor(), req.GetRule(), req.GetKind(), req.GetSince(), req.GetUntil())
	f.FromSeq = req.GetFromSequence()
	limit := int(req.GetLimit())
	if limit == 0 {
		limit = defaultAuditLimit
	}
	f.MaxScan = uint64(req.GetScanLimit())
	if f.MaxScan == 0 {
		f.MaxScan = defaultScanLimit
	}
	out := &moderationv1.SearchAuditResponse{}
	next, err := s.deps.Audit.Scan(ctx, f, func(e *transparency.Entry, p transparency.Progress) error {
		out.Scanned = p.Scanned
		if e != nil {
			out.Entries = append(out.Entries, entryToProto(e))
		}
		if len(out.Entries) >= limit {
			return transparency.ErrStop
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.NextSequence = next
	return out, nil
}

func entryToProto(e *transparency.Entry) *moderationv1.AuditEntry {
	return &moderationv1.AuditEntry{Sequence: e.Seq, Time: timestamppb.New(e.Time), Subject: e.Subject, Kind: e.Kind,
		Account: e.Account, Actor: e.Actor, Rule: e.Rule, Action: e.Action, DecisionId: e.DecisionID,
		Summary: e.Summary, RecordJson: string(e.Record)}
}

var auditFormats = map[moderationv1.AuditFormat]string{
	moderationv1.AuditFormat_AUDIT_FORMAT_CSV:   transparency.FormatCSV,
	moderationv1.AuditFormat_AUDIT_FORMAT_JSONL: transparency.FormatJSONL,
}

// ExportAudit streams the matching records as CSV or JSON Lines.
func (s *auditService) ExportAudit(req *moderationv1.ExportAuditRequest, stream moderationv1.AuditService_ExportAuditServer) error {
	f, err := s.exportRange(auditFilter(req.GetAccount(), req.GetActor(), req.GetRule(), req.GetKind(), req.GetSince(), req.GetUntil()))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w, err := transparency.NewEntryWriter(auditFormats[req.GetFormat()], &buf)
	if err != nil {
		return moderation.Invalid("format", err.Error())
	}
	var last transparency.Progress
	send := func(final bool) error {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("export audit: %w", err)
		}
		if buf.Len() < exportChunk && !final {
			return nil
		}
		chunk := &moderationv1.ExportChunk{Data: bytes.Clone(buf.Bytes()), Scanned: last.Scanned, Exported: last.Matched, Total: last.Total}
		buf.Reset()
		return stream.Send(chunk)
	}
	_, err = s.deps.Audit.Scan(stream.Context(), f, func(e *transparency.Entry, p transparency.Progress) error {
		last = p
		if e != nil {
			if err := w.Write(e); err != nil {
				return fmt.Errorf("export audit: %w", err)
			}
		}
		return send(false)
	})
	if err != nil {
		return err
	}
	return send(true)
}

// ExportStatements streams the statements of reasons of the decisions in
// a time range, a batch of at most transparency.BatchSize per chunk.
func (s *auditService) ExportStatements(req *moderationv1.ExportStatementsRequest, stream moderationv1.AuditService_ExportStatementsServer) error {
	f, err := s.exportRange(auditFilter("", "", "", transparency.KindEnforcement, req.GetSince(), req.GetUntil()))
	if err != nil {
		return err
	}
	if err := transparency.ValidScope(req.GetTerritorialScope()); err != nil {
		return err
	}
	opts := transparency.Options{TerritorialScope: req.GetTerritorialScope()}
	var (
		batch                       transparency.Batch
		last                        transparency.Progress
		exported, skipped, progress uint64
		sent                        int
	)
	send := func() error {
		chunk := &moderationv1.ExportChunk{Scanned: last.Scanned, Exported: exported, Total: last.Total, Skipped: skipped}
		if len(batch.Statements) > 0 {
			data, err := json.Marshal(batch)
			if err != nil {
				return fmt.Errorf("export statements: %w", err)
			}
			chunk.Data = data
			batch.Statements = batch.Statements[:0]
		}
		progress = last.Scanned
		sent++
		return stream.Send(chunk)
	}
	_, err = s.deps.Audit.Scan(stream.Context(), f, func(e *transparency.Entry, p transparency.Progress) error {
		last = p
		if e != nil {
			if st, ok := transparency.StatementOf(e.Decision, opts); ok {
				batch.Statements = append(batch.Statements, st)
				exported++
			} else {
				skipped++
			}
		}
		if len(batch.Statements) == transparency.BatchSize || e == nil && p.Scanned > progress {
			return send()
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The scan's last call sent what was left, unless it had read
	// nothing new since the chunk before.
	if len(batch.Statements) > 0 || sent == 0 {
		return send()
	}
	return nil
}
