// Package order sorts by index, for the few sorts of the agent and its
// ring: package sort's SliceStable reaches reflection's swapper, and
// slices' and sort's generic sorts make a copy of their code for every
// type sorted; either cost the firmware image kilobytes that this does
// not (docs/DESIGN.md section 14).
//
// Sort is a heapsort: in place, at most about 2n·log2(n) comparisons
// whatever the input, so that a directory made to be slow to sort (a
// million names) is not. It is not stable: callers sort by a key that no
// two elements share, a name within a directory or a number and then a
// name, and so get the one order there is.
package order

// Sort sorts the n elements less and swap index: less(i, j) says element
// i goes before element j, swap(i, j) exchanges them.
func Sort(n int, less func(i, j int) bool, swap func(i, j int)) {
	for i := n/2 - 1; i >= 0; i-- {
		down(i, n, less, swap)
	}
	for end := n - 1; end > 0; end-- {
		swap(0, end)
		down(0, end, less, swap)
	}
}

// Strings sorts s in increasing order.
func Strings(s []string) {
	Sort(len(s), func(i, j int) bool { return s[i] < s[j] }, func(i, j int) { s[i], s[j] = s[j], s[i] })
}

// down moves element i of the heap of the first n elements down to where
// it belongs: below an element it does not go before.
func down(i, n int, less func(i, j int) bool, swap func(i, j int)) {
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && less(c, c+1) {
			c++
		}
		if !less(i, c) {
			return
		}
		swap(i, c)
		i = c
	}
}
