package pipeline

import (
	"testing"

	"moderation/detectors"
	"moderation/internal/natsbus"
)

// TestRebuildCoversLongestWindow: a restart can only rebuild a window the
// stream still holds and the rebuild replays; both must reach back past
// the longest detector window (complaints over 7 days).
func TestRebuildCoversLongestWindow(t *testing.T) {
	if got := (Config{}).withDefaults().RebuildWindow; got <= detectors.MaxWindow {
		t.Errorf("rebuild window %s does not cover the longest detector window %s", got, detectors.MaxWindow)
	}
	if got := natsbus.DefaultEventsMaxAge; got <= detectors.MaxWindow {
		t.Errorf("events retained for %s, less than the longest detector window %s", got, detectors.MaxWindow)
	}
}
