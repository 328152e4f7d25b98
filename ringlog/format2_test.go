package ringlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"testing"

	"github.com/itiny/itiny/pack"
)

// TestFormatSpecPacked2 unpacks version 2 blocks with an unpacker written
// from docs/FORMAT.md section 3.5 alone: the packed golden rings of
// version 2, and a block of the agent's real samples (derived templates,
// signs learnt, repeated header numbers, decimal floats). Every record
// comes out byte for byte as package pack unpacks it, and the golden
// ring's as the unpacked golden ring holds it.
func TestFormatSpecPacked2(t *testing.T) {
	want := map[uint64][]byte{}
	for _, p := range segmentPaths(t, filepath.Join(goldenDir, "v1-msgpack")) {
		_, data, frames := segFrames(t, p)
		for _, f := range frames {
			want[f.seq] = data[f.off+binFrameHeader : f.end]
		}
	}
	check := func(name string, blk []byte, first uint64, golden bool) int {
		var u pack.Unpacker
		u.Reset(blk, first)
		got := specUnpack2(t, blk, first)
		n := 0
		for {
			seq, rec, err := u.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.Equal(got[seq], rec) || golden && !bytes.Equal(rec, want[seq]) {
				t.Fatalf("%s: seq %d:\nspec %x\npack %x", name, seq, got[seq], rec)
			}
			n++
		}
		if n != len(got) {
			t.Fatalf("%s: %d records by the spec, %d by pack", name, len(got), n)
		}
		return n
	}
	for _, ring := range []string{"pack2-msgpack", "pack2-msgpack-refs"} {
		n := 0
		for _, p := range segmentPaths(t, filepath.Join(goldenDir, ring)) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			h, err := parseHeader(data)
			if err != nil {
				t.Fatal(err)
			}
			sc := newScanner(p, data, h)
			for {
				f, err := sc.next()
				var d *Damage
				if errors.As(err, &d) {
					continue // the damaged block
				}
				if err != nil {
					break
				}
				n += check(ring, f.Payload, f.Seq, ring == "pack2-msgpack")
			}
		}
		if wantN := map[string]int{"pack2-msgpack": 36, "pack2-msgpack-refs": 60}[ring]; n != wantN {
			t.Fatalf("%s: %d records, want %d", ring, n, wantN)
		}
	}
	b, err := os.ReadFile("../pack/testdata/metrics.records")
	if err != nil {
		t.Fatal(err)
	}
	var e pack.Encoder
	var blk []byte
	for seq := uint64(1); len(b) > 0; seq++ {
		n, k := binary.Uvarint(b)
		if blk, err = e.Append(blk, b[k:k+int(n)], seq); err != nil {
			t.Fatal(err)
		}
		b = b[k+int(n):]
	}
	if n := check("metrics.records", blk, 1, false); n != 744 {
		t.Fatalf("%d records", n)
	}
}

// spec2Series is a series of FORMAT.md 3.5.
type spec2Series struct {
	v, d     uint64
	score    int16
	w        int
	sign     int // 0 unknown, 1 signed, 2 unsigned
	dec      bool
	m        int64
	e        int
	typ      byte // the template's type byte
	isTime   bool
	isFloat  bool
	isNumber bool
}

type spec2Shape struct {
	tmpl   []byte
	series []spec2Series // one per number item, in order
	next   int
}

// specUnpack2 is FORMAT.md 3.5 transcribed: it returns the block's
// records by sequence number.
func specUnpack2(t *testing.T, blk []byte, first uint64) map[uint64][]byte {
	if blk[0] != 0x82 {
		t.Fatalf("first byte %#x", blk[0])
	}
	pos := 8
	bit := func() uint64 {
		v := uint64(blk[pos/8]>>(7-pos%8)) & 1
		pos++
		return v
	}
	field := func(k int) uint64 {
		var v uint64
		for range k {
			v = v<<1 | bit()
		}
		return v
	}
	a := func(w *int) uint64 {
		n := 0
		for bit() == 0 {
			n++
		}
		x := 1<<n | field(n)
		l := *w + int(int64((x-1)>>1^-((x-1)&1)))
		*w = l
		if l == 0 {
			return 0
		}
		return 1<<(l-1) | field(l-1)
	}
	az := func(w *int) uint64 {
		if bit() == 0 {
			return 0
		}
		return a(w)
	}
	u := func() uint64 { w := 0; return az(&w) }
	byteString := func(n uint64) []byte {
		var p []byte
		for range n {
			p = append(p, byte(field(8)))
		}
		return p
	}
	// walk calls each for every item of one MessagePack item p.
	walk := func(p []byte, each func(item []byte)) {
		for off, left := 0, 1; left > 0; left-- {
			size, kids := specItem(p[off:])
			each(p[off : off+size])
			off += size
			left += kids
		}
	}
	newSeries := func(item []byte) spec2Series {
		v, width, isTime, ok := specNumber(item)
		if !ok || width == 32 {
			return spec2Series{}
		}
		s := spec2Series{v: v, typ: item[0], isTime: isTime, isFloat: width == 64, isNumber: true}
		switch c := item[0]; {
		case s.isFloat:
			s.m, s.e, s.dec = specSplit(math.Float64frombits(v))
		case c >= 0xcc && c <= 0xcf:
			s.sign = 2
		case c >= 0xd0 && c <= 0xd3, c >= 0xe0:
			s.sign = 1
		}
		return s
	}
	var shapes []*spec2Shape
	prev := -1
	var last []uint64
	learn := func(s *spec2Series, d, dd uint64) {
		s.score = s.score - s.score>>3 + int16(bits.Len64(zz(dd))-bits.Len64(zz(d)))
		s.d = d
	}
	intCode := func(s *spec2Series, o uint64, zero bool) uint64 {
		var z uint64
		if zero {
			z = az(&s.w)
		} else {
			z = a(&s.w)
		}
		var d, dd uint64
		if s.score < 0 {
			dd = unzz(z)
			d = s.d + dd
		} else {
			d = unzz(z)
			dd = d - s.d
		}
		learn(s, d, dd)
		return o + d
	}
	numbers := func(sh *spec2Shape) []byte {
		var rec []byte
		k, i := 0, 0
		var first []uint64
		walk(sh.tmpl, func(item []byte) {
			s := &sh.series[k]
			k++
			if !s.isNumber {
				rec = append(rec, item...)
				return
			}
			var v uint64
			switch {
			case i < 4 && !s.isFloat && bit() == 0:
				v = last[i]
				d := v - s.v
				learn(s, d, d-s.d)
			case !s.isFloat:
				v = intCode(s, s.v, true)
			default:
				n := 0
				for n < 3 && bit() == 1 {
					n++
				}
				switch n {
				case 0:
					v = s.v
				case 1:
					s.m = int64(intCode(s, uint64(s.m), false))
					v = math.Float64bits(specJoin(s.m, s.e))
				case 2:
					e := int(field(6)) - 22
					m := int64(unzz(u()))
					s.m, s.e, s.dec, s.d = m, e, true, 0
					v = math.Float64bits(specJoin(m, e))
				case 3:
					lz, k := int(field(6)), int(field(6))+1
					v = s.v ^ field(k)<<(64-lz-k)
					s.dec = false
				}
			}
			s.v = v
			if !s.isFloat && !s.isTime && s.sign == 0 && v > 127 {
				s.sign = 1 + int(bit())
			}
			typ := s.typ
			if !s.isFloat && !s.isTime {
				typ = []byte{0xd0, 0xd0, 0xcc}[s.sign]
			}
			rec = specAppend(rec, typ, map[bool]int{true: 64}[s.isFloat], s.isTime, v)
			if i < 4 {
				first = append(first, v)
			}
			i++
		})
		last = first
		return rec
	}
	addShape := func(tmpl []byte) *spec2Shape {
		sh := &spec2Shape{tmpl: tmpl}
		walk(tmpl, func(item []byte) { sh.series = append(sh.series, newSeries(item)) })
		shapes = append(shapes, sh)
		return sh
	}
	ix := func(n int) int { return int(field(bits.Len(uint(max(n-1, 0))))) }
	out := map[uint64][]byte{}
	seq := first
	for n := 0; ; n++ {
		left := len(blk)*8 - pos
		if left < 8 && field(left) == 0 {
			return out
		}
		pos = len(blk)*8 - left
		if n > 0 {
			seq++
		}
		if bit() != 1 {
			t.Fatalf("entry %d does not start with 1", n)
		}
		s := -1
		var rec []byte
		if bit() == 1 {
			s = shapes[prev].next
			rec = numbers(shapes[s])
		} else {
			seq += u()
			k := 0
			for k < 3 && bit() == 1 {
				k++
			}
			switch k {
			case 0:
				s = ix(len(shapes))
				rec = numbers(shapes[s])
			case 1:
				rec = byteString(u())
				addShape(rec)
				s = len(shapes) - 1
				last = nil
				for i := 0; i < len(shapes[s].series) && len(last) < 4; i++ {
					if shapes[s].series[i].isNumber {
						last = append(last, shapes[s].series[i].v)
					}
				}
			case 2:
				base := shapes[ix(len(shapes))]
				var tmpl []byte
				walk(base.tmpl, func(item []byte) {
					if c := item[0]; (c&0xe0 == 0xa0 || c >= 0xd9 && c <= 0xdb) && bit() == 1 {
						str := byteString(u())
						switch n := len(str); {
						case n < 32:
							tmpl = append(tmpl, 0xa0|byte(n))
						case n < 256:
							tmpl = append(tmpl, 0xd9, byte(n))
						case n < 65536:
							tmpl = append(tmpl, 0xda, byte(n>>8), byte(n))
						default:
							tmpl = binary.BigEndian.AppendUint32(append(tmpl, 0xdb), uint32(n))
						}
						tmpl = append(tmpl, str...)
						return
					}
					tmpl = append(tmpl, item...)
				})
				sh := addShape(tmpl)
				k := 0
				for i := range sh.series { // the base's series as they are now
					if sh.series[i].isNumber {
						for !base.series[k].isNumber {
							k++
						}
						sh.series[i] = base.series[k]
						k++
					}
				}
				s = len(shapes) - 1
				rec = numbers(sh)
			case 3:
				rec = byteString(u())
				last = nil
			}
		}
		if s >= 0 && prev >= 0 {
			shapes[prev].next = s
		}
		prev = s
		out[seq] = rec
	}
}

func zz(d uint64) uint64   { return d<<1 ^ uint64(int64(d)>>63) }
func unzz(z uint64) uint64 { return z>>1 ^ -(z & 1) }

// specJoin and specSplit are FORMAT.md 3.5's join and split.
func specJoin(m int64, e int) float64 {
	if e < 0 {
		return float64(m) / math.Pow10(-e)
	}
	return float64(m) * math.Pow10(e)
}

func specSplit(f float64) (int64, int, bool) {
	if f == 0 && !math.Signbit(f) {
		return 0, 0, true
	}
	for e := 22; e >= -22; e-- {
		m := math.Round(f / math.Pow10(e))
		if e < 0 {
			m = math.Round(f * math.Pow10(-e))
		}
		if math.Abs(m) < 1<<53 && m != 0 && specJoin(int64(m), e) == f {
			return int64(m), e, true
		}
	}
	return 0, 0, false
}
