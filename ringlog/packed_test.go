package ringlog

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/pack"
)

// realSamples returns the agent's records from pack/testdata: 62 s of the
// default collectors at 1 s.
func realSamples(t *testing.T) []codec.Record {
	t.Helper()
	b, err := os.ReadFile("../pack/testdata/metrics.records")
	if err != nil {
		t.Fatal(err)
	}
	var recs []codec.Record
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		var r codec.Record
		if err := codec.Msgpack.Decode(b[k:k+int(n)], &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
		b = b[k+int(n):]
	}
	return recs
}

// TestPackedRing writes real samples to a periodic ring with and without
// packing: the packed ring reads back the same records in a twentieth of
// the bytes.
func TestPackedRing(t *testing.T) {
	recs := realSamples(t)
	size := map[bool]int64{}
	for _, packed := range []bool{false, true} {
		o := testOptions(codec.Msgpack)
		o.Budget, o.SegmentSize, o.StageSize = 4<<20, 256<<10, 64<<10
		o.MemoryStage, o.Pack = true, packed
		dir := t.TempDir()
		w, err := Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		for i := range recs {
			r := recs[i]
			if _, err := w.Append(&r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		for _, p := range segmentPaths(t, dir) {
			fi, _ := os.Stat(p)
			size[packed] += fi.Size()
			h, data, frames := segFrames(t, p)
			if h.Flags != o.segFlags() {
				t.Fatalf("packed %v: segment flags %#x", packed, h.Flags)
			}
			if packed && len(frames) == 0 {
				t.Fatal("no frames")
			}
			for _, f := range frames {
				if v := data[f.off+binFrameHeader]; packed && v != pack.Version3 {
					t.Fatalf("a block of version %#x", v)
				}
			}
		}
		rd, err := NewReader(dir)
		if err != nil {
			t.Fatal(err)
		}
		var got codec.Record
		for i := 0; ; i++ {
			e, err := rd.Next()
			if err == io.EOF {
				if i != len(recs) {
					t.Fatalf("packed %v: %d records back, want %d", packed, i, len(recs))
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Decode(&got); err != nil {
				t.Fatal(err)
			}
			want := recs[i]
			want.Seq, want.Stream = uint64(i+1), o.Stream
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("packed %v: record %d:\n got %+v\nwant %+v", packed, i, got, want)
			}
		}
	}
	samples := int64(len(recs) / 12)
	t.Logf("%d samples: %d bytes a sample unpacked, %d packed (segment headers included)", samples, size[false]/samples, size[true]/samples)
	if size[true]*20 > size[false] {
		t.Errorf("packed ring %d bytes, unpacked %d: want at least 20 times smaller", size[true], size[false])
	}
}

// TestPackToggle reopens a ring with packing switched on and off: each
// change starts a new segment and every record reads back in order.
func TestPackToggle(t *testing.T) {
	dir := t.TempDir()
	var want []uint64
	for i, packed := range []bool{false, true, true, false, true} {
		o := testOptions(codec.Msgpack)
		o.Budget, o.Pack = 1<<20, packed
		w, err := Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, appendN(t, w, 10*i, 7)...)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		segs := segmentPaths(t, dir)
		h, _, _ := segFrames(t, segs[len(segs)-1])
		if h.Flags != o.segFlags() {
			t.Fatalf("open %d: newest segment's flags %#x, packed %v", i, h.Flags, packed)
		}
	}
	res := readAll(t, dir)
	if !reflect.DeepEqual(res.seqs, want) || len(res.damage) != 0 {
		t.Fatalf("read %v, damage %v\nwant %v", res.seqs, res.damage, want)
	}
}

// TestPackAfterV1: a packed ring of version 1 blocks, opened by this
// writer, gets a new segment of version 2 blocks; the old ones still read.
func TestPackAfterV1(t *testing.T) {
	dir := copyRing(t, filepath.Join(goldenDir, "v1-msgpack-packed-refs"))
	before := readAll(t, dir)
	o := testOptions(codec.Msgpack)
	o.Budget, o.Pack, o.MemoryStage, o.StageSize = 1<<20, true, true, 700
	o.Boot = codec.BootID{0x60, 0x1d}
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	want := append(before.seqs, appendN(t, w, 100, 40)...)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	segs := segmentPaths(t, dir)
	for i, p := range segs {
		h, _, _ := segFrames(t, p)
		if wantFlags := uint32(FlagPacked); i == len(segs)-1 && h.Flags != wantFlags|FlagPacked2|FlagPacked3 || i < len(segs)-1 && h.Flags != wantFlags {
			t.Fatalf("segment %d of %d: flags %#x", i+1, len(segs), h.Flags)
		}
	}
	res := readAll(t, dir)
	if !reflect.DeepEqual(res.seqs, want) || len(res.damage) != 0 {
		t.Fatalf("read %v, damage %v\nwant %v", res.seqs, res.damage, want)
	}
}

// TestPackedRecordLimit: a packed ring refuses a record over
// pack.MaxRecord and takes the next one.
func TestPackedRecordLimit(t *testing.T) {
	o := testOptions(codec.Msgpack)
	o.Budget, o.SegmentSize, o.Pack = 4<<20, 256<<10, true
	w, err := Open(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	big := testRecord(1)
	big.Fields = append(big.Fields, codec.Field{Key: "blob", Value: codec.Bytes(make([]byte, 70<<10))})
	if _, err := w.Append(big); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("append of a 70 KiB record: %v, want ErrRecordTooLarge", err)
	}
	if _, err := w.Append(testRecord(2)); err != nil {
		t.Fatal(err)
	}
}

// A packed block whose frame verifies but does not unpack costs its
// records from the bad entry on, reported as ErrBadBlock; the reader
// goes on with the next frame.
func TestBadBlock(t *testing.T) {
	o := testOptions(codec.Msgpack)
	o.Budget, o.Pack, o.StageSize = 1<<20, true, 600
	dir := buildRingOpts(t, o, 30)
	seg := segmentPaths(t, dir)[0]
	h, data, frames := segFrames(t, seg)
	if len(frames) < 3 {
		t.Fatalf("%d frames", len(frames))
	}
	// Rewrite frame 1 with its block cut in the middle and two zero
	// bytes after it, which no entry starts with.
	f := frames[1]
	blk := data[f.off+binFrameHeader : f.end]
	if blk[0] != pack.Version3 {
		t.Fatalf("block of version %#x", blk[0])
	}
	cut := append(append([]byte(nil), blk[:len(blk)/2]...), 0, 0)
	stand := 0 // the records of the cut block that still unpack
	var u pack.Unpacker
	for u.Reset(cut, f.seq); ; stand++ {
		if _, _, err := u.Next(); err != nil {
			if !errors.Is(err, pack.ErrCorrupt) {
				t.Fatalf("the cut block ends with %v", err)
			}
			break
		}
	}
	bad := append(append([]byte(nil), data[:f.off]...), make([]byte, binFrameHeader)...)
	bad = append(bad, cut...)
	bad = sealBlock(bad[f.off:], segSalt(h.Segment), f.seq)
	out := append(append(append([]byte(nil), data[:f.off]...), bad...), data[f.end:]...)
	if err := os.WriteFile(seg, out, 0o640); err != nil {
		t.Fatal(err)
	}
	res := readAll(t, dir)
	if len(res.damage) != 1 || !errors.Is(res.damage[0].Err, ErrBadBlock) || res.damage[0].Offset != int64(f.off) {
		t.Fatalf("damage %v, want one ErrBadBlock at %d", res.damage, f.off)
	}
	var want []uint64
	for i, fr := range frames {
		if i == 1 {
			want = append(want, fr.seqs[:stand]...)
			continue
		}
		want = append(want, fr.seqs...)
	}
	if !reflect.DeepEqual(res.seqs, want) {
		t.Fatalf("read %v\nwant %v", res.seqs, want)
	}
}

// TestPackedBlockEntries: records so alike that a stage would hold more
// than pack.MaxEntries of them go to blocks of at most that many, and
// all read back.
func TestPackedBlockEntries(t *testing.T) {
	o := testOptions(codec.Msgpack)
	o.Pack, o.MemoryStage, o.StageSize = true, true, 64<<10
	o.SegmentSize, o.Budget = 256<<10, 1<<20
	const n = pack.MaxEntries + 1000
	dir := buildRingOpts(t, o, n)
	blocks, records := 0, 0
	for _, p := range segmentPaths(t, dir) {
		_, data, frames := segFrames(t, p)
		for _, f := range frames {
			blocks++
			var u pack.Unpacker
			in := 0
			for u.Reset(data[f.off+binFrameHeader:f.end], f.seq); ; in++ {
				if _, _, err := u.Next(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
			if in > pack.MaxEntries {
				t.Fatalf("a block of %d records", in)
			}
			records += in
		}
	}
	t.Logf("%d records in %d blocks", records, blocks)
	if records != n || blocks < 2 {
		t.Fatalf("%d records in %d blocks, want %d in at least 2", records, blocks, n)
	}
}

// TestPackedMappedStageBlockBound: a packed ring with a mapped stage
// (continuous, packed) whose stage holds more frames than a block may,
// or more bytes of records, starts a new block instead of failing the
// Append (found by a review: 4,464 of 70,000 Appends failed).
func TestPackedMappedStageBlockBound(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stage int
		n     int
		rec   func(i int) *codec.Record
	}{
		{"entries", 16 << 20, pack.MaxEntries + 4000, testRecord},
		{"bytes", 20 << 20, 330, func(i int) *codec.Record {
			r := testRecord(i)
			r.Fields = append(r.Fields, codec.Field{Key: "blob", Value: codec.String(string(make([]byte, 60<<10)))})
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(codec.Msgpack)
			o.Pack, o.StageSize, o.SegmentSize, o.Budget = true, tc.stage, 32<<20, 128<<20
			dir := t.TempDir()
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			if w.staging != stageMapped {
				t.Fatalf("staging %d, want the mapped stage", w.staging)
			}
			for i := range tc.n {
				if _, err := w.Append(tc.rec(i)); err != nil {
					t.Fatalf("append %d: %v", i, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if res := readAll(t, dir); len(res.seqs) != tc.n || len(res.damage) > 0 {
				t.Fatalf("%d records read back, want %d; damage %v", len(res.seqs), tc.n, res.damage)
			}
		})
	}
}
