package console

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Bar is one labelled value in a BarChart or Histogram. Note is printed
// after the value, e.g. "(70% of pass-through)".
type Bar struct {
	Label string
	Value float64
	Note  string
}

const defaultChartWidth = 40

// BarChart draws one horizontal bar per value, scaled so the largest value
// fills width cells, followed by the value and unit:
//
//	raw JetStream publish   ██████████████████████████████  98,400 msg/s
//	pipeline                ███████████▊                    38,700 msg/s  (70% of pass-through)
//
// Negative, NaN and infinite values get an empty bar but still show their
// number. width <= 0 selects a default width.
func BarChart(w io.Writer, title, unit string, bars []Bar, width int) {
	renderBars(w, title, unit, bars, width, false)
}

// Histogram draws buckets like BarChart and adds each bucket's share of the
// total, which is what one usually reads off a latency distribution or a
// count by category.
func Histogram(w io.Writer, title string, buckets []Bar, width int) {
	renderBars(w, title, "", buckets, width, true)
}

func renderBars(w io.Writer, title, unit string, bars []Bar, width int, share bool) {
	if width <= 0 {
		width = defaultChartWidth
	}
	var b strings.Builder
	if title != "" {
		b.WriteString(title)
		b.WriteByte('\n')
	}
	var peak, sum float64
	labelW, valueW := 0, 0
	values := make([]string, len(bars))
	for i, br := range bars {
		if drawable(br.Value) {
			peak = max(peak, br.Value)
			sum += br.Value
		}
		values[i] = FormatRate(br.Value)
		labelW = max(labelW, cellWidth(br.Label))
		valueW = max(valueW, cellWidth(values[i]))
	}
	for i, br := range bars {
		eighths := 0
		if drawable(br.Value) && peak > 0 {
			eighths = int(math.Round(br.Value / peak * float64(width*8)))
			// A value that exists should never look like zero.
			eighths = max(eighths, 1)
		}
		b.WriteString(padRight(br.Label, labelW))
		b.WriteString("  ")
		b.WriteString(bar(eighths, width))
		b.WriteString("  ")
		b.WriteString(padLeft(values[i], valueW))
		if unit != "" {
			b.WriteByte(' ')
			b.WriteString(unit)
		}
		if share {
			pct := 0.0
			if drawable(br.Value) && sum > 0 {
				pct = br.Value / sum * 100
			}
			if pct > 0 && pct < 0.05 {
				// Rounding would print 0.0% for a bucket that is not empty.
				b.WriteString("   <0.1%")
			} else {
				fmt.Fprintf(&b, "  %5.1f%%", pct)
			}
		}
		if br.Note != "" {
			b.WriteString("  ")
			b.WriteString(br.Note)
		}
		b.WriteByte('\n')
	}
	io.WriteString(w, b.String())
}

func drawable(v float64) bool { return v > 0 && !math.IsInf(v, 1) }
