package pack

import "math/bits"

// The codes of version 2 and 3 blocks over one syntax: a coder writes
// and a source reads each bit either as is (version 2) or through the
// range coder with the probability the syntax names (version 3; a nil
// probability is a direct bit).

// A model is the probabilities of a version 3 block that are not a
// series' own, all 1/2 at the block's start.
type model struct {
	entry, predicted prob    // an entry's first two bits
	kind             [3]prob // the bits of kind
	edit, sign, xor  prob    // a derived template's edit, an integer's signedness, "110" or "111" of a float
	last             [Predicted]prob
	uz               prob
	gam              [4]gammaModel          // integers and timestamps, float mantissas, u codes, str prefixes
	sz               prob                   // a str prefix of 0
	lit              [litContexts][256]prob // the bits of template and literal bytes, as a tree, by context
}

// The classes of numbers, each with the probabilities of its codes.
const (
	clsInt = iota
	clsMant
	clsU
	clsShared
)

// A gammaModel is the probabilities of the adaptive code of one class.
type gammaModel struct {
	pre [9]prob                           // the prefix's bits, by position
	low [3][8]prob                        // g's bits below its top, as a tree (from 1), for N = 2, 3, 4
	top [topWidths + 1][1 << topBits]prob // z's bits below its top bit, as a tree (from 1), by L
}

// resetModel returns *m reset, made first if it is nil or noModel.
func resetModel(m **model) *model {
	if *m == nil || *m == &noModel {
		*m = new(model)
	}
	(*m).reset()
	return *m
}

// noModel stands for the model of a version 2 block, whose bits have no
// probabilities: it is read (its fields' addresses taken), never written.
var noModel model

func (m *model) reset() {
	fill := func(p []prob) {
		for i := range p {
			p[i] = probInit
		}
	}
	m.entry, m.predicted, m.edit, m.sign, m.xor, m.uz, m.sz = probInit, probInit, probInit, probInit, probInit, probInit, probInit
	fill(m.kind[:])
	fill(m.last[:])
	for i := range m.lit {
		fill(m.lit[i][:])
	}
	for i := range m.gam {
		g := &m.gam[i]
		fill(g.pre[:])
		for j := range g.low {
			fill(g.low[j][:])
		}
		for j := range g.top {
			fill(g.top[j][:])
		}
	}
}

// A litContext chooses the probabilities of a template's next byte from
// the bytes before it: the 8 bytes after a float64's type byte 0xcb each
// by their place, the bytes of a wider integer (0xcc-0xcf, 0xd0-0xd3),
// and others by whether the byte before is text (0x20-0x7f).
type litContext struct {
	body, place uint8 // bytes of a number's body left, and what it is
}

const (
	litText     = 0
	litOther    = 1
	litInt      = 2
	litFloat    = 3 // to litFloat+7
	litContexts = litFloat + 8
)

// strBody returns the length of the str body that byte b, if a fixstr
// header outside a number's body, starts, at most left; else 0.
func (l *litContext) strBody(b byte, left int) int {
	if l.body > 0 || b < 0xa1 || b > 0xbf {
		return 0
	}
	return min(int(b&0x1f), left)
}

func (l *litContext) next(b byte) {
	if l.body > 0 {
		l.body--
		if l.body == 0 {
			l.place = litOther
		} else if l.place >= litFloat {
			l.place++
		}
		return
	}
	switch {
	case b == 0xcb:
		l.body, l.place = 8, litFloat
	case b >= 0xcc && b <= 0xcf:
		l.body, l.place = 1<<(b-0xcc), litInt
	case b >= 0xd0 && b <= 0xd3:
		l.body, l.place = 1<<(b-0xd0), litInt
	case b >= 0x20 && b < 0x80:
		l.place = litText
	default:
		l.place = litOther
	}
}

// A coder writes a block's bits.
type coder struct {
	v3 bool
	w  bitWriter
	rc rangeEncoder
	m  *model // made at the first version 3 block: 14 KB
}

// bit writes the low bit of b with probability p.
func (c *coder) bit(p *prob, b uint64) {
	if !c.v3 {
		c.w.write(b, 1)
	} else if p == nil {
		c.rc.direct(b, 1)
	} else {
		c.rc.bit(p, b)
	}
}

// raw writes the k low bits of v as direct bits.
func (c *coder) raw(v uint64, k uint) {
	if c.v3 {
		c.rc.direct(v, k)
	} else {
		c.w.write(v, k)
	}
}

// tree writes the k low bits of v, most significant first, each with the
// probability of the bits above it: p[1] for the first, p[2] or p[3]
// for the second, and so on.
func (c *coder) tree(p []prob, v uint64, k uint) {
	node := uint64(1)
	for k > 0 {
		k--
		b := v >> k & 1
		c.bit(&p[node], b)
		node = node<<1 | b
	}
}

// uint writes z in the code of lengths and gaps.
func (c *coder) uint(z uint64) {
	var exp uint8
	c.adaptive(z, &exp, nil, &c.m.uz, nil, clsU)
}

// bytes writes the length of p and its bytes.
//
// In version 3 each byte is a tree with the probabilities of its context
// (litContext), and the body of a fixstr (a header 0xa1-0xbf outside a
// number's body) starts with the count of its first bytes that are the
// previous body's, which are not coded again: a summary's keys F, F_min,
// F_max and F_last share theirs.
func (c *coder) bytes(p []byte) {
	c.uint(uint64(len(p)))
	if !c.v3 {
		for _, b := range p {
			c.w.write(uint64(b), 8)
		}
		return
	}
	var ctx litContext
	var prev []byte
	for i := 0; i < len(p); {
		b := p[i]
		c.tree(c.m.lit[ctx.place][:], uint64(b), 8)
		i++
		k := ctx.strBody(b, len(p)-i)
		ctx.next(b)
		if k == 0 {
			continue
		}
		body := p[i : i+k]
		n := 0
		for n < min(k, len(prev)) && body[n] == prev[n] {
			n++
		}
		var exp uint8
		c.adaptive(uint64(n), &exp, nil, &c.m.sz, nil, clsShared)
		for j, b := range body {
			if j >= n {
				c.tree(c.m.lit[ctx.place][:], uint64(b), 8)
			}
			ctx.next(b)
		}
		prev = body
		i += k
	}
}

// xor writes x, a nonzero XOR of two values of width bits, as the count
// of its leading zero bits and of its bits from the first one to the
// last, in lw bits each (the second less 1), and those bits.
func (c *coder) xor(x uint64, lw, width uint) {
	lz := uint(bits.LeadingZeros64(x)) - (64 - width)
	tz := uint(bits.TrailingZeros64(x))
	k := width - lz - tz
	c.raw(uint64(lz), lw)
	c.raw(uint64(k-1), lw)
	c.raw(x>>tz, k)
}

// adaptive writes z in the adaptive code of class cls: the bit 0 for
// z = 0, when pz is set (with probability pz); else the bit 1, the bit
// length L of z as the Elias gamma code of zigzag(L − W) + 1, then the
// L − 1 bits of z below its top bit. In version 2, W is *exp, which
// becomes L. In version 3, W is *avg rounded (see series.avg), when avg
// is set (else 0), the gamma code's first bit has probability pg, and
// the first topBits bits below z's top bit are coded as a tree by L.
func (c *coder) adaptive(z uint64, exp *uint8, avg *uint16, pz, pg *prob, cls int) {
	if pz != nil {
		if z == 0 {
			c.bit(pz, 0)
			return
		}
		c.bit(pz, 1)
	}
	l := bits.Len64(z)
	w := int(*exp)
	if c.v3 {
		w = expected(avg)
	}
	g := zigzag(uint64(l-w)) + 1
	n := uint(bits.Len64(g))
	*exp = uint8(l)
	if !c.v3 {
		c.w.write(0, n-1)
		c.w.write(g, n)
		if l > 1 {
			c.w.write(z, uint(l-1))
		}
		return
	}
	learnWidth(avg, l)
	gm := &c.m.gam[cls]
	for j := range n {
		p := &gm.pre[j]
		if j == 0 && pg != nil {
			p = pg
		}
		c.rc.bit(p, b2u(j == n-1))
	}
	if n <= 4 {
		c.tree(gm.low[max(n, 2)-2][:], g, n-1)
	} else {
		c.rc.direct(g, n-1)
	}
	if l > 1 {
		k := uint(min(l-1, topBits))
		c.tree(gm.top[min(l, topWidths)][:], z>>(uint(l-1)-k), k)
		c.rc.direct(z, uint(l-1)-k)
	}
}

// topBits is how many bits below a version 3 code's top bit have
// probabilities of their own: the low bits of a change are not a coin's
// (a mantissa kept at a finer exponent than its value needs moves in
// tens), and five learn what there is to learn (docs/DESIGN.md 34).
const (
	topBits   = 5
	topWidths = 32 // lengths from 32 up share their probabilities
)

// expected returns the width a version 3 code expects: the series'
// average width rounded, or 0.
func expected(avg *uint16) int {
	if avg == nil {
		return 0
	}
	return int(*avg+8) >> 4
}

// learnWidth moves an average width, in sixteenths, an eighth of the way
// to l.
func learnWidth(avg *uint16, l int) {
	if avg != nil {
		a := int(*avg)
		*avg = uint16(a + (l<<4-a)>>3)
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// A source reads a block's bits as a coder wrote them. A version 2
// source reports a read past the block's end at once (ok false); a
// version 3 one only counts it (rd.over), for the entry to check.
type source struct {
	v3 bool
	r  bitReader
	rd rangeDecoder
	m  *model // made at the first version 3 block: readers of many rings of other versions pay nothing
}

func (s *source) bit(p *prob) (uint64, bool) {
	switch {
	case !s.v3:
		return s.r.read(1)
	case p == nil:
		return s.rd.direct(1), true
	}
	return s.rd.bit(p), true
}

func (s *source) raw(k uint) (uint64, bool) {
	if s.v3 {
		return s.rd.direct(k), true
	}
	return s.r.read(k)
}

func (s *source) tree(p []prob, k uint) uint64 {
	node := uint64(1)
	for ; k > 0; k-- {
		b, _ := s.bit(&p[node])
		node = node<<1 | b
	}
	return node
}

// left is a bound on the bytes a length may still claim: a version 3
// byte may take less than 8 bits, so it bounds nothing.
func (s *source) left() int {
	if s.v3 {
		return MaxRecord
	}
	return s.r.left() / 8
}

func (s *source) uint() (uint64, bool) {
	var exp uint8
	return s.adaptive(&exp, nil, &s.m.uz, nil, clsU)
}

// xor reads a leading-zero count and a width, of lw bits each, and the
// bits of an XOR of a width-bit value.
func (s *source) xor(lw, width uint) (uint64, bool) {
	lz, ok1 := s.raw(lw)
	sig, ok2 := s.raw(lw)
	sig++
	if !ok1 || !ok2 || lz+sig > uint64(width) {
		return 0, false
	}
	x, ok := s.raw(uint(sig))
	return x << (uint64(width) - lz - sig), ok
}

func (s *source) adaptive(exp *uint8, avg *uint16, pz, pg *prob, cls int) (uint64, bool) {
	if pz != nil {
		if b, ok := s.bit(pz); b == 0 || !ok {
			return 0, ok
		}
	}
	gm := &s.m.gam[cls]
	n := uint(0)
	for {
		p := &gm.pre[min(n, uint(len(gm.pre)-1))]
		if n == 0 && pg != nil {
			p = pg
		}
		b, ok := s.bit(p)
		if !ok || n > 8 {
			return 0, false
		}
		if b == 1 {
			break
		}
		n++
	}
	var g uint64
	var ok bool
	switch {
	case !s.v3:
		g, ok = s.r.read(n)
		g |= 1 << n
	case n < 4:
		g, ok = s.tree(gm.low[max(n, 1)-1][:], n), true
	default:
		g, ok = s.rd.direct(n)|1<<n, true
	}
	w := int(*exp)
	if s.v3 {
		w = expected(avg)
	}
	l := w + int(int64(unzigzag(g-1)))
	if !ok || l < 0 || l > 64 || pz != nil && l == 0 {
		return 0, false
	}
	*exp = uint8(l)
	if s.v3 {
		learnWidth(avg, l)
	}
	if l == 0 {
		return 0, true
	}
	var z uint64
	switch {
	case !s.v3:
		z, ok = s.r.read(uint(l - 1))
	default:
		k := uint(min(l-1, topBits))
		z = s.tree(gm.top[min(l, topWidths)][:], k) &^ (1 << k) << (uint(l-1) - k)
		z |= s.rd.direct(uint(l-1) - k)
	}
	return z | 1<<(l-1), ok
}
