package authz

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
)

// access is what the design lets a role do with a method.
type access int

const (
	no  access = iota // refused whatever the account
	own               // only on the caller's own account
	all               // any account, or none
)

// design is who may call what, written out from the design rather than
// read from the policy, so that a change to either is caught here.
var design = []struct {
	method                          string
	admin, service, reviewer, owner access
}{
	{"moderation.v1.ModerationService/Check", all, all, all, own},
	{"moderation.v1.ModerationService/BatchCheck", all, all, all, no},
	{"moderation.v1.ModerationService/Ingest", all, all, no, no},
	{"moderation.v1.ModerationService/GetDecision", all, all, all, own},
	{"moderation.v1.ModerationService/ListDecisions", all, all, all, own},
	{"moderation.v1.ModerationService/WatchEnforcement", all, all, all, own},
	{"moderation.v1.ReviewService/GetTimeline", all, no, all, no},
	{"moderation.v1.ReviewService/TakeAction", all, no, all, no},
	{"moderation.v1.ReviewService/Backtest", all, no, all, no},
	{"moderation.v1.ReviewService/ListAppeals", all, no, all, no},
	{"moderation.v1.ReviewService/ClaimAppeal", all, no, all, no},
	{"moderation.v1.ReviewService/DecideAppeal", all, no, all, no},
	{"moderation.v1.ReviewService/Reevaluate", all, no, all, no},
	{"moderation.v1.AppealService/FileAppeal", all, no, no, own},
	{"moderation.v1.AppealService/GetAppeal", all, no, no, own},
	{"moderation.v1.AppealService/ListMyAppeals", all, no, no, own},
	{"moderation.v1.AppealService/WithdrawAppeal", all, no, no, own},
	{"moderation.v1.AdminService/MintToken", all, no, no, no},
	{"moderation.v1.AdminService/RevokeToken", all, no, no, no},
	{"moderation.v1.AuditService/SearchAudit", all, no, all, no},
	{"moderation.v1.AuditService/ExportAudit", all, no, all, no},
	{"moderation.v1.AuditService/ExportStatements", all, no, all, no},
	{"moderation.v1.ConsoleService/GetPolicy", all, no, all, no},
	{"moderation.v1.ConsoleService/GetMetrics", all, no, all, no},
	{"moderation.console/SignIn", all, no, all, no},
}

var relations = []Relation{RelOwn, RelOther, RelNone}

func newAuthorizer(t testing.TB) *Authorizer {
	t.Helper()
	a, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func (x access) allows(rel Relation) bool {
	return x == all || x == own && rel == RelOwn
}

// Every role, method and relation, against the design.
func TestDecideMatrix(t *testing.T) {
	a := newAuthorizer(t)
	for _, row := range design {
		for role, x := range map[string]access{"admin": row.admin, "service": row.service, "reviewer": row.reviewer, "owner": row.owner} {
			for _, rel := range relations {
				t.Run(fmt.Sprintf("%s/%s/%s", row.method, role, rel), func(t *testing.T) {
					got, err := a.Decide(t.Context(), row.method, role, rel)
					if err != nil {
						t.Fatalf("Decide: %v", err)
					}
					if want := x.allows(rel); got.Allow != want {
						t.Errorf("allow: got %v, want %v (reason %q)", got.Allow, want, got.Reason)
					}
					if (got.Reason == "") != got.Allow {
						t.Errorf("reason: got %q with allow=%v, want empty exactly when allowed", got.Reason, got.Allow)
					}
				})
			}
		}
	}
}

// The policy knows exactly the methods, roles and relations of the design:
// a method added to one side only fails here.
func TestPolicyKnowsTheDesignsNames(t *testing.T) {
	a := newAuthorizer(t)
	var methods []string
	for _, row := range design {
		methods = append(methods, row.method)
	}
	for _, tt := range []struct {
		name string
		got  map[string]bool
		want []string
	}{
		{"methods", a.methods, methods},
		{"roles", a.roles, []string{"admin", "owner", "reviewer", "service"}},
		{"relations", a.relations, []string{"none", "other", "own"}},
	} {
		if got, want := slices.Sorted(maps.Keys(tt.got)), slices.Sorted(slices.Values(tt.want)); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, want)
		}
	}
}

func TestDecideReasons(t *testing.T) {
	a := newAuthorizer(t)
	tests := []struct {
		method, role string
		rel          Relation
		want         Decision
	}{
		{"moderation.v1.ModerationService/Check", "owner", RelOwn, Decision{Allow: true}},
		{"moderation.v1.ModerationService/Check", "owner", RelOther, Decision{Reason: "owners may only reach their own account"}},
		{"moderation.v1.ModerationService/Check", "owner", RelNone, Decision{Reason: "owners must name their own account"}},
		{"moderation.v1.ReviewService/DecideAppeal", "service", RelOther, Decision{Reason: "services cannot decide appeals"}},
		{"moderation.v1.ModerationService/Ingest", "reviewer", RelNone, Decision{Reason: "reviewers cannot ingest events"}},
		{"moderation.v1.ModerationService/BatchCheck", "owner", RelOwn, Decision{Reason: "owners cannot check accounts in batches"}},
		{"moderation.v1.AppealService/FileAppeal", "reviewer", RelOther, Decision{Reason: "reviewers cannot file appeals"}},
		{"moderation.v1.AdminService/MintToken", "reviewer", RelNone, Decision{Reason: "only admins may mint tokens"}},
		{"moderation.v1.AdminService/MintToken", "owner", RelOwn, Decision{Reason: "only admins may mint tokens"}},
		{"moderation.v1.ModerationService/Delete", "admin", RelNone, Decision{Reason: "unknown method"}},
		{"/moderation.v1.ModerationService/Check", "admin", RelNone, Decision{Reason: "unknown method"}},
		{"grpc.health.v1.Health/Check", "admin", RelNone, Decision{Reason: "unknown method"}},
		{"moderation.v1.ModerationService/Check", "root", RelNone, Decision{Reason: "unknown role"}},
		{"moderation.v1.ModerationService/Check", "", RelNone, Decision{Reason: "unknown role"}},
		{"moderation.v1.ModerationService/Check", "admin", Relation("mine"), Decision{Reason: "unknown account relation"}},
		{"moderation.v1.ModerationService/Check", "admin", "", Decision{Reason: "unknown account relation"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s", tt.method, tt.role, tt.rel), func(t *testing.T) {
			got, err := a.Decide(t.Context(), tt.method, tt.role, tt.rel)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func cached(a *Authorizer) int {
	n := 0
	for range a.decisions.Range {
		n++
	}
	return n
}

// A memoized decision is the one the policy gives, and asking again does
// not evaluate again.
func TestDecideMemoizesKnownCalls(t *testing.T) {
	a := newAuthorizer(t)
	const method = "moderation.v1.ReviewService/DecideAppeal"
	first, err := a.Decide(t.Context(), method, "service", RelOther)
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	got, ok := a.decisions.Load(call{method, "service", RelOther})
	if !ok {
		t.Fatal("decision not memoized after the first call")
	}
	if got != first {
		t.Errorf("memoized: got %+v, want %+v", got, first)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		if _, err := a.Decide(t.Context(), method, "service", RelOther); err != nil {
			t.Fatalf("Decide: %v", err)
		}
	}); allocs != 0 {
		t.Errorf("memoized Decide: got %v allocations, want 0 (is it evaluating again?)", allocs)
	}
}

// Callers choose what they send; unknown names must not grow the cache.
func TestDecideDoesNotMemoizeUnknownCalls(t *testing.T) {
	a := newAuthorizer(t)
	for i := range 50 {
		for _, c := range []call{
			{fmt.Sprintf("moderation.v1.ModerationService/Made%d", i), "admin", RelNone},
			{"moderation.v1.ModerationService/Check", fmt.Sprintf("role%d", i), RelNone},
			{"moderation.v1.ModerationService/Check", "admin", Relation(fmt.Sprint(i))},
		} {
			d, err := a.Decide(t.Context(), c.method, c.role, c.rel)
			if err != nil {
				t.Fatalf("Decide(%+v): %v", c, err)
			}
			if d.Allow {
				t.Errorf("Decide(%+v): got allowed, want refused", c)
			}
		}
	}
	if n := cached(a); n != 0 {
		t.Errorf("cached decisions: got %d, want 0", n)
	}
	// The whole known matrix fits, and is the bound.
	for _, row := range design {
		for role := range a.roles {
			for _, rel := range relations {
				if _, err := a.Decide(t.Context(), row.method, role, rel); err != nil {
					t.Fatalf("Decide: %v", err)
				}
			}
		}
	}
	if got, want := cached(a), len(design)*len(a.roles)*len(relations); got != want {
		t.Errorf("cached decisions: got %d, want %d", got, want)
	}
}

// Every gRPC call decides at once; run with -race.
func TestDecideConcurrently(t *testing.T) {
	a := newAuthorizer(t)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				row := design[(g+i)%len(design)]
				rel := relations[i%len(relations)]
				d, err := a.Decide(t.Context(), row.method, "reviewer", rel)
				if err != nil {
					t.Errorf("Decide: %v", err)
					return
				}
				if want := row.reviewer.allows(rel); d.Allow != want {
					t.Errorf("%s as reviewer (%s): got allow=%v, want %v", row.method, rel, d.Allow, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Decide on the hot path (every Check) against a fresh evaluation of the
// policy, which is what memoizing saves.
func BenchmarkDecide(b *testing.B) {
	a := newAuthorizer(b)
	const method = "moderation.v1.ModerationService/Check"
	b.Run("memoized", func(b *testing.B) {
		if _, err := a.Decide(b.Context(), method, "service", RelOther); err != nil {
			b.Fatalf("Decide: %v", err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Decide(b.Context(), method, "service", RelOther); err != nil {
				b.Fatalf("Decide: %v", err)
			}
		}
	})
	b.Run("evaluated", func(b *testing.B) {
		c := call{method, "service", RelOther}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.evaluate(b.Context(), c); err != nil {
				b.Fatalf("evaluate: %v", err)
			}
		}
	})
	b.Run("memoized parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := a.Decide(b.Context(), method, "owner", RelOwn); err != nil {
					b.Errorf("Decide: %v", err)
					return
				}
			}
		})
	})
}
