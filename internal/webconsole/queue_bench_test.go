package webconsole_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"moderation/appeals"
	"moderation/internal/moderation"
	"moderation/internal/service"
)

// openAppeals stores n open appeals straight into the service's appeal
// store (the queue page's cost does not depend on how they were filed):
// spread over four rules, two account types, two policy versions and the
// last ten days, a tenth of them claimed, each with a statement of a
// paragraph.
func openAppeals(tb testing.TB, svc *service.Service, n int) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	rules := []string{"bulk_add", "ads", "quota", "complaints"}
	types := []string{"personal", "subscription"}
	versions := []string{"embedded@e131ebb03013", "dir@4c1d2e9a7b10"}
	statement := strings.Repeat("I added people I know from my work and my neighbourhood, not strangers. ", 5)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				a := &appeals.Appeal{ID: fmt.Sprintf("apl_bench%06d", i), Account: fmt.Sprintf("acct_bench_%06d", i),
					AccountType: types[i%len(types)], DecisionID: fmt.Sprintf("dec_bench%06d", i), Rule: rules[i%len(rules)],
					Action: moderation.ActionSuspend, PolicyVersion: versions[i%len(versions)], State: appeals.Filed,
					Statement: statement, EvidenceURLs: []string{"https://example.com/evidence"},
					FiledAt: now.Add(-time.Duration(i) * 10 * 24 * time.Hour / time.Duration(n))}
				if i%10 == 0 {
					a.State, a.Reviewer, a.LeaseUntil = appeals.InReview, fmt.Sprintf("reviewer:r%d", i%7), now.Add(20*time.Minute)
				}
				if _, err := svc.Appeals.Store.Create(ctx, a); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatalf("store appeal: %v", err)
	}
}

// BenchmarkQueuePage is the queue page over HTTP with 10,000 open appeals:
// the console's handler, its one ListAppeals call over loopback gRPC (the
// listing, filters and counts of all 10,000) and the rendering of the
// oldest 100 with their details. The goal is under 200 ms a page.
func BenchmarkQueuePage(b *testing.B) {
	svc := startService(b)
	const n = 10_000
	openAppeals(b, svc, n)
	br := newBrowser(b, svc)
	if resp, _ := br.signIn(token(b, svc, reviewer)); resp.Request.URL.Path != "/queue" {
		b.Fatalf("sign in landed on %s", resp.Request.URL.Path)
	}
	_, body := br.get("/queue")
	if !strings.Contains(body, `<span class="count" id="total">10000</span>`) {
		b.Fatalf("the queue page does not count %d open appeals", n)
	}
	b.ResetTimer()
	for b.Loop() {
		resp, _ := br.get("/queue")
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("queue page: %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
	b.ReportMetric(float64(len(body))/1024, "KiB/page")
}
