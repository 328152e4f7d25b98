package pack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
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
	f.Add(encodeAll(f, recs[:40], consecutive(1, 40)))
	f.Add(encodeAll(f, recs[100:130], consecutive(7, 30)))
	f.Add(encodeAll(f, randomRecords(rand.New(rand.NewPCG(1, 2)), 40), consecutive(1, 40)))
	f.Fuzz(func(t *testing.T, b []byte) {
		var u Unpacker
		u.Reset(b, 1)
		var last uint64
		// An entry takes at least a byte in version 1 and two bits in
		// version 2; version 3 has a bound of its own.
		most := len(b)
		if len(b) > 0 && b[0] == Version2 {
			most = 4 * len(b)
		} else if len(b) > 0 && b[0] == Version3 {
			most = MaxEntries
		}
		for n := 0; ; n++ {
			if n > most {
				t.Fatalf("%d records from %d bytes", n, len(b))
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
			if d := &u.d2; cap(d.t.tmpl) > 4*MaxTemplate || len(d.t.shapes) > MaxShapes ||
				len(d.t.series) > MaxSeries || cap(d.out) > 2*MaxRecord {
				t.Fatalf("table of %d template bytes, %d shapes, %d series; record buffer %d",
					cap(d.t.tmpl), len(d.t.shapes), len(d.t.series), cap(d.out))
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

// FuzzRoundTrip2 encodes a version 2 block of random records, numbers of
// every class and width, strings that vary, and pieces of the input as
// records, with random gaps, and unpacks them byte for byte.
func FuzzRoundTrip2(f *testing.F) {
	f.Add(uint64(1), uint8(40), []byte{0x81, 0xa1, 0x61, 0x05})
	f.Add(uint64(2), uint8(200), []byte{0xc1})
	f.Add(uint64(3), uint8(7), []byte{0x91, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, raw []byte) {
		rng := rand.New(rand.NewPCG(seed, 0))
		recs := randomRecords(rng, int(n)+1)
		for len(raw) > 0 && len(recs) < 2*int(n)+2 { // the input, cut into records
			k := 1 + int(raw[0])%len(raw)
			at := rng.IntN(len(recs) + 1)
			recs = append(recs[:at], append([][]byte{raw[:k]}, recs[at:]...)...)
			raw = raw[k:]
		}
		seqs := make([]uint64, len(recs))
		seqs[0] = rng.Uint64N(1 << 40)
		for i := 1; i < len(seqs); i++ {
			seqs[i] = seqs[i-1] + 1
			if rng.IntN(8) == 0 {
				seqs[i] += rng.Uint64N(1 << uint(rng.IntN(40)))
			}
		}
		roundTrip2(t, recs, seqs)
	})
}

// randomRecords returns n records of a few names, fields and kinds, whose
// values change from one to the next in all the ways a block may meet.
func randomRecords(rng *rand.Rand, n int) [][]byte {
	t0 := time.Unix(1764000000, 0)
	names := []string{"cpu", "net", "disk"}
	strs := []string{"eth0", "eth1", "a-much-longer-interface-name-of-more-than-31-bytes", ""}
	var recs [][]byte
	for i := range n {
		var fields []any
		nf := 1 + rng.IntN(4)
		for k := range nf {
			fields = append(fields, "f"+string(rune('a'+k)), randomValue(rng, strs))
		}
		wall := t0.Add(time.Duration(i)*time.Second + time.Duration(rng.IntN(3))*time.Millisecond)
		recs = append(recs, rec(uint64(i+1), wall, int64(i)*1e9, names[rng.IntN(len(names))], fields...))
	}
	return recs
}

func randomValue(rng *rand.Rand, strs []string) any {
	mag := func() uint64 { return rng.Uint64() >> uint(rng.IntN(64)) }
	switch rng.IntN(9) {
	case 0:
		return int64(mag())
	case 1:
		return -int64(mag())
	case 2:
		return mag()
	case 3: // a decimal of few digits
		return float64(int64(rng.IntN(20000))-10000) / math.Pow10(rng.IntN(6))
	case 4:
		return math.Float64frombits(rng.Uint64())
	case 5:
		return []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), 1e300, 5e-324}[rng.IntN(6)]
	case 6:
		return math.Float32frombits(rng.Uint32())
	case 7:
		return strs[rng.IntN(len(strs))]
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], rng.Uint64())
	return time.Unix(int64(binary.LittleEndian.Uint32(b[:]))-1<<31, int64(b[5])*1e7)
}
