package ringlog

import (
	"testing"

	"github.com/itiny/itiny/codec"
)

// benchPolicies are the write paths: the mapped stage (survives SIGKILL),
// one write(2) per record (survives SIGKILL), and fdatasync per record
// (survives power loss).
var benchPolicies = []struct {
	name  string
	stage int
	sync  SyncPolicy
}{
	{"stage", 0, SyncNone},
	{"stage-interval", 0, SyncInterval},
	{"write", -1, SyncNone},
	{"always", 0, SyncAlways},
}

func benchOptions(c codec.Codec, stage int, sync SyncPolicy) Options {
	o := testOptions(c)
	o.Budget, o.SegmentSize, o.StageSize, o.Sync = 64<<20, 4<<20, stage, sync
	o.FlushEvery = 0 // the default: flush staged records every second
	return o
}

// benchRings runs body as a sub-benchmark per codec and write path, on a
// writer opened with the options opts gives.
func benchRings(b *testing.B, opts func(codec.Codec, int, SyncPolicy) Options, body func(*testing.B, *Writer, codec.Codec)) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		for _, p := range benchPolicies {
			if p.sync == SyncAlways && opts(c, p.stage, p.sync).SegmentSize < 1<<20 {
				continue // an fdatasync per record: rotations would take minutes
			}
			b.Run(c.String()+"/"+p.name, func(b *testing.B) {
				w, err := Open(b.TempDir(), opts(c, p.stage, p.sync))
				if err != nil {
					b.Fatal(err)
				}
				body(b, w, c)
				b.StopTimer()
				w.Close()
			})
		}
	}
}

// BenchmarkAppend appends a 10-field metrics record: encoding, framing,
// checksum, and storing it by each policy, with retention running.
func BenchmarkAppend(b *testing.B) {
	benchRings(b, benchOptions, func(b *testing.B, w *Writer, c codec.Codec) {
		r := testRecord(0)
		enc, _ := c.Append(nil, r)
		b.SetBytes(int64(len(enc)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r.Fields[0].Value = codec.Int(int64(i))
			if _, err := w.Append(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// testRings calls fn with a writer per codec and unsynced write path
// (fdatasync per record would make the allocation tests slow), opened with
// the options opts gives, and closes it after.
func testRings(t *testing.T, opts func(codec.Codec, int, SyncPolicy) Options, fn func(w *Writer, name string)) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		for _, p := range benchPolicies[:3] {
			w, err := Open(t.TempDir(), opts(c, p.stage, p.sync))
			if err != nil {
				t.Fatal(err)
			}
			fn(w, c.String()+"/"+p.name)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestAppendZeroAllocs: appending allocates nothing once the writer's
// buffer has grown, on every path (allocations are counted, not timed).
func TestAppendZeroAllocs(t *testing.T) {
	testRings(t, benchOptions, func(w *Writer, name string) {
		r := testRecord(0)
		w.Append(r)
		if n := testing.AllocsPerRun(2000, func() { w.Append(r) }); n != 0 {
			t.Errorf("%s: %v allocations per Append", name, n)
		}
	})
}

// rotatingOptions give a ring of 8 KiB segments in a 64 KiB budget: a
// segment's worth of records rotates once and deletes the oldest segment.
func rotatingOptions(c codec.Codec, stage int, sync SyncPolicy) Options {
	o := testOptions(c)
	o.StageSize, o.Sync = stage, sync
	o.FlushEvery = 0
	return o
}

// fillSegment appends records until the writer has rotated n times.
func fillSegment(tb testing.TB, w *Writer, r *codec.Record, n uint64) {
	for to := w.segSeq + n; w.segSeq < to; {
		if _, err := w.Append(r); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkRotate fills one segment per operation: a rotation (new
// segment file, header, rename, directory sync in the background) and
// the retention that deletes the oldest segment, with their appends.
func BenchmarkRotate(b *testing.B) {
	benchRings(b, rotatingOptions, func(b *testing.B, w *Writer, _ codec.Codec) {
		r := testRecord(0)
		fillSegment(b, w, r, 10) // the budget is full: retention runs
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			fillSegment(b, w, r, 1)
		}
	})
}

// TestRotateZeroAllocs: rotating to a new segment, deleting the oldest for
// the budget and syncing in the background allocate nothing, so that a
// long-running agent creates no garbage in steady state (DESIGN section 21).
func TestRotateZeroAllocs(t *testing.T) {
	testRings(t, rotatingOptions, func(w *Writer, name string) {
		r := testRecord(0)
		fillSegment(t, w, r, 10)
		deleted := w.deleted
		if n := testing.AllocsPerRun(20, func() { fillSegment(t, w, r, 1) }); n != 0 {
			t.Errorf("%s: %v allocations per rotation", name, n)
		}
		if w.deleted <= deleted {
			t.Errorf("%s: retention deleted no segment", name)
		}
	})
}

// BenchmarkOpen opens a closed ring whose newest segment holds 1,500
// records: recovery scans it, and finds the last record (Recovery.Last)
// with one copy, not one a frame.
func BenchmarkOpen(b *testing.B) {
	for _, packed := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "packed"}[packed], func(b *testing.B) {
			dir := b.TempDir()
			o := testOptions(codec.Msgpack)
			o.SegmentSize, o.Budget, o.Pack = 256<<10, 4<<20, packed
			w, err := Open(dir, o)
			if err != nil {
				b.Fatal(err)
			}
			appendN(b, w, 0, 1500)
			w.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w, err := Open(dir, o)
				if err != nil {
					b.Fatal(err)
				}
				if w.Recovery().Last == nil {
					b.Fatal("no last record")
				}
				w.Close()
			}
		})
	}
}
