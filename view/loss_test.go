package view

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// TestLossAccounting: each way a ring loses numbers is told apart, with
// its own wording and figures, by verify's and stats' pass (Check):
// nothing is blamed on retention that it did not delete, and a crash is
// blamed only for what it can cost.
func TestLossAccounting(t *testing.T) {
	opts := func(mem bool) ringlog.Options {
		return ringlog.Options{Stream: "events", Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 8 << 10,
			MemoryStage: mem, Boot: codec.BootID{1}, BootCount: 1}
	}
	open := func(t *testing.T, dir string, o ringlog.Options) *ringlog.Writer {
		w, err := ringlog.Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	add := func(t *testing.T, w *ringlog.Writer, n int) {
		for i := 0; i < n; i++ {
			if _, err := w.Append(rec(1, i, "r")); err != nil {
				t.Fatal(err)
			}
		}
	}
	// crash leaves the ring as its writer's death would, and returns it.
	crash := func(t *testing.T, w *ringlog.Writer, dir string) string {
		c := crashCopy(t, dir)
		w.Close()
		return c
	}
	for _, tc := range []struct {
		name  string
		build func(t *testing.T, dir string) string
		check func(t *testing.T, r *Health)
	}{
		{"continuous stream, crash", func(t *testing.T, dir string) string {
			w := open(t, dir, opts(false))
			add(t, w, 10)
			dir = crash(t, w, dir)
			w = open(t, dir, opts(false))
			add(t, w, 1)
			w.Close()
			return dir
		}, func(t *testing.T, r *Health) {
			// The page cache kept every record: no gap at all.
			if len(r.Gaps) != 0 || r.Records != 11 || r.Retired != 0 {
				t.Fatalf("%+v", r)
			}
		}},
		{"periodic stream, crash", func(t *testing.T, dir string) string {
			w := open(t, dir, opts(true))
			add(t, w, 10)
			w.Flush()
			add(t, w, 3) // in memory when the writer dies
			dir = crash(t, w, dir)
			w = open(t, dir, opts(true))
			add(t, w, 1)
			w.Close()
			return dir
		}, func(t *testing.T, r *Health) {
			g := r.Gaps[0]
			if len(r.Gaps) != 1 || g.From != 11 || g.Loss != LossPossible || g.Lost != g.Numbers() ||
				!strings.Contains(g.Bound, "memory buffer") || r.Unsure != g.Numbers() || r.Lost != 0 {
				t.Fatalf("%+v", r)
			}
		}},
		{"reboot", func(t *testing.T, dir string) string {
			o := opts(false)
			o.Sync = ringlog.SyncInterval
			w := open(t, dir, o)
			add(t, w, 10)
			dir = crash(t, w, dir)
			o.Boot = codec.BootID{2}
			w = open(t, dir, o)
			add(t, w, 1)
			w.Close()
			return dir
		}, func(t *testing.T, r *Health) {
			g := r.Gaps[0]
			if len(r.Gaps) != 1 || g.From != 11 || g.Loss != LossPossible || !strings.Contains(g.Bound, "sync interval") {
				t.Fatalf("%+v", r)
			}
		}},
		{"segment lost after a clean close", func(t *testing.T, dir string) string {
			w := open(t, dir, opts(false))
			add(t, w, 200)
			w.Close()
			segs, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
			os.Remove(segs[len(segs)-1])
			w = open(t, dir, opts(false))
			add(t, w, 1)
			w.Close()
			return dir
		}, func(t *testing.T, r *Health) {
			// The clean close's mark is exact: every missing number was a record.
			g := r.Gaps[0]
			if len(r.Gaps) != 1 || g.Loss != LossLost || g.Lost != g.Numbers() || g.To != 200 || r.Lost != g.Numbers() {
				t.Fatalf("%+v", r)
			}
		}},
		{"damage", func(t *testing.T, dir string) string {
			w := open(t, dir, opts(false))
			add(t, w, 30)
			w.Close()
			segs, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
			b, _ := os.ReadFile(segs[0])
			b[400] ^= 0xff // in a frame amid the segment
			os.WriteFile(segs[0], b, 0o640)
			return dir
		}, func(t *testing.T, r *Health) {
			g := r.Gaps[0]
			if len(r.Gaps) != 1 || g.Loss != LossLost || g.Lost != 1 || g.Cause != CauseDamage || r.Corrupt != 1 {
				t.Fatalf("%+v", r)
			}
		}},
		{"retention", func(t *testing.T, dir string) string {
			o := opts(false)
			o.Budget = 4*o.SegmentSize + 64<<10
			w := open(t, dir, o)
			add(t, w, 2000)
			w.Close()
			return dir
		}, func(t *testing.T, r *Health) {
			if r.Retired == 0 || r.Retired != r.FirstSeq-1 || len(r.Gaps) != 0 {
				t.Fatalf("%+v", r)
			}
		}},
		{"five crashes, no segment deleted", func(t *testing.T, dir string) string {
			for i := 0; i < 5; i++ {
				w := open(t, dir, opts(true))
				add(t, w, 3) // never flushed
				dir = crash(t, w, dir)
			}
			w := open(t, dir, opts(true))
			add(t, w, 1)
			w.Close()
			return dir
		}, func(t *testing.T, r *Health) {
			// Nothing was deleted: retention is not blamed.
			if r.Retired != 0 || len(r.Gaps) == 0 || r.Lost != 0 {
				t.Fatalf("%+v", r)
			}
			for _, g := range r.Gaps {
				if g.Loss != LossPossible || !strings.Contains(g.Cause, "records in memory") {
					t.Fatalf("gap %+v", g)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.build(t, filepath.Join(t.TempDir(), "events"))
			in, err := Open([]string{dir})
			if err != nil {
				t.Fatal(err)
			}
			r, err := Check(in.Sources[0])
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

// TestFollowBehindRetention: a follower that falls behind while
// retention deletes the segments it has not read yet says so, with the
// numbers those segments held, and blames no crash.
func TestFollowBehindRetention(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "events")
	o := ringlog.Options{Stream: "events", Codec: codec.Msgpack, Budget: 4*(8<<10) + 64<<10, SegmentSize: 8 << 10,
		Boot: codec.BootID{1}, BootCount: 1, FlushEvery: time.Hour}
	w, err := ringlog.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	m := follower(t, dir)
	var gaps []Gap
	records := 0
	for round := 0; round < 5; round++ {
		for i := 0; i < 400; i++ {
			if _, err := w.Append(rec(1, i, "r")); err != nil {
				t.Fatal(err)
			}
		}
		w.Flush()
		for n := 0; n < 3; n++ { // a slow reader: a few records a round
			it, err := m.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch it.Kind {
			case KindGap:
				gaps = append(gaps, it.Gap)
			case KindRecord:
				records++
			}
		}
	}
	for {
		it, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.Kind == KindGap {
			gaps = append(gaps, it.Gap)
		}
	}
	if len(gaps) == 0 {
		t.Fatal("no gap: retention deleted nothing the follower had not read")
	}
	for _, g := range gaps {
		if g.Cause != CauseRetention || g.Loss != LossLost || g.Lost != g.Numbers() {
			t.Errorf("gap %+v, want records deleted by retention", g)
		}
	}
}

// follower opens a following merge of the ring in dir, closed with t.
func follower(t *testing.T, dir string) *Merger { return merger(t, dir, true) }

// merger opens a merge of the ring in dir, following or not, closed with
// t.
func merger(t *testing.T, dir string, follow bool) *Merger {
	t.Helper()
	in, err := Open([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMerger(in.Sources, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	m.Follow = follow
	t.Cleanup(m.Close)
	return m
}
