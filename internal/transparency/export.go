package transparency

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Export formats of the audit trail.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// CSVHeader names the columns of the CSV export; the record itself is
// only in JSON Lines.
var CSVHeader = []string{"seq", "time", "kind", "subject", "account", "actor", "rule", "action", "decision_id", "summary"}

// EntryWriter writes audit entries in one export format.
type EntryWriter interface {
	Write(e *Entry) error
	// Flush writes what is buffered; call it before the output is used.
	Flush() error
}

// NewEntryWriter writes entries to w as CSV (with a header row) or JSON
// Lines (one Entry, with its record, per line).
func NewEntryWriter(format string, w io.Writer) (EntryWriter, error) {
	switch format {
	case FormatCSV:
		return &csvWriter{w: csv.NewWriter(w)}, nil
	case FormatJSONL:
		bw := bufio.NewWriter(w)
		return &jsonlWriter{w: bw, enc: json.NewEncoder(bw)}, nil
	}
	return nil, fmt.Errorf("export format %q: want %s or %s", format, FormatCSV, FormatJSONL)
}

type csvWriter struct {
	w      *csv.Writer
	header bool
}

func (c *csvWriter) Write(e *Entry) error {
	if !c.header {
		c.header = true
		if err := c.w.Write(CSVHeader); err != nil {
			return err
		}
	}
	row := []string{strconv.FormatUint(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano), e.Kind, e.Subject,
		e.Account, e.Actor, e.Rule, e.Action, e.DecisionID, e.Summary}
	for i := range row {
		row[i] = inert(row[i])
	}
	return c.w.Write(row)
}

func (c *csvWriter) Flush() error {
	if !c.header { // an empty export still says what its columns are
		c.header = true
		if err := c.w.Write(CSVHeader); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}

// inert keeps a spreadsheet from reading a cell as a formula: notes,
// replies and summaries are people's text, and a cell starting with =, +,
// -, @ or a control character runs in Excel or LibreOffice when the CSV
// is opened. A leading apostrophe makes it text.
func inert(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type jsonlWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func (j *jsonlWriter) Write(e *Entry) error { return j.enc.Encode(e) }
func (j *jsonlWriter) Flush() error         { return j.w.Flush() }
