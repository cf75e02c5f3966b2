package traffic

import (
	"bytes"
	"reflect"
	"testing"

	"moderation/internal/replay"
)

// TestGeneratorsAreDeterministic: the same seed gives the same events, and
// another seed other events. The ids name the seed, so the events are
// compared without them: a generator that ignored its seed apart from the
// ids would otherwise pass.
func TestGeneratorsAreDeterministic(t *testing.T) {
	for name, gen := range map[string]func(int, uint64) ([]replay.Record, error){"Synthetic": Synthetic, "Attack": Attack} {
		t.Run(name, func(t *testing.T) {
			const n = 5000
			a, err := gen(n, 42)
			if err != nil {
				t.Fatal(err)
			}
			b, err := gen(n, 42)
			if err != nil {
				t.Fatal(err)
			}
			for i := range a {
				if a[i].Subject != b[i].Subject || !bytes.Equal(a[i].Data, b[i].Data) {
					t.Fatalf("event %d differs between runs with the same seed", i)
				}
			}
			c, err := gen(n, 43)
			if err != nil {
				t.Fatal(err)
			}
			evA, evC := decodeAll(t, a), decodeAll(t, c)
			same := 0
			for i := range evA {
				evA[i].ID, evC[i].ID = "", ""
				if reflect.DeepEqual(evA[i], evC[i]) {
					same++
				}
			}
			if same > 0 {
				t.Errorf("seeds 42 and 43 share %d of %d events, ids aside", same, n)
			}
		})
	}
}
