// Package webconsole is the reviewer console: a web app served by
// moderationd on its own address, from templates and static files embedded
// in the binary. It holds no data of its own and reads nothing from NATS:
// every page and every action is a call to the service's own gRPC API,
// made with the signed-in reviewer's token, so authorization (the authz
// Rego policy), input validation and audit (the reviewer as actor) are
// exactly those of gRPC.
//
// How to add a page: see page.go.
package webconsole

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/authz"
)

//go:embed templates static
var files embed.FS

// SignInMethod is what the authz policy is asked for a sign-in: not a gRPC
// method, but decided by the same policy (granted to reviewers and admins).
const SignInMethod = "moderation.console/SignIn"

// Config is what the console needs from the service.
type Config struct {
	// API is a connection to the service's own gRPC API. Calls carry the
	// signed-in reviewer's token per call; the connection carries none.
	API *grpc.ClientConn
	// Verifier checks tokens at sign-in and on every request (a revoked
	// token ends its session), as gRPC does.
	Verifier *auth.Verifier
	// Authorizer is the authz policy, asked who may sign in.
	Authorizer *authz.Authorizer
	// Secure marks the session cookie Secure (and names it __Host-…):
	// set when the console is served over TLS.
	Secure bool
	// IdleTimeout ends a session not used for this long; 0: 30 minutes.
	// MaxAge ends any session this long after sign-in, and no session
	// outlives its token; 0: 12 hours.
	IdleTimeout, MaxAge time.Duration
	Log                 *slog.Logger
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Console is the console's http.Handler.
type Console struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux
	handler  http.Handler
	pages    map[string]*template.Template
	sessions *sessions

	// The API's clients: every call passes s.creds() of the session.
	review     moderationv1.ReviewServiceClient
	moderation moderationv1.ModerationServiceClient
	audit      moderationv1.AuditServiceClient
	console    moderationv1.ConsoleServiceClient
}

// New builds the console and its routes.
func New(cfg Config) (*Console, error) {
	if cfg.API == nil || cfg.Verifier == nil || cfg.Authorizer == nil {
		return nil, errors.New("web console: an API connection, a token verifier and an authorizer are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Console{
		cfg: cfg, log: cfg.Log, now: cfg.Now, mux: http.NewServeMux(),
		sessions:   newSessions(cmp.Or(cfg.IdleTimeout, 30*time.Minute), cmp.Or(cfg.MaxAge, 12*time.Hour)),
		review:     moderationv1.NewReviewServiceClient(cfg.API),
		moderation: moderationv1.NewModerationServiceClient(cfg.API),
		audit:      moderationv1.NewAuditServiceClient(cfg.API),
		console:    moderationv1.NewConsoleServiceClient(cfg.API),
	}
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	c.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	c.routes()
	// Cross-origin state-changing requests are refused by the standard
	// library's check of Sec-Fetch-Site and Origin before any handler runs;
	// the session's synchronizer token (requireCSRF) is checked as well, so
	// a browser that sends neither header is still covered.
	c.handler = securityHeaders(http.NewCrossOriginProtection().Handler(c.mux))
	return c, nil
}

// routes is every page of the console; each file adding a page adds its
// line here.
func (c *Console) routes() {
	c.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/queue", http.StatusSeeOther)
	})
	c.mux.HandleFunc("GET /signin", c.signInPage)
	c.mux.HandleFunc("POST /signin", c.signIn)
	c.handle("POST /signout", c.signOut)
	c.queueRoutes()
	c.auditRoutes()
	c.accountRoutes()
	c.policyRoutes()
	c.overviewRoutes()
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.handler.ServeHTTP(w, r)
}

// Handler is the signature of a page or action for a signed-in reviewer.
// s says who is signed in and carries the token the page's API calls use.
type Handler func(w http.ResponseWriter, r *http.Request, s *Session)

// handle registers a page or action that needs a signed-in reviewer:
// without a live session a GET is sent to the sign-in page and anything
// else refused; every method but GET and HEAD must carry the session's
// CSRF token.
func (c *Console) handle(pattern string, h Handler) {
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s := c.session(w, r)
		if s == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/signin?next="+template.URLQueryEscaper(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.renderError(w, r, nil, http.StatusUnauthorized, "Your session has ended. Sign in again.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.validCSRF(r) {
			c.renderError(w, r, s, http.StatusForbidden, "This form was sent without its security token (CSRF). Reload the page and try again.")
			return
		}
		h(w, r, s)
	})
}

// apiContext is the context for the API calls a request makes: bounded, and
// ended when the browser goes away.
func apiContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 30*time.Second)
}

// cacheStatic lets browsers keep the embedded files for an hour: they
// change only with the binary.
func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// localPath returns next if it is a path on this site, else "/queue": the
// sign-in page sends the reviewer back where they were going, never
// elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/queue"
	}
	return next
}
