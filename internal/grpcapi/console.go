package grpcapi

import (
	"context"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
)

// Policies reads the policy in force and the versions run, for the
// console.
type Policies interface {
	PolicyInfo(ctx context.Context) (PolicyInfo, error)
}

// PolicyInfo is the policy in force and its history.
type PolicyInfo struct {
	Live, Shadow string
	Versions     []PolicyVersion   // in the order first loaded
	Files        map[string]string // the live policy's, by file name
}

// PolicyVersion is a version run, live or shadow.
type PolicyVersion struct {
	Version, Role string
	LoadedAt      time.Time
	Loaded        bool // this instance holds it (re-evaluation can use it)
}

// metricPrefix is what GetMetrics serves: the service's own metrics, not
// the Go runtime's or the process's.
const metricPrefix = "moderation_"

type consoleService struct {
	*api
	moderationv1.UnimplementedConsoleServiceServer
}

// GetPolicy returns the live policy's version and files and the versions
// run.
func (s *consoleService) GetPolicy(ctx context.Context, _ *moderationv1.GetPolicyRequest) (*moderationv1.PolicyView, error) {
	if s.deps.Policies == nil {
		return nil, status.Error(codes.Unimplemented, "this server does not report its policy")
	}
	p, err := s.deps.Policies.PolicyInfo(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "read the policy history: %v", err)
	}
	out := &moderationv1.PolicyView{LiveVersion: p.Live, ShadowVersion: p.Shadow, Files: p.Files}
	for _, v := range p.Versions {
		out.Versions = append(out.Versions, &moderationv1.PolicyVersion{Version: v.Version, Role: v.Role, LoadedAt: timestamppb.New(v.LoadedAt), Loaded: v.Loaded})
	}
	return out, nil
}

// GetMetrics reads the registry /metrics serves, in-process: the console
// shows the numbers an operator's dashboards show, without scraping.
func (s *consoleService) GetMetrics(_ context.Context, req *moderationv1.GetMetricsRequest) (*moderationv1.GetMetricsResponse, error) {
	if s.deps.Metrics == nil {
		return nil, status.Error(codes.Unimplemented, "this server does not report metrics")
	}
	families, err := s.deps.Metrics.Gather()
	if err != nil && len(families) == 0 {
		return nil, status.Errorf(codes.Unavailable, "read metrics: %v", err)
	}
	out := &moderationv1.GetMetricsResponse{At: timestamppb.New(s.now())}
	for _, f := range families {
		name := f.GetName()
		if !strings.HasPrefix(name, metricPrefix) || len(req.GetNames()) > 0 && !slices.Contains(req.GetNames(), name) {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := make(map[string]string, len(m.GetLabel()))
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			add := func(name string, v float64) {
				out.Samples = append(out.Samples, &moderationv1.MetricSample{Name: name, Labels: labels, Value: v})
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				add(name, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add(name, m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				add(name, m.GetUntyped().GetValue())
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				add(name+"_count", float64(m.GetHistogram().GetSampleCount()))
				add(name+"_sum", m.GetHistogram().GetSampleSum())
			case dto.MetricType_SUMMARY:
				add(name+"_count", float64(m.GetSummary().GetSampleCount()))
				add(name+"_sum", m.GetSummary().GetSampleSum())
			}
		}
	}
	return out, nil
}
