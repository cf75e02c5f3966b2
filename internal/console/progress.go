package console

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	redrawEvery   = 100 * time.Millisecond
	logEvery      = 2 * time.Second // non-terminal: keep CI logs short
	progressWidth = 20
	// rateWindow samples (one per redraw) make the shown rate and ETA follow
	// recent throughput instead of the average since start, which lags badly
	// when an operation speeds up or stalls.
	rateWindow = 50
)

// Progress reports advance towards a known (or unknown) total on a writer,
// normally os.Stderr. Counting is decoupled from drawing: Add is a single
// atomic add, and a background goroutine samples the count and redraws, so
// callers can count every event at 100k+/s. Call Done exactly when the work
// ends; until then the goroutine keeps running.
type Progress struct {
	count atomic.Int64

	w     io.Writer
	label string
	total int64
	tty   bool
	start time.Time

	stop     chan struct{}
	stopped  chan struct{}
	doneOnce sync.Once

	// Owned by the redraw goroutine, and by Done once that has exited.
	ring        [rateWindow]sample
	head, held  int
	lastPrint   time.Time
	lastQuarter int64
}

type sample struct {
	at time.Time
	n  int64
}

// NewProgress starts a progress display for total units of work. On a
// terminal it redraws one line in place every 100 ms; elsewhere (pipes, CI
// logs) it prints a plain line at most every 2 s and at 25/50/75/100%.
// total <= 0 means unknown: only the count and rate are shown.
func NewProgress(w io.Writer, label string, total int64) *Progress {
	p := newProgress(w, label, total, isTerminal(w), time.Now())
	go p.loop()
	return p
}

// newProgress builds a Progress without its goroutine so tests can drive
// tick and finish with chosen timestamps.
func newProgress(w io.Writer, label string, total int64, tty bool, start time.Time) *Progress {
	p := &Progress{
		w:         w,
		label:     label,
		total:     total,
		tty:       tty,
		start:     start,
		stop:      make(chan struct{}),
		stopped:   make(chan struct{}),
		lastPrint: start,
	}
	p.ring[0] = sample{at: start}
	p.head, p.held = 1, 1
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Add records n more units of work. It is safe for concurrent use.
func (p *Progress) Add(n int64) { p.count.Add(n) }

// Done stops redrawing and prints the final line with the count, elapsed
// time and average rate. The line is written before Done returns. Later
// calls do nothing.
func (p *Progress) Done() {
	p.doneOnce.Do(func() {
		close(p.stop)
		<-p.stopped
		p.finish(time.Now())
	})
}

func (p *Progress) loop() {
	defer close(p.stopped)
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.tick(now)
		}
	}
}

func (p *Progress) tick(now time.Time) {
	n := p.count.Load()
	rate := p.observe(now, n)
	if p.tty {
		p.write("\r" + p.line(n, rate) + "\x1b[K")
		return
	}
	due := now.Sub(p.lastPrint) >= logEvery
	q := p.quarter(n)
	// 100% is left to Done, whose line carries the totals, so it is not
	// logged twice.
	if q > p.lastQuarter && q < 4 {
		due = true
	}
	if due {
		p.write(p.line(n, rate) + "\n")
		p.lastPrint, p.lastQuarter = now, q
	}
}

// observe stores a sample and returns the rate over the window it covers.
func (p *Progress) observe(now time.Time, n int64) float64 {
	oldest := p.ring[0]
	if p.held == rateWindow {
		oldest = p.ring[p.head]
	}
	p.ring[p.head] = sample{at: now, n: n}
	p.head = (p.head + 1) % rateWindow
	p.held = min(p.held+1, rateWindow)
	dt := now.Sub(oldest.at).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(n-oldest.n) / dt
}

func (p *Progress) quarter(n int64) int64 {
	if p.total <= 0 {
		return 0
	}
	return int64(min(float64(n)/float64(p.total), 1) * 4)
}

func (p *Progress) finish(now time.Time) {
	n := p.count.Load()
	elapsed := now.Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(n) / elapsed.Seconds()
	}
	line := p.status(n) + fmt.Sprintf("  in %s  %s/s avg", formatDuration(elapsed), FormatRate(rate))
	if p.tty {
		p.write("\r" + line + "\x1b[K\n")
	} else {
		p.write(line + "\n")
	}
}

// line is the in-progress status: bar, percentage, count, rate and ETA.
func (p *Progress) line(n int64, rate float64) string {
	s := p.status(n) + "  " + FormatRate(rate) + "/s"
	if p.total > 0 {
		eta := "--"
		if rate > 0 {
			left := max(0, float64(p.total-n)/rate)
			eta = formatDuration(time.Duration(left * float64(time.Second)))
		}
		s += "  eta " + eta
	}
	return s
}

// status renders the part shared by progress and final lines.
func (p *Progress) status(n int64) string {
	var b strings.Builder
	if p.total <= 0 {
		if p.label != "" {
			b.WriteString(p.label)
			b.WriteString("  ")
		}
		b.WriteString(FormatInt(n))
		return b.String()
	}
	if p.label != "" {
		b.WriteString(p.label)
		b.WriteByte(' ')
	}
	frac := float64(n) / float64(p.total)
	// Floor, not round: a full bar or 100% must mean the work is finished.
	eighths := int(min(max(frac, 0), 1) * progressWidth * 8)
	fmt.Fprintf(&b, "[%s] %3d%%  %s/%s", bar(eighths, progressWidth), int(frac*100), FormatInt(n), FormatInt(p.total))
	return b.String()
}

func (p *Progress) write(s string) {
	// Progress is advisory: a broken stderr must not fail the operation.
	_, _ = io.WriteString(p.w, s)
}
