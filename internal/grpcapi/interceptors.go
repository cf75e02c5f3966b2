package grpcapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	grpcauth "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/authz"
)

// call is what the interceptors learn about a call, kept in its context
// from the first interceptor on: the logging interceptor reads it when the
// call ends, after authentication has filled in who called.
type call struct {
	requestID string
	sent      bool // the caller sent requestID: it is their idempotency key
	id        auth.Identity
}

type callKey struct{}

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// requestIDs are a random process prefix and a counter: unique, and cheap
// enough for the Check path.
var (
	requestPrefix = func() string {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}()
	requestCounter atomic.Uint64
)

// begin starts a call's record with the caller's x-request-id, echoed in
// the response header, or a new one. A new id is not sent back: an extra
// header frame costs the Check path several microseconds, and a caller
// that wants to correlate sends its own.
func begin(ctx context.Context) context.Context {
	c := &call{}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("x-request-id"); len(v) > 0 && len(v[0]) <= 128 {
			c.requestID, c.sent = v[0], true
			_ = grpc.SetHeader(ctx, metadata.Pairs("x-request-id", c.requestID))
		}
	}
	if c.requestID == "" {
		c.requestID = requestPrefix + "-" + strconv.FormatUint(requestCounter.Add(1), 36)
	}
	return context.WithValue(ctx, callKey{}, c)
}

// idempotencyKey is the x-request-id the caller sent, or empty: a retried
// call carrying the same one must not act twice.
func idempotencyKey(ctx context.Context) string {
	if c := callFrom(ctx); c != nil && c.sent {
		return c.requestID
	}
	return ""
}

func beginUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	return handler(begin(ctx), req)
}

func beginStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &ctxStream{ServerStream: ss, ctx: begin(ss.Context())})
}

// endStreamsOn ends a stream's context when done closes. A watch runs until
// its caller hangs up; without this a graceful stop would wait for every
// watcher and then cut all calls at its deadline.
func endStreamsOn(done <-chan struct{}) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if done == nil {
			return handler(srv, ss)
		}
		ctx, cancel := context.WithCancel(ss.Context())
		defer cancel()
		go func() {
			select {
			case <-done:
				cancel()
			case <-ctx.Done():
			}
		}()
		return handler(srv, &ctxStream{ServerStream: ss, ctx: ctx})
	}
}

// ctxStream is a server stream with a replaced context.
type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *ctxStream) Context() context.Context { return s.ctx }

// logFields are what every call's log line carries beyond the method and
// code: never the token, never message text.
func logFields(ctx context.Context) logging.Fields {
	c := callFrom(ctx)
	if c == nil {
		return nil
	}
	f := logging.Fields{"request_id", c.requestID}
	if c.id.Role != "" {
		f = append(f, "role", string(c.id.Role), "subject", c.id.Subject)
	}
	return f
}

func slogLogger(log *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		log.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}

// callLevel logs successful calls at debug: the hot path is called
// thousands of times a second. Refusals are info, failures of ours error.
func callLevel(code codes.Code) logging.Level {
	switch code {
	case codes.OK, codes.Canceled:
		return logging.LevelDebug
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unavailable:
		return logging.LevelError
	}
	return logging.LevelInfo
}

// authenticate verifies the bearer token and records who is calling.
func authenticate(v *auth.Verifier, insecureDev bool) grpcauth.AuthFunc {
	return func(ctx context.Context) (context.Context, error) {
		var id auth.Identity
		if insecureDev {
			id = auth.Identity{Subject: "insecure-dev", Role: auth.RoleAdmin}
		} else {
			token, err := grpcauth.AuthFromMD(ctx, "bearer")
			if err != nil {
				return nil, status.Error(codes.Unauthenticated, "a bearer token is required (authorization: Bearer <token>; see modctl token)")
			}
			id, err = v.Verify(token, time.Now())
			if err != nil {
				return nil, status.Error(codes.Unauthenticated, err.Error())
			}
		}
		if c := callFrom(ctx); c != nil {
			c.id = id
		}
		return auth.NewContext(ctx, id), nil
	}
}

// accountNamer is every request that names the one account it is about.
type accountNamer interface{ GetAccount() string }

// relation tells the policy how the request's account relates to the
// caller: an owner's own account, another one, or none named.
func relation(id auth.Identity, req any) authz.Relation {
	r, ok := req.(accountNamer)
	if !ok || r.GetAccount() == "" {
		return authz.RelNone
	}
	if id.Role == auth.RoleOwner && r.GetAccount() == id.Account {
		return authz.RelOwn
	}
	return authz.RelOther
}

// authorizer asks the authorization policy whether the caller may make
// this call with this request.
type authorizer struct{ az *authz.Authorizer }

func (a authorizer) check(ctx context.Context, fullMethod string, req any) error {
	id, ok := auth.FromContext(ctx)
	if !ok {
		return status.Error(codes.Unauthenticated, "no caller identity")
	}
	method := strings.TrimPrefix(fullMethod, "/")
	d, err := a.az.Decide(ctx, method, string(id.Role), relation(id, req))
	if err != nil {
		return status.Error(codes.Internal, "authorization failed")
	}
	if !d.Allow {
		return status.Error(codes.PermissionDenied, d.Reason)
	}
	return nil
}

func (a authorizer) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := a.check(ctx, info.FullMethod, req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// stream authorizes a server stream on its request, the first message.
func (a authorizer) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &authorizedStream{ServerStream: ss, a: a, method: info.FullMethod})
}

type authorizedStream struct {
	grpc.ServerStream
	a      authorizer
	method string
	done   bool
}

func (s *authorizedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if !s.done {
		s.done = true
		return s.a.check(s.Context(), s.method, m)
	}
	return nil
}

// ownerLimiter rate-limits owners per account: the owner API is reached
// from the app and must not let one account flood the service. Other roles
// are trusted callers and are not limited here.
type ownerLimiter struct {
	limit   rate.Limit
	burst   int
	buckets *ristretto.Cache[string, *rate.Limiter]
}

func newOwnerLimiter(perSecond float64, burst int) (*ownerLimiter, error) {
	buckets, err := ristretto.NewCache(&ristretto.Config[string, *rate.Limiter]{NumCounters: 1e6, MaxCost: 1e5, BufferItems: 64})
	if err != nil {
		return nil, err
	}
	return &ownerLimiter{limit: rate.Limit(perSecond), burst: burst, buckets: buckets}, nil
}

// Limit implements the go-grpc-middleware ratelimit.Limiter.
func (l *ownerLimiter) Limit(ctx context.Context) error {
	id, _ := auth.FromContext(ctx)
	if id.Role != auth.RoleOwner {
		return nil
	}
	b, ok := l.buckets.Get(id.Account)
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		// An evicted bucket starts full again: the bound is on memory,
		// and an account rarely seen is rarely a flood.
		l.buckets.SetWithTTL(id.Account, b, 1, 10*time.Minute)
		l.buckets.Wait()
	}
	if !b.Allow() {
		return status.Errorf(codes.ResourceExhausted, "too many requests for account %s; retry later", id.Account)
	}
	return nil
}

// mapErrors applies the error table to what handlers return.
func mapErrors(log *slog.Logger) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	convert := func(ctx context.Context, method string, err error) error {
		st, internal := toStatus(err)
		if internal {
			log.ErrorContext(ctx, "call failed", "method", method, "err", err, "request_id", callFrom(ctx).requestID)
		}
		return st.Err()
	}
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			return nil, convert(ctx, info.FullMethod, err)
		}
		return resp, nil
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := handler(srv, ss); err != nil {
			return convert(ss.Context(), info.FullMethod, err)
		}
		return nil
	}
	return unary, stream
}

// hotMethods are answered thousands of times a second. The logging
// interceptor builds its fields for every call before it knows whether the
// line will be written (a quarter of Check's cost), so unless debug logging
// is on these log through quietOnHotPath, which writes only refusals and
// failures, with the same fields.
var hotMethods = map[string]bool{
	moderationv1.ModerationService_Check_FullMethodName:      true,
	moderationv1.ModerationService_BatchCheck_FullMethodName: true,
}

func quietOnHotPath(full grpc.UnaryServerInterceptor, log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !hotMethods[info.FullMethod] {
			return full(ctx, req, info, handler)
		}
		start := time.Now()
		resp, err := handler(ctx, req)
		if err == nil {
			return resp, nil
		}
		st := status.Convert(err)
		lvl := slog.Level(callLevel(st.Code()))
		if !log.Enabled(ctx, lvl) {
			return resp, err
		}
		service, method, _ := strings.Cut(strings.TrimPrefix(info.FullMethod, "/"), "/")
		args := []any{"protocol", "grpc", "grpc.component", "server", "grpc.service", service, "grpc.method", method,
			"grpc.method_type", "unary", "grpc.code", st.Code().String(), "grpc.error", err.Error(),
			"grpc.time_ms", strconv.FormatFloat(float64(time.Since(start).Microseconds())/1000, 'f', 3, 64)}
		for _, f := range logFields(ctx) {
			args = append(args, f)
		}
		log.Log(ctx, lvl, "finished call", args...)
		return resp, err
	}
}
