package grpcapi

import (
	"context"
	"errors"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"moderation/internal/auth"
	"moderation/internal/moderation"
)

// errorCodes is the one mapping from domain errors to gRPC codes. Handlers
// return domain errors; the toStatus interceptor applies this table.
var errorCodes = []struct {
	err  error
	code codes.Code
}{
	{moderation.ErrInvalid, codes.InvalidArgument},
	{moderation.ErrNotFound, codes.NotFound},
	{moderation.ErrConflict, codes.FailedPrecondition},
	{moderation.ErrPermission, codes.PermissionDenied},
	{auth.ErrUnauthenticated, codes.Unauthenticated},
	{moderation.ErrTooMany, codes.ResourceExhausted},
	{moderation.ErrCorrupt, codes.DataLoss}, // a stored record no one can read: a person must look
	{context.DeadlineExceeded, codes.DeadlineExceeded},
	{context.Canceled, codes.Canceled},
}

// toStatus turns a handler's error into a gRPC status. An error that is
// already a status passes through; one not in the table is Internal, and
// its text stays in the log rather than reaching the caller.
func toStatus(err error) (st *status.Status, internal bool) {
	if err == nil {
		return nil, false
	}
	if s, ok := status.FromError(err); ok {
		return s, false
	}
	for _, m := range errorCodes {
		if errors.Is(err, m.err) {
			s := status.New(m.code, err.Error())
			var fe *moderation.FieldError
			if errors.As(err, &fe) {
				s = withField(s, fe.Field, fe.Reason)
			}
			return s, false
		}
	}
	return status.New(codes.Internal, "internal error"), true
}

// withField names the offending field in a BadRequest detail, so clients
// can point at it.
func withField(st *status.Status, field, reason string) *status.Status {
	withDetails, err := st.WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: reason}},
	})
	if err != nil {
		return st
	}
	return withDetails
}

// withBadRequest adds a BadRequest detail to the validation interceptor's
// InvalidArgument, beside its buf.validate.Violations, so every invalid
// request names its fields the same way, whoever found the fault.
func withBadRequest(err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return err
	}
	var fields []*errdetails.BadRequest_FieldViolation
	for _, d := range st.Details() {
		if vs, ok := d.(*validate.Violations); ok {
			for _, v := range vs.GetViolations() {
				fields = append(fields, &errdetails.BadRequest_FieldViolation{
					Field: protovalidate.FieldPathString(v.GetField()), Description: v.GetMessage()})
			}
		}
	}
	if len(fields) == 0 {
		return err
	}
	if withDetails, derr := st.WithDetails(&errdetails.BadRequest{FieldViolations: fields}); derr == nil {
		return withDetails.Err()
	}
	return err
}

func badRequestUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if err != nil {
		return nil, withBadRequest(err)
	}
	return resp, nil
}

func badRequestStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return withBadRequest(handler(srv, ss))
}
