package ringlog

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/itiny/itiny/codec"
)

// TestRelease: the segments whose records are all at or below the mark
// go, oldest first; the newest stays; a writer opening the ring later
// numbers on; an open writer's ring is refused.
func TestRelease(t *testing.T) {
	for _, tc := range []struct {
		name    string
		through func(firsts []uint64) uint64
		keep    func(n int) int // segments left of n
	}{
		{"nothing moved", func([]uint64) uint64 { return 0 }, func(n int) int { return n }},
		{"the first segment's last record", func(f []uint64) uint64 { return f[1] - 1 }, func(n int) int { return n - 1 }},
		{"one short of it", func(f []uint64) uint64 { return f[1] - 2 }, func(n int) int { return n }},
		{"into the third", func(f []uint64) uint64 { return f[2] + 3 }, func(n int) int { return n - 2 }},
		{"everything", func([]uint64) uint64 { return 1 << 40 }, func(int) int { return 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(codec.Msgpack)
			o.Budget = 1 << 20
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, w, 1, 400)
			if _, err := Release(dir, 1<<40); !errors.Is(err, ErrLocked) {
				t.Fatalf("release of an open ring: %v, want ErrLocked", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			before := segmentFirsts(t, dir)
			if len(before) < 4 {
				t.Fatalf("only %d segments", len(before))
			}
			through := tc.through(before)
			removed, err := Release(dir, through)
			if err != nil {
				t.Fatal(err)
			}
			after := segmentFirsts(t, dir)
			if len(after) != tc.keep(len(before)) || len(removed) != len(before)-len(after) {
				t.Fatalf("through %d: %d of %d segments left, %d removed", through, len(after), len(before), len(removed))
			}
			// Every record above the mark is still there, in order.
			got := readAll(t, dir)
			if len(got.damage) > 0 || got.seqs[len(got.seqs)-1] != 400 || got.seqs[0] != after[0] || got.seqs[0] > through+1 {
				t.Fatalf("after release through %d: records %d..%d, damage %v", through, got.seqs[0], got.seqs[len(got.seqs)-1], got.damage)
			}
			// A writer goes on above the numbers released.
			w, err = Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			if seq := appendN(t, w, 401, 1)[0]; seq <= 400 {
				t.Fatalf("after release, a new record got number %d", seq)
			}
			w.Close()
		})
	}
}

// segmentFirsts lists the first numbers of dir's segments, oldest first.
func segmentFirsts(t *testing.T, dir string) []uint64 {
	t.Helper()
	segs, err := listSegments(osDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for _, s := range segs {
		out = append(out, s.hdr.First)
	}
	return out
}

func TestReleaseNoStage(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, testOptions(codec.Msgpack))
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 1, 100)
	w.Close()
	// A copied ring without its stage: released all the same.
	if err := os.Remove(filepath.Join(dir, stageName)); err != nil {
		t.Fatal(err)
	}
	n := len(segmentFirsts(t, dir))
	removed, err := Release(dir, 1<<40)
	if err != nil || len(removed) != n-1 {
		t.Fatalf("removed %d of %d: %v", len(removed), n, err)
	}
}
