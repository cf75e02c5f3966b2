package grpcapi

import (
	"context"
	"slices"
	"time"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/appeals"
	"moderation/internal/events"
	"moderation/internal/moderation"
)

type reviewService struct {
	*api
	moderationv1.UnimplementedReviewServiceServer
}

// GetTimeline gathers what the service knows about an account.
func (s *reviewService) GetTimeline(ctx context.Context, req *moderationv1.GetTimelineRequest) (*moderationv1.Timeline, error) {
	account := req.GetAccount()
	limit := int(req.GetLimit())
	if limit == 0 {
		limit = 100
	}
	var since time.Time
	if req.GetSince() != nil {
		since = req.GetSince().AsTime()
	}
	out := &moderationv1.Timeline{
		Account: account,
		Current: (&moderationService{api: s.api}).check(&moderationv1.CheckRequest{Account: account}),
	}
	evs, err := s.deps.Events.History(ctx, account, since, limit)
	if err != nil {
		return nil, err
	}
	for _, rec := range evs {
		pb, err := events.ToProto(rec.Event)
		if err != nil {
			continue // a retained event the API cannot carry (never stored through validation)
		}
		out.Events = append(out.Events, &moderationv1.TimelineEvent{Sequence: rec.Seq, Event: pb})
	}
	if signals, ok := s.deps.Signals.Signals(account); ok {
		names := make([]string, 0, len(signals))
		for name := range signals {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			sig := signals[name]
			out.Signals = append(out.Signals, &moderationv1.Signal{Name: name, Values: sig.Values, Evidence: sig.Evidence})
		}
	}
	if s.deps.Appeals != nil {
		all, err := s.deps.Appeals.Queue(ctx, appeals.Filter{Account: account})
		if err != nil {
			return nil, err
		}
		for _, a := range all { // oldest first, like the rest
			out.Appeals = append(out.Appeals, appealToProto(a, s.now()))
		}
	}
	for from := uint64(1); ; {
		page, next, err := s.deps.Decisions.List(ctx, account, from, 500)
		if err != nil {
			return nil, err
		}
		for _, rec := range page {
			out.Decisions = append(out.Decisions, decisionToProto(rec))
		}
		if next == 0 {
			break
		}
		from = next
	}
	return out, nil
}

// TakeAction applies a reviewer's manual action.
func (s *reviewService) TakeAction(ctx context.Context, req *moderationv1.TakeActionRequest) (*moderationv1.Decision, error) {
	a := moderation.ManualAction{
		Account:      req.GetAccount(),
		Actor:        actor(ctx),
		Action:       actionFromProto(req.GetAction()),
		ReasonCode:   req.GetReasonCode(),
		Detail:       req.GetDetail(),
		Note:         req.GetNote(),
		AppealWindow: s.opts.AppealWindow,
		RequestID:    idempotencyKey(ctx),
	}
	if req.GetDuration() != nil {
		a.Duration = req.GetDuration().AsDuration()
	}
	for _, c := range req.GetRestricts() {
		a.Restricts = append(a.Restricts, capabilities[c])
	}
	d, err := s.deps.Actions.TakeAction(ctx, a, s.now())
	if err != nil {
		return nil, err
	}
	return decisionToProto(moderation.DecisionRecord{Decision: d}), nil
}

// Backtest replays retained events through the candidate in the request.
func (s *reviewService) Backtest(ctx context.Context, req *moderationv1.BacktestRequest) (*moderationv1.BacktestResponse, error) {
	var since, until time.Time
	if req.GetSince() != nil {
		since = req.GetSince().AsTime()
	}
	if req.GetUntil() != nil {
		until = req.GetUntil().AsTime()
	}
	r, err := s.deps.Backtester.Backtest(ctx, req.GetFiles(), since, until)
	if err != nil {
		return nil, err
	}
	changes := func(cs []BacktestChange) []*moderationv1.BacktestChange {
		out := make([]*moderationv1.BacktestChange, len(cs))
		for i, c := range cs {
			out[i] = &moderationv1.BacktestChange{Account: c.Account, Was: c.Was, Would: c.Would, Rule: c.Rule, Reason: c.Reason}
		}
		return out
	}
	return &moderationv1.BacktestResponse{PolicyVersion: r.PolicyVersion, Events: int64(r.Events),
		Actioned: changes(r.Actioned), Released: changes(r.Released)}, nil
}
