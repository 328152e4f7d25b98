// MessagePack items as a block sees them: their classes and sizes, the
// numbers they hold, how a number is written back, and its delta.

package pack

import "encoding/binary"

// item classes.
const (
	kindOther = iota // copied
	kindInt
	kindF32
	kindF64
	kindTime
)

// An item is one MessagePack item's header and body, without children.
type item struct {
	size  int    // bytes of header and body
	kids  int    // items that follow as its elements (2 per map entry)
	kind  uint8  // kindOther, kindInt, ...
	value uint64 // the number's bits: int64/uint64, float bits, or ns since 1970
}

// parseItem parses the item at the start of p.
func parseItem(p []byte) (item, bool) {
	if len(p) == 0 {
		return item{}, false
	}
	c := p[0]
	switch {
	case c <= 0x7f:
		return item{size: 1, kind: kindInt, value: uint64(c)}, true
	case c >= 0xe0:
		return item{size: 1, kind: kindInt, value: uint64(int64(int8(c)))}, true
	case c >= 0xa0 && c <= 0xbf: // fixstr
		return bodyItem(p, 1, uint64(c&0x1f))
	case c >= 0x80 && c <= 0x8f: // fixmap
		return item{size: 1, kids: 2 * int(c&0x0f)}, true
	case c >= 0x90 && c <= 0x9f: // fixarray
		return item{size: 1, kids: int(c & 0x0f)}, true
	}
	be := binary.BigEndian
	switch c {
	case 0xc0, 0xc2, 0xc3: // nil, false, true
		return item{size: 1}, true
	case 0xcc, 0xd0:
		if len(p) < 2 {
			return item{}, false
		}
		v := uint64(p[1])
		if c == 0xd0 {
			v = uint64(int64(int8(p[1])))
		}
		return item{size: 2, kind: kindInt, value: v}, true
	case 0xcd, 0xd1:
		if len(p) < 3 {
			return item{}, false
		}
		v := uint64(be.Uint16(p[1:]))
		if c == 0xd1 {
			v = uint64(int64(int16(v)))
		}
		return item{size: 3, kind: kindInt, value: v}, true
	case 0xce, 0xd2, 0xca:
		if len(p) < 5 {
			return item{}, false
		}
		v := uint64(be.Uint32(p[1:]))
		switch c {
		case 0xd2:
			v = uint64(int64(int32(v)))
		case 0xca:
			return item{size: 5, kind: kindF32, value: v}, true
		}
		return item{size: 5, kind: kindInt, value: v}, true
	case 0xcf, 0xd3, 0xcb:
		if len(p) < 9 {
			return item{}, false
		}
		k := uint8(kindInt)
		if c == 0xcb {
			k = kindF64
		}
		return item{size: 9, kind: k, value: be.Uint64(p[1:])}, true
	case 0xc4, 0xd9: // bin8, str8
		if len(p) < 2 {
			return item{}, false
		}
		return bodyItem(p, 2, uint64(p[1]))
	case 0xc5, 0xda:
		if len(p) < 3 {
			return item{}, false
		}
		return bodyItem(p, 3, uint64(be.Uint16(p[1:])))
	case 0xc6, 0xdb:
		if len(p) < 5 {
			return item{}, false
		}
		return bodyItem(p, 5, uint64(be.Uint32(p[1:])))
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext: type byte and 1-16 bytes
		return bodyItem(p, 2, 1<<(c-0xd4))
	case 0xc7: // ext8
		if len(p) < 3 {
			return item{}, false
		}
		return bodyItem(p, 3, uint64(p[1]))
	case 0xc8:
		if len(p) < 4 {
			return item{}, false
		}
		return bodyItem(p, 4, uint64(be.Uint16(p[1:])))
	case 0xc9:
		if len(p) < 6 {
			return item{}, false
		}
		return bodyItem(p, 6, uint64(be.Uint32(p[1:])))
	case 0xdc, 0xde: // array16, map16
		if len(p) < 3 {
			return item{}, false
		}
		n := int(be.Uint16(p[1:]))
		if c == 0xde {
			n *= 2
		}
		return item{size: 3, kids: n}, true
	case 0xdd, 0xdf:
		if len(p) < 5 {
			return item{}, false
		}
		n := uint64(be.Uint32(p[1:]))
		if n > uint64(len(p)) { // every element takes a byte
			return item{}, false
		}
		if c == 0xdf {
			n *= 2
		}
		return item{size: 5, kids: int(n)}, true
	}
	return item{}, false // 0xc1
}

// bodyItem is the item of a head-byte header followed by body bytes: a
// string, bytes or an extension, which may be a timestamp.
func bodyItem(p []byte, head int, body uint64) (item, bool) {
	if head > len(p) || body > uint64(len(p)-head) {
		return item{}, false
	}
	it := item{size: head + int(body)}
	if c := p[0]; c == 0xd6 || c == 0xd7 || c == 0xc7 {
		if ns, ok := timeNanos(p[:it.size]); ok {
			it.kind, it.value = kindTime, uint64(ns)
		}
	}
	return it, true
}

// timeNanos decodes a MessagePack timestamp as nanoseconds since 1970.
func timeNanos(p []byte) (int64, bool) {
	var sec int64
	var nsec uint64
	switch {
	case len(p) == 6 && p[0] == 0xd6 && p[1] == 0xff:
		sec = int64(binary.BigEndian.Uint32(p[2:]))
	case len(p) == 10 && p[0] == 0xd7 && p[1] == 0xff:
		v := binary.BigEndian.Uint64(p[2:])
		sec, nsec = int64(v&(1<<34-1)), v>>34
	case len(p) == 15 && p[0] == 0xc7 && p[1] == 12 && p[2] == 0xff:
		nsec = uint64(binary.BigEndian.Uint32(p[3:]))
		sec = int64(binary.BigEndian.Uint64(p[7:]))
	default:
		return 0, false
	}
	// Whether sec×10^9 + nsec fits an int64; the sum wraps through the
	// edges and comes out right when it does.
	const maxSec, minSec = 9223372036, -9223372037 // ⌊(2^63−1)/10^9⌋, ⌊−2^63/10^9⌋
	if nsec >= 1e9 || sec > maxSec || sec < minSec ||
		sec == maxSec && nsec > 1<<63-1-maxSec*1e9 || sec == minSec && int64(nsec) < -1<<63-minSec*1e9 {
		return 0, false
	}
	return sec*1e9 + int64(nsec), true
}

// appendNumber appends the number v of class kind, written the way old (an
// item of the same class) suggests. The widths are those msgp chooses,
// fixed here so that the format does not depend on a library's version.
func appendNumber(b []byte, old byte, kind uint8, v uint64) []byte {
	be := binary.BigEndian
	switch kind {
	case kindInt:
		if old >= 0xcc && old <= 0xcf {
			switch {
			case v <= 0x7f:
				return append(b, byte(v))
			case v <= 0xff:
				return append(b, 0xcc, byte(v))
			case v <= 0xffff:
				return be.AppendUint16(append(b, 0xcd), uint16(v))
			case v <= 0xffffffff:
				return be.AppendUint32(append(b, 0xce), uint32(v))
			}
			return be.AppendUint64(append(b, 0xcf), v)
		}
		x := int64(v)
		switch {
		case x >= -32 && x <= 0x7f:
			return append(b, byte(x))
		case x >= -128 && x < 0:
			return append(b, 0xd0, byte(x))
		case x >= -1<<15 && x < 1<<15:
			return be.AppendUint16(append(b, 0xd1), uint16(x))
		case x >= -1<<31 && x < 1<<31:
			return be.AppendUint32(append(b, 0xd2), uint32(x))
		}
		return be.AppendUint64(append(b, 0xd3), v)
	case kindF32:
		return be.AppendUint32(append(b, 0xca), uint32(v))
	case kindF64:
		return be.AppendUint64(append(b, 0xcb), v)
	}
	t := int64(v)
	sec, nsec := t/1e9, t%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	switch {
	case nsec == 0 && sec > 0 && sec <= 0xffffffff:
		return be.AppendUint32(append(b, 0xd6, 0xff), uint32(sec))
	case sec < 0 || sec >= 1<<34:
		return be.AppendUint64(be.AppendUint32(append(b, 0xc7, 12, 0xff), uint32(nsec)), uint64(sec))
	}
	return be.AppendUint64(append(b, 0xd7, 0xff), uint64(sec)|uint64(nsec)<<34)
}

// diff returns what a new number is stored as, given the old one and, for
// integers and timestamps, the predicted difference pred; and the
// difference itself.
func diff(kind uint8, old, new, pred uint64) (stored, d uint64) {
	if kind == kindF32 || kind == kindF64 {
		return old ^ new, 0
	}
	d = new - old
	e := int64(d - pred)
	return uint64(e<<1) ^ uint64(e>>63), d
}

// undiff inverts diff: it returns the new number and its difference.
func undiff(kind uint8, old, stored, pred uint64) (new, d uint64) {
	if kind == kindF32 || kind == kindF64 {
		return old ^ stored, 0
	}
	d = (stored>>1 ^ -(stored & 1)) + pred
	return old + d, d
}
