package migrate

import (
	"math/rand/v2"
	"testing"
)

// TestSpans checks the set against a map, numbers added in order, in
// reverse, shuffled and with repeats.
func TestSpans(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var s spans
		ref := map[uint64]bool{}
		lo := uint64(rng.IntN(3)) // 0 included: the set must not wrap
		for range rng.IntN(300) {
			n := lo + uint64(rng.IntN(120))
			if got, want := s.add(n), !ref[n]; got != want {
				t.Fatalf("round %d: add(%d) = %v, want %v", round, n, got, want)
			}
			ref[n] = true
		}
		for i := 1; i < len(s.runs); i++ {
			if s.runs[i-1].hi+1 >= s.runs[i].lo {
				t.Fatalf("round %d: runs %v touch or overlap", round, s.runs)
			}
		}
		for a := uint64(0); a < 130; a++ {
			if s.has(a) != ref[a] {
				t.Fatalf("round %d: has(%d) = %v", round, a, s.has(a))
			}
			for b := a; b < a+8; b++ {
				all, n := true, uint64(0)
				var first, last uint64
				for x := a; x <= b; x++ {
					all = all && ref[x]
					if ref[x] {
						if n == 0 {
							first = x
						}
						n, last = n+1, x
					}
				}
				if s.covers(a, b) != all {
					t.Fatalf("round %d: covers(%d, %d) = %v", round, a, b, !all)
				}
				if gn, gf, gl := s.within(a, b); gn != n || gf != first || gl != last {
					t.Fatalf("round %d: within(%d, %d) = %d %d %d, want %d %d %d", round, a, b, gn, gf, gl, n, first, last)
				}
			}
		}
	}
}
