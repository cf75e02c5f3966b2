// Package console renders what modctl shows a person at a terminal: a
// progress bar for long operations (replays, benchmarks, backtests) and
// bar charts, histograms and tables for results that are easier to compare
// at a glance than to read as columns of raw numbers.
//
// Everything writes to an io.Writer and uses only plain text, Unicode block
// characters and, for in-place redraws on a terminal, "\r" plus the ANSI
// erase-line sequence, so output stays readable when redirected to CI logs.
package console

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// FormatInt formats n with comma thousands separators: 1234567 -> "1,234,567".
func FormatInt(n int64) string {
	// Work on the decimal string rather than on -n, which overflows for
	// math.MinInt64.
	s := strconv.FormatInt(n, 10)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	if len(s) <= 3 {
		return sign + s
	}
	var b strings.Builder
	b.Grow(len(sign) + len(s) + len(s)/3)
	b.WriteString(sign)
	head := len(s) % 3
	if head == 0 {
		head = 3
	}
	b.WriteString(s[:head])
	for i := head; i < len(s); i += 3 {
		b.WriteByte(',')
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// FormatRate formats a rate (or any measured, possibly fractional quantity)
// without its unit, so callers can append "/s", " msg/s", " ms" as fits.
// Values of 100 or more are rounded to whole numbers with thousands
// separators, since decimals there are noise to a reader; smaller values
// keep enough decimals to stay distinguishable ("12.5", "0.42", "3").
func FormatRate(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	a := math.Abs(v)
	switch {
	case a >= 1e18:
		// Beyond what int64 holds comfortably; exponent form is clearer anyway.
		return strconv.FormatFloat(v, 'e', 3, 64)
	case a >= 100:
		return FormatInt(int64(math.Round(v)))
	case a >= 10:
		return trimZeros(strconv.FormatFloat(v, 'f', 1, 64))
	case a >= 1 || a == 0:
		return trimZeros(strconv.FormatFloat(v, 'f', 2, 64))
	default:
		// Two significant digits keep tiny values (0.0042) from showing as 0.
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// formatDuration is coarse on purpose: a person reading an ETA or elapsed
// time wants "2m05s", not "2m5.123456789s".
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}

// partial[i] is the block character covering i eighths of a cell, which
// gives bars eight times the resolution of whole cells.
var partial = [8]string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}

// bar draws eighths/8 filled cells and pads with spaces to exactly width
// cells, so whatever follows the bar lines up across rows.
func bar(eighths, width int) string {
	eighths = max(0, min(eighths, width*8))
	full, rest := eighths/8, eighths%8
	var b strings.Builder
	b.Grow(width * 3)
	b.WriteString(strings.Repeat("█", full))
	cells := full
	if rest > 0 {
		b.WriteString(partial[rest])
		cells++
	}
	b.WriteString(strings.Repeat(" ", width-cells))
	return b.String()
}

// cellWidth counts runes rather than bytes so labels with non-ASCII text
// (e.g. "µs") still align; it does not account for double-width CJK.
func cellWidth(s string) int { return utf8.RuneCountInString(s) }

func padRight(s string, w int) string {
	return s + strings.Repeat(" ", max(0, w-cellWidth(s)))
}

func padLeft(s string, w int) string {
	return strings.Repeat(" ", max(0, w-cellWidth(s))) + s
}
