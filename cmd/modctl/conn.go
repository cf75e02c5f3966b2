package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"moderation/internal/auth"
)

// localTokenTTL is how long a token modctl mints from the service's key
// lives: short, so a leaked one is soon worthless; a long watch mints
// fresh ones as it goes.
const localTokenTTL = 10 * time.Minute

// clientFlags are the flags every command that calls the gRPC API shares.
type clientFlags struct {
	addr    string
	token   string
	dataDir string
	tlsCA   string
	tlsCert string
	tlsKey  string
	timeout time.Duration

	// tokenFrom says where the token sent came from ("" when none was), so
	// an Unauthenticated answer can say what to change.
	tokenFrom string
}

func addClientFlags(fs *flag.FlagSet) *clientFlags {
	c := &clientFlags{}
	fs.StringVar(&c.addr, "addr", envOr("MODERATION_GRPC_LISTEN", "127.0.0.1:50051"), "gRPC address of the service")
	// Not defaulted from MODERATION_TOKEN here, as the other flags are
	// from theirs: -h prints defaults, and a token must not be printed.
	fs.StringVar(&c.token, "token", "", "bearer token (see modctl token); default $MODERATION_TOKEN, else one minted from the service's key under -data-dir if readable")
	fs.StringVar(&c.dataDir, "data-dir", envOr("MODERATION_DATA_DIR", "./data"), "the service's data directory, where its token key is")
	fs.StringVar(&c.tlsCA, "tls-ca", envOr("MODERATION_TLS_CA", ""), "CA certificate to verify the service with; empty with -tls-cert and -tls-key empty: plaintext")
	fs.StringVar(&c.tlsCert, "tls-cert", envOr("MODERATION_TLS_CERT", ""), "client certificate, for a service that asks for one")
	fs.StringVar(&c.tlsKey, "tls-key", envOr("MODERATION_TLS_KEY", ""), "client certificate's key")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "deadline of each call (streams have none)")
	return c
}

// dial returns a client connection carrying the resolved token on every
// call. grpc.NewClient connects lazily, so an unreachable service shows up
// as Unavailable on the first call, not here; ctx is taken so that a future
// eager connect needs no signature change.
func (c *clientFlags) dial(_ context.Context) (*grpc.ClientConn, error) {
	creds, err := c.resolveToken(time.Now())
	if err != nil {
		return nil, err
	}
	transport := insecure.NewCredentials()
	if c.tlsCA != "" || c.tlsCert != "" || c.tlsKey != "" {
		host, _, err := net.SplitHostPort(c.addr)
		if err != nil {
			host = c.addr
		}
		cfg, err := auth.ClientTLS(c.tlsCA, c.tlsCert, c.tlsKey, host)
		if err != nil {
			return nil, err
		}
		transport = credentials.NewTLS(cfg)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(transport)}
	if creds != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(creds))
	}
	conn, err := grpc.NewClient(c.addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", c.addr, err)
	}
	return conn, nil
}

// resolveToken picks the token to send: the one given, else one minted
// from the service's key when this user can read it (whoever can read the
// key is an operator of this host anyway), else none (nil).
func (c *clientFlags) resolveToken(now time.Time) (*bearer, error) {
	if c.token != "" {
		c.tokenFrom = "-token"
		return &bearer{token: c.token}, nil
	}
	if env := os.Getenv("MODERATION_TOKEN"); env != "" {
		c.token, c.tokenFrom = env, "MODERATION_TOKEN"
		return &bearer{token: env}, nil
	}
	keyFile := auth.DefaultKeyFile(c.dataDir)
	// Any reason the file cannot be opened (missing, not ours to read)
	// means this user is not an operator here: call without a token and
	// let the server say so. A file we can open but not parse is a real
	// problem, reported as such.
	f, err := os.Open(keyFile)
	if err != nil {
		return nil, nil
	}
	f.Close()
	key, err := auth.LoadKey(keyFile)
	if err != nil {
		return nil, err
	}
	issuer := auth.NewIssuer(key)
	id := auth.Identity{Subject: "modctl:" + osUser(), Role: auth.RoleAdmin}
	b := &bearer{mint: func(now time.Time) (string, time.Time, error) { return issuer.Mint(id, localTokenTTL, now) }}
	// Mint once now, so a key that cannot sign fails the command at once
	// rather than as an error on every call.
	if b.token, b.expires, err = b.mint(now); err != nil {
		return nil, err
	}
	c.tokenFrom = "minted from " + keyFile
	return b, nil
}

// osUser is the login name, reduced to what a token subject may contain
// (a Windows DOMAIN\user has a backslash).
func osUser() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_.@:-", r):
			return r
		}
		return '_'
	}, name)
}

// callContext bounds one unary call by -timeout.
func (c *clientFlags) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// call makes one unary call on a connection of its own, bounded by
// -timeout: what most commands do. op names the call in an error.
func call[T any](ctx context.Context, c *clientFlags, op string, fn func(context.Context, *grpc.ClientConn) (T, error)) (T, error) {
	var zero T
	conn, err := c.dial(ctx)
	if err != nil {
		return zero, err
	}
	defer conn.Close()
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	out, err := fn(ctx, conn)
	if err != nil {
		return zero, c.callErr(op, err)
	}
	return out, nil
}

// bearer sends a token as "authorization: Bearer <token>" on every call.
// It does not require transport security: plaintext on loopback is the
// default deployment, and TLS, when configured, protects it anyway.
type bearer struct {
	// mint, when set, makes a new token as the current one nears expiry,
	// so a watch that reconnects after hours is not refused.
	mint func(now time.Time) (string, time.Time, error)

	mu      sync.Mutex
	token   string
	expires time.Time
}

var _ credentials.PerRPCCredentials = (*bearer)(nil)

func (b *bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now := time.Now(); b.mint != nil && b.expires.Sub(now) < localTokenTTL/2 {
		token, expires, err := b.mint(now)
		if err != nil {
			return nil, err
		}
		b.token, b.expires = token, expires
	}
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (*bearer) RequireTransportSecurity() bool { return false }

// callError is a failed call described for a person: the operation, the
// gRPC code and message, each field the server refused, and what to do
// next. It unwraps to the gRPC error so status.Code still works on it.
type callError struct {
	op     string
	st     *status.Status
	fields []string // "field: why"
	hint   string
	err    error
}

func (e *callError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s", e.op, e.st.Code(), e.st.Message())
	for _, f := range e.fields {
		b.WriteString("\n  field ")
		b.WriteString(f)
	}
	if e.hint != "" {
		b.WriteString("\n")
		b.WriteString(e.hint)
	}
	return b.String()
}

func (e *callError) Unwrap() error { return e.err }

// callErr wraps err from the call named op. Errors that are not from the
// server (a cancelled context turned into a status by the client is still
// one) are wrapped plainly.
func (c *clientFlags) callErr(op string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", op, err)
	}
	e := &callError{op: op, st: st, fields: fieldViolations(st), err: err}
	switch st.Code() {
	case codes.Unauthenticated:
		if c.tokenFrom == "" {
			e.hint = fmt.Sprintf("no token was sent: pass -token (or set MODERATION_TOKEN), or run `modctl token` on the service's host; "+
				"modctl mints one itself when it can read the service's key at %s (-data-dir)", auth.DefaultKeyFile(c.dataDir))
		} else {
			e.hint = fmt.Sprintf("the token (%s) was refused: pass a current one with -token, or run `modctl token`", c.tokenFrom)
		}
	case codes.Unavailable:
		e.hint = fmt.Sprintf("is the service listening on %s? (-addr, MODERATION_GRPC_LISTEN)", c.addr)
	}
	return e
}

// fieldViolations lists the fields a server refused, from either detail
// the API sends: a BadRequest (the handlers' own checks) or protovalidate's
// Violations (the request's declared rules).
func fieldViolations(st *status.Status) []string {
	var out []string
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				out = append(out, v.GetField()+": "+v.GetDescription())
			}
		case *validate.Violations:
			for _, v := range d.GetViolations() {
				out = append(out, fieldPath(v.GetField())+": "+v.GetMessage())
			}
		}
	}
	return out
}

// fieldPath renders a protovalidate field path as a person writes it:
// checks[2].account, files["data.json"].
func fieldPath(p *validate.FieldPath) string {
	var b strings.Builder
	for i, el := range p.GetElements() {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(el.GetFieldName())
		switch s := el.GetSubscript().(type) {
		case *validate.FieldPathElement_Index:
			fmt.Fprintf(&b, "[%d]", s.Index)
		case *validate.FieldPathElement_BoolKey:
			fmt.Fprintf(&b, "[%t]", s.BoolKey)
		case *validate.FieldPathElement_IntKey:
			fmt.Fprintf(&b, "[%d]", s.IntKey)
		case *validate.FieldPathElement_UintKey:
			fmt.Fprintf(&b, "[%d]", s.UintKey)
		case *validate.FieldPathElement_StringKey:
			b.WriteString("[" + strconv.Quote(s.StringKey) + "]")
		}
	}
	if b.Len() == 0 {
		return "(request)"
	}
	return b.String()
}

// writeJSON prints m as protojson: indented for a single answer, or on one
// line for an item of a list or stream, so each line parses alone.
func writeJSON(w io.Writer, m proto.Message, indent bool) error {
	b, err := protojson.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", m.ProtoReflect().Descriptor().Name(), err)
	}
	// protojson varies its whitespace on purpose; normalise it so the
	// output is stable for people and line-based tools.
	var out bytes.Buffer
	if indent {
		err = json.Indent(&out, b, "", "  ")
	} else {
		err = json.Compact(&out, b)
	}
	if err != nil {
		return fmt.Errorf("encode %s: %w", m.ProtoReflect().Descriptor().Name(), err)
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// parseArgs parses flags that may come before, between or after the
// positional arguments (modctl timeline ACCOUNT -since 24h), which the
// flag package alone stops at; everything after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// usageError prints a command's usage and returns msg as the error.
func usageError(fs *flag.FlagSet, msg string) error {
	fs.Usage()
	return errors.New(msg)
}
