package console

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFormatInt(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{7, "7"},
		{-7, "-7"},
		{999, "999"},
		{1000, "1,000"},
		{-999, "-999"},
		{-1000, "-1,000"},
		{100000, "100,000"},
		{1234567, "1,234,567"},
		{-1234567, "-1,234,567"},
		{math.MaxInt64, "9,223,372,036,854,775,807"},
		{math.MinInt64, "-9,223,372,036,854,775,808"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatInt(tt.in); got != tt.want {
				t.Errorf("FormatInt(%d): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatRate(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{3, "3"},
		{0.5, "0.5"},
		{0.0042, "0.0042"},
		{1.25, "1.25"},
		{12.5, "12.5"},
		{12.04, "12"},
		{99.96, "100"},
		{100, "100"},
		{31200.4, "31,200"},
		{98400, "98,400"},
		{-1500, "-1,500"},
		{-0.001, "-0.001"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "+Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatRate(tt.in); got != tt.want {
				t.Errorf("FormatRate(%v): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{-time.Second, "0.0s"},
		{0, "0.0s"},
		{1600 * time.Millisecond, "1.6s"},
		{42 * time.Second, "42s"},
		{125 * time.Second, "2m05s"},
		{time.Hour + 2*time.Minute + 20*time.Second, "1h02m"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := formatDuration(tt.in); got != tt.want {
				t.Errorf("formatDuration(%v): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestBar(t *testing.T) {
	tests := []struct {
		name    string
		eighths int
		want    string
	}{
		{"empty", 0, "    "},
		{"negative", -3, "    "},
		{"one eighth", 1, "▏   "},
		{"half cell", 4, "▌   "},
		{"one cell", 8, "█   "},
		{"fraction", 23, "██▉ "},
		{"full", 32, "████"},
		{"overflow", 99, "████"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bar(tt.eighths, 4); got != tt.want {
				t.Errorf("bar(%d, 4): got %q, want %q", tt.eighths, got, tt.want)
			}
		})
	}
}

func TestBarChart(t *testing.T) {
	tests := []struct {
		name  string
		title string
		unit  string
		bars  []Bar
		width int
		want  string
	}{
		{
			name:  "zero and fractional",
			title: "rates",
			unit:  "ops/s",
			bars: []Bar{
				{Label: "alpha", Value: 100},
				{Label: "beta", Value: 50},
				{Label: "zero", Value: 0},
				{Label: "frac", Value: 30, Note: "(30% of alpha)"},
			},
			width: 8,
			want: "rates\n" +
				"alpha  ████████  100 ops/s\n" +
				"beta   ████       50 ops/s\n" +
				"zero               0 ops/s\n" +
				"frac   ██▍        30 ops/s  (30% of alpha)\n",
		},
		{
			name:  "tiny value still visible, no unit",
			bars:  []Bar{{Label: "big", Value: 10000}, {Label: "tiny", Value: 1}},
			width: 4,
			want: "big   ████  10,000\n" +
				"tiny  ▏          1\n",
		},
		{
			name:  "all zero",
			unit:  "x",
			bars:  []Bar{{Label: "a", Value: 0}},
			width: 3,
			want:  "a       0 x\n",
		},
		{
			name:  "negative gets no bar",
			bars:  []Bar{{Label: "up", Value: 2}, {Label: "down", Value: -2}},
			width: 2,
			want: "up    ██   2\n" +
				"down      -2\n",
		},
		{
			name:  "title only",
			title: "nothing yet",
			want:  "nothing yet\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			BarChart(&buf, tt.title, tt.unit, tt.bars, tt.width)
			if got := buf.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestBarChartDefaultWidth(t *testing.T) {
	var buf bytes.Buffer
	BarChart(&buf, "", "", []Bar{{Label: "a", Value: 1}}, 0)
	if got, want := strings.Count(buf.String(), "█"), defaultChartWidth; got != want {
		t.Errorf("full cells with width 0: got %d, want %d", got, want)
	}
}

func TestHistogram(t *testing.T) {
	tests := []struct {
		name    string
		title   string
		buckets []Bar
		width   int
		want    string
	}{
		{
			name:  "latency",
			title: "decision latency",
			buckets: []Bar{
				{Label: "<1ms", Value: 30},
				{Label: "1-5ms", Value: 10},
				{Label: "5ms+", Value: 0, Note: "none"},
			},
			width: 4,
			want: "decision latency\n" +
				"<1ms   ████  30   75.0%\n" +
				"1-5ms  █▍    10   25.0%\n" +
				"5ms+          0    0.0%  none\n",
		},
		{
			name:    "rare bucket is not shown as 0%",
			buckets: []Bar{{Label: "ham", Value: 9999}, {Label: "spam", Value: 1}},
			width:   2,
			want: "ham   ██  9,999  100.0%\n" +
				"spam  ▏       1   <0.1%\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			Histogram(&buf, tt.title, tt.buckets, tt.width)
			if got := buf.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestTable(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		rows   [][]string
		want   string
	}{
		{
			name:   "numbers right-aligned, short row",
			header: []string{"scenario", "events", "dead letters", "decisions"},
			rows: [][]string{
				{"spam-wave", "50,000", "3", "49,812"},
				{"baseline", "1,200", "0"},
			},
			want: "scenario   events  dead letters  decisions\n" +
				"---------  ------  ------------  ---------\n" +
				"spam-wave  50,000             3     49,812\n" +
				"baseline    1,200             0\n",
		},
		{
			name:   "mixed column stays left-aligned",
			header: []string{"name", "share"},
			rows:   [][]string{{"a", "12.5%"}, {"b", "n/a"}},
			want: "name  share\n" +
				"----  -----\n" +
				"a     12.5%\n" +
				"b     n/a\n",
		},
		{
			name: "no header, extra columns",
			rows: [][]string{{"x", "1"}, {"yy", "22", "µs"}},
			want: "x    1\n" +
				"yy  22  µs\n",
		},
		{
			name:   "header only",
			header: []string{"a", "bb"},
			want:   "a  bb\n-  --\n",
		},
		{
			name: "empty",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			Table(&buf, tt.header, tt.rows)
			if got := buf.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// step is one scripted moment in a progress display: add n, then redraw at
// offset from the start.
type step struct {
	add int64
	at  time.Duration
}

// TestProgressLines drives the redraw logic with fixed timestamps, so the
// exact output is known and no test has to wait for the real ticker.
func TestProgressLines(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		label  string
		total  int64
		tty    bool
		steps  []step
		doneAt time.Duration
		want   string
	}{
		{
			name:  "log: quarters and every 2s, 100% only once",
			label: "replay",
			total: 100,
			steps: []step{
				{10, 100 * ms},  // below 25%, not due: silent
				{20, 1000 * ms}, // crossed 25%
				{0, 2500 * ms},  // same quarter, 1.5s since last line: silent
				{0, 3000 * ms},  // 2s since last line
				{70, 3500 * ms}, // 100% is left to Done
			},
			doneAt: 4000 * ms,
			want: "replay [██████              ]  30%  30/100  30/s  eta 2.3s\n" +
				"replay [██████              ]  30%  30/100  10/s  eta 7.0s\n" +
				"replay [████████████████████] 100%  100/100  in 4.0s  25/s avg\n",
		},
		{
			name:   "terminal: redraw in place, stopped early",
			label:  "job",
			total:  100,
			tty:    true,
			steps:  []step{{50, 500 * ms}},
			doneAt: 1000 * ms,
			want: "\rjob [██████████          ]  50%  50/100  100/s  eta 0.5s\x1b[K" +
				"\rjob [██████████          ]  50%  50/100  in 1.0s  50/s avg\x1b[K\n",
		},
		{
			name:   "unknown total: no bar",
			label:  "scan",
			steps:  []step{{500, 1000 * ms}, {0, 2000 * ms}},
			doneAt: 4000 * ms,
			want: "scan  500  250/s\n" +
				"scan  500  in 4.0s  125/s avg\n",
		},
		{
			name:   "done before any redraw",
			total:  3,
			steps:  []step{{3, 0}},
			doneAt: 0,
			want:   "[████████████████████] 100%  3/3  in 0.0s  0/s avg\n",
		},
	}
	start := time.Unix(1_700_000_000, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newProgress(&buf, tt.label, tt.total, tt.tty, start)
			for _, s := range tt.steps {
				p.Add(s.add)
				if s.at > 0 {
					p.tick(start.Add(s.at))
				}
			}
			p.finish(start.Add(tt.doneAt))
			if got := buf.String(); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestProgressRateWindow checks that the shown rate follows recent
// throughput: after a stall longer than the window it must read 0/s, not
// the average since start.
func TestProgressRateWindow(t *testing.T) {
	var buf bytes.Buffer
	start := time.Unix(0, 0)
	p := newProgress(&buf, "", 0, true, start)
	at := start
	for range rateWindow + 10 {
		at = at.Add(redrawEvery)
		p.Add(10)
		p.tick(at)
	}
	if got, want := lastRedraw(buf.String()), "600  100/s\x1b[K"; got != want {
		t.Errorf("steady: got %q, want %q", got, want)
	}
	for range rateWindow {
		at = at.Add(redrawEvery)
		p.tick(at)
	}
	if got, want := lastRedraw(buf.String()), "600  0/s\x1b[K"; got != want {
		t.Errorf("stalled: got %q, want %q", got, want)
	}
}

func lastRedraw(s string) string { return s[strings.LastIndex(s, "\r")+1:] }

func TestProgressDone(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, "replay", 50_000)
	for range 50 {
		p.Add(1000)
	}
	p.Done()
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	last := lines[len(lines)-1]
	for _, want := range []string{"replay [", "100%", "50,000/50,000", "/s avg"} {
		if !strings.Contains(last, want) {
			t.Errorf("final line: got %q, want it to contain %q", last, want)
		}
	}
	if strings.Contains(out, "\r") || strings.Contains(out, "\x1b") {
		t.Errorf("non-terminal output: got %q, want no control sequences", out)
	}
	p.Done()
	if got := buf.String(); got != out {
		t.Errorf("second Done: got %q, want output unchanged %q", got, out)
	}
}

func TestProgressConcurrentAdd(t *testing.T) {
	const workers, perWorker = 8, 20_000
	var buf bytes.Buffer
	p := NewProgress(&buf, "race", workers*perWorker)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range perWorker {
				p.Add(1)
			}
		})
	}
	wg.Wait()
	p.Done()
	if got, want := p.count.Load(), int64(workers*perWorker); got != want {
		t.Errorf("count: got %d, want %d", got, want)
	}
	if want := "160,000/160,000"; !strings.Contains(buf.String(), want) {
		t.Errorf("output: got %q, want it to contain %q", buf.String(), want)
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		name string
		w    io.Writer
		want bool
	}{
		{"buffer", &bytes.Buffer{}, false},
		{"regular file", f, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isTerminal(tt.w); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func BenchmarkProgressAdd(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		p := NewProgress(io.Discard, "bench", 0)
		defer p.Done()
		for b.Loop() {
			p.Add(1)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		p := NewProgress(io.Discard, "bench", 0)
		defer p.Done()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p.Add(1)
			}
		})
	})
}
