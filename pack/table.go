package pack

import (
	"math"
	"math/bits"

	"github.com/itiny/itiny/internal/decimal"
)

// Version 2 blocks (docs/FORMAT.md 3.5): a bit stream after a version
// byte, in which every record is an instance of a shape the block keeps
// for its whole length, and each number of a shape is a series predicted
// from its own past values.
const (
	// Version2 and Version3 are the first byte of a version 2 and 3
	// block; version 1 blocks start with a tag whose bit 7 is 0.
	Version2 = 0x80 | 2
	Version3 = 0x80 | 3

	// The bounds of a block's table, the same for writer and reader: past
	// them a writer stores records as plain literals, and a reader rejects
	// a block that passes them.
	MaxShapes   = 256      // shapes
	MaxTemplate = 64 << 10 // template bytes, replaced strings included
	MaxSeries   = 4096     // numbers of all shapes together

	// MaxEntries bounds the records of a version 3 block. A record may
	// cost it a hundredth of a bit, so that without a bound a block of
	// 64 KiB could hold tens of millions of records, each up to 64 KiB
	// (docs/FORMAT.md 3.6).
	MaxEntries = 1 << 16
	// MaxUnpacked bounds the bytes of the records of a block a writer
	// makes, so that a small block never unpacks to gigabytes (65,536
	// alike records of 64 KiB cost a version 3 block next to nothing).
	MaxUnpacked = 16 << 20
	// MaxUnpackedRead is the bound readers take of a version 3 block,
	// four times what a writer makes. Blocks of versions 1 and 2 have
	// none: their writers had none, and a valid block of 3,000 alike
	// 40 KiB records would be refused; an entry costs them at least two
	// bits, which bounds their records by the block's size.
	MaxUnpackedRead = 64 << 20
)

// An op is one step of a shape: copy template bytes, or write a number.
type op struct {
	off, n int32 // template bytes, for a copy (slot < 0)
	slot   int32 // the series, for a number
	kind   uint8
}

// A shape is a record's template and what its numbers are.
type shape struct {
	tmpl, tmplEnd int32 // in table.tmpl
	ops, opsEnd   int32 // in table.ops
	series, nser  int32 // first series in table.series, and how many
	next          int32 // the shape that followed this one last
}

// A series is the state of one number of one shape.
type series struct {
	v     uint64 // last value: integer bits, ns since 1970, float bits
	d     uint64 // last difference: of the value, or of a float's mantissa
	m     int64  // float64: the last value is m·10^e, when dec
	e     int8
	dec   bool
	score int16  // below zero: code the change of the difference
	sign  uint8  // an integer's: signUnknown, signed or unsigned
	width uint8  // version 2: the bit length its next code is expected to have
	avg   uint16 // version 3: the average of its codes' bit lengths, in sixteenths
	p     [3]prob
}

// A series' own probabilities in version 3 (pack/coder.go).
const (
	pZero  = iota // a zero (an integer's difference, a float unchanged)
	pExp          // a float's mantissa at the same exponent
	pWidth        // its code's width is the last one's
)

// An integer series' signedness decides how a value is written back:
// unknown while the template and the values since have all been 0 to 127,
// which both write alike.
const (
	signUnknown = iota
	signSigned
	signUnsigned
)

// typeByte returns a type byte of the signedness sign, for appendNumber.
func typeByte(sign uint8) byte {
	if sign == signUnsigned {
		return 0xcc
	}
	return 0xd0
}

// A table is the shapes of a block, as writer and reader both keep it.
type table struct {
	tmpl   []byte
	ops    []op
	shapes []shape
	series []series
	prev   int // the last record's shape, −1 for none
	// The first numbers of the last record (nlast of them): the header
	// numbers of a sample's records are often the same.
	last  [Predicted]uint64
	nlast int
}

// rememberShape keeps the first numbers of shape s's template.
func (t *table) rememberShape(s int) {
	sh := &t.shapes[s]
	t.nlast = int(min(sh.nser, Predicted))
	for i := range t.nlast {
		t.last[i] = t.series[int(sh.series)+i].v
	}
}

// remember keeps the first numbers of a record.
func (t *table) remember(vals []uint64) {
	t.nlast = copy(t.last[:], vals)
}

func (t *table) reset() {
	t.tmpl, t.ops, t.shapes, t.series = t.tmpl[:0], t.ops[:0], t.shapes[:0], t.series[:0]
	t.prev, t.nlast = -1, 0
}

// predicted returns the shape expected next, or −1.
func (t *table) predicted() int {
	if t.prev < 0 {
		return -1
	}
	return int(t.shapes[t.prev].next)
}

// seen records that a record of shape s came.
//
//go:noinline
func (t *table) seen(s int) {
	if t.prev >= 0 {
		t.shapes[t.prev].next = int32(s)
	}
	t.prev = s
}

// addShape compiles the template tmpl[from:] into a new shape whose
// series start from base's (base < 0: from the template's numbers). It
// reports false, changing nothing, if the template is not one
// well-formed MessagePack item or the table would pass its bounds.
func (t *table) addShape(from int, base int) bool {
	p := t.tmpl[from:]
	if len(t.shapes) >= MaxShapes || len(t.tmpl) > MaxTemplate || len(p) == 0 {
		return false
	}
	ops, nser := len(t.ops), len(t.series)
	off, left := 0, 1
	for left > 0 {
		it, ok := parseItem(p[off:])
		if !ok || it.kids > len(p) {
			break
		}
		if it.kind == kindOther || it.kind == kindF32 {
			if n := len(t.ops); n > ops && t.ops[n-1].slot < 0 {
				t.ops[n-1].n += int32(it.size)
			} else {
				t.ops = append(t.ops, op{off: int32(from + off), n: int32(it.size), slot: -1})
			}
		} else {
			if len(t.series) >= MaxSeries {
				break
			}
			t.ops = append(t.ops, op{slot: int32(len(t.series)), kind: it.kind})
			t.series = append(t.series, newSeries(it.kind, p[off], it.value))
		}
		off += it.size
		left += it.kids - 1
		if left > len(p)-off {
			break
		}
	}
	if left != 0 || off != len(p) {
		t.ops, t.series = t.ops[:ops], t.series[:nser]
		return false
	}
	if base >= 0 {
		b := &t.shapes[base]
		if b.nser != int32(len(t.series)-nser) {
			t.ops, t.series = t.ops[:ops], t.series[:nser]
			return false
		}
		copy(t.series[nser:], t.series[b.series:b.series+int32(len(t.series)-nser)])
	}
	t.shapes = append(t.shapes, shape{tmpl: int32(from), tmplEnd: int32(len(t.tmpl)),
		ops: int32(ops), opsEnd: int32(len(t.ops)), series: int32(nser), nser: int32(len(t.series) - nser)})
	return true
}

func newSeries(kind uint8, typ byte, v uint64) series {
	s := series{v: v, p: [3]prob{probInit, probInit, probInit}}
	switch {
	case kind == kindF64:
		s.m, s.e, s.dec = split(v)
	case kind != kindInt:
	case typ >= 0xcc && typ <= 0xcf:
		s.sign = signUnsigned
	case typ > 0x7f:
		s.sign = signSigned
	}
	return s
}

// observe updates an integer series with a value coded otherwise.
func (s *series) observe(v uint64) {
	d := v - s.v
	s.learn(d, d-s.d)
	s.v, s.d = v, d
}

// needsSign reports whether an integer value of series s is followed by
// its signedness.
func (s *series) needsSign(kind uint8, v uint64) bool {
	return kind == kindInt && s.sign == signUnknown && v > 0x7f
}

func split(v uint64) (int64, int8, bool) {
	m, e, ok := decimal.Split(math.Float64frombits(v))
	return m, int8(e), ok
}

// learn updates a series' choice between coding differences and their
// changes, from the bits each would have taken: both ends compute it.
//
//go:noinline
func (s *series) learn(d, dd uint64) {
	diff := bits.Len64(zigzag(dd)) - bits.Len64(zigzag(d))
	s.score += int16(diff) - s.score>>3
}

// popShape removes the newest shape.
func (t *table) popShape() {
	s := t.shapes[len(t.shapes)-1]
	t.tmpl, t.ops, t.series = t.tmpl[:s.tmpl], t.ops[:s.ops], t.series[:s.series]
	t.shapes = t.shapes[:len(t.shapes)-1]
}

// indexBits is the width of an index below n.
//
//go:noinline
func indexBits(n int) uint { return uint(bits.Len(uint(max(n-1, 0)))) }

// isStr reports whether c starts a MessagePack str item.
//
//go:noinline
func isStr(c byte) bool { return c >= 0xa0 && c <= 0xbf || c >= 0xd9 && c <= 0xdb }

// appendStrHeader appends the shortest str header for n bytes.
func appendStrHeader(b []byte, n int) []byte {
	switch {
	case n < 32:
		return append(b, 0xa0|byte(n))
	case n <= 0xff:
		return append(b, 0xd9, byte(n))
	case n <= 0xffff:
		return append(b, 0xda, byte(n>>8), byte(n))
	}
	return append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}
