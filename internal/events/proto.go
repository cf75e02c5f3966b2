package events

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/moderation"
)

func decodeProto(data []byte) (*moderation.Event, error) {
	var pb moderationv1.Event
	if err := proto.Unmarshal(data, &pb); err != nil {
		return nil, fail(ReasonBadProtobuf, err)
	}
	return FromProto(&pb)
}

// FromProto converts a protobuf event to the domain type. It fails, with
// reason bad_protobuf, only on a timestamp out of range; it does not
// validate (see Validate).
func FromProto(pb *moderationv1.Event) (*moderation.Event, error) {
	ev := &moderation.Event{
		ID:      pb.GetId(),
		Kind:    moderation.Kind(pb.GetKind()),
		Account: pb.GetAccount(),
	}
	var err error
	if ev.At, err = fromTimestamp("at", pb.GetAt()); err != nil {
		return nil, err
	}
	if ai := pb.GetAccountInfo(); ai != nil {
		info := &moderation.AccountInfo{
			Type:     moderation.AccountType(ai.GetType()),
			Verified: ai.GetVerified(),
		}
		if info.CreatedAt, err = fromTimestamp("account_info.created_at", ai.GetCreatedAt()); err != nil {
			return nil, err
		}
		ev.AccountInfo = info
	}
	switch b := pb.GetBody().(type) {
	case *moderationv1.Event_Broadcast:
		if b.Broadcast != nil {
			ev.Broadcast = &moderation.Broadcast{ID: b.Broadcast.GetId(), Text: b.Broadcast.GetText(), Recipients: b.Broadcast.GetRecipients()}
		}
	case *moderationv1.Event_FriendAdd:
		if b.FriendAdd != nil {
			ev.FriendAdd = &moderation.FriendAdd{Target: b.FriendAdd.GetTarget(), Message: b.FriendAdd.GetMessage(), Source: moderation.Source(b.FriendAdd.GetSource())}
		}
	case *moderationv1.Event_Complaint:
		if b.Complaint != nil {
			ev.Complaint = &moderation.Complaint{Reporter: b.Complaint.GetReporter(), Reason: b.Complaint.GetReason(), BroadcastID: b.Complaint.GetBroadcastId()}
		}
	case *moderationv1.Event_Unfollow:
		if b.Unfollow != nil {
			ev.Unfollow = &moderation.Unfollow{Follower: b.Unfollow.GetFollower()}
		}
	case *moderationv1.Event_FriendResponse:
		if b.FriendResponse != nil {
			ev.FriendResponse = &moderation.FriendResponse{Target: b.FriendResponse.GetTarget(), Response: b.FriendResponse.GetResponse()}
		}
	}
	return ev, nil
}

// fromTimestamp maps an absent timestamp to the zero time, which Validate
// reports as missing.
func fromTimestamp(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, fail(ReasonBadProtobuf, fmt.Errorf("%s: %w", field, err))
	}
	return ts.AsTime(), nil
}

// ToProto converts a domain event to its protobuf form. A zero time becomes
// an absent timestamp. It fails when ev cannot be represented: more than one
// body, or a time outside the years 1 to 9999.
func ToProto(ev *moderation.Event) (*moderationv1.Event, error) {
	pb := &moderationv1.Event{
		Id:      ev.ID,
		Kind:    string(ev.Kind),
		Account: ev.Account,
	}
	var err error
	if pb.At, err = toTimestamp("at", ev.At); err != nil {
		return nil, err
	}
	if ai := ev.AccountInfo; ai != nil {
		pb.AccountInfo = &moderationv1.AccountInfo{Type: string(ai.Type), Verified: ai.Verified}
		if pb.AccountInfo.CreatedAt, err = toTimestamp("account_info.created_at", ai.CreatedAt); err != nil {
			return nil, err
		}
	}
	bodies := 0
	if b := ev.Broadcast; b != nil {
		bodies++
		pb.Body = &moderationv1.Event_Broadcast{Broadcast: &moderationv1.Broadcast{Id: b.ID, Text: b.Text, Recipients: b.Recipients}}
	}
	if f := ev.FriendAdd; f != nil {
		bodies++
		pb.Body = &moderationv1.Event_FriendAdd{FriendAdd: &moderationv1.FriendAdd{Target: f.Target, Message: f.Message, Source: string(f.Source)}}
	}
	if c := ev.Complaint; c != nil {
		bodies++
		pb.Body = &moderationv1.Event_Complaint{Complaint: &moderationv1.Complaint{Reporter: c.Reporter, Reason: c.Reason, BroadcastId: c.BroadcastID}}
	}
	if u := ev.Unfollow; u != nil {
		bodies++
		pb.Body = &moderationv1.Event_Unfollow{Unfollow: &moderationv1.Unfollow{Follower: u.Follower}}
	}
	if r := ev.FriendResponse; r != nil {
		bodies++
		pb.Body = &moderationv1.Event_FriendResponse{FriendResponse: &moderationv1.FriendResponse{Target: r.Target, Response: r.Response}}
	}
	if bodies > 1 {
		return nil, errors.New("event carries more than one body; protobuf holds one")
	}
	return pb, nil
}

func toTimestamp(field string, t time.Time) (*timestamppb.Timestamp, error) {
	if t.IsZero() {
		return nil, nil
	}
	ts := timestamppb.New(t)
	if err := ts.CheckValid(); err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return ts, nil
}

// EncodeProto is the protobuf form (moderation.v1.Event) of ev. It does not
// validate ev.
func EncodeProto(ev *moderation.Event) ([]byte, error) {
	pb, err := ToProto(ev)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(pb)
}
