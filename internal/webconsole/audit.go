package webconsole

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
)

// auditPageSize is how many records the audit page lists at once; the
// exports have no such bound.
const auditPageSize = 100

// defaultExportRange is how far back an export reaches when the search
// names no start: the API refuses an export without one.
const defaultExportRange = 30 * 24 * time.Hour

func (c *Console) auditRoutes() {
	c.handle("GET /audit", c.auditPage)
	c.handle("GET /audit/export.csv", c.auditExport(moderationv1.AuditFormat_AUDIT_FORMAT_CSV, "text/csv; charset=utf-8", "csv"))
	c.handle("GET /audit/export.jsonl", c.auditExport(moderationv1.AuditFormat_AUDIT_FORMAT_JSONL, "application/x-ndjson", "jsonl"))
	c.handle("GET /audit/statements", c.auditStatements)
}

// auditQuery is the search form, as the page's query string carries it.
type auditQuery struct {
	Account, Actor, Rule, Kind, Since, Until string
	From                                     uint64
}

func auditQueryOf(v url.Values) auditQuery {
	q := auditQuery{Account: strings.TrimSpace(v.Get("account")), Actor: strings.TrimSpace(v.Get("actor")),
		Rule: strings.TrimSpace(v.Get("rule")), Kind: strings.TrimSpace(v.Get("kind")),
		Since: strings.TrimSpace(v.Get("since")), Until: strings.TrimSpace(v.Get("until"))}
	q.From, _ = strconv.ParseUint(v.Get("from"), 10, 64)
	return q
}

// values is the query without its page: what the download links and the
// next page carry.
func (q auditQuery) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"account": q.Account, "actor": q.Actor, "rule": q.Rule, "kind": q.Kind, "since": q.Since, "until": q.Until} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

func (q auditQuery) link(path string) string {
	if v := q.values(); len(v) > 0 {
		return path + "?" + v.Encode()
	}
	return path
}

// errBadTime names the form field whose time does not read.
type errBadTime struct{ field, value string }

func (e errBadTime) Error() string {
	return fmt.Sprintf("%s %q is not a time: give 2026-11-21, 2026-11-21T09:00, an RFC 3339 time, or a duration ago such as 24h", e.field, e.value)
}

// when reads a form's time: a date, a datetime-local value or an RFC 3339
// time (UTC unless it says otherwise), or a duration ago ("24h").
func when(field, s string, now time.Time) (*timestamppb.Timestamp, error) {
	if s == "" {
		return nil, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return timestamppb.New(now.Add(-d)), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return timestamppb.New(t), nil
		}
	}
	return nil, errBadTime{field, s}
}

// times reads since and until.
func (q auditQuery) times(now time.Time) (since, until *timestamppb.Timestamp, err error) {
	if since, err = when("since", q.Since, now); err != nil {
		return nil, nil, err
	}
	until, err = when("until", q.Until, now)
	return since, until, err
}

// auditView is the audit page's data.
type auditView struct {
	Query     auditQuery
	Searched  bool
	Entries   []*moderationv1.AuditEntry
	Scanned   uint64
	Next      string // the next page, when there may be more
	CSV       string // download links for the same search
	JSONL     string
	SoR       string
	Error     string
	Kinds     []string
	FirstPage string
}

var auditKinds = []string{"enforcement", "manual", "appeal", "reevaluate", "batch", "token", "purge", "shadow", "suppressed", "brigade"}

// auditPage is the search form and, once searched, a page of matching
// records with links to export all of them.
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, s *Session) {
	q := auditQueryOf(r.URL.Query())
	v := auditView{Query: q, Searched: len(r.URL.Query()) > 0, Kinds: auditKinds,
		CSV: q.link("/audit/export.csv"), JSONL: q.link("/audit/export.jsonl"), FirstPage: q.link("/audit"),
		// The statements export takes only the range.
		SoR: auditQuery{Since: q.Since, Until: q.Until}.link("/audit/statements")}
	if !v.Searched {
		c.render(w, r, s, "audit", v)
		return
	}
	since, until, err := q.times(c.now())
	if err != nil {
		v.Error = err.Error()
		c.render(w, r, s, "audit", v)
		return
	}
	ctx, cancel := apiContext(r)
	defer cancel()
	res, err := c.audit.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Account: q.Account, Actor: q.Actor, Rule: q.Rule, Kind: q.Kind,
		Since: since, Until: until, Limit: auditPageSize, FromSequence: q.From}, s.creds())
	if status.Code(err) == codes.InvalidArgument {
		// The reviewer can fix the form: say what the API refused, on it.
		v.Error = status.Convert(err).Message()
		c.render(w, r, s, "audit", v)
		return
	}
	if err != nil {
		c.apiError(w, r, s, err)
		return
	}
	v.Entries, v.Scanned = res.Entries, res.Scanned
	if res.NextSequence != 0 {
		next := q.values()
		next.Set("from", strconv.FormatUint(res.NextSequence, 10))
		v.Next = "/audit?" + next.Encode()
	}
	c.render(w, r, s, "audit", v)
}

// exportRange is an export's since and until: since defaults to
// defaultExportRange ago.
func (c *Console) exportRange(q auditQuery) (since, until *timestamppb.Timestamp, err error) {
	since, until, err = q.times(c.now())
	if since == nil && err == nil {
		since = timestamppb.New(c.now().Add(-defaultExportRange))
	}
	return since, until, err
}

// auditExport streams the search's matches as a download.
func (c *Console) auditExport(format moderationv1.AuditFormat, contentType, ext string) Handler {
	return func(w http.ResponseWriter, r *http.Request, s *Session) {
		q := auditQueryOf(r.URL.Query())
		since, until, err := c.exportRange(q)
		if err != nil {
			c.renderError(w, r, s, http.StatusBadRequest, err.Error())
			return
		}
		stream, err := c.audit.ExportAudit(r.Context(), &moderationv1.ExportAuditRequest{Account: q.Account, Actor: q.Actor, Rule: q.Rule,
			Kind: q.Kind, Since: since, Until: until, Format: format}, s.creds())
		if err != nil {
			c.apiError(w, r, s, err)
			return
		}
		// The first chunk decides: an error before any data is the
		// API's answer, shown as a page; after it, the download is cut.
		first, err := stream.Recv()
		if err != nil && !errors.Is(err, io.EOF) {
			c.apiError(w, r, s, err)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%s.%s"`, c.now().UTC().Format("20060102T150405Z"), ext))
		for chunk := first; chunk != nil; {
			if _, err := w.Write(chunk.Data); err != nil {
				return
			}
			if chunk, err = stream.Recv(); err != nil {
				if !errors.Is(err, io.EOF) {
					c.log.Warn("web console: audit export cut short", "err", err)
				}
				return
			}
		}
	}
}

// auditStatements downloads the statements of reasons of the decisions
// in the range: one batch as the API's JSON, or, past 100 statements,
// one batch per line, each ready for the API's endpoint.
func (c *Console) auditStatements(w http.ResponseWriter, r *http.Request, s *Session) {
	q := auditQueryOf(r.URL.Query())
	since, until, err := c.exportRange(q)
	if err != nil {
		c.renderError(w, r, s, http.StatusBadRequest, err.Error())
		return
	}
	stream, err := c.audit.ExportStatements(r.Context(), &moderationv1.ExportStatementsRequest{Since: since, Until: until}, s.creds())
	if err != nil {
		c.apiError(w, r, s, err)
		return
	}
	batches, err := readBatches(stream)
	if err != nil {
		c.apiError(w, r, s, err)
		return
	}
	stamp := c.now().UTC().Format("20060102T150405Z")
	if len(batches) <= 1 {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="statements-`+stamp+`.json"`)
		if len(batches) == 0 {
			batches = [][]byte{[]byte(`{"statements":[]}`)}
		}
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Content-Disposition", `attachment; filename="statements-`+stamp+`.jsonl"`)
	}
	_, _ = w.Write(append(bytes.Join(batches, []byte("\n")), '\n'))
}

func readBatches(stream grpc.ServerStreamingClient[moderationv1.ExportChunk]) ([][]byte, error) {
	var batches [][]byte
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return batches, nil
		}
		if err != nil {
			return nil, err
		}
		if len(chunk.Data) > 0 {
			batches = append(batches, chunk.Data)
		}
	}
}
