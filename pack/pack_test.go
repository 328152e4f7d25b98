package pack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// realRecords returns the records of testdata/metrics.records: 62 s of the
// agent's default collectors at 1 s on a 2-core machine (744 records, 12
// a sample), each as a uvarint length and a MessagePack record.
func realRecords(t testing.TB) [][]byte {
	b, err := os.ReadFile("testdata/metrics.records")
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			t.Fatal("testdata/metrics.records: bad length")
		}
		recs = append(recs, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	return recs
}

func totalLen(recs [][]byte) int {
	n := 0
	for _, r := range recs {
		n += len(r)
	}
	return n
}

// An appender adds records to a block: a Packer or an Encoder.
type appender interface {
	Append(dst, rec []byte, seq uint64) ([]byte, error)
}

func appendAll(t testing.TB, p appender, recs [][]byte, seqs []uint64) []byte {
	t.Helper()
	var blk []byte
	for i, r := range recs {
		var err error
		if blk, err = p.Append(blk, r, seqs[i]); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	return blk
}

func packAll(t testing.TB, recs [][]byte, seqs []uint64) []byte {
	return appendAll(t, new(Packer), recs, seqs)
}

// roundTrip packs recs and checks that unpacking gives them back, byte
// for byte, with their numbers.
func roundTrip(t *testing.T, recs [][]byte, seqs []uint64) []byte {
	t.Helper()
	blk := packAll(t, recs, seqs)
	checkBlock(t, blk, recs, seqs)
	return blk
}

func consecutive(first uint64, n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = first + uint64(i)
	}
	return s
}

func TestRealSamples(t *testing.T) {
	recs := realRecords(t)
	raw := totalLen(recs)
	blk := roundTrip(t, recs, consecutive(1, len(recs)))
	samples := len(recs) / 12
	t.Logf("%d records (%d samples), %d bytes packed to %d: %.1fx, %d bytes a sample",
		len(recs), samples, raw, len(blk), float64(raw)/float64(len(blk)), len(blk)/samples)
	// The goal is 400 bytes a sample; a block of a minute of
	// samples must stay well under it.
	if len(blk)/samples > 400 {
		t.Errorf("%d bytes a sample, want at most 400", len(blk)/samples)
	}
}

// rec builds a record shaped like the agent's: a map of header keys and
// a fields map.
func rec(seq uint64, wall time.Time, mono int64, name string, fields ...any) []byte {
	b := msgp.AppendMapHeader(nil, 5)
	b = msgp.AppendString(b, "seq")
	b = msgp.AppendUint64(b, seq)
	b = msgp.AppendString(b, "wall")
	b = msgp.AppendTimeExt(b, wall)
	b = msgp.AppendString(b, "mono")
	b = msgp.AppendInt64(b, mono)
	b = msgp.AppendString(b, "name")
	b = msgp.AppendString(b, name)
	b = msgp.AppendString(b, "fields")
	b = msgp.AppendMapHeader(b, uint32(len(fields)/2))
	for i := 0; i+1 < len(fields); i += 2 {
		b = msgp.AppendString(b, fields[i].(string))
		switch v := fields[i+1].(type) {
		case int64:
			b = msgp.AppendInt64(b, v)
		case uint64:
			b = msgp.AppendUint64(b, v)
		case float64:
			b = msgp.AppendFloat64(b, v)
		case float32:
			b = msgp.AppendFloat32(b, v)
		case string:
			b = msgp.AppendString(b, v)
		case bool:
			b = msgp.AppendBool(b, v)
		case []byte:
			b = msgp.AppendBytes(b, v)
		case time.Time:
			b = msgp.AppendTimeExt(b, v)
		case nil:
			b = msgp.AppendNil(b)
		}
	}
	return b
}

// A roundTripCase is a sequence of records both block versions must
// give back.
type roundTripCase struct {
	name string
	recs [][]byte
	seqs []uint64 // nil: consecutive from 1
	refs int      // records stored as references by version 1, at least
}

func roundTripCases() []roundTripCase {
	t0 := time.Unix(1764000000, 123456789)
	var big [MaxRecord - 64]byte
	return []roundTripCase{
		{"one", [][]byte{rec(1, t0, 5, "cpu", "user", int64(1))}, nil, 0},
		{"counters", [][]byte{
			rec(1, t0, 5, "cpu", "user", int64(100), "idle", uint64(7)),
			rec(2, t0.Add(time.Second), 1e9+5, "cpu", "user", int64(101), "idle", uint64(9)),
			rec(3, t0.Add(2*time.Second), 2e9+5, "cpu", "user", int64(99), "idle", uint64(1<<40)), // fixint to uint64: a literal
			rec(4, t0.Add(3*time.Second), 3e9+5, "cpu", "user", int64(98), "idle", uint64(1<<41)),
		}, nil, 2},
		{"integer widths and signs", [][]byte{
			rec(1, t0, 0, "x", "a", int64(5), "b", uint64(5), "c", int64(-3)),
			rec(2, t0, 0, "x", "a", int64(300), "b", uint64(300), "c", int64(-300)),       // fixint to int16/uint16: a literal for a
			rec(3, t0, 0, "x", "a", int64(70000), "b", uint64(1<<63), "c", int64(-1<<62)), // wider
			rec(4, t0, 0, "x", "a", int64(math.MinInt64), "b", uint64(math.MaxUint64), "c", int64(math.MaxInt64)),
			rec(5, t0, 0, "x", "a", int64(0), "b", uint64(0), "c", int64(0)),
		}, nil, 1},
		{"floats", [][]byte{
			rec(1, t0, 0, "f", "x", 0.25, "y", float32(1.5)),
			rec(2, t0, 0, "f", "x", math.NaN(), "y", float32(math.Inf(-1))),
			rec(3, t0, 0, "f", "x", math.Inf(1), "y", float32(0)),
			rec(4, t0, 0, "f", "x", -0.0, "y", float32(-1e-30)),
		}, nil, 3},
		{"time forms", [][]byte{
			rec(1, time.Unix(100, 0), 0, "t", "at", time.Unix(1<<33, 5)),          // fixext4; fixext8
			rec(2, time.Unix(100, 1), 0, "t", "at", time.Unix(-100, 0)),           // fixext8; ext8
			rec(3, time.Unix(-5, 7), 0, "t", "at", time.Unix(1<<32+5, 999999999)), // ext8; fixext8
			rec(4, time.Unix(1<<40, 0), 0, "t", "at", time.Unix(0, 0)),            // beyond int64 ns: a literal
			rec(5, time.Unix(1<<40, 0), 0, "t", "at", time.Unix(1, 0)),            // equal: copied
		}, nil, 3},
		{"other items", [][]byte{
			rec(1, t0, 0, "o", "s", "eth0", "ok", true, "b", []byte{1, 2}, "n", nil),
			rec(2, t0, 0, "o", "s", "eth0", "ok", true, "b", []byte{1, 2}, "n", nil),
			rec(3, t0, 0, "o", "s", "eth1", "ok", true, "b", []byte{1, 2}, "n", nil), // a string differs: a literal
			rec(4, t0, 0, "o", "s", "eth0", "ok", false, "b", []byte{1, 2}, "n", nil),
		}, nil, 1},
		{"gaps", [][]byte{
			rec(10, t0, 0, "g", "v", int64(1)),
			rec(11, t0, 0, "g", "v", int64(2)),
			rec(1000, t0, 0, "g", "v", int64(3)),
			rec(math.MaxUint64, t0, 0, "g", "v", int64(4)),
		}, []uint64{10, 11, 1000, math.MaxUint64}, 2}, // 11 to 1000: fixint to uint16, a literal
		{"not msgpack", [][]byte{{0xc1}, {0x92, 0x01}, {0x01, 0x02}, {0xc1}}, nil, 0},
		{"largest record", [][]byte{rec(1, t0, 0, "big", "b", big[:]), rec(2, t0, 1, "big", "b", big[:])}, nil, 0}, // over MaxRefRecord: whole
		{"largest referable", [][]byte{rec(1, t0, 0, "big", "b", big[:MaxRefRecord-64]), rec(2, t0, 1, "big", "b", big[:MaxRefRecord-64])}, nil, 1},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			seqs := tc.seqs
			if seqs == nil {
				seqs = consecutive(1, len(tc.recs))
			}
			blk := roundTrip(t, tc.recs, seqs)
			if n := refsIn(t, blk, seqs[0]); n < tc.refs {
				t.Errorf("%d records stored as references, want at least %d", n, tc.refs)
			}
		})
	}
}

// refsIn counts the entries of blk that are references.
func refsIn(t *testing.T, blk []byte, first uint64) int {
	var u Unpacker
	u.Reset(blk, first)
	n := 0
	for {
		at := u.off
		if _, _, err := u.Next(); err != nil {
			return n
		}
		if blk[at]&tagRef != 0 {
			n++
		}
	}
}

// More shapes than Refs: records beyond the window are stored whole, and
// every reference stays inside the window.
func TestManyShapes(t *testing.T) {
	t0 := time.Unix(1764000000, 0)
	var recs [][]byte
	for round := 0; round < 3; round++ {
		for k := 0; k < Refs+8; k++ {
			recs = append(recs, rec(uint64(len(recs)+1), t0.Add(time.Duration(round)*time.Second), 0, "n"+string(rune('A'+k)), "v", int64(round)))
		}
	}
	blk := roundTrip(t, recs, consecutive(1, len(recs)))
	if n := refsIn(t, blk, 1); n != 0 {
		t.Errorf("%d references across more than %d records", n, Refs)
	}
}

func TestAppendErrors(t *testing.T) {
	var p Packer
	var big [MaxRecord + 1]byte
	if _, err := p.Append(nil, big[:], 1); err == nil {
		t.Error("a record over MaxRecord was packed")
	}
	if _, err := p.Append(nil, nil, 1); err == nil {
		t.Error("an empty record was packed")
	}
	b, err := p.Append(nil, []byte{0x01}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(b, []byte{0x01}, 5); err == nil {
		t.Error("a repeated sequence number was packed")
	}
}

func TestCorruptBlocks(t *testing.T) {
	good := packAll(t, [][]byte{rec(1, time.Unix(1, 0), 0, "c", "v", int64(1)), rec(2, time.Unix(2, 0), 0, "c", "v", int64(2))}, []uint64{1, 2})
	for _, tc := range []struct {
		name  string
		block []byte
		ok    int // records before the error
	}{
		{"reserved tag bit", []byte{0x80}, 0},
		{"reference before the first record", []byte{0x01}, 0},
		{"reference beyond the window", append([]byte{0x00, 0x01, 0x01}, 0x21), 1},
		{"zero gap", []byte{0x40, 0x00}, 0},
		{"gap past the end of numbers", []byte{0x00, 0x01, 0x01, 0x40, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 1},
		{"literal too long", []byte{0x00, 0x05, 0x01}, 0},
		{"literal over MaxRecord", binary.AppendUvarint([]byte{0x00}, MaxRecord+1), 0},
		{"empty literal", []byte{0x00, 0x00}, 0},
		{"bad varint", []byte{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 0},
		{"reference to a non-record", []byte{0x00, 0x01, 0xc1, 0x01}, 1},
		{"missing deltas", good[:len(good)-1], 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var u Unpacker
			u.Reset(tc.block, 1)
			for i := 0; ; i++ {
				_, _, err := u.Next()
				if err == nil {
					continue
				}
				if err == io.EOF || !errors.Is(err, ErrCorrupt) || i != tc.ok {
					t.Fatalf("after %d records: %v; want ErrCorrupt after %d", i, err, tc.ok)
				}
				return
			}
		})
	}
}

// Growing a record from one-byte numbers to nine-byte ones is the most a
// reference can add; a chain of references never passes MaxRecord.
func TestExpansionBounded(t *testing.T) {
	lit := msgp.AppendArrayHeader(nil, 1000)
	for i := 0; i < 1000; i++ {
		lit = msgp.AppendInt64(lit, 0)
	}
	blk := []byte{0x00}
	blk = binary.AppendUvarint(blk, uint64(len(lit)))
	blk = append(blk, lit...)
	for k := 0; k < 100; k++ {
		blk = append(blk, 0x01)
		for i := 0; i < 1000; i++ {
			blk = binary.AppendUvarint(blk, 1<<62) // zigzag of 2^61: a 9-byte int64
		}
	}
	var u Unpacker
	u.Reset(blk, 1)
	max := 0
	for {
		_, r, err := u.Next()
		if err != nil {
			break
		}
		max = len(r)
	}
	if max > MaxRecord || cap(u.buf) > 4*Refs*MaxRecord {
		t.Fatalf("record of %d bytes, buffer of %d", max, cap(u.buf))
	}
}

func TestPackZeroAllocs(t *testing.T) {
	recs := realRecords(t)
	var p Packer
	blk := make([]byte, 0, 1<<20)
	allocs := testing.AllocsPerRun(5, func() {
		p.Reset()
		b := blk[:0]
		for i, r := range recs {
			b, _ = p.Append(b, r, uint64(i+1))
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs to pack %d records", allocs, len(recs))
	}
	if cap(p.win) > 2*Refs*MaxRefRecord {
		t.Fatalf("packer window of %d bytes", cap(p.win))
	}
	b := packAll(t, recs, consecutive(1, len(recs)))
	var u Unpacker
	allocs = testing.AllocsPerRun(5, func() {
		u.Reset(b, 1)
		for {
			if _, _, err := u.Next(); err != nil {
				break
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs to unpack %d records once the buffer has grown", allocs, len(recs))
	}
}

func BenchmarkPack(b *testing.B) {
	recs := realRecords(b)
	raw := totalLen(recs)
	var p Packer
	blk := make([]byte, 0, 1<<20)
	b.SetBytes(int64(raw))
	b.ReportAllocs()
	for b.Loop() {
		p.Reset()
		blk = blk[:0]
		for i, r := range recs {
			blk, _ = p.Append(blk, r, uint64(i+1))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

func BenchmarkUnpack(b *testing.B) {
	recs := realRecords(b)
	for _, v := range []struct {
		name string
		p    func() appender
	}{{"v1", func() appender { return new(Packer) }}, {"v2", func() appender { return &Encoder{Version: Version2} }}, {"v3", func() appender { return new(Encoder) }}} {
		b.Run(v.name, func(b *testing.B) {
			blk := appendAll(b, v.p(), recs, consecutive(1, len(recs)))
			var u Unpacker
			b.SetBytes(int64(totalLen(recs)))
			b.ReportAllocs()
			for b.Loop() {
				u.Reset(blk, 1)
				for {
					if _, _, err := u.Next(); err != nil {
						break
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
		})
	}
}

// appendNumber writes numbers as msgp does, so that references are
// exact for what the agent writes.
func TestWidthsMatchMsgp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	edges := []uint64{0, 1, 31, 32, 127, 128, 255, 256, 32767, 32768, 65535, 65536, 1<<31 - 1, 1 << 31, 1<<32 - 1, 1 << 32, 1<<63 - 1, 1 << 63}
	var vals []uint64
	for _, e := range edges {
		vals = append(vals, e, -e, e+1, -e-1, e-1)
	}
	for i := 0; i < 10000; i++ {
		vals = append(vals, rng.Uint64()>>rng.IntN(64))
	}
	var a, b [16]byte
	for _, v := range vals {
		if got, want := appendNumber(a[:0], 0xcc, kindInt, v), msgp.AppendUint64(b[:0], v); !bytes.Equal(got, want) {
			t.Fatalf("unsigned %d: %x, msgp %x", v, got, want)
		}
		if got, want := appendNumber(a[:0], 0xd0, kindInt, v), msgp.AppendInt64(b[:0], int64(v)); !bytes.Equal(got, want) {
			t.Fatalf("signed %d: %x, msgp %x", int64(v), got, want)
		}
		tm := time.Unix(0, int64(v))
		if got, want := appendNumber(a[:0], 0xd6, kindTime, v), msgp.AppendTimeExt(b[:0], tm); !bytes.Equal(got, want) {
			t.Fatalf("time %v: %x, msgp %x", tm, got, want)
		}
		if ns, ok := timeNanos(msgp.AppendTimeExt(b[:0], tm)); !ok || ns != int64(v) {
			t.Fatalf("time %v read back as %d, %v", tm, ns, ok)
		}
	}
}

func TestPredictionKeptForMissingPositions(t *testing.T) {
	// FORMAT.md 3.4: a reference entry sets the prediction of each of its
	// first four numbers; a position it lacks keeps its prediction from an
	// earlier entry. Entry 3 has two numbers, so entry 4 predicts its
	// third and fourth from entry 1 (3 and 4), not 0.
	recs := [][]byte{
		{0x94, 10, 20, 30, 40}, // [10 20 30 40], literal
		{0x94, 11, 22, 33, 44}, // entry 0 with d = 1 2 3 4
		{0x92, 5, 6},           // [5 6], literal: another shape
		{0x92, 11, 8},          // entry 2 with d = 6 2
		{0x94, 17, 24, 36, 48}, // entry 1 with d = 6 2 3 4, as predicted
	}
	block := []byte{
		0x00, 5, 0x94, 10, 20, 30, 40, // literal
		0x01, 2, 4, 6, 8, // ref 1: zigzag(d - 0) for d = 1 2 3 4
		0x00, 3, 0x92, 5, 6, // literal
		0x01, 10, 0, // ref 1: zigzag(6-1) zigzag(2-2); predictions 6 2 3 4
		0x03, 0, 0, 0, 0, // ref 3: every d as predicted
	}
	var u Unpacker
	u.Reset(block, 100)
	for i, want := range recs {
		seq, got, err := u.Next()
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if seq != 100+uint64(i) || !bytes.Equal(got, want) {
			t.Errorf("entry %d: seq %d, % x; want seq %d, % x", i, seq, got, 100+i, want)
		}
	}
	if _, _, err := u.Next(); err != io.EOF {
		t.Errorf("after the last entry: %v, want io.EOF", err)
	}
	// The packer writes that block from those records.
	if got := packAll(t, recs, consecutive(100, len(recs))); !bytes.Equal(got, block) {
		t.Errorf("packed\n% x\nwant\n% x", got, block)
	}
}

// A float32 reference whose value has bits above the 32 the float holds:
// the spec says a reader keeps the low 32 bits of old XOR v; this reader
// does, and so the two agree on crafted blocks too.
func TestFloat32HighBits(t *testing.T) {
	rec := []byte{0x81, 0xa1, 'f', 0xca, 0x3f, 0x80, 0x00, 0x00} // {"f": float32(1)}
	var p Packer
	blk, err := p.Append(nil, rec, 1)
	if err != nil {
		t.Fatal(err)
	}
	// A reference to it with one number, v = 1<<40 | 1.
	blk = append(blk, 1)
	blk = binary.AppendUvarint(blk, 1<<40|1)
	var u Unpacker
	u.Reset(blk, 1)
	if _, _, err := u.Next(); err != nil {
		t.Fatal(err)
	}
	_, got, err := u.Next()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x81, 0xa1, 'f', 0xca, 0x3f, 0x80, 0x00, 0x01}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
}
