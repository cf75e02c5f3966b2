package webconsole

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/judge"
)

// The policy page: the policy in force and the versions run
// (ConsoleService.GetPolicy), shadow agreement and overturn rates with
// their alert state (the service's own metrics, GetMetrics), a backtest of
// a candidate (ReviewService.Backtest) and the re-evaluation of closed
// accounts (Reevaluate: a dry run listed on the page, then an apply whose
// progress the page reads as server-sent events).

const (
	dataFile = "data.json"
	// maxUpload bounds an uploaded candidate: the API takes at most 200
	// files.
	maxUpload = 8 << 20
	maxFiles  = 200
)

func (c *Console) policyRoutes() {
	c.handle("GET /policy", c.policyPage)
	c.handle("POST /policy/backtest", c.policyBacktest)
	c.handle("POST /policy/reevaluate", c.policyReevaluate)
	c.handle("POST /policy/reevaluate/apply", c.policyApply)
}

// shadowRow is the shadow policy's agreement with the live one for a rule.
type shadowRow struct {
	Rule                    string
	Agree, Stricter, Looser float64
}

// Share is the decisions agreeing, in percent of all.
func (r shadowRow) Share() float64 {
	all := r.Agree + r.Stricter + r.Looser
	if all == 0 {
		return 0
	}
	return 100 * r.Agree / all
}

// ruleChange is a backtest's changes for one rule.
type ruleChange struct {
	Rule               string
	Actioned, Released []*moderationv1.BacktestChange
}

type policyData struct {
	Live, Shadow string
	Versions     []*moderationv1.PolicyVersion
	Files        []string
	Data         string // the candidate's data.json, as edited
	Shadows      []shadowRow
	ShadowAll    shadowRow
	Overturn     []ruleRate
	Reloads      map[string]float64 // "live loaded" → count

	Backtest *moderationv1.BacktestResponse
	ByRule   []ruleChange
	Chart    *chart

	Reeval     *moderationv1.ReevaluateResponse
	ReevalFrom string // the policy re-evaluated under: a version or "the candidate"
	Version    string // the version chosen for re-evaluation
	Since      string
	Uploaded   map[string]string // files uploaded for the candidate, kept in the page
}

// policyPage shows the policy in force, its history and its quality.
func (c *Console) policyPage(w http.ResponseWriter, r *http.Request, s *Session) {
	pol, err := c.livePolicy(r, s)
	if err != nil {
		c.apiError(w, r, s, err)
		return
	}
	d, ok := c.policyView(w, r, s, pol)
	if !ok {
		return
	}
	c.render(w, r, s, "policy", d)
}

// livePolicy reads the policy in force, its files and its history: once
// per page, so a candidate is built from the same files the page shows.
func (c *Console) livePolicy(r *http.Request, s *Session) (*moderationv1.PolicyView, error) {
	ctx, cancel := apiContext(r)
	defer cancel()
	return c.console.GetPolicy(ctx, &moderationv1.GetPolicyRequest{}, s.creds())
}

// policyView reads what every state of the page shows besides the policy
// (pol, read by livePolicy).
func (c *Console) policyView(w http.ResponseWriter, r *http.Request, s *Session, pol *moderationv1.PolicyView) (*policyData, bool) {
	ctx, cancel := apiContext(r)
	defer cancel()
	m, err := c.console.GetMetrics(ctx, &moderationv1.GetMetricsRequest{Names: []string{
		"moderation_shadow_decisions_total", "moderation_appeal_overturn_rate", "moderation_rule_overturn_alert", "moderation_policy_reloads_total",
	}}, s.creds())
	if err != nil {
		c.apiError(w, r, s, err)
		return nil, false
	}
	d := &policyData{Live: pol.GetLiveVersion(), Shadow: pol.GetShadowVersion(), Versions: pol.GetVersions(),
		Data: pol.GetFiles()[dataFile], Reloads: map[string]float64{}}
	for name := range pol.GetFiles() {
		d.Files = append(d.Files, name)
	}
	slices.Sort(d.Files)
	shadow := map[string]*shadowRow{}
	for _, x := range m.GetSamples() {
		l := x.GetLabels()
		switch x.GetName() {
		case "moderation_shadow_decisions_total":
			rule := cmp.Or(l["rule"], "(none)")
			if shadow[rule] == nil {
				shadow[rule] = &shadowRow{Rule: rule}
			}
			for _, row := range []*shadowRow{shadow[rule], &d.ShadowAll} {
				switch l["agreement"] {
				case "agree":
					row.Agree += x.GetValue()
				case "stricter":
					row.Stricter += x.GetValue()
				case "looser":
					row.Looser += x.GetValue()
				}
			}
		case "moderation_policy_reloads_total":
			d.Reloads[l["policy"]+" "+l["result"]] += x.GetValue()
		}
	}
	for _, row := range shadow {
		d.Shadows = append(d.Shadows, *row)
	}
	slices.SortFunc(d.Shadows, func(a, b shadowRow) int { return strings.Compare(a.Rule, b.Rule) })
	d.Overturn = readingOf(m).Overturn
	return d, true
}

// formError answers a refused backtest or re-evaluation: the reviewer
// reads the API's refusal (or what was wrong with the form) on the policy
// page.
func (c *Console) formError(w http.ResponseWriter, r *http.Request, s *Session, err error) {
	if _, ok := status.FromError(err); !ok {
		s.Flash(err.Error())
		http.Redirect(w, r, "/policy", http.StatusSeeOther)
		return
	}
	c.actionError(w, r, s, err, "/policy")
}

// replayTimeout bounds a backtest or a re-evaluation: each compiles the
// candidate, runs its tests and judges every retained event or closed
// account again, which takes longer than a page's reads.
const replayTimeout = 5 * time.Minute

// replayContext is apiContext for a backtest or a re-evaluation.
func replayContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), replayTimeout)
}

// apiMessage is an API error as the reviewer reads it.
func apiMessage(err error) string { return status.Convert(err).Message() }

// candidate is the policy the form describes: the live policy's files,
// the files uploaded on top by base name (a bundle's unpacked), and the
// data.json of the page if the reviewer edited it. An upload with its own
// data.json (a policy directory or a bundle) is a whole policy and
// replaces the live files altogether. The files uploaded come back in the
// page as kept_name/kept_src pairs, so the next step (a dry run, its
// apply) tests the same candidate without uploading again.
func candidate(r *http.Request, live map[string]string) (files, uploaded map[string]string, err error) {
	_ = r.ParseMultipartForm(maxUpload) // a urlencoded form is parsed all the same
	uploaded = map[string]string{}
	names, srcs := r.PostForm["kept_name"], r.PostForm["kept_src"]
	for i := range min(len(names), len(srcs)) {
		if policyFile(names[i]) {
			uploaded[names[i]] = crlf(srcs[i])
		}
	}
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["files"] {
			name := path.Base(strings.ReplaceAll(fh.Filename, "\\", "/"))
			bundle := strings.HasSuffix(name, ".tar.gz") || strings.HasSuffix(name, ".tgz")
			if !bundle && !policyFile(name) {
				continue // a directory's other files (READMEs, .manifest) are not the policy
			}
			f, err := fh.Open()
			if err != nil {
				return nil, nil, err
			}
			raw, err := io.ReadAll(io.LimitReader(f, maxUpload))
			f.Close()
			if err != nil {
				return nil, nil, err
			}
			if !bundle {
				uploaded[name] = string(raw)
				continue
			}
			inside, err := judge.BundleFiles(raw)
			if err != nil {
				return nil, nil, fmt.Errorf("bundle %s: %w", name, err)
			}
			maps.Copy(uploaded, inside)
		}
	}
	if len(uploaded) > maxFiles {
		return nil, nil, fmt.Errorf("a candidate has at most %d files; %d were uploaded", maxFiles, len(uploaded))
	}
	files = maps.Clone(live)
	if _, whole := uploaded[dataFile]; whole {
		files = map[string]string{}
	}
	maps.Copy(files, uploaded)
	// The page's data.json counts when the reviewer changed it from what
	// the page showed: the live one, or the candidate's.
	if data := crlf(r.PostFormValue("data")); strings.TrimSpace(data) != "" && data != live[dataFile] && data != uploaded[dataFile] {
		files[dataFile] = data
	}
	return files, uploaded, nil
}

// crlf undoes the CRLF line ends browsers send textareas with.
func crlf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// policyFile is whether name is a file of a policy: a Rego module or its
// test, or data.json.
func policyFile(name string) bool {
	return name == dataFile || strings.HasSuffix(name, ".rego") && !strings.ContainsAny(name, "/\\")
}

// policyBacktest replays the retained events through the candidate and
// shows who would be treated differently, by rule.
func (c *Console) policyBacktest(w http.ResponseWriter, r *http.Request, s *Session) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	pol, err := c.livePolicy(r, s)
	if err != nil {
		c.formError(w, r, s, err)
		return
	}
	files, uploaded, err := candidate(r, pol.GetFiles())
	if err != nil {
		c.formError(w, r, s, err)
		return
	}
	ctx, cancel := replayContext(r)
	defer cancel()
	bt, err := c.review.Backtest(ctx, &moderationv1.BacktestRequest{Files: files}, s.creds())
	if err != nil {
		c.formError(w, r, s, err)
		return
	}
	d, ok := c.policyView(w, r, s, pol)
	if !ok {
		return
	}
	d.Data, d.Uploaded = files[dataFile], uploaded
	d.Backtest, d.ByRule = bt, byRule(bt)
	d.Chart = backtestChart(d.ByRule)
	c.render(w, r, s, "policy", d)
}

func byRule(bt *moderationv1.BacktestResponse) []ruleChange {
	rules := map[string]*ruleChange{}
	get := func(rule string) *ruleChange {
		rule = cmp.Or(rule, "(none)")
		if rules[rule] == nil {
			rules[rule] = &ruleChange{Rule: rule}
		}
		return rules[rule]
	}
	for _, ch := range bt.GetActioned() {
		rc := get(ch.GetRule())
		rc.Actioned = append(rc.Actioned, ch)
	}
	for _, ch := range bt.GetReleased() {
		rc := get(ch.GetRule())
		rc.Released = append(rc.Released, ch)
	}
	var out []ruleChange
	for _, rc := range rules {
		out = append(out, *rc)
	}
	slices.SortFunc(out, func(a, b ruleChange) int { return strings.Compare(a.Rule, b.Rule) })
	return out
}

// backtestChart is the changes by rule, as bars.
func backtestChart(rules []ruleChange) *chart {
	ch := &chart{ID: "backtest", Title: "Accounts that would change, by rule", Unit: "accounts",
		Names: []string{"actioned more strongly", "released"}, Y: [][]float64{{}, {}}, Categories: []string{}}
	for i, rc := range rules {
		ch.X = append(ch.X, int64(i))
		ch.Categories = append(ch.Categories, rc.Rule)
		ch.Y[0] = append(ch.Y[0], float64(len(rc.Actioned)))
		ch.Y[1] = append(ch.Y[1], float64(len(rc.Released)))
	}
	return ch
}

// reevaluateRequest is the re-evaluation the form asks for: under a
// version run, or under the candidate built on live, the policy's files.
func reevaluateRequest(r *http.Request, live map[string]string) (req *moderationv1.ReevaluateRequest, from string, uploaded map[string]string, err error) {
	req = &moderationv1.ReevaluateRequest{Note: strings.TrimSpace(r.PostFormValue("note"))}
	if v := strings.TrimSpace(r.PostFormValue("since")); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return nil, "", nil, fmt.Errorf("closed since %q is not a date such as 2026-01-31", v)
		}
		req.ClosedSince = timestamppb.New(t)
	}
	if v := r.PostFormValue("version"); v != "" && v != "candidate" {
		req.PolicyVersion = v
		return req, v, nil, nil
	}
	if req.Files, uploaded, err = candidate(r, live); err != nil {
		return nil, "", nil, err
	}
	return req, "the candidate", uploaded, nil
}

// policyReevaluate is the dry run: who would be restored, restoring
// nobody.
func (c *Console) policyReevaluate(w http.ResponseWriter, r *http.Request, s *Session) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	pol, err := c.livePolicy(r, s)
	if err != nil {
		c.formError(w, r, s, err)
		return
	}
	req, from, uploaded, err := reevaluateRequest(r, pol.GetFiles())
	if err != nil {
		c.formError(w, r, s, err)
		return
	}
	req.DryRun, req.Note = true, ""
	ctx, cancel := replayContext(r)
	defer cancel()
	stream, err := c.review.Reevaluate(ctx, req, s.creds())
	if err != nil {
		c.formError(w, r, s, err)
		return
	}
	var res *moderationv1.ReevaluateResponse
	for {
		p, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			c.formError(w, r, s, err)
			return
		}
		if p.GetResult() != nil {
			res = p.GetResult()
		}
	}
	d, ok := c.policyView(w, r, s, pol)
	if !ok {
		return
	}
	if req.GetPolicyVersion() == "" {
		d.Data, d.Uploaded = req.GetFiles()[dataFile], uploaded
	}
	d.Reeval, d.ReevalFrom, d.Version, d.Since = res, from, r.PostFormValue("version"), r.PostFormValue("since")
	c.render(w, r, s, "policy", d)
}

// policyApply re-evaluates for real and relays the API's progress to the
// page as server-sent events on the POST's own response (the page reads
// it with fetch): a "progress" event per step, then "result" or
// "failure".
func (c *Console) policyApply(w http.ResponseWriter, r *http.Request, s *Session) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	send := func(event string, v any) {
		raw, _ := json.Marshal(v)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, raw)
		flusher.Flush()
	}
	pol, err := c.livePolicy(r, s)
	if err != nil {
		send("failure", apiMessage(err))
		return
	}
	req, _, _, err := reevaluateRequest(r, pol.GetFiles())
	if err != nil {
		send("failure", err.Error())
		return
	}
	req.DryRun = false
	ctx, cancel := replayContext(r)
	defer cancel()
	stream, err := c.review.Reevaluate(ctx, req, s.creds())
	if err != nil {
		send("failure", apiMessage(err))
		return
	}
	for {
		p, err := stream.Recv()
		if err == io.EOF {
			return
		}
		if err != nil {
			send("failure", apiMessage(err))
			return
		}
		if res := p.GetResult(); res != nil {
			type restored struct{ Account, Was, Would, Why string }
			out := struct {
				Version    string     `json:"version"`
				Considered int32      `json:"considered"`
				Skipped    int32      `json:"skipped"`
				Batch      string     `json:"batch"`
				Restored   []restored `json:"restored"`
			}{res.GetPolicyVersion(), res.GetConsidered(), res.GetSkipped(), res.GetBatchId(), nil}
			for _, x := range res.GetRestored() {
				out.Restored = append(out.Restored, restored{x.GetAccount(), actionWord(x.GetWas()), actionWord(x.GetWould()), x.GetWhy()})
			}
			send("result", out)
			continue
		}
		send("progress", map[string]int32{"done": p.GetDone(), "total": p.GetTotal()})
	}
}
