package pack

import (
	"math"
	"math/bits"

	"github.com/itiny/itiny/internal/decimal"
)

// An Encoder builds a version 2 block one record at a time; the block is
// always the bytes appended so far. The zero value is ready to use.
//
// It copies the templates it keeps, so callers need not hold records.
// Its memory is bounded by the table's: at most MaxTemplate bytes of
// templates, MaxShapes shapes and MaxSeries series (about 32 bytes each),
// plus one record; past a bound a record is stored as a plain literal.
// In steady state Append allocates nothing.
type Encoder struct {
	t       table
	w       bitWriter
	n       int
	lastSeq uint64
	used    uint8    // bits used in the block's last byte
	vals    []uint64 // the numbers of the record being added
	sgn     []uint8  // and the signedness each must state, if any
	tmp     [16]byte
}

// Reset starts a new block, keeping the Encoder's memory.
func (e *Encoder) Reset() { e.n = 0 }

// Len reports how many records were added since Reset.
func (e *Encoder) Len() int { return e.n }

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
	if e.n == 0 {
		e.t.reset()
		dst = append(dst, Version2)
		e.used = 0
	}
	e.w.resume(dst, e.used)
	e.add(rec, gap)
	e.used = e.w.finish()
	e.n++
	e.lastSeq = seq
	dst, e.w.b = e.w.b, nil
	return dst, nil
}

// add writes rec's entry.
func (e *Encoder) add(rec []byte, gap uint64) {
	t, w := &e.t, &e.w
	if p := t.predicted(); gap == 0 && p >= 0 && e.match(p, rec) {
		w.write(0b11, 2)
		e.numbers(p)
		t.seen(p)
		return
	}
	w.write(0b10, 2)
	w.uint(gap)
	for s := len(t.shapes) - 1; s >= 0; s-- {
		if e.match(s, rec) {
			w.write(0, 1)
			w.write(uint64(s), indexBits(len(t.shapes)))
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
			e.literal(0b10, rec)
			t.seen(s)
			t.rememberShape(s)
			return
		}
		t.tmpl = t.tmpl[:from]
	}
	e.literal(0b111, rec)
	t.prev, t.nlast = -1, 0
}

// literal writes the kind code, then rec's length and bytes.
func (e *Encoder) literal(code uint64, rec []byte) {
	e.w.write(code, uint(bits.Len64(code)))
	e.w.bytes(rec)
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
	t, w := &e.t, &e.w
	base := t.shapes[b]
	from, saved := len(t.tmpl), *w
	w.write(0b110, 3)
	w.write(uint64(b), indexBits(len(t.shapes)))
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
			body := rb[strHead(rb[0]):]
			// Only the shortest header, which a reader writes back.
			ok = len(appendStrHeader(e.tmp[:0], len(body))) == len(rb)-len(body)
			w.write(1, 1)
			w.bytes(body)
			t.tmpl = append(t.tmpl, rb...)
		case isStr(bb[0]) && string(bb) == string(rb):
			w.write(0, 1)
			fallthrough
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
		t.tmpl, *w = t.tmpl[:from], saved
		return false
	}
	s := len(t.shapes) - 1
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
			e.w.write(0, 1)
			sr.observe(v)
		default:
			e.w.write(1, 1)
			e.number(sr, o.kind, v)
		}
		if sign := e.sgn[i]; sign != 0 {
			e.w.write(uint64(sign-signSigned), 1)
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
	e.w.adaptive(z, &s.width, zero)
	s.learn(d, dd)
	s.d = d
}

func (e *Encoder) float(s *series, v uint64) {
	w := &e.w
	if v == s.v {
		w.write(0, 1)
		return
	}
	m, ex, ok := decimal.Split(math.Float64frombits(v))
	if ok && s.dec && ex >= int(s.e) {
		if m2, fits := scale(m, ex-int(s.e)); fits {
			if j, _ := decimal.Join(m2, int(s.e)); math.Float64bits(j) == v {
				w.write(floatSameExp, 2)
				e.integer(s, uint64(m2), uint64(s.m), false)
				s.m = m2
				return
			}
		}
	}
	if ok {
		w.write(floatNewExp, 3)
		w.write(uint64(ex+decimal.MaxExp), 6)
		w.uint(zigzag(uint64(m)))
		s.m, s.e, s.dec, s.d = m, int8(ex), true, 0
		return
	}
	w.write(floatXOR, 3)
	w.xor(v^s.v, 6, 64)
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
