package webconsole

import "testing"

// TestShadowShare: the policy page's agreement is the agreeing decisions
// in percent of all three kinds, and 0 (not NaN) before any.
func TestShadowShare(t *testing.T) {
	for _, c := range []struct {
		row  shadowRow
		want float64
	}{
		{shadowRow{Agree: 6, Stricter: 1, Looser: 1}, 75},
		{shadowRow{Stricter: 2}, 0},
		{shadowRow{}, 0},
	} {
		if got := c.row.Share(); got != c.want {
			t.Errorf("%+v: share %v, want %v", c.row, got, c.want)
		}
	}
}
