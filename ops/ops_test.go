package ops_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	grafanaprom "github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/natsbus"
	"moderation/internal/service"
)

const (
	rulesFile     = "prometheus/alerts.yml"
	dashboardFile = "grafana/moderation.json"
	dsVariable    = "${datasource}" // every panel's and query's data source
)

// targetLabels are the labels Prometheus adds to every series it scrapes;
// up is the series it writes for each scrape itself.
var targetLabels = []string{"instance", "job"}

const prometheusOwn = "up"

// pql parses PromQL as Prometheus does with no experimental features on.
var pql = parser.NewParser(parser.Options{})

// query is one PromQL expression and where it is.
type query struct {
	where string // "alert PartitionUnowned", `panel "Lag per partition"`
	expr  parser.Expr
}

// loadRules parses the alert rules with Prometheus' own rule-file parser,
// which also parses every expression and annotation template.
func loadRules(t *testing.T) []rulefmt.Rule {
	t.Helper()
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.LegacyValidation, pql, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("%v", err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	var rules []rulefmt.Rule
	for _, g := range groups.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s: no rules", rulesFile)
	}
	return rules
}

// TestAlertRulesLoad: the rules load in Prometheus, and every one is an
// alert with a severity an Alertmanager can route on and the two
// annotations a page needs.
func TestAlertRulesLoad(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			t.Errorf("rule %q: not an alert", r.Record)
			continue
		}
		if seen[r.Alert] {
			t.Errorf("alert %s: defined twice", r.Alert)
		}
		seen[r.Alert] = true
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("alert %s: severity %q, want critical or warning", r.Alert, s)
		}
		for _, a := range []string{"summary", "description"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("alert %s: no %s", r.Alert, a)
			}
		}
	}
}

func ruleQueries(t *testing.T) []query {
	t.Helper()
	var out []query
	for _, r := range loadRules(t) {
		expr, err := pql.ParseExpr(r.Expr)
		if err != nil { // rulefmt parsed it already
			t.Fatalf("alert %s: %v", r.Alert, err)
		}
		out = append(out, query{where: "alert " + r.Alert, expr: expr})
	}
	return out
}

// grafanaBuiltins are the interval variables Grafana fills in itself, with
// values of the kind it would.
var grafanaBuiltins = map[string]string{"__rate_interval": "2m", "__interval": "30s", "__range": "6h"}

var (
	variableRef = regexp.MustCompile(`\$\{?(\w+)\}?`)
	labelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)
)

// dashboardQueries loads the dashboard with Grafana's own schema types,
// strictly (an unknown or mistyped field anywhere fails), checks what the
// schema leaves open (panel ids, data sources, query types), and returns
// every PromQL expression in it, variables filled in.
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	plugins.RegisterDefaultPlugins() // panel options and Prometheus queries are checked by their plugin's schema
	// The SDK returns its error list typed even when it is empty, and its
	// strict reading of a panel keeps the errors but drops the panel (it
	// takes that empty list for an error): it checks, json.Unmarshal reads.
	//lint:ignore SA1019 the dashboard is in the classic JSON model (schemaVersion), which every Grafana from 10 on imports; v2 is Grafana 12's alone
	var strict dashboard.Dashboard
	if err := strict.UnmarshalJSONStrict(raw); err != nil {
		if errs, ok := err.(cog.BuildErrors); !ok || len(errs) > 0 {
			t.Fatalf("%s does not load:\n%v", dashboardFile, err)
		}
	}
	var d dashboard.Dashboard //lint:ignore SA1019 as above
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("read %s: %v", dashboardFile, err)
	}
	if d.Uid == nil || *d.Uid == "" || d.Title == nil || *d.Title == "" {
		t.Errorf("%s: no uid or title", dashboardFile)
	}

	var out []query
	parse := func(where, expr string) parser.Expr {
		filled := variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
			name := variableRef.FindStringSubmatch(ref)[1]
			if v, ok := grafanaBuiltins[name]; ok {
				return v
			}
			if slices.ContainsFunc(d.Templating.List, func(v dashboard.VariableModel) bool { return v.Name == name }) {
				return ".*" // what "All" sends; only regular-expression matchers may use a variable
			}
			t.Errorf("%s: unknown variable %s in %s", where, ref, expr)
			return ref
		})
		parsed, err := pql.ParseExpr(filled)
		if err != nil {
			t.Errorf("%s: %s: %v", where, expr, err)
			return nil
		}
		out = append(out, query{where: where, expr: parsed})
		return parsed
	}

	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			if v.Query == nil || v.Query.String == nil || *v.Query.String != "prometheus" {
				t.Errorf("variable %s: not a Prometheus data source", v.Name)
			}
		case "query":
			if v.Query == nil || v.Query.String == nil {
				t.Errorf("variable %s: no query", v.Name)
				continue
			}
			m := labelValues.FindStringSubmatch(*v.Query.String)
			if m == nil {
				t.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, *v.Query.String)
				continue
			}
			// The label it lists must be on the series it lists it from.
			parse("variable "+v.Name, fmt.Sprintf("sum by (%s) (%s)", m[2], m[1]))
		}
	}

	var panels []dashboard.Panel
	for _, p := range d.Panels {
		switch {
		case p.Panel != nil:
			panels = append(panels, *p.Panel)
		case p.RowPanel != nil:
			panels = append(panels, p.RowPanel.Panels...)
		}
	}
	ids := map[uint32]bool{}
	for _, p := range d.Panels {
		if p.RowPanel != nil {
			ids[p.RowPanel.Id] = true
		}
	}
	for _, p := range panels {
		where := fmt.Sprintf("panel %q", deref(p.Title))
		if p.Id == nil || ids[*p.Id] {
			t.Errorf("%s: no id, or one another panel has", where)
		} else {
			ids[*p.Id] = true
		}
		if p.Datasource == nil || deref(p.Datasource.Uid) != dsVariable {
			t.Errorf("%s: data source is not %s", where, dsVariable)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no query", where)
		}
		for _, target := range p.Targets {
			q, ok := target.(*grafanaprom.Dataquery)
			if !ok {
				t.Errorf("%s: a %T query, want Prometheus", where, target)
				continue
			}
			if q.Datasource == nil || deref(q.Datasource.Uid) != dsVariable {
				t.Errorf("%s, query %s: data source is not %s", where, deref(q.RefId), dsVariable)
			}
			parse(where, q.Expr)
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// TestDashboardLoads: the dashboard loads under Grafana's schema and each
// of its queries parses as PromQL.
func TestDashboardLoads(t *testing.T) {
	qs := dashboardQueries(t)
	if len(qs) == 0 {
		t.Fatal("no queries in the dashboard")
	}
	t.Logf("%d PromQL queries in the dashboard", len(qs))
}

// reference is what an expression asks of one metric: the labels its
// matchers compare.
type reference struct {
	metric string
	labels []string
}

// references lists the metrics an expression selects, from its syntax tree,
// and the labels its groupings and vector matchings name.
func references(expr parser.Expr) (refs []reference, grouping []string) {
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			r := reference{metric: n.Name}
			for _, m := range n.LabelMatchers {
				if m.Name == model.MetricNameLabel {
					if m.Type == labels.MatchEqual {
						r.metric = m.Value
					}
					continue
				}
				r.labels = append(r.labels, m.Name)
			}
			refs = append(refs, r)
		case *parser.AggregateExpr:
			if !n.Without {
				grouping = append(grouping, n.Grouping...)
			}
		case *parser.BinaryExpr:
			if n.VectorMatching != nil && n.VectorMatching.On {
				grouping = append(grouping, n.VectorMatching.MatchingLabels...)
			}
		}
		return nil
	})
	return refs, grouping
}

// awaitingLanes are metrics the dashboard or alerts name before the code
// that feeds them is built, with their labels: this test checks only that
// they are declared. One that has series fails the test until it is taken
// off this list, so that its absence fails again. Empty: every metric
// named has series.
var awaitingLanes = map[string][]string{}

// TestEveryMetricNamedExists starts the real service, drives it so that
// its metrics have series (events of two accounts, one with a state that
// cannot be decoded, a malformed event, a Check, an appeal), scrapes its
// /metrics, and fails naming every metric a panel or an alert selects that
// the service does not expose, and every label one compares or groups by
// that the metrics it selects do not carry.
func TestEveryMetricNamedExists(t *testing.T) {
	qs := append(ruleQueries(t), dashboardQueries(t)...)
	svc := startService(t)
	drive(t, svc)
	exposed := scrape(t, svc.HTTPAddr)

	missing := map[string][]string{} // metric → where named
	for _, q := range qs {
		refs, grouping := references(q.expr)
		known := slices.Clone(targetLabels)
		for _, r := range refs {
			if r.metric == "" {
				t.Errorf("%s: a selector without a metric name", q.where)
				continue
			}
			if r.metric == prometheusOwn {
				continue
			}
			have, ok := exposed[r.metric]
			if !ok {
				if have, ok = awaitingLanes[r.metric]; !ok {
					if !slices.Contains(missing[r.metric], q.where) {
						missing[r.metric] = append(missing[r.metric], q.where)
					}
					continue
				}
			}
			known = append(known, have...)
			for _, l := range r.labels {
				if !slices.Contains(have, l) && !slices.Contains(targetLabels, l) {
					t.Errorf("%s: %s has no label %q (it has %v)", q.where, r.metric, l, have)
				}
			}
		}
		for _, l := range grouping {
			if !slices.Contains(known, l) {
				t.Errorf("%s: groups or matches by %q, a label none of its metrics carries", q.where, l)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(missing)) {
		where := strings.Join(missing[name], ", ")
		if file := declaredIn(t, name); file != "" {
			t.Errorf("%s (%s): declared in %s, but the service exposed no series of it after the events this test sent: "+
				"a vector has series only once a child is set; make drive do what sets one", name, where, file)
		} else {
			t.Errorf("%s (%s): the service does not expose it and no code in this repository declares it: a typo, or a metric renamed or removed", name, where)
		}
	}

	for _, name := range slices.Sorted(maps.Keys(awaitingLanes)) {
		file := declaredIn(t, name)
		switch _, ok := exposed[name]; {
		case ok:
			t.Errorf("%s has series now: take it off awaitingLanes, so that its absence fails this test again", name)
		case file == "":
			t.Errorf("%s: awaiting the lanes, but no code in this repository declares it", name)
		default:
			t.Logf("%s: declared in %s, no series yet: the lanes that set it are not built (docs/DESIGN.md, Scaling out)", name, file)
		}
	}

	// What no panel or alert shows, for whoever extends them.
	named := map[string]bool{}
	for _, q := range qs {
		refs, _ := references(q.expr)
		for _, r := range refs {
			named[r.metric] = true
		}
	}
	var unused []string
	for name := range exposed {
		if strings.HasPrefix(name, "moderation_") && !named[name] {
			unused = append(unused, name)
		}
	}
	sort.Strings(unused)
	t.Logf("%d queries name %d metrics; moderation_ series exposed and not shown: %v", len(qs), len(named), unused)
}

// declaredIn is the Go file of this repository, tests aside, that names
// metric (or the histogram it is a series of) as a string, or "".
func declaredIn(t *testing.T, metric string) string {
	t.Helper()
	family := metric
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		family = strings.TrimSuffix(family, suffix)
	}
	var found string
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || found != "" {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "ops") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), `"`+family+`"`) {
			found, _ = filepath.Rel(root, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("look for %s in the code: %v", metric, err)
	}
	return found
}

// scrape reads /metrics as Prometheus does and returns each series name
// it may select (a histogram's _bucket, _sum and _count) with the labels
// its series carry.
func scrape(t *testing.T, addr string) map[string][]string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string][]string{}
	for name, mf := range families {
		var lbls []string
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains(lbls, l.GetName()) {
					lbls = append(lbls, l.GetName())
				}
			}
		}
		switch mf.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			out[name+"_bucket"] = append(slices.Clone(lbls), "le")
			out[name+"_sum"], out[name+"_count"] = lbls, lbls
		case dto.MetricType_SUMMARY:
			out[name] = append(slices.Clone(lbls), "quantile")
			out[name+"_sum"], out[name+"_count"] = lbls, lbls
		default:
			out[name] = lbls
		}
	}
	return out
}

// startService runs the whole service on an embedded NATS server with
// random ports and a fresh data dir, as moderationd would, and stops it
// when the test ends.
func startService(t *testing.T) *service.Service {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, err := service.Start(ctx, service.Config{
		DataDir: t.TempDir(), NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		MaxStateMB: 64, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("start service: %v", err)
	}
	t.Cleanup(svc.Stop)
	if err := svc.WaitReady(ctx); err != nil {
		t.Fatalf("service not ready: %v", err)
	}
	return svc
}

// drive gives the service something to count: a 12-hour-old account
// adding 260 strangers in an hour (a measure, then an appeal against it),
// the same from an account whose stored state cannot be decoded (a
// permanent failure), and an event that is not JSON (a dead letter).
func drive(t *testing.T, svc *service.Service) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := svc.Streams.Accounts.Put(ctx, "acct_corrupt", []byte("{not json")); err != nil {
		t.Fatalf("write corrupt state: %v", err)
	}
	platform := api(t, svc, auth.Identity{Subject: "svc-ops-test", Role: auth.RoleService})
	const adds = 260
	now := time.Now()
	for _, account := range []string{"acct_bulk", "acct_corrupt"} {
		var evs []*moderationv1.Event
		for i := range adds {
			evs = append(evs, &moderationv1.Event{Id: fmt.Sprintf("%s-%d", account, i), Kind: "friend_add", Account: account,
				At:          timestamppb.New(now.Add(-50*time.Minute + time.Duration(i)*50*time.Minute/adds)),
				AccountInfo: &moderationv1.AccountInfo{Type: "personal", CreatedAt: timestamppb.New(now.Add(-12 * time.Hour))},
				Body:        &moderationv1.Event_FriendAdd{FriendAdd: &moderationv1.FriendAdd{Target: fmt.Sprintf("u%d", i), Source: "search"}}})
		}
		if _, err := moderationv1.NewModerationServiceClient(platform).Ingest(ctx, &moderationv1.IngestRequest{Events: evs}); err != nil {
			t.Fatalf("ingest %s: %v", account, err)
		}
	}
	nc, err := nats.Connect(svc.NATSURL, svc.NATSAs(natsbus.RolePublisher))
	if err != nil {
		t.Fatalf("connect publisher: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "mod.events.friend_add.acct_x", []byte(`{"id": "truncated`)); err != nil {
		t.Fatalf("publish a malformed event: %v", err)
	}
	waitFor(t, "every event processed", 60*time.Second, func() bool { return svc.Pipeline.Processed() >= 2*adds+1 })

	check := moderationv1.NewModerationServiceClient(platform)
	var measured *moderationv1.CheckResponse
	waitFor(t, "a measure on acct_bulk", 20*time.Second, func() bool {
		r, err := check.Check(ctx, &moderationv1.CheckRequest{Account: "acct_bulk"})
		if err == nil && r.Status != moderationv1.Status_STATUS_ACTIVE && r.DecisionId != "" {
			measured = r
		}
		return measured != nil
	})
	owner := api(t, svc, auth.Identity{Subject: "owner-acct_bulk", Role: auth.RoleOwner, Account: "acct_bulk"})
	if _, err := moderationv1.NewAppealServiceClient(owner).FileAppeal(ctx, &moderationv1.FileAppealRequest{
		Account: "acct_bulk", DecisionId: measured.DecisionId, Statement: "I was adding my new classmates.",
	}); err != nil {
		t.Fatalf("file appeal: %v", err)
	}
}

// api is a gRPC connection to the service with a token for id.
func api(t *testing.T, svc *service.Service, id auth.Identity) *grpc.ClientConn {
	t.Helper()
	token, err := svc.Token(id, time.Hour)
	if err != nil {
		t.Fatalf("mint token for %+v: %v", id, err)
	}
	conn, err := grpc.NewClient(svc.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(auth.Bearer(token)))
	if err != nil {
		t.Fatalf("dial gRPC: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
