package store

import (
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/gatehouse"
)

// A cursor comes back from clients: any string either decodes to the key it
// was made from or is a validation error, never a panic or another key.
func FuzzDecodeCursor(f *testing.F) {
	f.Add("", 2)
	f.Add(encodeCursor("acme", "0190d7a0-0000-7000-8000-000000000000"), 2)
	f.Add(encodeCursor("x"), 1)
	f.Add("eyJ4IjoxfQ", 2)
	f.Add("%%%", 1)
	f.Fuzz(func(t *testing.T, cursor string, n int) {
		n = 1 + abs(n)%3
		key, err := decodeCursor(cursor, n)
		if err != nil {
			if gatehouse.ErrorCode(err) != gatehouse.EINVALID {
				t.Fatalf("error %v is not a validation error", err)
			}
			return
		}
		if cursor == "" {
			return
		}
		if len(key) != n {
			t.Fatalf("decoded %d parts, want %d", len(key), n)
		}
		again, err := decodeCursor(encodeCursor(key...), n)
		if err != nil || !slices.Equal(again, key) {
			t.Fatalf("round trip of %q gave %q, %v", key, again, err)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
