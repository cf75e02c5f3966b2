package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/events"
	"moderation/internal/moderation"
)

type moderationService struct {
	*api
	moderationv1.UnimplementedModerationServiceServer
}

// Check answers from memory: it never waits on NATS for an account the
// cache holds or knows to be clear.
func (s *moderationService) Check(_ context.Context, req *moderationv1.CheckRequest) (*moderationv1.CheckResponse, error) {
	if err := validCheck("", req); err != nil {
		return nil, err
	}
	return s.check(req), nil
}

// BatchCheck answers each check as Check would, in order.
func (s *moderationService) BatchCheck(_ context.Context, req *moderationv1.BatchCheckRequest) (*moderationv1.BatchCheckResponse, error) {
	if n := len(req.GetChecks()); n < 1 || n > 1000 {
		return nil, moderation.Invalid("checks", "must hold 1 to 1000 checks")
	}
	for i, c := range req.GetChecks() {
		if err := validCheck(fmt.Sprintf("checks[%d].", i), c); err != nil {
			return nil, err
		}
	}
	out := &moderationv1.BatchCheckResponse{Results: make([]*moderationv1.CheckResponse, len(req.GetChecks()))}
	for i, c := range req.GetChecks() {
		out.Results[i] = s.check(c)
	}
	return out, nil
}

// check answers one validated request.
func (s *moderationService) check(req *moderationv1.CheckRequest) *moderationv1.CheckResponse {
	// While stale (loading, or NATS unreachable) the answer is still the
	// best known, flagged so the caller can weigh it.
	resp := &moderationv1.CheckResponse{Account: req.GetAccount(), Stale: s.deps.Enforcement.Stale()}
	now := s.now()
	st := s.deps.Enforcement.Get(req.GetAccount())
	if st == nil && resp.Stale && s.opts.DenyUnknownWhenStale {
		resp.Status = moderationv1.Status_STATUS_ACTIVE // nothing known against it, but nothing known for sure
		return resp
	}
	action := st.Effective(now)
	resp.Status = statuses[action]
	if c, named := capabilities[req.GetCapability()]; named {
		resp.Allowed = st.Allows(c, now)
	} else {
		// No capability named: allowed means nothing at all is restricted.
		resp.Allowed = action.Severity() < moderation.ActionLimit.Severity()
	}
	if action != moderation.ActionAllow {
		d := st.Current
		resp.DecisionId, resp.PolicyVersion = d.DecisionID, d.PolicyVersion
		resp.Reasons = reasonsToProto(d.Reasons)
		if d.Until != nil {
			resp.Until = timestamppb.New(*d.Until)
		}
	}
	return resp
}

// Ingest validates the whole batch, then stores it through JetStream.
func (s *moderationService) Ingest(ctx context.Context, req *moderationv1.IngestRequest) (*moderationv1.IngestResponse, error) {
	evs := make([]*moderation.Event, len(req.GetEvents()))
	for i, pb := range req.GetEvents() {
		ev, err := events.FromProto(pb)
		if err == nil {
			err = events.Validate(ev)
		}
		if err == nil { // the pipeline checks again against the stored time, with the configured skew
			err = events.CheckClock(ev, s.now(), s.opts.MaxClockSkew)
		}
		if err != nil {
			return nil, inField(fmt.Sprintf("events[%d]", i), err)
		}
		evs[i] = ev
	}
	stored, err := s.deps.Events.Ingest(ctx, evs)
	if err != nil {
		return nil, err
	}
	out := &moderationv1.IngestResponse{Results: make([]*moderationv1.IngestResult, len(stored))}
	for i, r := range stored {
		out.Results[i] = &moderationv1.IngestResult{Id: r.Event.ID, Sequence: r.Seq, Duplicate: r.Duplicate}
	}
	return out, nil
}

// inField prefixes the field an invalid-input error names with where it
// sits in the request, e.g. events[3].account.
func inField(prefix string, err error) error {
	var fe *moderation.FieldError
	if errors.As(err, &fe) {
		return moderation.Invalid(prefix+"."+fe.Field, fe.Reason)
	}
	if errors.Is(err, moderation.ErrInvalid) {
		return moderation.Invalid(prefix, err.Error())
	}
	return err
}

// GetDecision returns one decision on an account.
func (s *moderationService) GetDecision(ctx context.Context, req *moderationv1.GetDecisionRequest) (*moderationv1.Decision, error) {
	rec, err := s.deps.Decisions.Get(ctx, req.GetAccount(), req.GetDecisionId())
	if err != nil {
		return nil, err
	}
	return decisionToProto(*rec), nil
}

const defaultPageSize = 50

// ListDecisions pages by stream sequence: the token is where the next page
// starts, so pages stay stable while decisions are appended.
func (s *moderationService) ListDecisions(ctx context.Context, req *moderationv1.ListDecisionsRequest) (*moderationv1.ListDecisionsResponse, error) {
	var from uint64
	if t := req.GetPageToken(); t != "" {
		var err error
		if from, err = strconv.ParseUint(t, 10, 64); err != nil {
			return nil, moderation.Invalid("page_token", "is not a token this service returned")
		}
	}
	size := int(req.GetPageSize())
	if size == 0 {
		size = defaultPageSize
	}
	page, next, err := s.deps.Decisions.List(ctx, req.GetAccount(), from, size)
	if err != nil {
		return nil, err
	}
	out := &moderationv1.ListDecisionsResponse{Decisions: make([]*moderationv1.Decision, len(page))}
	for i, rec := range page {
		out.Decisions[i] = decisionToProto(rec)
	}
	if next > 0 {
		out.NextPageToken = strconv.FormatUint(next, 10)
	}
	return out, nil
}

// WatchEnforcement streams changes until the caller goes away.
func (s *moderationService) WatchEnforcement(req *moderationv1.WatchEnforcementRequest, stream moderationv1.ModerationService_WatchEnforcementServer) error {
	ctx := stream.Context()
	err := s.deps.Decisions.Watch(ctx, req.GetAccount(), req.GetFromSequence(), func(rec moderation.DecisionRecord) error {
		return stream.Send(&moderationv1.EnforcementChange{Sequence: rec.Seq, Decision: decisionToProto(rec)})
	})
	if ctx.Err() != nil {
		return nil // the caller hung up: a normal end
	}
	return err
}

// validCheck applies the CheckRequest rules of moderation.proto.
func validCheck(prefix string, req *moderationv1.CheckRequest) error {
	if !moderation.ValidAccountID(req.GetAccount()) {
		return moderation.Invalid(prefix+"account", "must match ^[A-Za-z0-9_-]{1,64}$")
	}
	if _, ok := moderationv1.Capability_name[int32(req.GetCapability())]; !ok {
		return moderation.Invalid(prefix+"capability", "is not a known capability")
	}
	return nil
}
