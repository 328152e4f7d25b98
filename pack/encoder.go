package pack

import (
	"math"

	"github.com/itiny/itiny/internal/decimal"
)

// An Encoder builds a block one record at a time, of version 3 unless
// Version says 2; the block is always the bytes appended so far. The zero
// value is ready to use.
//
// It copies the templates it keeps, so callers need not hold records.
// Its memory is bounded by the table's: at most MaxTemplate bytes of
// templates, MaxShapes shapes and MaxSeries series (about 32 bytes each),
// plus one record; past a bound a record is stored as a plain literal.
// In steady state Append allocates nothing.
type Encoder struct {
	// Version is the version of the blocks written: Version3 (or 0),
	// or Version2 for readers that predate version 3.
	Version byte

	t       table
	c       coder
	n       int
	lastSeq uint64
	used    uint8    // version 2: bits used in the block's last byte
	keep    int      // version 3: bytes of the block before the coder's flush
	size    int      // bytes of the records added
	vals    []uint64 // the numbers of the record being added
	sgn     []uint8  // and the signedness each must state, if any
	tmp     [16]byte
}

// Reset starts a new block, keeping the Encoder's memory.
func (e *Encoder) Reset() { e.n = 0 }

// Len reports how many records were added since Reset.
func (e *Encoder) Len() int { return e.n }

// Fits reports whether a record of size bytes may join the block: it
// holds fewer than MaxEntries records (version 3) and their bytes stay
// within MaxUnpacked with it. A first record always fits.
func (e *Encoder) Fits(size int) bool {
	return e.n == 0 || e.size+size <= MaxUnpacked && (e.n < MaxEntries || e.Version == Version2)
}

// Append adds rec, one record with sequence number seq, to the block in
// dst and returns the extended block; dst must be what the last Append
// returned (or, for the first record, any bytes the block will follow).
// The first record's seq is the block's first sequence number, which the
// block does not store; later ones must be larger than the one before.
func (e *Encoder) Append(dst []byte, rec []byte, seq uint64) ([]byte, error) {
	gap, err := nextGap(rec, e.n, e.lastSeq, seq)
	if err != nil {
		return dst, err
	}
	if e.n > 0 && !e.Fits(len(rec)) {
		return dst, ErrFull
	}
	c := &e.c
	if e.n == 0 {
		e.t.reset()
		c.v3 = e.Version != Version2
		if c.v3 {
			dst = append(dst, Version3)
			e.keep = len(dst)
			resetModel(&c.m)
			c.rc.reset(nil)
		} else {
			dst = append(dst, Version2)
			e.used = 0
			if c.m == nil {
				c.m = &noModel
			}
		}
	}
	if c.v3 {
		// The block ends in the coder's flush after an end bit; the next
		// record replaces them, coded from the state before them.
		c.rc.b = dst[:e.keep]
		c.rc.bit(&c.m.entry, 1)
		e.add(rec, gap)
		e.keep = len(c.rc.b)
		saved, end := c.rc, c.m.entry
		c.rc.bit(&end, 0)
		c.rc.flush()
		dst = c.rc.b
		c.rc = saved
		c.rc.b = nil
	} else {
		c.w.resume(dst, e.used)
		c.w.write(1, 1)
		e.add(rec, gap)
		e.used = c.w.finish()
		dst, c.w.b = c.w.b, nil
	}
	if e.n == 0 {
		e.size = 0
	}
	e.size += len(rec)
	e.n++
	e.lastSeq = seq
	return dst, nil
}

// add writes rec's entry, after its first bit.
func (e *Encoder) add(rec []byte, gap uint64) {
	t, c := &e.t, &e.c
	if p := t.predicted(); gap == 0 && p >= 0 && e.match(p, rec) {
		c.bit(&c.m.predicted, 1)
		e.numbers(p)
		t.seen(p)
		return
	}
	c.bit(&c.m.predicted, 0)
	c.uint(gap)
	for s := len(t.shapes) - 1; s >= 0; s-- {
		if e.match(s, rec) {
			e.kind(kindShape)
			c.raw(uint64(s), indexBits(len(t.shapes)))
			e.numbers(s)
			t.seen(s)
			return
		}
	}
	// A new shape: derived from the newest whose template rec differs
	// from in str items only, else whole.
	for b := len(t.shapes) - 1; b >= 0; b-- {
		if e.derive(b, rec) {
			return
		}
	}
	from := len(t.tmpl)
	if len(rec) <= MaxTemplate-from {
		t.tmpl = append(t.tmpl, rec...)
		if t.addShape(from, -1) {
			s := len(t.shapes) - 1
			e.kind(kindWhole)
			c.bytes(rec)
			t.seen(s)
			t.rememberShape(s)
			return
		}
		t.tmpl = t.tmpl[:from]
	}
	e.kind(kindLiteral)
	c.bytes(rec)
	t.prev, t.nlast = -1, 0
}

// The kinds of an entry that is not of the predicted shape.
const (
	kindShape   = iota // "0": an earlier shape
	kindWhole          // "10": a new shape, its template whole
	kindDerived        // "110": a new shape derived from an earlier one
	kindLiteral        // "111": a plain literal
)

// kind writes the code of an entry's kind k: k ones, and a zero if k < 3.
func (e *Encoder) kind(k int) {
	c := &e.c
	for i := range min(k+1, 3) {
		c.bit(&c.m.kind[i], b2u(i < k))
	}
}

// match reports whether rec is an instance of shape s, putting its
// numbers in e.vals.
func (e *Encoder) match(s int, rec []byte) bool {
	t := &e.t
	sh := &t.shapes[s]
	e.vals, e.sgn = e.vals[:0], e.sgn[:0]
	pos := 0
	for _, o := range t.ops[sh.ops:sh.opsEnd] {
		if o.slot < 0 {
			if string(rec[pos:min(len(rec), pos+int(o.n))]) != string(t.tmpl[o.off:o.off+o.n]) {
				return false
			}
			pos += int(o.n)
			continue
		}
		it, ok := parseItem(rec[pos:])
		if !ok || it.kind != o.kind {
			return false
		}
		b := rec[pos : pos+it.size]
		sr := &t.series[o.slot]
		sign, learnt := sr.sign, uint8(0)
		if sr.needsSign(it.kind, it.value) {
			// The record's type byte says; a reader learns it.
			sign = signSigned
			if b[0] >= 0xcc && b[0] <= 0xcf {
				sign = signUnsigned
			}
			learnt = sign
		}
		if string(appendNumber(e.tmp[:0], typeByte(sign), it.kind, it.value)) != string(b) {
			return false
		}
		e.vals, e.sgn = append(e.vals, it.value), append(e.sgn, learnt)
		pos += it.size
	}
	return pos == len(rec)
}

// derive adds rec as a template derived from shape b's, with the str
// items that differ replaced, and writes it, if rec is then an instance
// of it; else it changes nothing.
func (e *Encoder) derive(b int, rec []byte) bool {
	t, c := &e.t, &e.c
	base := t.shapes[b]
	from := len(t.tmpl)
	bo, ro := int(base.tmpl), 0
	ok := true
	for ok && bo < int(base.tmplEnd) {
		bi, _ := parseItem(t.tmpl[bo:base.tmplEnd])
		ri, rok := parseItem(rec[ro:])
		bb, rb := t.tmpl[bo:bo+bi.size], rec[ro:ro+ri.size]
		ro += ri.size
		bo += bi.size
		switch {
		case !rok:
			ok = false
		case isStr(bb[0]) && isStr(rb[0]) && string(bb) != string(rb):
			// Only the shortest header, which a reader writes back.
			body := rb[strHead(rb[0]):]
			ok = len(appendStrHeader(e.tmp[:0], len(body))) == len(rb)-len(body)
			t.tmpl = append(t.tmpl, rb...)
		case bi.kind != kindOther && bi.kind == ri.kind:
			t.tmpl = append(t.tmpl, bb...)
		default:
			ok = string(bb) == string(rb)
			t.tmpl = append(t.tmpl, bb...)
		}
	}
	if ok = ok && ro == len(rec) && len(t.tmpl) <= MaxTemplate && t.addShape(from, b); ok {
		if ok = e.match(len(t.shapes)-1, rec); !ok {
			t.popShape()
		}
	}
	if !ok {
		t.tmpl = t.tmpl[:from]
		return false
	}
	// Written once known to fit: a version 3 coder cannot take bits back.
	s := len(t.shapes) - 1
	e.kind(kindDerived)
	c.raw(uint64(b), indexBits(s))
	for bo, no := int(base.tmpl), from; bo < int(base.tmplEnd); {
		bi, _ := parseItem(t.tmpl[bo:base.tmplEnd])
		ni, _ := parseItem(t.tmpl[no:])
		bb, nb := t.tmpl[bo:bo+bi.size], t.tmpl[no:no+ni.size]
		bo += bi.size
		no += ni.size
		if isStr(bb[0]) {
			changed := string(bb) != string(nb)
			c.bit(&c.m.edit, b2u(changed))
			if changed {
				c.bytes(nb[strHead(nb[0]):])
			}
		}
	}
	e.numbers(s)
	t.seen(s)
	return true
}

// strHead returns the header bytes of a str item starting with c.
func strHead(c byte) int {
	switch c {
	case 0xd9:
		return 2
	case 0xda:
		return 3
	case 0xdb:
		return 5
	}
	return 1
}

// numbers writes the codes of e.vals, the numbers of a record of shape s.
func (e *Encoder) numbers(s int) {
	t := &e.t
	sh := &t.shapes[s]
	i := 0
	for _, o := range t.ops[sh.ops:sh.opsEnd] {
		if o.slot < 0 {
			continue
		}
		sr, v := &t.series[o.slot], e.vals[i]
		switch {
		case i >= Predicted || o.kind != kindInt && o.kind != kindTime:
			e.number(sr, o.kind, v)
		case i < t.nlast && v == t.last[i]:
			e.c.bit(&e.c.m.last[i], 0)
			sr.observe(v)
		default:
			e.c.bit(&e.c.m.last[i], 1)
			e.number(sr, o.kind, v)
		}
		if sign := e.sgn[i]; sign != 0 {
			e.c.bit(&e.c.m.sign, uint64(sign-signSigned))
			sr.sign = sign
		}
		i++
	}
	t.remember(e.vals)
}

func (e *Encoder) number(s *series, kind uint8, v uint64) {
	switch kind {
	case kindInt, kindTime:
		e.integer(s, v, s.v, true)
	case kindF64:
		e.float(s, v)
	}
	s.v = v
}

// integer writes the difference x − old, or its change from the last
// difference, as the series has learnt to; s.d becomes the difference.
func (e *Encoder) integer(s *series, x, old uint64, zero bool) {
	d := x - old
	dd := d - s.d
	z := zigzag(d)
	if s.score < 0 {
		z = zigzag(dd)
	}
	if zero {
		e.c.adaptive(z, &s.width, &s.avg, &s.p[pZero], &s.p[pWidth], clsInt)
	} else {
		e.c.adaptive(z, &s.width, &s.avg, nil, &s.p[pWidth], clsMant)
	}
	s.learn(d, dd)
	s.d = d
}

func (e *Encoder) float(s *series, v uint64) {
	c := &e.c
	pz := &s.p[pZero]
	if v == s.v {
		c.bit(pz, 0)
		return
	}
	c.bit(pz, 1)
	m, ex, ok := decimal.Split(math.Float64frombits(v))
	if ok && s.dec && ex >= int(s.e) {
		if m2, fits := scale(m, ex-int(s.e)); fits {
			if j, _ := decimal.Join(m2, int(s.e)); math.Float64bits(j) == v {
				c.bit(&s.p[pExp], 0)
				e.integer(s, uint64(m2), uint64(s.m), false)
				s.m = m2
				return
			}
		}
	}
	c.bit(&s.p[pExp], 1)
	if ok {
		c.bit(&c.m.xor, 0)
		c.raw(uint64(ex+decimal.MaxExp), 6)
		c.uint(zigzag(uint64(m)))
		s.m, s.e, s.dec, s.d = m, int8(ex), true, 0
		return
	}
	c.bit(&c.m.xor, 1)
	c.xor(v^s.v, 6, 64)
	s.dec = false
}

// scale returns m·10^k if its magnitude stays below 2^53.
func scale(m int64, k int) (int64, bool) {
	for ; k > 0; k-- {
		if m >= 1<<53/10 || m <= -(1<<53)/10 {
			return 0, false
		}
		m *= 10
	}
	return m, true
}
