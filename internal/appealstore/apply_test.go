package appealstore

import (
	"testing"

	"moderation/appeals"
)

// TestApplyKeepsTheNewest: the watch and this instance's own writes reach
// the index in either order; whichever comes last, the newest revision
// stays, and a delete is not undone by an older write arriving late.
func TestApplyKeepsTheNewest(t *testing.T) {
	type write struct {
		reply string // "" for a delete
		rev   uint64
	}
	tests := []struct {
		name      string
		writes    []write
		wantReply string // "" when the appeal must be absent
		wantRev   uint64
	}{
		{"in order", []write{{"a", 1}, {"b", 2}}, "b", 2},
		{"own write after a newer watched one", []write{{"a", 1}, {"c", 3}, {"b", 2}}, "c", 3},
		{"the same revision twice", []write{{"a", 1}, {"a", 1}}, "a", 1},
		{"deleted, then an older write", []write{{"a", 1}, {"", 3}, {"b", 2}}, "", 3},
		{"written again after a delete", []write{{"a", 1}, {"", 2}, {"b", 3}}, "b", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &KV{index: make(map[string]entry)}
			for _, w := range tt.writes {
				var a *appeals.Appeal
				if w.reply != "" {
					a = &appeals.Appeal{ID: "apl_1", Reply: w.reply}
				}
				s.apply("apl_1", a, w.rev)
			}
			got := s.index["apl_1"]
			if got.rev != tt.wantRev {
				t.Errorf("revision: got %d, want %d", got.rev, tt.wantRev)
			}
			gotReply := ""
			if got.a != nil {
				gotReply = got.a.Reply
			}
			if gotReply != tt.wantReply {
				t.Errorf("reply: got %q, want %q", gotReply, tt.wantReply)
			}
		})
	}
}
