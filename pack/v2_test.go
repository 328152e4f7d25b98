package pack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func encodeAll(t testing.TB, recs [][]byte, seqs []uint64) []byte {
	return appendAll(t, new(Encoder), recs, seqs)
}

// roundTrip2 encodes recs in a version 2 block and checks that unpacking
// gives them back, byte for byte, with their numbers.
func roundTrip2(t testing.TB, recs [][]byte, seqs []uint64) []byte {
	t.Helper()
	blk := encodeAll(t, recs, seqs)
	checkBlock(t, blk, recs, seqs)
	return blk
}

func checkBlock(t testing.TB, blk []byte, recs [][]byte, seqs []uint64) {
	t.Helper()
	var u Unpacker
	u.Reset(blk, seqs[0])
	for i := 0; ; i++ {
		seq, rec, err := u.Next()
		if err == io.EOF {
			if i != len(recs) {
				t.Fatalf("%d records back, want %d", i, len(recs))
			}
			return
		}
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if i >= len(recs) || seq != seqs[i] || !bytes.Equal(rec, recs[i]) {
			t.Fatalf("record %d: seq %d\ngot  %x\nwant %x", i, seq, rec, recs[i])
		}
	}
}

// entryKinds counts a block's entries by kind: "predicted", "shape"
// (another earlier shape), "template", "derived" and "literal".
func entryKinds(t testing.TB, blk []byte, first uint64) map[string]int {
	var u Unpacker
	u.Reset(blk, first)
	n := map[string]int{}
	for {
		at := u.d2.r.pos
		if at == 0 {
			at = 8
		}
		if _, _, err := u.Next(); err == io.EOF {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
		r := bitReader{src: blk, pos: at}
		if c, _ := r.read(2); c == 0b11 {
			n["predicted"]++
			continue
		}
		r.uint()
		k := 0
		for ; k < 3; k++ {
			if b, _ := r.bit(); !b {
				break
			}
		}
		n[[]string{"shape", "template", "derived", "literal"}[k]]++
	}
}

func TestRoundTrip2(t *testing.T) {
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			seqs := tc.seqs
			if seqs == nil {
				seqs = consecutive(1, len(tc.recs))
			}
			roundTrip2(t, tc.recs, seqs)
		})
	}
}

// TestShapes2: how records are stored, by what they share with earlier
// ones.
func TestShapes2(t *testing.T) {
	t0 := time.Unix(1764000000, 5e8)
	sec := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	for _, tc := range []struct {
		name string
		recs [][]byte
		want map[string]int
	}{
		{"a cycle of shapes is predicted", func() (rs [][]byte) {
			for i := range 4 {
				rs = append(rs, rec(uint64(2*i+1), sec(i), int64(i), "cpu", "user", 0.5+float64(i)/100),
					rec(uint64(2*i+2), sec(i), int64(i), "mem", "free", uint64(1000+i)))
			}
			return rs
		}(), map[string]int{"template": 2, "predicted": 6}},
		{"instances differ in strings: derived", [][]byte{
			rec(1, t0, 0, "net", "iface", "eth0", "rx", uint64(5)),
			rec(2, t0, 0, "net", "iface", "eth1", "rx", uint64(6)),
			rec(3, t0, 0, "net", "iface", "eth1", "rx", uint64(6)),
			rec(4, t0, 0, "fs", "dev", "eth0", "rx", uint64(6)),
		}, map[string]int{"template": 1, "derived": 2, "shape": 1}}, // a new shape is predicted to be followed by the first
		{"an unsigned series passes 127: no new template", [][]byte{
			rec(1, t0, 0, "c", "n", uint64(100)),
			rec(2, sec(1), 1, "c", "n", uint64(200)),
			rec(3, sec(2), 2, "c", "n", uint64(1<<40)),
			rec(4, sec(2), 2, "c", "n", int64(-1)), // signed now: a new template
		}, map[string]int{"template": 2, "predicted": 2}},
		{"records that are not one MessagePack item", [][]byte{{0xc1}, {0x91, 0x01}, {0x01, 0x02}},
			map[string]int{"literal": 2, "template": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seqs := consecutive(1, len(tc.recs))
			blk := roundTrip2(t, tc.recs, seqs)
			if got := entryKinds(t, blk, seqs[0]); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("entries %v, want %v", got, tc.want)
			}
		})
	}
}

// TestBounds2: past the table's bounds records are stored as plain
// literals, and still come back.
func TestBounds2(t *testing.T) {
	t0 := time.Unix(1764000000, 0)
	var shapes, big, many [][]byte
	for i := range MaxShapes + 10 {
		shapes = append(shapes, rec(uint64(i+1), t0, 0, fmt.Sprintf("n%d", i), "v", int64(i)))
	}
	for i := range MaxTemplate/(MaxRecord/4) + 3 {
		big = append(big, rec(uint64(i+1), t0, 0, fmt.Sprintf("b%d", i), "b", make([]byte, MaxRecord/4)))
	}
	fields := make([]any, 0, 2*1000)
	for k := range 1000 {
		fields = append(fields, fmt.Sprintf("f%d", k), int64(k))
	}
	for i := range MaxSeries/1000 + 3 {
		many = append(many, rec(uint64(i+1), t0, 0, fmt.Sprintf("m%d", i), fields...))
	}
	for _, tc := range []struct {
		name string
		recs [][]byte
		want int // plain literals
	}{
		{"shapes", shapes, 10},
		{"template bytes", big, 4}, // 3 templates of over 16 KiB fit
		{"series", many, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seqs := consecutive(1, len(tc.recs))
			blk := roundTrip2(t, tc.recs, seqs)
			if got := entryKinds(t, blk, 1)["literal"]; got != tc.want {
				t.Errorf("%d plain literals, want %d", got, tc.want)
			}
		})
	}
}

func TestRealSamples2(t *testing.T) {
	recs := realRecords(t)
	seqs := consecutive(1, len(recs))
	blk := roundTrip2(t, recs, seqs)
	v1 := packAll(t, recs, seqs)
	samples := len(recs) / 12
	t.Logf("%d records (%d samples), %d bytes: v1 %d, v2 %d bytes, %d a sample",
		len(recs), samples, totalLen(recs), len(v1), len(blk), len(blk)/samples)
	// v2 measured 6,621 bytes, v1 19,102: at least twice as small.
	if 2*len(blk) > len(v1) {
		t.Errorf("v2 %d bytes, v1 %d: not half", len(blk), len(v1))
	}
}

// TestIncremental2: after every Append the block so far unpacks to the
// records so far.
func TestIncremental2(t *testing.T) {
	recs := realRecords(t)[:60]
	var e Encoder
	var blk []byte
	for i, r := range recs {
		blk, _ = e.Append(blk, r, uint64(i+1))
		checkBlock(t, bytes.Clone(blk), recs[:i+1], consecutive(1, i+1))
	}
}

func TestAppendErrors2(t *testing.T) {
	var e Encoder
	blk, err := e.Append(nil, []byte{0x01}, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rec  []byte
		seq  uint64
		want string
	}{
		{nil, 6, "record of 0 or over 65,536 bytes"},
		{make([]byte, MaxRecord+1), 6, "record of 0 or over 65,536 bytes"},
		{[]byte{0x01}, 5, "sequence number not above the last"},
	} {
		if b, err := e.Append(blk, tc.rec, tc.seq); err == nil || !strings.Contains(err.Error(), tc.want) || len(b) != len(blk) {
			t.Errorf("Append(%d bytes, seq %d) = %d bytes, %v; want the block unchanged and %q", len(tc.rec), tc.seq, len(b), err, tc.want)
		}
	}
}

func TestCorruptBlocks2(t *testing.T) {
	t0 := time.Unix(1764000000, 0)
	good := encodeAll(t, [][]byte{rec(1, t0, 0, "a", "v", 0.5), rec(2, t0, 0, "a", "v", 0.75)}, []uint64{1, 2})
	for _, tc := range []struct {
		name  string
		block []byte
		want  string
	}{
		{"unknown version", []byte{0x83, 0xff}, "entry 0 at offset 0: unknown block version 0x83"},
		{"entry of a zero bit", []byte{Version2, 0x00, 0x00}, "entry 0 at offset 1: bit 0: entry does not start with bit 1"},
		{"predicted with no shape", []byte{Version2, 0xc0}, "no shape predicted"},
		{"earlier shape with none", []byte{Version2, 0x80}, "bad shape index"},
		{"literal longer than the block", bitsOf(func(w *bitWriter) { w.write(0b10_0_10, 5); w.uint(2); w.write(0x91, 8) }), "bad length"},
		{"template not MessagePack", bitsOf(func(w *bitWriter) { w.write(0b10_0_10, 5); w.uint(1); w.write(0x91, 8) }), "not one MessagePack item"},
		{"float mantissa of no decimal", bitsOf(func(w *bitWriter) {
			w.write(0b10_0_10, 5)
			w.uint(9)
			w.write(0xcb, 8)
			w.write(0x7ff8000000000001, 64) // a NaN
			w.write(0b11, 2)
			w.write(0b10, 2) // the mantissa at the same exponent
		}), "mantissa change of a float that is not decimal"},
		{"gap past 2^64", []byte{Version2, 0b10_111111, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0b11_000000}, "bad sequence gap"},
		{"cut short", good[:len(good)-3], "entry 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var u Unpacker
			u.Reset(tc.block, 1)
			var err error
			for range 10 {
				if _, _, err = u.Next(); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrCorrupt with %q", err, tc.want)
			}
			if _, _, err := u.Next(); err != io.EOF {
				t.Fatalf("after the error: %v, want io.EOF", err)
			}
		})
	}
}

// TestEncodeZeroAllocs2: once its memory has grown, the Encoder packs a
// block of real records without allocating.
func TestEncodeZeroAllocs2(t *testing.T) {
	recs := realRecords(t)
	var e Encoder
	blk := make([]byte, 0, 64<<10)
	encode := func() {
		e.Reset()
		blk = blk[:0]
		for i, r := range recs {
			blk, _ = e.Append(blk, r, uint64(i+1))
		}
	}
	encode()
	if n := testing.AllocsPerRun(10, encode); n != 0 {
		t.Fatalf("%v allocations a block", n)
	}
}

func BenchmarkEncode2(b *testing.B) {
	recs := realRecords(b)
	var e Encoder
	blk := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		blk = blk[:0]
		for i, r := range recs {
			blk, _ = e.Append(blk, r, uint64(i+1))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
	b.ReportMetric(float64(len(blk))/float64(len(recs)), "bytes/record")
}

// bitsOf returns a version 2 block of the bits write writes.
func bitsOf(write func(w *bitWriter)) []byte {
	w := bitWriter{b: []byte{Version2}}
	write(&w)
	w.finish()
	return w.b
}
