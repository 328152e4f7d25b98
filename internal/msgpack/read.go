package msgpack

import (
	"math"
	"strconv"
	"time"
)

// Every reader returns the item's value and the bytes after it, or an
// error and no value: ErrShort if b ends inside the item, a *TypeError if
// the item is of another type, a RangeError if a number does not fit.

// ReadMapHeader reads a map's header and returns its number of pairs.
func ReadMapHeader(b []byte) (uint32, []byte, error) {
	return readHead(b, 0x80, 0xde, Map)
}

// ReadArrayHeader reads an array's header and returns its number of items.
func ReadArrayHeader(b []byte) (uint32, []byte, error) {
	return readHead(b, 0x90, 0xdc, Array)
}

// readHead reads the header of an array or a map: a fix form (fix | n, n
// up to 15), or a 16- or 32-bit form whose lead bytes are l16 and l16+1.
func readHead(b []byte, fix, l16 byte, t Type) (uint32, []byte, error) {
	if len(b) == 0 {
		return 0, nil, ErrShort
	}
	switch c := b[0]; {
	case c&0xf0 == fix:
		return uint32(c & 0x0f), b[1:], nil
	case c == l16 && len(b) >= 3:
		return uint32(be.Uint16(b[1:])), b[3:], nil
	case c == l16+1 && len(b) >= 5:
		return be.Uint32(b[1:]), b[5:], nil
	case c == l16 || c == l16+1:
		return 0, nil, ErrShort
	}
	return 0, nil, typeError(t, NextType(b))
}

// ReadStr reads a str and returns its bytes, which are b's.
func ReadStr(b []byte) ([]byte, []byte, error) {
	if len(b) > 0 && b[0]&0xe0 == 0xa0 {
		return body(b, 1, uint64(b[0]&0x1f))
	}
	return readBody(b, 0xd9, Str)
}

// ReadBin reads a bin and returns its bytes, which are b's.
func ReadBin(b []byte) ([]byte, []byte, error) { return readBody(b, 0xc4, Bin) }

// ReadMapKey reads a map key: a str, or a bin.
func ReadMapKey(b []byte) ([]byte, []byte, error) {
	if NextType(b) == Bin {
		return ReadBin(b)
	}
	return ReadStr(b)
}

// ReadBinInto reads a bin of exactly len(into) bytes into into.
func ReadBinInto(b []byte, into []byte) ([]byte, error) {
	p, rest, err := ReadBin(b)
	if err != nil {
		return nil, err
	}
	if len(p) != len(into) {
		return nil, RangeError{strconv.Itoa(len(p)) + " bytes", strconv.Itoa(len(into)) + " bytes"}
	}
	copy(into, p)
	return rest, nil
}

// readBody reads a str or bin of the 8-, 16- or 32-bit forms whose lead
// bytes are l8, l8+1 and l8+2.
func readBody(b []byte, l8 byte, t Type) ([]byte, []byte, error) {
	if len(b) == 0 {
		return nil, nil, ErrShort
	}
	switch c := b[0]; {
	case c == l8 && len(b) >= 2:
		return body(b, 2, uint64(b[1]))
	case c == l8+1 && len(b) >= 3:
		return body(b, 3, uint64(be.Uint16(b[1:])))
	case c == l8+2 && len(b) >= 5:
		return body(b, 5, uint64(be.Uint32(b[1:])))
	case c >= l8 && c <= l8+2:
		return nil, nil, ErrShort
	}
	return nil, nil, typeError(t, NextType(b))
}

// body returns the n bytes after a head of h bytes. n is compared as a
// uint64: as an int, a 32-bit length of 2 GiB or more would be negative
// on 32-bit machines.
func body(b []byte, h int, n uint64) ([]byte, []byte, error) {
	if n > uint64(len(b)-h) {
		return nil, nil, ErrShort
	}
	return b[h : h+int(n)], b[h+int(n):], nil
}

// ReadBool reads a boolean.
func ReadBool(b []byte) (bool, []byte, error) {
	switch {
	case len(b) == 0:
		return false, nil, ErrShort
	case b[0] == 0xc3:
		return true, b[1:], nil
	case b[0] == 0xc2:
		return false, b[1:], nil
	}
	return false, nil, typeError(Bool, NextType(b))
}

// ReadFloat64 reads a float 64 or a float 32.
func ReadFloat64(b []byte) (float64, []byte, error) {
	switch {
	case len(b) >= 9 && b[0] == 0xcb:
		return math.Float64frombits(be.Uint64(b[1:])), b[9:], nil
	case len(b) >= 5 && b[0] == 0xca:
		return float64(math.Float32frombits(be.Uint32(b[1:]))), b[5:], nil
	case len(b) == 0 || b[0] == 0xcb || b[0] == 0xca:
		return 0, nil, ErrShort
	}
	return 0, nil, typeError(Float64, NextType(b))
}

// ReadInt reads an integer of any encoding that fits in an int64.
func ReadInt(b []byte) (int64, []byte, error) {
	if len(b) > 0 && b[0] <= 0x7f { // a positive fixint: inlined
		return int64(b[0]), b[1:], nil
	}
	return readInt(b)
}

func readInt(b []byte) (int64, []byte, error) {
	u, neg, rest, err := readNum(b, Int)
	switch {
	case err != nil:
		return 0, nil, err
	case !neg && u > math.MaxInt64:
		return 0, nil, RangeError{strconv.FormatUint(u, 10), "int64"}
	}
	return int64(u), rest, nil
}

// ReadUint reads a non-negative integer of any encoding up to max.
func ReadUint(b []byte, max uint64) (uint64, []byte, error) {
	if len(b) > 0 && b[0] <= 0x7f && uint64(b[0]) <= max { // a positive fixint: inlined
		return uint64(b[0]), b[1:], nil
	}
	return readUint(b, max)
}

func readUint(b []byte, max uint64) (uint64, []byte, error) {
	u, neg, rest, err := readNum(b, Uint)
	switch {
	case err != nil:
		return 0, nil, err
	case neg:
		return 0, nil, RangeError{strconv.FormatInt(int64(u), 10), "an unsigned integer"}
	case u > max:
		return 0, nil, RangeError{strconv.FormatUint(u, 10), "an integer up to " + strconv.FormatUint(max, 10)}
	}
	return u, rest, nil
}

// readNum reads an integer item: its bits, as a uint64, and whether it
// is negative (then the bits are an int64's).
func readNum(b []byte, want Type) (u uint64, neg bool, rest []byte, err error) {
	if len(b) == 0 {
		return 0, false, nil, ErrShort
	}
	c := b[0]
	if c <= 0x7f {
		return uint64(c), false, b[1:], nil
	}
	if c >= 0xe0 {
		return uint64(int64(int8(c))), true, b[1:], nil
	}
	if c < 0xcc || c > 0xd3 {
		return 0, false, nil, typeError(want, NextType(b))
	}
	n := 1 << ((c - 0xcc) & 3) // 1, 2, 4 or 8 bytes
	if len(b) <= n {
		return 0, false, nil, ErrShort
	}
	var i int64
	switch c {
	case 0xcc:
		u = uint64(b[1])
	case 0xcd:
		u = uint64(be.Uint16(b[1:]))
	case 0xce:
		u = uint64(be.Uint32(b[1:]))
	case 0xcf:
		u = be.Uint64(b[1:])
	case 0xd0:
		i = int64(int8(b[1]))
	case 0xd1:
		i = int64(int16(be.Uint16(b[1:])))
	case 0xd2:
		i = int64(int32(be.Uint32(b[1:])))
	default:
		i = int64(be.Uint64(b[1:]))
	}
	if c >= 0xd0 {
		u, neg = uint64(i), i < 0
	}
	return u, neg, b[1+n:], nil
}

// ReadTime reads a timestamp extension, in UTC. The 64- and 96-bit forms
// must hold nanoseconds below a second.
func ReadTime(b []byte) (time.Time, []byte, error) {
	if len(b) < 6 {
		return time.Time{}, nil, ErrShort
	}
	typ, p, rest, err := readExt(b)
	if err != nil {
		return time.Time{}, nil, err
	}
	var sec, nsec int64
	switch {
	case typ == msgpTimeExt && len(p) == 12:
		sec, nsec = int64(be.Uint64(p)), int64(int32(be.Uint32(p[8:])))
	case typ == TimeExt && len(p) == 4:
		sec = int64(be.Uint32(p))
	case typ == TimeExt && len(p) == 8:
		v := be.Uint64(p)
		sec, nsec = int64(v&(1<<34-1)), int64(v>>34)
	case typ == TimeExt && len(p) == 12:
		sec, nsec = int64(be.Uint64(p[4:])), int64(be.Uint32(p))
	case typ == TimeExt || typ == msgpTimeExt:
		return time.Time{}, nil, RangeError{strconv.Itoa(len(p)) + " bytes", "a timestamp"}
	default:
		return time.Time{}, nil, typeError(Time, Ext)
	}
	if typ == TimeExt && nsec > 999999999 {
		return time.Time{}, nil, RangeError{strconv.FormatInt(nsec, 10) + " nanoseconds", "a second"}
	}
	return time.Unix(sec, nsec).UTC(), rest, nil
}

// readExt reads an extension: its type and data.
func readExt(b []byte) (typ int8, data, rest []byte, err error) {
	var n uint64
	var h int
	switch c := b[0]; c {
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		n, h = 1<<(c-0xd4), 2
	case 0xc7:
		n, h = uint64(b[1]), 3
	case 0xc8:
		n, h = uint64(be.Uint16(b[1:])), 4
	case 0xc9:
		n, h = uint64(be.Uint32(b[1:])), 6
	default:
		return 0, nil, nil, typeError(Time, NextType(b))
	}
	data, rest, err = body(b, h, n)
	return int8(b[h-1]), data, rest, err
}
