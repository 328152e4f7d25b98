package msgpack

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// The writers encode every value as msgp v1.6.5 does, byte for byte: the
// format on disk must not change with the library that writes it.
func TestAppendSameAsMsgp(t *testing.T) {
	check := func(what string, got, want []byte) {
		t.Helper()
		if !bytes.Equal(got, want) {
			t.Errorf("%s: % x, msgp % x", what, got, want)
		}
	}
	var ints []int64
	for _, v := range []int64{0, 1, 31, 32, 127, 128, 255, 256, math.MaxInt16, math.MaxInt16 + 1, math.MaxUint16, math.MaxUint16 + 1,
		math.MaxInt32, math.MaxInt32 + 1, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64} {
		ints = append(ints, v, -v, v-1, -v-1)
	}
	ints = append(ints, math.MinInt64, -32, -33, math.MinInt8, math.MinInt8-1, math.MinInt16, math.MinInt32)
	for _, v := range ints {
		check("int "+time.Duration(v).String(), AppendInt(nil, v), msgp.AppendInt64(nil, v))
		check("uint "+time.Duration(v).String(), AppendUint(nil, uint64(v)), msgp.AppendUint64(nil, uint64(v)))
	}
	for _, f := range []float64{0, -1.5, math.Pi, math.Inf(1), math.NaN(), math.MaxFloat64, math.SmallestNonzeroFloat64} {
		check("float64", AppendFloat64(nil, f), msgp.AppendFloat64(nil, f))
		check("float32", AppendFloat32(nil, float32(f)), msgp.AppendFloat32(nil, float32(f)))
	}
	for _, n := range []int{0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536, 70000} {
		s := strings.Repeat("x", n)
		check("str", AppendString(nil, s), msgp.AppendString(nil, s))
		check("bin", AppendBytes(nil, []byte(s)), msgp.AppendBytes(nil, []byte(s)))
		check("array", AppendArrayHeader(nil, uint32(n)), msgp.AppendArrayHeader(nil, uint32(n)))
		check("map", AppendMapHeader(nil, uint32(n)), msgp.AppendMapHeader(nil, uint32(n)))
	}
	check("bool", AppendBool(AppendBool(nil, true), false), msgp.AppendBool(msgp.AppendBool(nil, true), false))
	check("nil", AppendNil(nil), msgp.AppendNil(nil))
	for _, tm := range []time.Time{{}, time.Unix(0, 0), time.Unix(1, 0), time.Unix(1, 1), time.Unix(-1, 0), time.Unix(-1, 5),
		time.Unix(math.MaxUint32, 0), time.Unix(math.MaxUint32+1, 0), time.Unix(1<<34-1, 999999999), time.Unix(1<<34, 0),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Unix(1764000000, 123456789)} {
		check("time "+tm.String(), AppendTime(nil, tm), msgp.AppendTimeExt(nil, tm))
	}
}

// FuzzReadSameAsMsgp reads any bytes with every reader and with msgp's
// equivalent: both fail, or both return the same value and stop at the
// same byte. Where they differ by design, the comment says why.
func FuzzReadSameAsMsgp(f *testing.F) {
	for _, b := range [][]byte{
		{}, {0xc1}, {0x7f}, {0xe0}, {0xcc, 0xff}, {0xd0, 0x80}, {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}, {0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18}, {0xca, 0x3f, 0x80, 0, 0},
		{0xa3, 'a', 'b', 'c'}, {0xd9, 2, 'x'}, {0xc4, 1, 0}, {0xc5, 0, 16}, {0x82, 0xa1, 'a', 1, 0xa1, 'b', 0x90},
		{0xde, 0, 1, 0xc4, 1, 'k', 0xc0}, {0xdd, 0xff, 0xff, 0xff, 0xff}, {0xd6, 0xff, 0, 0, 0, 1}, {0xd7, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0},
		{0xc7, 12, 0xff, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0xc7, 12, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2},
		{0xc3}, {0xc2}, {0x91, 0x91, 0x91, 0x90},
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		same := func(what string, v, mv any, rest, mrest []byte, err, merr error) {
			t.Helper()
			if (err == nil) != (merr == nil) {
				t.Fatalf("% x: %s: error %v, msgp %v", b, what, err, merr)
			}
			if err == nil && (v != mv || len(rest) != len(mrest)) {
				t.Fatalf("% x: %s: %v, %d left; msgp %v, %d left", b, what, v, len(rest), mv, len(mrest))
			}
		}
		if got, want := NextType(b).String(), msgp.NextType(b).String(); !sameType(got, want) {
			t.Fatalf("% x: type %s, msgp %s", b, got, want)
		}
		n, rest, err := ReadMapHeader(b)
		mn, mrest, merr := msgp.ReadMapHeaderBytes(b)
		same("map", n, mn, rest, mrest, err, merr)
		n, rest, err = ReadArrayHeader(b)
		mn, mrest, merr = msgp.ReadArrayHeaderBytes(b)
		same("array", n, mn, rest, mrest, err, merr)
		s, rest, err := ReadStr(b)
		ms, mrest, merr := msgp.ReadStringZC(b)
		same("str", string(s), string(ms), rest, mrest, err, merr)
		s, rest, err = ReadBin(b)
		ms, mrest, merr = msgp.ReadBytesZC(b)
		same("bin", string(s), string(ms), rest, mrest, err, merr)
		s, rest, err = ReadMapKey(b)
		ms, mrest, merr = msgp.ReadMapKeyZC(b)
		same("key", string(s), string(ms), rest, mrest, err, merr)
		v, rest, err := ReadBool(b)
		mv, mrest, merr := msgp.ReadBoolBytes(b)
		same("bool", v, mv, rest, mrest, err, merr)
		fl, rest, err := ReadFloat64(b)
		mfl, mrest, merr := msgp.ReadFloat64Bytes(b)
		if err == nil && merr == nil && math.IsNaN(fl) && math.IsNaN(mfl) {
			fl, mfl = 0, 0
		}
		same("float", fl, mfl, rest, mrest, err, merr)
		i, rest, err := ReadInt(b)
		mi, mrest, merr := msgp.ReadInt64Bytes(b)
		same("int", i, mi, rest, mrest, err, merr)
		u, rest, err := ReadUint(b, math.MaxUint64)
		mu, mrest, merr := msgp.ReadUint64Bytes(b)
		same("uint", u, mu, rest, mrest, err, merr)
		u, rest, err = ReadUint(b, math.MaxUint32)
		mu32, mrest, merr := msgp.ReadUint32Bytes(b)
		same("uint32", u, uint64(mu32), rest, mrest, err, merr)
		u, rest, err = ReadUint(b, math.MaxUint8)
		mu8, mrest, merr := msgp.ReadUint8Bytes(b)
		same("uint8", u, uint64(mu8), rest, mrest, err, merr)
		tm, rest, err := ReadTime(b)
		mtm, mrest, merr := msgp.ReadTimeUTCBytes(b)
		same("time", tm, mtm, rest, mrest, err, merr)
		var into, minto [16]byte
		rest, err = ReadBinInto(b, into[:])
		mrest, merr = msgp.ReadExactBytes(b, minto[:])
		if _, _, berr := ReadBin(b); merr == nil && berr != nil {
			// msgp copies what there is of a bin cut short, and says
			// nothing: here that is ErrShort.
			merr = berr
		}
		same("bin16", into, minto, rest, mrest, err, merr)
		rest, err = Skip(b)
		mrest, merr = msgp.Skip(b)
		if merr == msgp.ErrRecursion {
			merr = nil // msgp stops at 100,000 levels; Skip takes no stack for them
			mrest = rest
		}
		same("skip", 0, 0, rest, mrest, err, merr)
	})
}

// sameType compares type names. msgp names no type "invalid" and the
// timestamp "<invalid>" too, and calls a timestamp "ext" unless a byte
// follows it: here a timestamp is a timestamp wherever it is.
func sameType(got, want string) bool {
	switch {
	case got == "invalid":
		return want == "<invalid>"
	case got == "time" || got == "ext":
		return want == "ext" || want == "<invalid>"
	}
	return got == want
}
