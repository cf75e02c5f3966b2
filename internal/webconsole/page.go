package webconsole

// Adding a page:
//
//  1. templates/<name>.html defines "title" and "content" (and, if the
//     page has a script of its own, "scripts" with a <script src> of a
//     file under static/: the CSP refuses inline script and style).
//     parsePages gives each page the layout (templates/layout.html) and
//     the helpers in funcs.
//  2. A handler of type Handler, registered in routes (console.go) with
//     c.handle("GET /path", c.yourPage): it runs only for a signed-in
//     reviewer, and POSTs only with the session's CSRF token.
//  3. It reads through the API with the session's token:
//     c.review.GetTimeline(ctx, req, s.creds()); on an error,
//     c.apiError(w, r, s, err) answers (and ends the session if the API
//     says the token is no longer accepted).
//  4. It answers c.render(w, r, s, "<name>", data); in the template the
//     data is .Data, the reviewer .Who, the CSRF token .CSRF.
//     An action answers http.Redirect(..., http.StatusSeeOther) after
//     s.Flash("what was done").

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"moderation/internal/auth"
)

// view is what the layout renders around a page.
type view struct {
	Page  string // the page's name: marks its entry in the navigation
	Who   *auth.Identity
	CSRF  string
	Flash string
	Error string
	Data  any
}

// funcs are the helpers every template may use. None of them returns
// template.HTML: everything a template prints is escaped.
var funcs = template.FuncMap{
	"ts": func(t *timestamppb.Timestamp) string {
		if t == nil {
			return ""
		}
		return t.AsTime().UTC().Format("2006-01-02 15:04:05Z")
	},
	"ago":     func(t *timestamppb.Timestamp, now time.Time) string { return ago(t, now) },
	"left":    func(t *timestamppb.Timestamp, now time.Time) string { return left(t, now) },
	"unix":    func(t *timestamppb.Timestamp) int64 { return t.AsTime().Unix() },
	"lower":   strings.ToLower,
	"trimPfx": strings.TrimPrefix,
}

// parsePages parses each templates/<name>.html with the layout into a
// template set of its own, so every page may define "content".
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		if path.Base(name) == "layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("web console: parse %s: %w", name, err)
		}
		pages[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return pages, nil
}

// render answers 200 with a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *Session, page string, data any) {
	c.renderStatus(w, r, s, http.StatusOK, page, view{Data: data})
}

// renderStatus executes the page into a buffer first, so a template error
// is a 500 rather than half a page.
func (c *Console) renderStatus(w http.ResponseWriter, r *http.Request, s *Session, code int, page string, v view) {
	t := c.pages[page]
	if t == nil {
		c.log.Error("web console: no such page template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v.Page = page
	if s != nil {
		who := s.Who
		v.Who, v.CSRF = &who, s.csrf
		if v.Flash == "" {
			v.Flash = s.takeFlash()
		}
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		c.log.Error("web console: render page", "page", page, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}

// renderError answers code with the error page saying msg.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, s *Session, code int, msg string) {
	c.renderStatus(w, r, s, code, "error", view{Error: msg})
}

// httpCodes maps the API's answers to the console's.
var httpCodes = map[codes.Code]int{
	codes.InvalidArgument:    http.StatusBadRequest,
	codes.NotFound:           http.StatusNotFound,
	codes.FailedPrecondition: http.StatusConflict,
	codes.AlreadyExists:      http.StatusConflict,
	codes.PermissionDenied:   http.StatusForbidden,
	codes.ResourceExhausted:  http.StatusTooManyRequests,
	codes.Unavailable:        http.StatusServiceUnavailable,
	codes.DeadlineExceeded:   http.StatusGatewayTimeout,
}

// apiError answers for an API call that failed. The API's messages are
// written for callers (an internal error's text never leaves the service),
// so the reviewer reads the refusal as gRPC gives it. A token the API no
// longer accepts ends the session.
func (c *Console) apiError(w http.ResponseWriter, r *http.Request, s *Session, err error) {
	st := status.Convert(err)
	if st.Code() == codes.Unauthenticated {
		c.endSession(w, s)
		c.renderError(w, r, nil, http.StatusUnauthorized, "The service no longer accepts your token ("+st.Message()+"). Sign in again.")
		return
	}
	code, ok := httpCodes[st.Code()]
	if !ok {
		code = http.StatusBadGateway
	}
	c.renderError(w, r, s, code, st.Message())
}

// actionError is apiError for an action whose page can say what went
// wrong: a refusal the reviewer can act on (a lost claim, a missing
// reply) is flashed on the page they come back to, rather than a dead end.
func (c *Console) actionError(w http.ResponseWriter, r *http.Request, s *Session, err error, back string) {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound, codes.PermissionDenied, codes.AlreadyExists:
		s.Flash(status.Convert(err).Message())
		http.Redirect(w, r, back, http.StatusSeeOther)
	default:
		c.apiError(w, r, s, err)
	}
}

func ago(t *timestamppb.Timestamp, now time.Time) string {
	if t == nil {
		return ""
	}
	return human(now.Sub(t.AsTime()))
}

func left(t *timestamppb.Timestamp, now time.Time) string {
	if t == nil {
		return ""
	}
	d := t.AsTime().Sub(now)
	if d <= 0 {
		return "ended"
	}
	return human(d)
}

// human is a duration as a reviewer reads it: "3d 4h", "12m".
func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}
