package grpcapi

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/moderation"
)

var capabilities = map[moderationv1.Capability]moderation.Capability{
	moderationv1.Capability_CAPABILITY_BROADCAST:  moderation.CapBroadcast,
	moderationv1.Capability_CAPABILITY_FRIEND_ADD: moderation.CapFriendAdd,
}

var statuses = map[moderation.Action]moderationv1.Status{
	moderation.ActionAllow:   moderationv1.Status_STATUS_ACTIVE,
	moderation.ActionWarn:    moderationv1.Status_STATUS_WARNED,
	moderation.ActionLimit:   moderationv1.Status_STATUS_LIMITED,
	moderation.ActionSuspend: moderationv1.Status_STATUS_SUSPENDED,
	moderation.ActionClose:   moderationv1.Status_STATUS_CLOSED,
}

var actions = map[moderation.Action]moderationv1.Action{
	moderation.ActionWarn:    moderationv1.Action_ACTION_WARN,
	moderation.ActionLimit:   moderationv1.Action_ACTION_LIMIT,
	moderation.ActionSuspend: moderationv1.Action_ACTION_SUSPEND,
	moderation.ActionClose:   moderationv1.Action_ACTION_CLOSE,
	moderation.ActionRestore: moderationv1.Action_ACTION_RESTORE,
}

func actionFromProto(a moderationv1.Action) moderation.Action {
	for k, v := range actions {
		if v == a {
			return k
		}
	}
	return moderation.ActionAllow
}

func timestamp(t *time.Time) *timestamppb.Timestamp {
	if t == nil || t.IsZero() {
		return nil
	}
	return timestamppb.New(*t)
}

func reasonsToProto(rs []moderation.Reason) []*moderationv1.Reason {
	out := make([]*moderationv1.Reason, len(rs))
	for i, r := range rs {
		out[i] = &moderationv1.Reason{Code: r.Code, Detail: r.Detail}
	}
	return out
}

func decisionToProto(rec moderation.DecisionRecord) *moderationv1.Decision {
	d := rec.Decision
	st := d.Statement
	out := &moderationv1.Decision{
		DecisionId: d.DecisionID,
		Account:    d.Account,
		Action:     actions[d.Action],
		Reasons:    reasonsToProto(d.Reasons),
		Statement: &moderationv1.Statement{
			Measure: st.Measure, Facts: st.Facts, AutomatedDetection: st.AutomatedDetection,
			AutomatedDecision: st.AutomatedDecision, Ground: st.Ground, Explanation: st.Explanation,
			Redress: st.Redress, AppealDeadline: timestamp(&st.AppealDeadline),
		},
		PolicyVersion: d.PolicyVersion,
		At:            timestamp(&d.At),
		Until:         timestamp(d.Until),
		Strikes:       int32(d.Strikes),
		Sequence:      rec.Seq,
		Actor:         d.Actor,
	}
	for _, c := range d.Restricts {
		for pc, dc := range capabilities {
			if dc == c {
				out.Restricts = append(out.Restricts, pc)
			}
		}
	}
	return out
}
