package grpcapi

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// invalidArgument names the offending field both in the message and in a
// BadRequest detail, so clients can point at it.
func invalidArgument(field, reason string) error {
	st := status.New(codes.InvalidArgument, field+" "+reason)
	if withDetails, err := st.WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: reason}},
	}); err == nil {
		st = withDetails
	}
	return st.Err()
}
