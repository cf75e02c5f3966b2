package grpcapi

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/appeals"
	"moderation/internal/moderation"
)

// appealService is the owners' side of appeals; authorization has already
// bound an owner to the account the request names.
type appealService struct {
	*api
	moderationv1.UnimplementedAppealServiceServer
}

func (s *appealService) FileAppeal(ctx context.Context, req *moderationv1.FileAppealRequest) (*moderationv1.Appeal, error) {
	a, err := s.deps.Appeals.File(ctx, appeals.FileRequest{Account: req.GetAccount(), DecisionID: req.GetDecisionId(),
		Statement: req.GetStatement(), EvidenceURLs: req.GetEvidenceUrls(), Actor: actor(ctx)})
	if err != nil {
		return nil, err
	}
	return appealToProto(a, s.now()), nil
}

func (s *appealService) GetAppeal(ctx context.Context, req *moderationv1.GetAppealRequest) (*moderationv1.Appeal, error) {
	a, err := s.deps.Appeals.Get(ctx, req.GetAccount(), req.GetAppealId())
	if err != nil {
		return nil, err
	}
	return appealToProto(a, s.now()), nil
}

func (s *appealService) ListMyAppeals(ctx context.Context, req *moderationv1.ListMyAppealsRequest) (*moderationv1.ListMyAppealsResponse, error) {
	as, err := s.deps.Appeals.ListMine(ctx, req.GetAccount())
	if err != nil {
		return nil, err
	}
	out := &moderationv1.ListMyAppealsResponse{}
	for _, a := range as {
		out.Appeals = append(out.Appeals, appealToProto(a, s.now()))
	}
	return out, nil
}

func (s *appealService) WithdrawAppeal(ctx context.Context, req *moderationv1.WithdrawAppealRequest) (*moderationv1.Appeal, error) {
	a, err := s.deps.Appeals.Withdraw(ctx, req.GetAccount(), req.GetAppealId(), actor(ctx))
	if err != nil {
		return nil, err
	}
	return appealToProto(a, s.now()), nil
}

// ListAppeals is the reviewers' queue, oldest first. The store is read
// once for the state asked; the other filters, the counts and the page are
// taken from that one listing, at one instant, so the counts and the page
// agree.
func (s *reviewService) ListAppeals(ctx context.Context, req *moderationv1.ListAppealsRequest) (*moderationv1.ListAppealsResponse, error) {
	now := s.now()
	base := appeals.Filter{State: appeals.Filed, Now: now}
	if st := req.GetState(); st != moderationv1.AppealState_APPEAL_STATE_UNSPECIFIED {
		base.State = appealStateFromProto[st]
	} else if req.GetOpen() {
		base.State = "" // filed and in review, picked below
	}
	f := base
	f.Rule, f.AccountType, f.PolicyVersion = req.GetRule(), req.GetAccountType(), req.GetPolicyVersion()
	if req.GetMinAge() != nil {
		f.FiledBefore = now.Add(-req.GetMinAge().AsDuration())
	}
	inState, err := s.deps.Appeals.Queue(ctx, base)
	if err != nil {
		return nil, err
	}
	if base.State == "" {
		inState = slices.DeleteFunc(inState, func(a *appeals.Appeal) bool {
			st := a.StateAt(now)
			return st != appeals.Filed && st != appeals.InReview
		})
	}
	all := make([]*appeals.Appeal, 0, len(inState))
	for _, a := range inState {
		if f.Match(a) {
			all = append(all, a)
		}
	}
	from := 0
	if t := req.GetPageToken(); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return nil, moderation.Invalid("page_token", "is not a token this service returned")
		}
		from = min(n, len(all))
	}
	size := int(req.GetPageSize())
	if size == 0 {
		size = defaultPageSize
	}
	to := min(from+size, len(all))
	out := &moderationv1.ListAppealsResponse{Total: int32(len(all)), Appeals: make([]*moderationv1.Appeal, 0, to-from)}
	for _, a := range all[from:to] {
		out.Appeals = append(out.Appeals, appealToProto(a, now))
	}
	if to < len(all) {
		out.NextPageToken = strconv.Itoa(to)
	}
	if req.GetWithCounts() {
		out.Counts = countAppeals(inState, now)
	}
	return out, nil
}

// queueAges are the minimum ages the queue's counts are given for.
var queueAges = []time.Duration{time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

// countAppeals counts as by what the queue can be filtered on.
func countAppeals(as []*appeals.Appeal, now time.Time) *moderationv1.AppealCounts {
	rules, types, versions, reviewers := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	ages := make([]int, len(queueAges))
	for _, a := range as {
		rules[a.Rule]++
		types[a.AccountType]++
		versions[a.PolicyVersion]++
		if a.StateAt(now) == appeals.InReview {
			reviewers[a.Reviewer]++
		}
		for i, d := range queueAges {
			if !a.FiledAt.After(now.Add(-d)) {
				ages[i]++
			}
		}
	}
	out := &moderationv1.AppealCounts{All: int32(len(as)), ByRule: byCount(rules), ByAccountType: byCount(types),
		ByPolicyVersion: byCount(versions), ByReviewer: byCount(reviewers)}
	for i, d := range queueAges {
		out.ByAge = append(out.ByAge, &moderationv1.AppealCount{Value: d.String(), Count: int32(ages[i])})
	}
	return out
}

// byCount lists m most first, then by value.
func byCount(m map[string]int) []*moderationv1.AppealCount {
	out := make([]*moderationv1.AppealCount, 0, len(m))
	for v, n := range m {
		out = append(out, &moderationv1.AppealCount{Value: v, Count: int32(n)})
	}
	slices.SortFunc(out, func(a, b *moderationv1.AppealCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
	})
	return out
}

func (s *reviewService) ClaimAppeal(ctx context.Context, req *moderationv1.ClaimAppealRequest) (*moderationv1.Appeal, error) {
	a, err := s.deps.Appeals.Claim(ctx, req.GetAppealId(), actor(ctx))
	if err != nil {
		return nil, err
	}
	return appealToProto(a, s.now()), nil
}

var outcomes = map[moderationv1.AppealOutcome]appeals.Outcome{
	moderationv1.AppealOutcome_APPEAL_OUTCOME_UPHOLD:   appeals.Uphold,
	moderationv1.AppealOutcome_APPEAL_OUTCOME_OVERTURN: appeals.Overturn,
	moderationv1.AppealOutcome_APPEAL_OUTCOME_MODIFY:   appeals.Modify,
}

func (s *reviewService) DecideAppeal(ctx context.Context, req *moderationv1.DecideAppealRequest) (*moderationv1.Appeal, error) {
	v := appeals.Verdict{Reviewer: actor(ctx), Outcome: outcomes[req.GetOutcome()], ModifiedAction: actionFromProto(req.GetModifiedAction()), Reply: req.GetReply()}
	if req.GetModifiedDuration() != nil {
		v.ModifiedDuration = req.GetModifiedDuration().AsDuration()
	}
	a, err := s.deps.Appeals.Decide(ctx, req.GetAppealId(), v)
	if err != nil {
		return nil, err
	}
	return appealToProto(a, s.now()), nil
}

// Reevaluate streams progress while it judges and restores, then the
// result.
func (s *reviewService) Reevaluate(req *moderationv1.ReevaluateRequest, stream moderationv1.ReviewService_ReevaluateServer) error {
	ctx := stream.Context()
	r := appeals.ReevaluateRequest{DryRun: req.GetDryRun(), Actor: actor(ctx), Note: req.GetNote()}
	if req.GetClosedSince() != nil {
		r.ClosedSince = req.GetClosedSince().AsTime()
	}
	last := time.Time{}
	r.Progress = func(done, total int) {
		// At most ten messages a second: progress is for a person.
		if done < total && time.Since(last) < 100*time.Millisecond {
			return
		}
		last = time.Now()
		_ = stream.Send(&moderationv1.ReevaluateProgress{Done: int32(done), Total: int32(total)})
	}
	rep, err := s.deps.Reevaluator.Reevaluate(ctx, req.GetFiles(), req.GetPolicyVersion(), r)
	if err != nil {
		return err
	}
	res := &moderationv1.ReevaluateResponse{PolicyVersion: rep.PolicyVersion, Considered: int32(rep.Considered), Skipped: int32(rep.Skipped), BatchId: rep.BatchID}
	for _, re := range rep.Restore {
		res.Restored = append(res.Restored, &moderationv1.Reevaluation{Account: re.Account, DecisionId: re.DecisionID,
			Was: actions[re.Was], Would: actions[re.Would], Why: re.Why})
	}
	return stream.Send(&moderationv1.ReevaluateProgress{Done: int32(rep.Considered), Total: int32(rep.Considered), Result: res})
}

var appealStates = map[appeals.State]moderationv1.AppealState{
	appeals.Filed:      moderationv1.AppealState_APPEAL_STATE_FILED,
	appeals.InReview:   moderationv1.AppealState_APPEAL_STATE_IN_REVIEW,
	appeals.Upheld:     moderationv1.AppealState_APPEAL_STATE_UPHELD,
	appeals.Overturned: moderationv1.AppealState_APPEAL_STATE_OVERTURNED,
	appeals.Modified:   moderationv1.AppealState_APPEAL_STATE_MODIFIED,
	appeals.Withdrawn:  moderationv1.AppealState_APPEAL_STATE_WITHDRAWN,
}

var appealStateFromProto = func() map[moderationv1.AppealState]appeals.State {
	m := map[moderationv1.AppealState]appeals.State{}
	for k, v := range appealStates {
		m[v] = k
	}
	return m
}()

func appealToProto(a *appeals.Appeal, now time.Time) *moderationv1.Appeal {
	state := a.StateAt(now)
	out := &moderationv1.Appeal{
		AppealId: a.ID, Account: a.Account, DecisionId: a.DecisionID, Rule: a.Rule, Action: actions[a.Action],
		PolicyVersion: a.PolicyVersion, State: appealStates[state], Statement: a.Statement, EvidenceUrls: a.EvidenceURLs,
		FiledAt: timestamppb.New(a.FiledAt), Reply: a.Reply, ModifiedAction: actions[a.ModifiedAction], AccountType: a.AccountType,
		ClosedAt: timestamp(&a.ClosedAt),
	}
	if state != appeals.Filed {
		out.Reviewer = a.Reviewer
	}
	if state == appeals.InReview {
		out.LeaseUntil = timestamppb.New(a.LeaseUntil)
	}
	return out
}
