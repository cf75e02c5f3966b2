package natsbus

import (
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Sources of stored records, as SkippedRecords labels them.
const (
	SourceDecisions     = "decisions"      // mod.enforcement.<account> on the DECISIONS stream
	SourceAccountStates = "account_states" // the ACCOUNTS bucket
	SourceAppeals       = "appeals"        // the APPEALS bucket
	SourceRevocations   = "revocations"    // the REVOCATIONS bucket
)

// SkippedRecords counts stored records a reader could not decode and
// skipped. Readers skip and report rather than fail a whole listing (or
// end a watch) because of one record: the DECISIONS stream denies deletes,
// so one bad message would otherwise break every listing from it on,
// for good.
//
// It is one counter for the process, as the readers are plain values
// built in many places; a service registers it on its own registry (a
// collector may be registered on several).
var SkippedRecords = func() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "moderation_records_skipped_total",
		Help: "Times a reader skipped a stored record it could not decode, by where the record is; each skip is logged with the record's stream sequence or key. A record stays until removed, so every read that reaches it counts again.",
	}, []string{"source"})
	for _, s := range []string{SourceDecisions, SourceAccountStates, SourceAppeals, SourceRevocations} {
		c.WithLabelValues(s) // present at 0, so an alert can compare
	}
	return c
}()

var skipLog atomic.Pointer[slog.Logger]

// ReportSkipsTo sets the logger Skip reports on for readers that have none
// of their own; slog.Default() until it is called.
func ReportSkipsTo(log *slog.Logger) { skipLog.Store(log) }

// Skip reports a record a reader could not decode and is skipping: it is
// counted under source and logged, at error level, on log (nil: the one
// ReportSkipsTo set) with where it is: attrs such as "seq", 12 or
// "key", "acct_1".
func Skip(log *slog.Logger, source string, err error, attrs ...any) {
	SkippedRecords.WithLabelValues(source).Inc()
	if log == nil {
		if log = skipLog.Load(); log == nil {
			log = slog.Default()
		}
	}
	log.Error("stored record unreadable; skipped", append([]any{"source", source, "err", err}, attrs...)...)
}
