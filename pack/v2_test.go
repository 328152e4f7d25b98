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

// roundTrip2 encodes recs in a version 2 and a version 3 block and checks
// that unpacking gives them back, byte for byte, with their numbers. It
// returns the version 3 block.
func roundTrip2(t testing.TB, recs [][]byte, seqs []uint64) []byte {
	t.Helper()
	checkBlock(t, appendAll(t, &Encoder{Version: Version2}, recs, seqs), recs, seqs)
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

// entryKinds counts the entries of recs' block by kind: "predicted",
// "shape" (another earlier shape), "template", "derived" and "literal".
// Versions 2 and 3 have the same entries: it reads version 2's bits.
func entryKinds(t testing.TB, recs [][]byte, seqs []uint64) map[string]int {
	blk := appendAll(t, &Encoder{Version: Version2}, recs, seqs)
	var u Unpacker
	u.Reset(blk, seqs[0])
	n := map[string]int{}
	for {
		at := max(u.d2.s.r.pos, 8)
		if _, _, err := u.Next(); err == io.EOF {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
		s := source{r: bitReader{src: blk, pos: at}, m: &noModel}
		if c, _ := s.raw(2); c == 0b11 {
			n["predicted"]++
			continue
		}
		s.uint()
		k := 0
		for ; k < 3; k++ {
			if b, _ := s.raw(1); b == 0 {
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
			roundTrip2(t, tc.recs, seqs)
			if got := entryKinds(t, tc.recs, seqs); fmt.Sprint(got) != fmt.Sprint(tc.want) {
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
			roundTrip2(t, tc.recs, seqs)
			if got := entryKinds(t, tc.recs, seqs)["literal"]; got != tc.want {
				t.Errorf("%d plain literals, want %d", got, tc.want)
			}
		})
	}
}

func TestRealSamples2(t *testing.T) {
	recs := realRecords(t)
	seqs := consecutive(1, len(recs))
	v3 := roundTrip2(t, recs, seqs)
	v2 := appendAll(t, &Encoder{Version: Version2}, recs, seqs)
	v1 := packAll(t, recs, seqs)
	samples := len(recs) / 12
	t.Logf("%d records (%d samples), %d bytes: v1 %d, v2 %d, v3 %d bytes, %d a sample",
		len(recs), samples, totalLen(recs), len(v1), len(v2), len(v3), len(v3)/samples)
	// v2 measured 6,621 bytes, v1 19,102: at least twice as small; v3
	// codes v2's bits, so never more than them and its flush.
	if 2*len(v2) > len(v1) || len(v3) > len(v2) {
		t.Errorf("v1 %d, v2 %d, v3 %d bytes: v2 not half of v1, or v3 above v2", len(v1), len(v2), len(v3))
	}
}

// TestIncremental2: after every Append the block so far unpacks to the
// records so far.
func TestIncremental2(t *testing.T) {
	recs := realRecords(t)[:60]
	for _, v := range []byte{Version2, Version3} {
		e := Encoder{Version: v}
		var blk []byte
		for i, r := range recs {
			blk, _ = e.Append(blk, r, uint64(i+1))
			checkBlock(t, bytes.Clone(blk), recs[:i+1], consecutive(1, i+1))
		}
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
	good := appendAll(t, &Encoder{Version: Version2}, [][]byte{rec(1, t0, 0, "a", "v", 0.5), rec(2, t0, 0, "a", "v", 0.75)}, []uint64{1, 2})
	good3 := encodeAll(t, [][]byte{rec(1, t0, 0, "a", "v", 0.5), rec(2, t0, 0, "a", "v", 0.75)}, []uint64{1, 2})
	for _, tc := range []struct {
		name  string
		block []byte
		want  string
	}{
		{"unknown version", []byte{0x84, 0xff}, "entry 0 at offset 0: unknown block version 0x84"},
		{"entry of a zero bit", []byte{Version2, 0x00, 0x00}, "entry 0 at offset 1: bit 0: entry does not start with bit 1"},
		{"predicted with no shape", []byte{Version2, 0xc0}, "no shape predicted"},
		{"earlier shape with none", []byte{Version2, 0x80}, "bad shape index"},
		{"literal longer than the block", bitsOf(func(c *coder) { c.raw(0b10_0_10, 5); c.uint(2); c.raw(0x91, 8) }), "bad length"},
		{"template not MessagePack", bitsOf(func(c *coder) { c.raw(0b10_0_10, 5); c.uint(1); c.raw(0x91, 8) }), "not one MessagePack item"},
		{"float mantissa of no decimal", bitsOf(func(c *coder) {
			c.raw(0b10_0_10, 5)
			c.uint(9)
			c.raw(0xcb, 8)
			c.raw(0x7ff8000000000001, 64) // a NaN
			c.raw(0b11, 2)
			c.raw(0b10, 2) // the mantissa at the same exponent
		}), "mantissa change of a float that is not decimal"},
		{"gap past 2^64", []byte{Version2, 0b10_111111, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0b11_000000}, "bad sequence gap"},
		{"cut short", good[:len(good)-3], "entry 1"},
		{"version 3, cut short", good3[:len(good3)-3], "cut short"},
		{"version 3, bytes after the end", append(bytes.Clone(good3), 0, 0), "2 bytes after the end"},
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
	for _, v := range []byte{Version2, Version3} {
		b.Run(fmt.Sprintf("v%d", v&0x7f), func(b *testing.B) {
			e := Encoder{Version: v}
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
		})
	}
}

// bitsOf returns a version 2 block of the bits write writes.
func bitsOf(write func(c *coder)) []byte {
	c := coder{w: bitWriter{b: []byte{Version2}}, m: &noModel}
	write(&c)
	c.w.finish()
	return c.w.b
}

// TestMaxEntries: a version 3 block takes MaxEntries records and no more
// (Append says ErrFull, leaving the block as it was), and a reader
// rejects a block with more, which only a bad writer makes.
func TestMaxEntries(t *testing.T) {
	rec := []byte{0x91, 0x01}
	var e Encoder
	var blk []byte
	var err error
	for i := range MaxEntries {
		if blk, err = e.Append(blk, rec, uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if e.Fits(len(rec)) {
		t.Fatal("not full")
	}
	if b, err := e.Append(blk, rec, MaxEntries+1); !errors.Is(err, ErrFull) || len(b) != len(blk) {
		t.Fatalf("Append past the bound: %v, %d bytes of %d", err, len(b), len(blk))
	}
	var u Unpacker
	count := func(blk []byte) (int, error) {
		u.Reset(blk, 1)
		for n := 0; ; n++ {
			if _, _, err := u.Next(); err != nil {
				return n, err
			}
		}
	}
	if n, err := count(blk); n != MaxEntries || err != io.EOF {
		t.Fatalf("%d records, %v", n, err)
	}
	t.Logf("%d records of %d bytes in a block of %d bytes", MaxEntries, len(rec), len(blk))
	e.n-- // as a writer without the bound
	if blk, err = e.Append(blk, rec, MaxEntries+1); err != nil {
		t.Fatal(err)
	}
	if n, err := count(blk); n != MaxEntries || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "more than 65536 entries") {
		t.Fatalf("%d records, %v", n, err)
	}
}

// TestMaxUnpacked: a block takes records up to MaxUnpacked bytes in all
// (Append says ErrFull past them), and a reader refuses a block whose
// records pass MaxUnpackedRead, however few bytes it is: a bomb.
func TestMaxUnpacked(t *testing.T) {
	rec := append([]byte{0xc5, 0xf0, 0x00}, make([]byte, 0xf000)...) // a bin of 61,440 bytes
	var e Encoder
	var blk []byte
	var err error
	n := 0
	for ; ; n++ {
		if blk, err = e.Append(blk, rec, uint64(n+1)); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrFull) || n != MaxUnpacked/len(rec) {
		t.Fatalf("%d records then %v; want %d, then ErrFull", n, err, MaxUnpacked/len(rec))
	}
	// As a writer without the bound.
	for ; n*len(rec) <= MaxUnpackedRead; n++ {
		e.size = 0
		if blk, err = e.Append(blk, rec, uint64(n+1)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d records of %d bytes in a block of %d bytes", n, len(rec), len(blk))
	var u Unpacker
	u.Reset(blk, 1)
	got := 0
	for ; ; got++ {
		if _, _, err = u.Next(); err != nil {
			break
		}
	}
	if got != MaxUnpackedRead/len(rec) || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "records of over") {
		t.Fatalf("%d records, then %v", got, err)
	}
}

// TestDerivedTemplateBound: a hostile version 3 block whose derived
// template grows past MaxTemplate (a template of 65,536 bytes, an array
// of empty strs, then edits of 65,536 bytes each) is refused at the edit
// that passes it, its buffer bounded; it once grew 64 KiB an edit, 22 MB
// from a block of 105 KB (found by a review).
func TestDerivedTemplateBound(t *testing.T) {
	var c coder
	c.v3 = true
	resetModel(&c.m)
	c.rc.reset([]byte{Version3})
	entry := func(kind ...uint64) {
		c.bit(&c.m.entry, 1)
		c.bit(&c.m.predicted, 0)
		c.uint(0)
		for i, b := range kind {
			c.bit(&c.m.kind[i], b)
		}
	}
	entry(1, 0) // a whole template
	c.bytes(append([]byte{0xdc, 0xff, 0xfd}, bytes.Repeat([]byte{0xa0}, 0xfffd)...))
	entry(1, 1, 0) // derived from it
	body := make([]byte, MaxRecord)
	for range 300 {
		c.bit(&c.m.edit, 1)
		c.bytes(body)
	}
	c.rc.flush()
	var u Unpacker
	u.Reset(c.rc.b, 1)
	if _, _, err := u.Next(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := u.Next(); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "passes the table's bounds") {
		t.Fatalf("the derived template: %v", err)
	}
	if n := cap(u.d2.t.tmpl); n > 4*MaxTemplate {
		t.Fatalf("a template buffer of %d bytes from a block of %d", n, len(c.rc.b))
	}
}

// TestOldBlocksUnbounded: a version 2 block of records past
// MaxUnpackedRead in all, which a writer before version 3 could make
// (3,000 alike records of 40 KiB), reads back whole: the bound is
// version 3's (found by a review).
func TestOldBlocksUnbounded(t *testing.T) {
	rec := append([]byte{0xc5, 0xa0, 0x00}, make([]byte, 40<<10)...)
	e := Encoder{Version: Version2}
	var blk []byte
	var err error
	const n = 3000
	for i := range n {
		e.size = 0 // as the writer before the bound
		if blk, err = e.Append(blk, rec, uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	var u Unpacker
	u.Reset(blk, 1)
	got := 0
	for ; ; got++ {
		if _, _, err = u.Next(); err != nil {
			break
		}
	}
	if got != n || err != io.EOF {
		t.Fatalf("%d of %d records (%d MB) from a block of %d bytes, then %v", got, n, n*len(rec)>>20, len(blk), err)
	}
}
