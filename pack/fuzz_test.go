package pack

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// FuzzUnpack unpacks arbitrary bytes: it ends, never panics, returns
// records of at most MaxRecord bytes in increasing order, keeps its
// buffer bounded, and fails only with ErrCorrupt.
func FuzzUnpack(f *testing.F) {
	recs := realRecords(f)
	f.Add(packAll(f, recs[:40], consecutive(1, 40)))
	f.Add(packAll(f, recs[100:130], consecutive(7, 30)))
	f.Add([]byte{0x00, 0x01, 0x90, 0x41, 0x05, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		var u Unpacker
		u.Reset(b, 1)
		var last uint64
		for n := 0; ; n++ {
			if n > len(b) {
				t.Fatal("more records than bytes")
			}
			seq, rec, err := u.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error %v is not ErrCorrupt", err)
				}
				return
			}
			if len(rec) == 0 || len(rec) > MaxRecord || n > 0 && seq <= last {
				t.Fatalf("record %d: %d bytes, seq %d after %d", n, len(rec), seq, last)
			}
			if cap(u.buf) > 4*Refs*MaxRecord {
				t.Fatalf("buffer of %d bytes", cap(u.buf))
			}
			last = seq
		}
	})
}

// FuzzRoundTrip packs records cut from arbitrary bytes, after some real
// ones to refer to, and unpacks them byte for byte.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{0x81, 0xa1, 0x61, 0x05}, []byte{0x81, 0xa1, 0x61, 0xcc, 0x90}, uint8(1))
	f.Add(rec(1, time.Unix(5, 0), 1, "x", "v", int64(3)), rec(2, time.Unix(6, 0), 9, "x", "v", int64(-300)), uint8(0))
	f.Add([]byte{0xd7, 0xff, 1, 2, 3, 4, 5, 6, 7, 8}, []byte{0xd7, 0xff, 9, 2, 3, 4, 5, 6, 7, 8}, uint8(3))
	f.Fuzz(func(t *testing.T, a, b []byte, gap uint8) {
		if len(a) == 0 || len(b) == 0 || len(a) > MaxRecord || len(b) > MaxRecord {
			return
		}
		recs := [][]byte{a, b, a, bytes.Clone(b), a}
		seqs := []uint64{1, 2, 3 + uint64(gap), 4 + uint64(gap), 5 + 2*uint64(gap)}
		blk := packAll(t, recs, seqs)
		var u Unpacker
		u.Reset(blk, 1)
		for i := range recs {
			seq, r, err := u.Next()
			if err != nil || seq != seqs[i] || !bytes.Equal(r, recs[i]) {
				t.Fatalf("record %d: %v, seq %d, %x, want %x", i, err, seq, r, recs[i])
			}
		}
		if _, _, err := u.Next(); err != io.EOF {
			t.Fatalf("after the last record: %v", err)
		}
	})
}
