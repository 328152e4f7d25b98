package ringlog

import (
	"encoding/binary"
	"math"
	"math/bits"
	"testing"
)

// This file is docs/FORMAT.md sections 3.5 and 3.6 transcribed, as a
// team reading only the text would write a reader of version 2 and 3
// blocks: specUnpack23. The tests that hold it to package pack are in
// format3_test.go.

// specProb is a probability of section 3.6: p out of 4,096 that the next
// bit is 0, and n, the bits it has coded (up to 15).
type specProb struct{ p, n uint32 }

func newProbs(k int) []*specProb {
	ps := make([]*specProb, k)
	for i := range ps {
		ps[i] = &specProb{p: 2048}
	}
	return ps
}

// specClass is the probabilities of one class's adaptive code (3.6).
type specClass struct {
	pre []*specProb   // 9
	low [][]*specProb // 3 x 8
	top [][]*specProb // 33 x 32
}

func newClass() *specClass {
	c := &specClass{pre: newProbs(9)}
	for range 3 {
		c.low = append(c.low, newProbs(8))
	}
	for range 33 {
		c.top = append(c.top, newProbs(32))
	}
	return c
}

// specSeries is a series of 3.5, with 3.6's average width and
// probabilities.
type specSeries struct {
	v, d     uint64
	score    int16
	w        int // 3.5's expected width
	avg      int // 3.6's average width, in sixteenths
	sign     int // 0 unknown, 1 signed, 2 unsigned
	dec      bool
	m        int64
	e        int
	typ      byte // the template's type byte
	isTime   bool
	isFloat  bool
	isNumber bool
	p        []*specProb // 3.6: P_zero, P_exp, P_width
}

// clone copies a series with probabilities of its own.
func (s specSeries) clone() specSeries {
	c := s
	c.p = nil
	for _, p := range s.p {
		q := *p
		c.p = append(c.p, &q)
	}
	return c
}

type specShape struct {
	tmpl   []byte
	series []specSeries // one per item, numbers or not, in order
	next   int
}

// specBits reads a block's bits: as they are (version 2) or through the
// range decoder (version 3), where prob names each bit's probability
// and nil a direct bit.
type specBits struct {
	v3    bool
	blk   []byte
	pos   int // v2: in bits; v3: coded bytes read
	past  int // v3: bytes needed past the end
	rng   uint32
	code  uint32
	coded []byte
}

func (b *specBits) next() uint32 {
	if b.pos >= len(b.coded) {
		b.past++
		return 0
	}
	b.pos++
	return uint32(b.coded[b.pos-1])
}

func (b *specBits) normalize() {
	for b.rng < 1<<24 {
		b.rng <<= 8
		b.code = b.code<<8 | b.next()
	}
}

// bit reads one bit, with probability p in version 3.
func (b *specBits) bit(p *specProb) uint64 {
	if !b.v3 {
		v := uint64(b.blk[b.pos/8]>>(7-b.pos%8)) & 1
		b.pos++
		return v
	}
	if p == nil {
		return b.field(1)
	}
	bound := (b.rng >> 12) * p.p
	var bit uint64
	if b.code < bound {
		b.rng = bound
	} else {
		b.code -= bound
		b.rng -= bound
		bit = 1
	}
	s := min(p.n+1, 4)
	if bit == 0 {
		p.p += (4096 - p.p) >> s
	} else {
		p.p -= p.p >> s
	}
	p.n = min(p.n+1, 15)
	b.normalize()
	return bit
}

// field reads k bits, direct ones in version 3, first bit most
// significant.
func (b *specBits) field(k int) uint64 {
	var v uint64
	for range k {
		var bit uint64
		if !b.v3 {
			bit = b.bit(nil)
		} else {
			b.rng >>= 1
			if b.code >= b.rng {
				bit = 1
				b.code -= b.rng
			}
			b.normalize()
		}
		v = v<<1 | bit
	}
	return v
}

// tree reads k bits as a tree of ps (3.6); in version 2, k bits.
func (b *specBits) tree(ps []*specProb, k int) uint64 {
	if !b.v3 {
		return b.field(k)
	}
	node := uint64(1)
	for range k {
		node = 2*node + b.bit(ps[node])
	}
	return node - 1<<k
}

// specUnpack23 is FORMAT.md 3.5 and 3.6 transcribed: it returns the
// block's records by sequence number. It fails t on a block that does
// not end as they say.
func specUnpack23(t *testing.T, blk []byte, first uint64) map[uint64][]byte {
	r := &specBits{blk: blk, pos: 8}
	switch blk[0] {
	case 0x82:
	case 0x83:
		r.v3, r.pos, r.rng, r.coded = true, 0, 0xFFFFFFFF, blk[1:]
		for range 4 {
			r.code = r.code<<8 | r.next()
		}
	default:
		t.Fatalf("first byte %#x", blk[0])
	}
	v3 := r.v3

	// 3.6's probabilities of the block.
	ps := newProbs(14)
	entry, predicted, edit, sign, xor, uz, sz := ps[0], ps[1], ps[2], ps[3], ps[4], ps[5], ps[6]
	kind, last := ps[7:10], ps[10:14]
	classInt, classMant, classU, classShared := newClass(), newClass(), newClass(), newClass()
	var lit [11][]*specProb
	for i := range lit {
		lit[i] = newProbs(256)
	}
	const text, other, intBody, float0 = 0, 1, 2, 3

	// adaptive is 3.5's a (zero false) or az (zero true) of class k, in
	// series s (nil for u and str prefixes, whose width is their own).
	adaptive := func(k *specClass, s *specSeries, zero bool, w *int) uint64 {
		if zero {
			pz := uz
			if k == classShared {
				pz = sz
			}
			if s != nil {
				pz = s.p[0]
			}
			if r.bit(pz) == 0 {
				return 0
			}
		}
		width := *w
		if v3 {
			width = 0
			if s != nil {
				width = (s.avg + 8) >> 4
			}
		}
		n := 0
		for {
			var p *specProb
			if v3 {
				p = k.pre[n]
				if n == 0 && s != nil {
					p = s.p[2]
				}
			}
			if r.bit(p) == 1 {
				break
			}
			if n++; n > 8 {
				t.Fatal("more than 8 leading zeros")
			}
		}
		var g uint64
		if v3 && n >= 1 && n <= 3 {
			g = 1<<n | r.tree(k.low[n-1], n)
		} else {
			g = 1<<n | r.field(n)
		}
		l := width + int(int64(unzz(g-1)))
		if l < 0 || l > 64 {
			t.Fatalf("a length of %d", l)
		}
		*w = l
		if v3 && s != nil {
			s.avg += (16*l - s.avg) >> 3
		}
		if l == 0 {
			return 0
		}
		if !v3 {
			return 1<<(l-1) | r.field(l-1)
		}
		kk := min(l-1, 5)
		return 1<<(l-1) | r.tree(k.top[min(l, 32)], kk)<<(l-1-kk) | r.field(l-1-kk)
	}
	u := func() uint64 { w := 0; return adaptive(classU, nil, true, &w) }
	byteString := func(n uint64) []byte {
		var p, prev []byte
		c, rest := text, 0
		// step moves the context past byte b (3.6).
		step := func(b byte) {
			if rest > 0 {
				if rest--; rest == 0 {
					c = other
				} else if c >= float0 {
					c++
				}
				return
			}
			switch {
			case b == 0xcb:
				rest, c = 8, float0
			case b >= 0xcc && b <= 0xcf:
				rest, c = 1<<(b-0xcc), intBody
			case b >= 0xd0 && b <= 0xd3:
				rest, c = 1<<(b-0xd0), intBody
			case b >= 0x20 && b <= 0x7f:
				c = text
			default:
				c = other
			}
		}
		for uint64(len(p)) < n {
			b := byte(r.tree(lit[c], 8))
			p = append(p, b)
			header := v3 && rest == 0 && b >= 0xa1 && b <= 0xbf
			step(b)
			if !header {
				continue
			}
			k := min(int(b&0x1f), int(n)-len(p))
			if k == 0 {
				continue // no body: nothing follows
			}
			w := 0
			s := int(adaptive(classShared, nil, true, &w))
			if s > min(k, len(prev)) {
				t.Fatalf("a shared prefix of %d", s)
			}
			start := len(p)
			for j := range k {
				if j < s {
					b = prev[j]
				} else {
					b = byte(r.tree(lit[c], 8))
				}
				p = append(p, b)
				step(b)
			}
			prev = p[start:]
		}
		return p
	}
	walk := func(p []byte, each func(item []byte)) {
		for off, left := 0, 1; left > 0; left-- {
			size, kids := specItem(p[off:])
			each(p[off : off+size])
			off += size
			left += kids
		}
	}
	newSeries := func(item []byte) specSeries {
		s := specSeries{p: newProbs(3)}
		v, width, isTime, ok := specNumber(item)
		if !ok || width == 32 {
			return s
		}
		s.v, s.typ, s.isTime, s.isFloat, s.isNumber = v, item[0], isTime, width == 64, true
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
	var shapes []*specShape
	prev := -1
	var lastNums []uint64
	learn := func(s *specSeries, d, dd uint64) {
		s.score = s.score - s.score>>3 + int16(bits.Len64(zz(dd))-bits.Len64(zz(d)))
		s.d = d
	}
	intCode := func(s *specSeries, o uint64, zero bool, k *specClass) uint64 {
		z := adaptive(k, s, zero, &s.w)
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
	// pick is the probability of a bit in version 3, none in version 2.
	pick := func(p *specProb) *specProb {
		if v3 {
			return p
		}
		return nil
	}
	numbers := func(sh *specShape) []byte {
		var rec []byte
		k, i := 0, 0
		var firstNums []uint64
		walk(sh.tmpl, func(item []byte) {
			s := &sh.series[k]
			k++
			if !s.isNumber {
				rec = append(rec, item...)
				return
			}
			var v uint64
			switch {
			case i < 4 && !s.isFloat && r.bit(pick(last[i])) == 0:
				v = lastNums[i]
				d := v - s.v
				learn(s, d, d-s.d)
			case !s.isFloat:
				v = intCode(s, s.v, true, classInt)
			case r.bit(pick(s.p[0])) == 0:
				v = s.v
			case r.bit(pick(s.p[1])) == 0:
				s.m = int64(intCode(s, uint64(s.m), false, classMant))
				v = math.Float64bits(specJoin(s.m, s.e))
			case r.bit(pick(xor)) == 0:
				e := int(r.field(6)) - 22
				m := int64(unzz(u()))
				s.m, s.e, s.dec, s.d = m, e, true, 0
				v = math.Float64bits(specJoin(m, e))
			default:
				lz, k := int(r.field(6)), int(r.field(6))+1
				v = s.v ^ r.field(k)<<(64-lz-k)
				s.dec = false
			}
			s.v = v
			if !s.isFloat && !s.isTime && s.sign == 0 && v > 127 {
				s.sign = 1 + int(r.bit(pick(sign)))
			}
			typ := s.typ
			if !s.isFloat && !s.isTime {
				typ = []byte{0xd0, 0xd0, 0xcc}[s.sign]
			}
			rec = specAppend(rec, typ, map[bool]int{true: 64}[s.isFloat], s.isTime, v)
			if i < 4 {
				firstNums = append(firstNums, v)
			}
			i++
		})
		lastNums = firstNums
		return rec
	}
	addShape := func(tmpl []byte) *specShape {
		sh := &specShape{tmpl: tmpl}
		walk(tmpl, func(item []byte) { sh.series = append(sh.series, newSeries(item)) })
		shapes = append(shapes, sh)
		return sh
	}
	ix := func(n int) int { return int(r.field(bits.Len(uint(max(n-1, 0))))) }
	out := map[uint64][]byte{}
	seq := first
	for n := 0; ; n++ {
		if v3 {
			if r.bit(entry) == 0 {
				if r.past > 0 || r.pos != len(r.coded) {
					t.Fatalf("the block ends with %d bytes needed past it and %d left", r.past, len(r.coded)-r.pos)
				}
				return out
			}
		} else {
			left := len(blk)*8 - r.pos
			if left < 8 && r.field(left) == 0 {
				return out
			}
			r.pos = len(blk)*8 - left
			if r.bit(nil) != 1 {
				t.Fatalf("entry %d does not start with 1", n)
			}
		}
		if n > 0 {
			seq++
		}
		s := -1
		var rec []byte
		if r.bit(pick(predicted)) == 1 {
			s = shapes[prev].next
			rec = numbers(shapes[s])
		} else {
			seq += u()
			k := 0
			for k < 3 && r.bit(pick(kind[k])) == 1 {
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
				lastNums = nil
				for i := 0; i < len(shapes[s].series) && len(lastNums) < 4; i++ {
					if shapes[s].series[i].isNumber {
						lastNums = append(lastNums, shapes[s].series[i].v)
					}
				}
			case 2:
				base := shapes[ix(len(shapes))]
				var tmpl []byte
				walk(base.tmpl, func(item []byte) {
					if c := item[0]; (c&0xe0 == 0xa0 || c >= 0xd9 && c <= 0xdb) && r.bit(pick(edit)) == 1 {
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
						sh.series[i] = base.series[k].clone()
						k++
					}
				}
				s = len(shapes) - 1
				rec = numbers(sh)
			case 3:
				rec = byteString(u())
				lastNums = nil
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
