package ringlog

import (
	"os"
	"slices"
	"testing"

	"github.com/itiny/itiny/codec"
)

// TestScan: a Writer scans what its ring holds, packed, framed as
// MessagePack or as JSON, exactly the records a Reader reads, damage
// passed over.
func TestScan(t *testing.T) {
	for _, c := range []struct {
		name  string
		codec codec.Codec
		pack  bool
	}{{"msgpack", codec.Msgpack, false}, {"packed", codec.Msgpack, true}, {"json", codec.JSON, false}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(c.codec)
			o.Pack = c.pack
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, w, 0, 300)
			w.Close()
			// A byte of the oldest segment's first record flipped.
			segs := segmentPaths(t, dir)
			b, _ := os.ReadFile(segs[0])
			b[len(b)/2] ^= 0xff
			os.WriteFile(segs[0], b, 0o644)
			want := readAll(t, dir)
			if len(want.damage) == 0 || len(want.ids) < 100 {
				t.Fatalf("%d records, damage %v", len(want.ids), want.damage)
			}

			w, err = Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			var seqs []uint64
			var ids []int64
			err = w.Scan(nil, func(e Entry) error {
				var r codec.Record
				if err := e.Decode(&r); err != nil {
					return err
				}
				seqs, ids = append(seqs, e.Seq), append(ids, r.Fields[0].Value.Int())
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seqs, want.seqs) || !slices.Equal(ids, want.ids) {
				t.Errorf("scanned %d records (%v...), the Reader read %d (%v...)", len(seqs), seqs[:3], len(want.seqs), want.seqs[:3])
			}
		})
	}
}

// TestScanFrom: Scan starts at the newest segment whose first record
// from accepts, reads the segments this Writer made itself (named by
// their numbers only: a first version opened the directory instead), and
// reads all from the oldest when from accepts none.
func TestScanFrom(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	o.Budget = 1 << 20 // the 400 records in about ten segments of 8 KiB
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	appendN(t, w, 0, 400)
	w.Flush()
	ids := func(from func(Entry) bool) (first int64, n int) {
		w.Scan(from, func(e Entry) error {
			var r codec.Record
			if err := e.Decode(&r); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				first = r.Fields[0].Value.Int()
			}
			n++
			return nil
		})
		return first, n
	}
	atMost := func(i int64) func(Entry) bool {
		return func(e Entry) bool {
			var r codec.Record
			return e.Decode(&r) == nil && r.Fields[0].Value.Int() <= i
		}
	}
	if segs := len(segmentPaths(t, dir)); segs < 5 {
		t.Fatalf("%d segments", segs)
	}
	if f, n := ids(nil); n != 400 || f != 0 {
		t.Fatalf("all: %d records from %d, want 400 from 0", n, f)
	}
	// From the segment that holds record 350: its first is at most 350,
	// and less than a segment (about 40 records) before it.
	if f, n := ids(atMost(350)); f > 350 || f < 300 || n != 400-int(f) {
		t.Errorf("from 350: %d records from %d", n, f)
	}
	if f, n := ids(atMost(-1)); n != 400 || f != 0 {
		t.Errorf("from none: %d records from %d, want all 400", n, f)
	}
}
