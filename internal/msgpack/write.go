package msgpack

import (
	"math"
	"time"
)

// AppendNil appends nil.
func AppendNil(b []byte) []byte { return append(b, 0xc0) }

// AppendBool appends a boolean.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}

// AppendUint appends u in its smallest encoding: a positive fixint, or
// uint 8 to uint 64.
func AppendUint(b []byte, u uint64) []byte {
	switch {
	case u <= math.MaxInt8:
		return append(b, byte(u))
	case u <= math.MaxUint8:
		return append(b, 0xcc, byte(u))
	case u <= math.MaxUint16:
		return be.AppendUint16(append(b, 0xcd), uint16(u))
	case u <= math.MaxUint32:
		return be.AppendUint32(append(b, 0xce), uint32(u))
	}
	return be.AppendUint64(append(b, 0xcf), u)
}

// AppendInt appends i in its smallest signed encoding: a fixint, or int 8
// to int 64 (a non-negative number takes int 16 at least beyond a fixint).
func AppendInt(b []byte, i int64) []byte {
	switch {
	case i >= 0 && i <= math.MaxInt8, i < 0 && i >= -32:
		return append(b, byte(i))
	case i < 0 && i >= math.MinInt8:
		return append(b, 0xd0, byte(i))
	case i >= math.MinInt16 && i <= math.MaxInt16:
		return be.AppendUint16(append(b, 0xd1), uint16(i))
	case i >= math.MinInt32 && i <= math.MaxInt32:
		return be.AppendUint32(append(b, 0xd2), uint32(i))
	}
	return be.AppendUint64(append(b, 0xd3), uint64(i))
}

// AppendFloat64 appends f as a float 64.
func AppendFloat64(b []byte, f float64) []byte {
	return be.AppendUint64(append(b, 0xcb), math.Float64bits(f))
}

// AppendFloat32 appends f as a float 32.
func AppendFloat32(b []byte, f float32) []byte {
	return be.AppendUint32(append(b, 0xca), math.Float32bits(f))
}

// AppendString appends s as a str.
func AppendString(b []byte, s string) []byte {
	return append(appendHead(b, len(s), 0xa0, 31, 0xd9, 0xda), s...)
}

// AppendBytes appends p as a bin.
func AppendBytes(b []byte, p []byte) []byte {
	return append(appendHead(b, len(p), 0, -1, 0xc4, 0xc5), p...)
}

// AppendArrayHeader appends the header of an array of n items.
func AppendArrayHeader(b []byte, n uint32) []byte { return appendHead(b, int(n), 0x90, 15, 0, 0xdc) }

// AppendMapHeader appends the header of a map of n pairs.
func AppendMapHeader(b []byte, n uint32) []byte { return appendHead(b, int(n), 0x80, 15, 0, 0xde) }

// appendHead appends the header of a str, bin, array or map of n: the fix
// form (fix | n) up to fixMax, the 8-bit form l8 if there is one (not 0),
// the 16-bit form l16 and the 32-bit form after it.
func appendHead(b []byte, n int, fix byte, fixMax int, l8, l16 byte) []byte {
	switch {
	case n <= fixMax:
		return append(b, fix|byte(n))
	case n <= math.MaxUint8 && l8 != 0:
		return append(b, l8, byte(n))
	case n <= math.MaxUint16:
		return be.AppendUint16(append(b, l16), uint16(n))
	}
	return be.AppendUint32(append(b, l16+1), uint32(n))
}

// AppendTime appends t as a timestamp extension (-1) in its smallest form:
// 32 bits for whole seconds from 1 to 2^32-1, 64 bits up to 2^34 seconds,
// else 96 bits.
func AppendTime(b []byte, t time.Time) []byte {
	sec, nsec := t.Unix(), uint64(t.Nanosecond())
	switch {
	case nsec == 0 && sec > 0 && sec <= math.MaxUint32:
		return be.AppendUint32(append(b, 0xd6, 0xff), uint32(sec))
	case sec < 0 || sec >= 1<<34:
		return be.AppendUint64(be.AppendUint32(append(b, 0xc7, 12, 0xff), uint32(nsec)), uint64(sec))
	}
	return be.AppendUint64(append(b, 0xd7, 0xff), uint64(sec)|nsec<<34)
}
