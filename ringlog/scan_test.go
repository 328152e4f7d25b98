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
			err = w.Scan(func(e Entry) error {
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
