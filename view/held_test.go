package view

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// What a view keeps of an item past the next read must be a copy: a
// record's strings are views of bytes the readers read into again, the
// reader's segment buffer at the next segment, a feeder's batch once the
// merge hands it back. These rings are large enough for both to be reused
// before the end.

// crashedRing writes a ring of n records, whose writer then died with a
// record in memory, so that the next writer's resume note explains the
// gap, then n records after it, over many segments; it returns the ring's
// directory. A feeder's batch grows its buffer as it fills first: the
// records before the note are enough for the note to be in a batch's
// buffer it fills again.
func crashedRing(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "events")
	o := ringlog.Options{Stream: "events", Codec: codec.Msgpack, Budget: 64 << 20, SegmentSize: 4 << 10, MemoryStage: true, Boot: codec.BootID{1}, BootCount: 1}
	w, err := ringlog.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	later := func(i int) *codec.Record { return rec(1, i, "later", str("pad", strings.Repeat("y", 40))) }
	for i := range n {
		w.Append(later(i))
	}
	w.Flush()
	w.Append(rec(1, n, "lost"))
	dir = crashCopy(t, dir)
	w.Close()
	if w, err = ringlog.Open(dir, o); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := w.Append(later(n + 1 + i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestHeldGapWords: a filtered view holds a gap until it shows a record,
// which may come segments and batches later; the gap still says the resume
// note's words (itiny-read --grep printed them as MessagePack bytes).
func TestHeldGapWords(t *testing.T) {
	dir := crashedRing(t, 1500)
	for _, follow := range []bool{false, true} { // read ahead in batches; read directly
		m := merger(t, dir, follow)
		var held []Item
		var note ringlog.Resume
		for {
			it, err := m.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch it.Kind {
			case KindGap:
				held = append(held, it)
			case KindRecord:
				if n, ok := ringlog.ParseResume(it.Rec); ok {
					note = ringlog.Resume{Cause: strings.Clone(n.Cause), Bound: strings.Clone(n.Bound)}
				}
			}
		}
		if len(held) != 1 || note.Cause == "" {
			t.Fatalf("follow %t: gaps %v, note %+v; want one gap, explained by the note", follow, held, note)
		}
		if g := held[0].Gap; g.Cause != note.Cause || g.Bound != note.Bound {
			t.Errorf("follow %t: held gap says %q; bound: %q, want the note's %q; bound: %q", follow, g.Cause, g.Bound, note.Cause, note.Bound)
		}
	}
}

// TestRunWords: a run's version and last record are read long before
// ListRuns returns: the records of the runs after it are read since.
func TestRunWords(t *testing.T) {
	filler := func(name string, from, n int) []*codec.Record {
		var recs []*codec.Record
		for i := range n {
			recs = append(recs, rec(1, from+i, name, str("pad", strings.Repeat("y", 40))))
		}
		return recs
	}
	// Records before the first start are of no run; they are there so
	// that the run's records are in a batch's buffer filled again.
	recs := filler("early", 0, 1000)
	recs = append(recs, start(1, 1000, 100, true, false))
	recs = append(recs, filler("during", 1001, 10)...)
	recs = append(recs, rec(1, 1011, "audit.last"), start(1, 1100, 101, false, false))
	recs = append(recs, filler("after", 1101, 2000)...)
	data := t.TempDir()
	writeRingOpts(t, data, ringlog.Options{Stream: "itiny", Codec: codec.Msgpack, Budget: 64 << 20, SegmentSize: 4 << 10}, recs...)
	runs := listRuns(t, data)
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2", len(runs))
	}
	if r := runs[0]; r.Version != "v1" || r.Last.Name != "audit.last" || r.Records != 12 {
		t.Errorf("first run: version %q, last %q, %d records; want v1, audit.last, 12", r.Version, r.Last.Name, r.Records)
	}
}
