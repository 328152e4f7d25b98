package pack

import (
	"io"
	"math"

	"github.com/itiny/itiny/internal/decimal"
)

// A decoder is the state of an Unpacker reading a version 2 block.
type decoder struct {
	t   table
	r   bitReader
	out []byte // the last record
}

// A badEntry says what is wrong with a version 2 entry.
type badEntry string

func (e badEntry) Error() string { return string(e) }

// errCut is a version 2 entry that runs past the block's end.
const errCut = badEntry("cut short")

// next2 returns the next record of a version 2 block.
func (u *Unpacker) next2() (uint64, []byte, error) {
	d := &u.d2
	r := &d.r
	if u.n == 0 && r.pos == 0 {
		if u.src[0] != Version2 {
			u.off = len(u.src)
			return 0, nil, u.corrupt(0, "unknown block version 0x%02x", u.src[0])
		}
		d.t.reset()
		r.pos = 8
	}
	at := r.pos
	if n := r.left(); n < 8 {
		if v, _ := r.read(uint(n)); v == 0 {
			u.off = len(u.src)
			return 0, nil, io.EOF
		}
		r.pos = at
	}
	seq, err := u.entry2()
	if err != nil {
		u.off = len(u.src) // no more entries
		return 0, nil, u.corrupt(at/8, "bit %d: %v", at%8, err)
	}
	u.n++
	u.seq = seq
	return seq, d.out, nil
}

// entry2 reads one entry into d.out and returns its sequence number.
func (u *Unpacker) entry2() (uint64, error) {
	d := &u.d2
	r, t := &d.r, &d.t
	seq := u.seq
	if u.n > 0 {
		seq++
	}
	code, ok := r.ones(2)
	switch {
	case !ok:
		return 0, errCut
	case code == 0:
		return 0, badEntry("entry does not start with bit 1")
	case code == 2:
		s := t.predicted()
		if s < 0 {
			return 0, badEntry("no shape predicted")
		}
		return seq, u.instance(s)
	}
	g, ok := r.uint()
	if !ok || seq+g < seq {
		return 0, badEntry("bad sequence gap")
	}
	seq += g
	kind, ok := r.ones(3)
	if !ok {
		return 0, errCut
	}
	switch kind {
	case 0: // an earlier shape
		v, ok := r.read(indexBits(len(t.shapes)))
		if !ok || v >= uint64(len(t.shapes)) {
			return 0, badEntry("bad shape index")
		}
		return seq, u.instance(int(v))
	case 1: // a new template, whole
		from := len(t.tmpl)
		if err := d.bytes(MaxTemplate - from); err != nil {
			return 0, err
		}
		t.tmpl = append(t.tmpl, d.out...)
		if !t.addShape(from, -1) {
			t.tmpl = t.tmpl[:from]
			return 0, badEntry("template is not one MessagePack item, or passes the table's bounds")
		}
		t.seen(len(t.shapes) - 1)
		t.rememberShape(len(t.shapes) - 1)
		return seq, nil
	case 2: // a new template derived from an earlier one
		if err := d.derive(); err != nil {
			return 0, err
		}
		return seq, u.instance(len(t.shapes) - 1)
	}
	t.prev, t.nlast = -1, 0
	if err := d.bytes(MaxRecord); err != nil || len(d.out) == 0 { // a plain literal
		return 0, badEntry("bad literal")
	}
	return seq, nil
}

// bytes reads a length, at most max and MaxRecord, and as many bytes into
// d.out.
func (d *decoder) bytes(max int) error {
	r := &d.r
	n, ok := r.uint()
	if !ok || n > MaxRecord || n > uint64(max) || n > uint64(r.left()/8) {
		return badEntry("bad length")
	}
	d.out = d.out[:0]
	for range n {
		c, _ := r.read(8)
		d.out = append(d.out, byte(c))
	}
	return nil
}

// derive reads a template derived from an earlier one and adds its shape.
func (d *decoder) derive() error {
	r, t := &d.r, &d.t
	v, ok := r.read(indexBits(len(t.shapes)))
	if !ok || v >= uint64(len(t.shapes)) {
		return badEntry("bad base shape index")
	}
	base := t.shapes[v]
	from := len(t.tmpl)
	for bo := int(base.tmpl); bo < int(base.tmplEnd); {
		it, _ := parseItem(t.tmpl[bo:base.tmplEnd])
		item := t.tmpl[bo : bo+it.size]
		bo += it.size
		if !isStr(item[0]) {
			t.tmpl = append(t.tmpl, item...)
			continue
		}
		replaced, ok := r.bit()
		if !ok {
			t.tmpl = t.tmpl[:from]
			return errCut
		}
		if !replaced {
			t.tmpl = append(t.tmpl, item...)
			continue
		}
		if err := d.bytes(MaxTemplate - len(t.tmpl)); err != nil {
			t.tmpl = t.tmpl[:from]
			return err
		}
		t.tmpl = append(appendStrHeader(t.tmpl, len(d.out)), d.out...)
	}
	if !t.addShape(from, int(v)) {
		t.tmpl = t.tmpl[:from]
		return badEntry("derived template passes the table's bounds")
	}
	return nil
}

// instance reads the numbers of a record of shape s and writes it to d.out.
func (u *Unpacker) instance(s int) error {
	d := &u.d2
	t := &d.t
	sh := &t.shapes[s]
	d.out = d.out[:0]
	var first [Predicted]uint64
	i := 0
	for _, o := range t.ops[sh.ops:sh.opsEnd] {
		if o.slot < 0 {
			d.out = append(d.out, t.tmpl[o.off:o.off+o.n]...)
		} else {
			sr := &t.series[o.slot]
			v, err := d.header(sr, o.kind, i)
			if err != nil {
				return err
			}
			if sr.needsSign(o.kind, v) {
				b, ok := d.r.read(1)
				if !ok {
					return errCut
				}
				sr.sign = signSigned + uint8(b)
			}
			d.out = appendNumber(d.out, typeByte(sr.sign), o.kind, v)
			if i < Predicted {
				first[i] = v
			}
			i++
		}
		if len(d.out) > MaxRecord {
			return badEntry("record over 65,536 bytes")
		}
	}
	t.seen(s)
	t.remember(first[:min(i, Predicted)])
	return nil
}

// header reads the i-th number of a record: one of the first numbers, if
// an integer or a timestamp, may be the last record's.
func (d *decoder) header(s *series, kind uint8, i int) (uint64, error) {
	if i >= Predicted || kind != kindInt && kind != kindTime {
		return d.number(s, kind)
	}
	b, ok := d.r.read(1)
	switch {
	case !ok:
		return 0, errCut
	case b == 1:
		return d.number(s, kind)
	case i >= d.t.nlast:
		return 0, badEntry("no earlier number to repeat")
	}
	v := d.t.last[i]
	s.observe(v)
	return v, nil
}

// number reads the next value of series s.
func (d *decoder) number(s *series, kind uint8) (uint64, error) {
	switch kind {
	case kindInt, kindTime:
		v, ok := d.integer(s, s.v, true)
		if !ok {
			return 0, errCut
		}
		s.v = v
	case kindF64:
		return d.float(s)
	}
	return s.v, nil
}

// integer reads a value coded against old as Encoder.integer writes it.
func (d *decoder) integer(s *series, old uint64, zero bool) (uint64, bool) {
	z, ok := d.r.adaptive(&s.width, zero)
	if !ok {
		return 0, false
	}
	var dv, dd uint64
	if s.score < 0 {
		dd = unzigzag(z)
		dv = s.d + dd
	} else {
		dv = unzigzag(z)
		dd = dv - s.d
	}
	s.learn(dv, dd)
	s.d = dv
	return old + dv, true
}

// xor reads a leading-zero count and a width, of lw bits each, and the
// bits of an XOR of a width-bit value.
func (d *decoder) xor(lw, width uint) (uint64, bool) {
	r := &d.r
	lz, ok1 := r.read(lw)
	sig, ok2 := r.read(lw)
	sig++
	if !ok1 || !ok2 || lz+sig > uint64(width) {
		return 0, false
	}
	x, ok := r.read(uint(sig))
	return x << (uint64(width) - lz - sig), ok
}

func (d *decoder) float(s *series) (uint64, error) {
	r := &d.r
	code, ok := r.ones(3)
	switch {
	case !ok:
		return 0, errCut
	case code == 0:
		return s.v, nil
	case code == 1: // floatSameExp
		if !s.dec {
			return 0, badEntry("mantissa change of a float that is not decimal")
		}
		m, ok := d.integer(s, uint64(s.m), false)
		if !ok {
			return 0, errCut
		}
		f, ok := decimal.Join(int64(m), int(s.e))
		if !ok {
			return 0, badEntry("mantissa out of range")
		}
		s.m, s.v = int64(m), math.Float64bits(f)
	case code == 2: // floatNewExp
		e, ok1 := r.read(6)
		z, ok2 := r.uint()
		if !ok1 || !ok2 {
			return 0, errCut
		}
		m := int64(unzigzag(z))
		f, ok := decimal.Join(m, int(e)-decimal.MaxExp)
		if !ok {
			return 0, badEntry("decimal out of range")
		}
		s.m, s.e, s.dec, s.d, s.v = m, int8(int(e)-decimal.MaxExp), true, 0, math.Float64bits(f)
	default: // floatXOR
		x, ok := d.xor(6, 64)
		if !ok {
			return 0, badEntry("bad float change")
		}
		s.v ^= x
		s.dec = false
	}
	return s.v, nil
}
