package console

import (
	"io"
	"strings"
)

// Table writes rows as aligned columns under an underlined header:
//
//	scenario   events  dead letters
//	---------  ------  ------------
//	spam-wave  50,000             3
//	baseline    1,200             0
//
// Columns whose cells are all numbers are right-aligned so digits line up
// by magnitude. Rows may be shorter or longer than the header; missing
// cells are blank. A nil header prints only the rows.
func Table(w io.Writer, header []string, rows [][]string) {
	cols := len(header)
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	widths := make([]int, cols)
	numeric := make([]bool, cols)
	for c := range cols {
		numeric[c] = true
		seen := false
		for _, r := range rows {
			if c >= len(r) || r[c] == "" {
				continue
			}
			seen = true
			numeric[c] = numeric[c] && isNumber(r[c])
			widths[c] = max(widths[c], cellWidth(r[c]))
		}
		numeric[c] = numeric[c] && seen
		if c < len(header) {
			widths[c] = max(widths[c], cellWidth(header[c]))
		}
	}

	var b strings.Builder
	line := func(cells []string) {
		var l strings.Builder
		for c := range cols {
			if c > 0 {
				l.WriteString("  ")
			}
			cell := ""
			if c < len(cells) {
				cell = cells[c]
			}
			if numeric[c] {
				l.WriteString(padLeft(cell, widths[c]))
			} else {
				l.WriteString(padRight(cell, widths[c]))
			}
		}
		// Padding after the last column is invisible and clutters diffs/logs.
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	if len(header) > 0 {
		line(header)
		rule := make([]string, cols)
		for c := range cols {
			rule[c] = strings.Repeat("-", widths[c])
		}
		line(rule)
	}
	for _, r := range rows {
		line(r)
	}
	io.WriteString(w, b.String())
}

// isNumber accepts what FormatInt/FormatRate and percentages produce:
// an optional sign, digits with "," and ".", and an optional "%".
func isNumber(s string) bool {
	s = strings.TrimSuffix(s, "%")
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	digits := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r == ',' || r == '.':
		default:
			return false
		}
	}
	return digits
}
