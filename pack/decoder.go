package pack

import (
	"io"
	"math"

	"github.com/itiny/itiny/internal/decimal"
)

// A decoder is the state of an Unpacker reading a version 2 or 3 block.
type decoder struct {
	t   table
	s   source
	out []byte // the last record
}

// A badEntry says what is wrong with a version 2 or 3 entry.
type badEntry string

func (e badEntry) Error() string { return string(e) }

// errCut is an entry that runs past the block's end.
const errCut = badEntry("cut short")

// next2 returns the next record of a version 2 or 3 block.
func (u *Unpacker) next2() (uint64, []byte, error) {
	d := &u.d2
	s := &d.s
	if u.n == 0 && !u.started {
		u.started = true
		switch u.src[0] {
		case Version2:
			s.v3, s.r = false, bitReader{src: u.src, pos: 8}
			if s.m == nil {
				s.m = &noModel
			}
		case Version3:
			s.v3 = true
			s.rd.reset(u.src[1:])
			resetModel(&s.m)
		default:
			u.off = len(u.src)
			return 0, nil, u.corrupt(0, "unknown block version 0x%02x", u.src[0])
		}
		d.t.reset()
	}
	if s.v3 {
		return u.next3()
	}
	at := s.r.pos // in bits
	if n := s.r.left(); n < 8 {
		if v, _ := s.r.read(uint(n)); v == 0 {
			u.off = len(u.src)
			return 0, nil, io.EOF
		}
		s.r.pos = at
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

// next3 returns the next record of a version 3 block. An entry's first
// bit, 0, ends the block, after which the coded stream must end too.
func (u *Unpacker) next3() (uint64, []byte, error) {
	d := &u.d2
	s := &d.s
	at := 1 + s.rd.pos // the coded byte reached, for errors
	if b, _ := s.bit(&s.m.entry); b == 0 {
		u.off = len(u.src)
		switch {
		case s.rd.over > 0:
			return 0, nil, u.corrupt(at, "cut short")
		case s.rd.pos < len(s.rd.src):
			return 0, nil, u.corrupt(at, "%d bytes after the end", len(s.rd.src)-s.rd.pos)
		}
		return 0, nil, io.EOF
	}
	if u.n >= MaxEntries {
		u.off = len(u.src)
		return 0, nil, u.corrupt(at, "more than %d entries", MaxEntries)
	}
	seq, err := u.entry2()
	if err == nil && s.rd.over > 0 {
		err = errCut
	}
	if err != nil {
		u.off = len(u.src)
		return 0, nil, u.corrupt(at, "%v", err)
	}
	u.n++
	u.seq = seq
	return seq, d.out, nil
}

// entry2 reads one entry into d.out and returns its sequence number. A
// version 3 entry's first bit is read.
func (u *Unpacker) entry2() (uint64, error) {
	d := &u.d2
	s, t := &d.s, &d.t
	seq := u.seq
	if u.n > 0 {
		seq++
	}
	if !s.v3 {
		switch b, ok := s.r.read(1); {
		case !ok:
			return 0, errCut
		case b == 0:
			return 0, badEntry("entry does not start with bit 1")
		}
	}
	b, ok := s.bit(&s.m.predicted)
	switch {
	case !ok:
		return 0, errCut
	case b == 1:
		p := t.predicted()
		if p < 0 {
			return 0, badEntry("no shape predicted")
		}
		return seq, u.instance(p)
	}
	g, ok := s.uint()
	if !ok || seq+g < seq {
		return 0, badEntry("bad sequence gap")
	}
	seq += g
	kind := 0
	for ; kind < 3; kind++ {
		b, ok := s.bit(&s.m.kind[kind])
		if !ok {
			return 0, errCut
		}
		if b == 0 {
			break
		}
	}
	switch kind {
	case kindShape:
		v, ok := s.raw(indexBits(len(t.shapes)))
		if !ok || v >= uint64(len(t.shapes)) {
			return 0, badEntry("bad shape index")
		}
		return seq, u.instance(int(v))
	case kindWhole:
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
	case kindDerived:
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
	s := &d.s
	n, ok := s.uint()
	if !ok || max < 0 || n > MaxRecord || n > uint64(max) || n > uint64(s.left()) {
		return badEntry("bad length")
	}
	d.out = d.out[:0]
	if !s.v3 {
		for range n {
			c, _ := s.r.read(8)
			d.out = append(d.out, byte(c))
		}
		return nil
	}
	var ctx litContext
	prev, prevEnd := 0, 0 // the last str body, in d.out
	for len(d.out) < int(n) {
		b := byte(s.tree(s.m.lit[ctx.place][:], 8))
		d.out = append(d.out, b)
		k := ctx.strBody(b, int(n)-len(d.out))
		ctx.next(b)
		if k == 0 {
			continue
		}
		var exp uint8
		shared, ok := s.adaptive(&exp, nil, &s.m.sz, nil, clsShared)
		if !ok || shared > uint64(min(k, prevEnd-prev)) {
			return badEntry("bad str prefix")
		}
		start := len(d.out)
		for j := range k {
			if j < int(shared) {
				b = d.out[prev+j]
			} else {
				b = byte(s.tree(s.m.lit[ctx.place][:], 8))
			}
			d.out = append(d.out, b)
			ctx.next(b)
		}
		prev, prevEnd = start, len(d.out)
	}
	return nil
}

// derive reads a template derived from an earlier one and adds its shape.
func (d *decoder) derive() error {
	s, t := &d.s, &d.t
	v, ok := s.raw(indexBits(len(t.shapes)))
	if !ok || v >= uint64(len(t.shapes)) {
		return badEntry("bad base shape index")
	}
	base := t.shapes[v]
	from := len(t.tmpl)
	for bo := int(base.tmpl); bo < int(base.tmplEnd); {
		if len(t.tmpl) > MaxTemplate {
			t.tmpl = t.tmpl[:from]
			return badEntry("derived template passes the table's bounds")
		}
		it, _ := parseItem(t.tmpl[bo:base.tmplEnd])
		item := t.tmpl[bo : bo+it.size]
		bo += it.size
		if !isStr(item[0]) {
			t.tmpl = append(t.tmpl, item...)
			continue
		}
		replaced, ok := s.bit(&s.m.edit)
		if !ok {
			t.tmpl = t.tmpl[:from]
			return errCut
		}
		if replaced == 0 {
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
				b, ok := d.s.bit(&d.s.m.sign)
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
	b, ok := d.s.bit(&d.s.m.last[i])
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
	var z uint64
	var ok bool
	if zero {
		z, ok = d.s.adaptive(&s.width, &s.avg, &s.p[pZero], &s.p[pWidth], clsInt)
	} else {
		z, ok = d.s.adaptive(&s.width, &s.avg, nil, &s.p[pWidth], clsMant)
	}
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

func (d *decoder) float(s *series) (uint64, error) {
	src := &d.s
	code, ok := src.bit(&s.p[pZero])
	if ok && code == 1 {
		var b uint64
		b, ok = src.bit(&s.p[pExp])
		if ok && b == 1 {
			b, ok = src.bit(&src.m.xor)
			code += 1 + b
		}
	}
	switch {
	case !ok:
		return 0, errCut
	case code == 0:
		return s.v, nil
	case code == 1: // the mantissa at the series' exponent
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
	case code == 2: // a new exponent
		e, ok1 := src.raw(6)
		z, ok2 := src.uint()
		if !ok1 || !ok2 {
			return 0, errCut
		}
		m := int64(unzigzag(z))
		f, ok := decimal.Join(m, int(e)-decimal.MaxExp)
		if !ok {
			return 0, badEntry("decimal out of range")
		}
		s.m, s.e, s.dec, s.d, s.v = m, int8(int(e)-decimal.MaxExp), true, 0, math.Float64bits(f)
	default: // an XOR with the last value
		x, ok := src.xor(6, 64)
		if !ok {
			return 0, badEntry("bad float change")
		}
		s.v ^= x
		s.dec = false
	}
	return s.v, nil
}
