package order

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 8, 100, 1000} {
		for _, kind := range []string{"random", "sorted", "reversed", "equal"} {
			s := make([]int, n)
			for i := range s {
				switch kind {
				case "random":
					s[i] = r.IntN(n + 1)
				case "sorted":
					s[i] = i
				case "reversed":
					s[i] = n - i
				}
			}
			want := slices.Clone(s)
			slices.Sort(want)
			Sort(len(s), func(i, j int) bool { return s[i] < s[j] }, func(i, j int) { s[i], s[j] = s[j], s[i] })
			if !slices.Equal(s, want) {
				t.Errorf("%s %d: %v, want %v", kind, n, s, want)
			}
		}
	}
}

// TestComparisons: the bound holds for inputs a sort made to be fast on
// some may be slow on (sorted, reversed, all equal, organ pipe).
func TestComparisons(t *testing.T) {
	const n = 1 << 14
	for _, kind := range []string{"sorted", "reversed", "equal", "pipe"} {
		s := make([]int, n)
		for i := range s {
			switch kind {
			case "sorted":
				s[i] = i
			case "reversed":
				s[i] = n - i
			case "pipe":
				s[i] = min(i, n-i)
			}
		}
		calls := 0
		Sort(n, func(i, j int) bool { calls++; return s[i] < s[j] }, func(i, j int) { s[i], s[j] = s[j], s[i] })
		if !slices.IsSorted(s) {
			t.Fatalf("%s: not sorted", kind)
		}
		if bound := 2 * n * 14; calls > bound {
			t.Errorf("%s: %d comparisons for %d elements, over 2n·log2(n) = %d", kind, calls, n, bound)
		}
	}
}

func FuzzStrings(f *testing.F) {
	f.Add([]byte("segment names"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := make([]string, 0, len(b))
		for i := range b {
			s = append(s, string(b[i:min(i+2, len(b))]))
		}
		want := slices.Clone(s)
		slices.Sort(want)
		Strings(s)
		if !slices.Equal(s, want) {
			t.Fatalf("%q, want %q", s, want)
		}
	})
}

func ExampleStrings() {
	names := []string{"seg-00000003.msgpack", "seg-00000001.msgpack", "seg-00000002.msgpack"}
	Strings(names)
	fmt.Println(names)
	// Output: [seg-00000001.msgpack seg-00000002.msgpack seg-00000003.msgpack]
}

func ExampleSort() {
	type seg struct {
		num  uint64
		name string
	}
	segs := []seg{{2, "b"}, {1, "z"}, {2, "a"}}
	// By number, then name: a key no two share, so the order is one.
	Sort(len(segs), func(i, j int) bool {
		if segs[i].num != segs[j].num {
			return segs[i].num < segs[j].num
		}
		return segs[i].name < segs[j].name
	}, func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
	fmt.Println(segs)
	// Output: [{1 z} {2 a} {2 b}]
}
