package traffic

import (
	"bytes"
	"testing"
)

func TestSyntheticIsDeterministic(t *testing.T) {
	a, err := Synthetic(1000, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Synthetic(1000, 42)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i].Subject != b[i].Subject || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("event %d differs between runs with the same seed", i)
		}
	}
}
