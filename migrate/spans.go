package migrate

import "sort"

// A spans is a set of record numbers kept as sorted, disjoint runs that do
// not touch. Stores return a ring's records mostly in order, so the numbers
// a scan finds, millions of them, make a handful of runs, however high the
// numbers go.
type spans struct{ runs []numRun }

type numRun struct{ lo, hi uint64 }

// add puts n in the set and reports whether it was not there yet.
func (s *spans) add(n uint64) bool {
	// The first run that contains n or ends just below it, or any after.
	i := sort.Search(len(s.runs), func(i int) bool { return n == 0 || s.runs[i].hi >= n-1 })
	switch {
	case i < len(s.runs) && s.runs[i].lo <= n && n <= s.runs[i].hi:
		return false
	case i < len(s.runs) && n > 0 && s.runs[i].hi == n-1:
		s.runs[i].hi = n
		if i+1 < len(s.runs) && s.runs[i+1].lo == n+1 {
			s.runs[i].hi = s.runs[i+1].hi
			s.runs = append(s.runs[:i+1], s.runs[i+2:]...)
		}
	case i < len(s.runs) && s.runs[i].lo == n+1:
		s.runs[i].lo = n
	default:
		s.runs = append(s.runs, numRun{})
		copy(s.runs[i+1:], s.runs[i:])
		s.runs[i] = numRun{n, n}
	}
	return true
}

// has reports whether n is in the set.
func (s *spans) has(n uint64) bool {
	i := sort.Search(len(s.runs), func(i int) bool { return s.runs[i].hi >= n })
	return i < len(s.runs) && s.runs[i].lo <= n
}

// covers reports whether every number from lo to hi is in the set.
func (s *spans) covers(lo, hi uint64) bool {
	i := sort.Search(len(s.runs), func(i int) bool { return s.runs[i].hi >= lo })
	return i < len(s.runs) && s.runs[i].lo <= lo && hi <= s.runs[i].hi
}

// runEnd returns the end of the run that holds n, if one does.
func (s *spans) runEnd(n uint64) (uint64, bool) {
	i := sort.Search(len(s.runs), func(i int) bool { return s.runs[i].hi >= n })
	if i < len(s.runs) && s.runs[i].lo <= n {
		return s.runs[i].hi, true
	}
	return 0, false
}

// within returns how many numbers of the set lie from lo to hi, and the
// lowest and highest of them.
func (s *spans) within(lo, hi uint64) (n, first, last uint64) {
	for _, r := range s.runs {
		a, b := max(r.lo, lo), min(r.hi, hi)
		if a > b {
			continue
		}
		if n == 0 {
			first = a
		}
		n += b - a + 1
		last = b
	}
	return n, first, last
}
