package codec

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// mp builds MessagePack input from byte slices, strings (written raw, not
// as msgpack strings) and bytes.
func mp(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case byte:
			b = append(b, p)
		case int:
			b = append(b, byte(p))
		case rune:
			b = append(b, byte(p))
		case string:
			b = append(b, p...)
		case []byte:
			b = append(b, p...)
		default:
			panic("mp: bad part")
		}
	}
	return b
}

// mpStr returns the fixstr encoding of s (len(s) < 32).
func mpStr(s string) []byte { return append([]byte{0xa0 | byte(len(s))}, s...) }

// be32 returns n as 4 big-endian bytes.
func be32(n uint32) []byte { return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} }

// fieldsOf returns a record map holding only "fields" with the given
// encoded value.
func fieldsOf(parts ...any) []byte {
	return mp(append([]any{0x81, mpStr("fields")}, parts...)...)
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }

// hostileMsgpack are malformed MessagePack records. All must fail to decode.
var hostileMsgpack = []struct {
	name string
	in   []byte
	is   error // if not nil, the error must wrap it
}{
	{"empty", nil, nil},
	{"nil", mp(0xc0), nil},
	{"not a map", mp(0x91, 0x01), nil},
	{"fields map32 2^26", fieldsOf(0xdf, be32(1<<26)), ErrTooMany},
	{"fields map32 max", fieldsOf(0xdf, be32(math.MaxUint32)), ErrTooMany},
	{"fields array", fieldsOf(0x91, 0x01), nil},
	{"field array32 2^26", fieldsOf(0x81, mpStr("a"), 0xdd, be32(1<<26)), ErrTooMany},
	{"nested array32 2^26", fieldsOf(0x81, mpStr("a"), 0x91, 0x91, 0xdd, be32(1<<26)), ErrTooMany},
	{"nested map32 2^26", fieldsOf(0x81, mpStr("a"), 0x81, mpStr("b"), 0xdf, be32(1<<26)), ErrTooMany},
	{"array16 more than MaxFields", fieldsOf(0x81, mpStr("a"), 0xdc, 0x04, 0x01, repeat("\x01", MaxFields+1)), ErrTooMany},
	{"map16 more than MaxFields", fieldsOf(0xde, 0x04, 0x01, repeat("\xa1a\x01", MaxFields+1)), ErrTooMany},
	{"array claims more than bytes", fieldsOf(0x81, mpStr("a"), 0x9f, 0x01, 0x01), ErrTooMany},
	// Eight lists, one in the other, each claiming 1024 elements, which the
	// bytes after its header could hold but do not. The decoder allocates
	// a list's elements before it reads them, so all claims together are
	// bounded by the input's size: the second list's claim is refused.
	{"nested claims past the input", fieldsOf(0x81, mpStr("a"), repeat("\xdc\x04\x00", 8), repeat("\x01", 1100)), nil},
	{"name str32 4GiB", mp(0x81, mpStr("name"), 0xdb, be32(math.MaxUint32)), nil},
	{"name str32 4GiB with bytes", mp(0x81, mpStr("name"), 0xdb, be32(math.MaxUint32), repeat("x", 100)), nil},
	{"field str32 4GiB", fieldsOf(0x81, mpStr("a"), 0xdb, be32(math.MaxUint32)), nil},
	{"field bin32 4GiB", fieldsOf(0x81, mpStr("a"), 0xc6, be32(math.MaxUint32)), nil},
	{"field key str32 4GiB", fieldsOf(0x81, 0xdb, be32(math.MaxUint32)), nil},
	{"record key str32 4GiB", mp(0x81, 0xdb, be32(math.MaxUint32)), nil},
	{"record map32 max", mp(0xdf, be32(math.MaxUint32)), nil},
	{"record map 33 keys", mp(0xde, 0x00, 0x21, repeat("\xa1x\x01", 33)), nil},
	{"unknown key array32 max", mp(0x81, mpStr("x"), 0xdd, be32(math.MaxUint32)), nil},
	{"unknown key map32 max", mp(0x81, mpStr("x"), 0xdf, be32(math.MaxUint32)), nil},
	{"unknown key str32 4GiB", mp(0x81, mpStr("x"), 0xdb, be32(math.MaxUint32)), nil},
	{"unknown key deep", mp(0x81, mpStr("x"), repeat("\x91", 200000)), nil},
	{"fields too deep", fieldsOf(0x81, mpStr("a"), repeat("\x91", MaxDepth+1), 0x01), ErrTooDeep},
	{"fields very deep", fieldsOf(0x81, mpStr("a"), repeat("\x91", 10000), 0x01), ErrTooDeep},
	{"fields deep maps", fieldsOf(0x81, mpStr("a"), repeat("\x81\xa1k", MaxDepth+1), 0x01), ErrTooDeep},
	{"field nil", fieldsOf(0x81, mpStr("a"), 0xc0), ErrInvalidValue},
	{"field ext", fieldsOf(0x81, mpStr("a"), 0xd4, 0x01, 0x00), ErrInvalidValue},
	{"field timestamp", fieldsOf(0x81, mpStr("a"), 0xd6, 0xff, be32(0)), ErrInvalidValue},
	{"field reserved 0xc1", fieldsOf(0x81, mpStr("a"), 0xc1), nil},
	{"field key not a string", fieldsOf(0x81, 0x01, 0x01), nil},
	{"field key bin", fieldsOf(0x81, 0xc4, 0x01, 'a', 0x01), nil},
	{"truncated float64", fieldsOf(0x81, mpStr("a"), 0xcb, 0x00, 0x00), nil},
	{"seq negative", mp(0x81, mpStr("seq"), 0xff), nil},
	{"seq float", mp(0x81, mpStr("seq"), 0xca, be32(0)), nil},
	{"bootn too big", mp(0x81, mpStr("bootn"), 0xcf, 0, 0, 0, 1, 0, 0, 0, 0), nil},
	{"level too big", mp(0x81, mpStr("level"), 0xcd, 0x01, 0x00), nil},
	{"boot short", mp(0x81, mpStr("boot"), 0xc4, 0x01, 0x00), nil},
	{"boot long", mp(0x81, mpStr("boot"), 0xc4, 0x11, repeat("\x00", 17)), nil},
	{"wall not a time", mp(0x81, mpStr("wall"), 0x01), nil},
	{"wall bad nanos", mp(0x81, mpStr("wall"), 0xd7, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), nil},
	{"wall bad length", mp(0x81, mpStr("wall"), 0xc7, 0x05, 0xff, 0, 0, 0, 0, 0), nil},
	{"trailing byte", mp(0x80, 0x00), nil},
}

// hostileJSON are malformed JSON records. All must fail to decode.
var hostileJSON = []struct {
	name   string
	in     string
	offset int // want DecodeError.Offset, or -1 not to check it
	is     error
}{
	{"empty", ``, 0, nil},
	{"space", ` `, 1, nil},
	{"null", `null`, 0, nil},
	{"array", `[]`, 0, nil},
	{"string", `"seq"`, 0, nil},
	{"open brace", `{`, 1, nil},
	{"10000 [", repeat("[", 10000), 0, nil},
	{"10000 [ in fields", `{"fields":{"a":` + repeat("[", 10000), -1, ErrTooDeep},
	{"10000 [] in fields", `{"fields":{"a":` + repeat("[", 10000) + repeat("]", 10000) + `}}`, -1, ErrTooDeep},
	{"10000 { in fields", `{"fields":{"a":` + repeat(`{"a":`, 10000), -1, ErrTooDeep},
	{"10000 [ in unknown key", `{"x":` + repeat("[", 10000), -1, ErrTooDeep},
	{"10000 { in unknown key", `{"x":` + repeat(`{"a":`, 10000), -1, ErrTooDeep},
	{"fields too deep", `{"fields":{"a":` + repeat("[", MaxDepth+1) + "1" + repeat("]", MaxDepth+1) + `}}`, -1, ErrTooDeep},
	{"fields is a list", `{"fields":[1]}`, 10, nil},
	{"too many fields", `{"fields":{` + manyJSONFields(MaxFields+1) + `}}`, -1, ErrTooMany},
	{"too long list", `{"fields":{"a":[` + repeat("1,", MaxFields) + `1]}}`, -1, ErrTooMany},
	{"seq huge", `{"seq":1` + repeat("0", 10000) + `}`, -1, nil},
	{"seq 2^64", `{"seq":18446744073709551616}`, -1, nil},
	{"seq negative", `{"seq":-1}`, -1, nil},
	{"seq float", `{"seq":1.0}`, -1, nil},
	{"seq exponent", `{"seq":1e3}`, -1, nil},
	{"seq string", `{"seq":"1"}`, -1, nil},
	{"seq 1e999999", `{"seq":1e999999}`, -1, nil},
	{"mono 2^63", `{"mono":9223372036854775808}`, -1, nil},
	{"mono below min", `{"mono":-9223372036854775809}`, -1, nil},
	{"bootn 2^32", `{"bootn":4294967296}`, -1, nil},
	{"level 8", `{"level":8}`, -1, nil},
	{"level name", `{"level":"loud"}`, -1, nil},
	{"level null", `{"level":null}`, -1, nil},
	{"number leading zero", `{"fields":{"a":01}}`, 16, nil},
	{"number plus", `{"fields":{"a":+1}}`, -1, nil},
	{"number dot", `{"fields":{"a":1.}}`, -1, nil},
	{"number exponent", `{"fields":{"a":1e}}`, -1, nil},
	{"number minus", `{"fields":{"a":-}}`, -1, nil},
	{"number hex", `{"fields":{"a":0x1}}`, -1, nil},
	{"number NaN", `{"fields":{"a":NaN}}`, -1, nil},
	{"number Infinity", `{"fields":{"a":Infinity}}`, -1, nil},
	{"unterminated string", `{"name":"abc`, 12, nil},
	{"unterminated escape", `{"name":"abc\`, -1, nil},
	{"unterminated \\u", `{"name":"abc\u12`, -1, nil},
	{"unterminated key", `{"na`, 4, nil},
	{"unterminated after escape", `{"name":"\n`, -1, nil},
	{"invalid escape", `{"name":"a\x"}`, 11, nil},
	{"invalid escape quote", `{"name":"a\'"}`, 11, nil},
	{"invalid \\U", `{"name":"a\U0041"}`, 11, nil},
	{"invalid \\u digit", `{"name":"a\u12G4"}`, 11, nil},
	{"raw control char", "{\"name\":\"a\x01\"}", 10, nil},
	{"raw newline", "{\"name\":\"a\nb\"}", 10, nil},
	{"raw newline after escape", "{\"name\":\"\\ta\nb\"}", 12, nil},
	{"invalid utf8", "{\"name\":\"a\xffb\"}", -1, nil},
	{"invalid utf8 after escape", "{\"name\":\"\\ta\xffb\"}", -1, nil},
	{"encoded surrogate", "{\"name\":\"\xed\xa0\x80\"}", -1, nil},
	{"invalid utf8 key", "{\"fields\":{\"\xff\":1}}", -1, nil},
	{"null field", `{"fields":{"a":null}}`, 15, nil},
	{"null in list", `{"fields":{"a":[1,null]}}`, -1, nil},
	{"null fields", `{"fields":null}`, -1, nil},
	{"null name", `{"name":null}`, -1, nil},
	{"true prefix", `{"fields":{"a":tru}}`, -1, nil},
	{"true suffix", `{"fields":{"a":truex}}`, -1, nil},
	{"trailing garbage", `{}x`, 2, nil},
	{"trailing object", `{} {}`, 3, nil},
	{"trailing NUL", "{}\x00", 2, nil},
	{"trailing comma", `{"seq":1,}`, -1, nil},
	{"missing colon", `{"seq" 1}`, -1, nil},
	{"missing comma", `{"seq":1 "name":"x"}`, -1, nil},
	{"single quotes", `{'seq':1}`, -1, nil},
	{"reserved key", `{"fields":{"$x":1}}`, -1, nil},
	{"reserved key second", `{"fields":{"a":1,"$x":1}}`, -1, nil},
	{"reserved key nested", `{"fields":{"a":{"b":{"$x":1}}}}`, -1, nil},
	{"reserved key escaped", `{"fields":{"\u0024x":1}}`, -1, nil},
	{"reserved tag not first", `{"fields":{"a":{"b":1,"$float":"NaN"}}}`, -1, nil},
	{"unknown tag", `{"fields":{"a":{"$int":"1"}}}`, -1, nil},
	{"bad $float", `{"fields":{"a":{"$float":"nan"}}}`, -1, nil},
	{"bad $float Inf", `{"fields":{"a":{"$float":"Inf"}}}`, -1, nil},
	{"$float number", `{"fields":{"a":{"$float":1.5}}}`, -1, nil},
	{"$float extra key", `{"fields":{"a":{"$float":"NaN","b":1}}}`, -1, nil},
	{"bad $base64", `{"fields":{"a":{"$base64":"!!!!"}}}`, -1, nil},
	{"$base64 unpadded", `{"fields":{"a":{"$base64":"AQI"}}}`, -1, nil},
	{"$base64 url", `{"fields":{"a":{"$base64":"-_8="}}}`, -1, nil},
	{"boot short", `{"boot":"00"}`, -1, nil},
	{"boot not hex", `{"boot":"zz000000000000000000000000000000"}`, -1, nil},
	{"wall bad", `{"wall":"yesterday"}`, -1, nil},
	{"wall no zone", `{"wall":"2026-03-14T15:09:26.000000000"}`, -1, nil},
	{"wall Feb 30", `{"wall":"2026-02-30T00:00:00.000000000Z"}`, -1, nil},
	{"wall hour 24", `{"wall":"2026-02-03T24:00:00.000000000Z"}`, -1, nil},
	{"wall number", `{"wall":0}`, -1, nil},
	{"mono float", `{"mono":1.5}`, -1, nil},
}

func manyJSONFields(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"f`)
		b.WriteString(itoa(i))
		b.WriteString(`":1`)
	}
	return b.String()
}

// checkDecodeError checks that err is a *DecodeError of codec c with an
// offset inside in.
func checkDecodeError(t *testing.T, c Codec, in []byte, err error) *DecodeError {
	t.Helper()
	if err == nil {
		t.Fatalf("decoding %.80q succeeded, want error", in)
	}
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
	}
	if de.Codec != c {
		t.Errorf("DecodeError.Codec = %v, want %v", de.Codec, c)
	}
	// -1 is for faults not at one byte: the message names the key or rule.
	if de.Offset < -1 || de.Offset > len(in) {
		t.Errorf("DecodeError.Offset = %d, outside input of %d bytes", de.Offset, len(in))
	}
	if de.Err == nil || !strings.Contains(de.Error(), c.String()) {
		t.Errorf("DecodeError %q lacks a cause or codec name", de.Error())
	}
	return de
}

// allocsPerDecode returns the allocations and bytes allocated by one
// decode of in into a new Record, averaged over runs. The bytes come from
// runtime.MemStats; like testing.AllocsPerRun it runs with GOMAXPROCS(1).
func allocsPerDecode(c Codec, in []byte) (allocs float64, bytes uint64) {
	const runs = 50
	decode := func() {
		var r Record
		c.Decode(in, &r)
	}
	allocs = testing.AllocsPerRun(runs, decode)

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	decode() // warm up
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		decode()
	}
	runtime.ReadMemStats(&after)
	return allocs, (after.TotalAlloc - before.TotalAlloc) / runs
}

// maxAlloc is the most a decode of n bytes of input may allocate.
func maxAlloc(n int) uint64 { return 64*uint64(n) + 4096 }

// maxAllocDense is the most a decode of n bytes of dense input (lists of
// one- or two-byte elements) may allocate: two Fields per byte; see
// TestDenseInputAllocation.
func maxAllocDense(n int) uint64 { return 2*uint64(unsafe.Sizeof(Field{}))*uint64(n) + 4096 }

func TestHostileMsgpack(t *testing.T) {
	for _, tt := range hostileMsgpack {
		t.Run(tt.name, func(t *testing.T) {
			var r Record
			err := Msgpack.Decode(tt.in, &r)
			checkDecodeError(t, Msgpack, tt.in, err)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			allocs, n := allocsPerDecode(Msgpack, tt.in)
			if n > maxAlloc(len(tt.in)) {
				t.Errorf("decoding %d bytes allocates %d bytes in %v allocations, want at most %d", len(tt.in), n, allocs, maxAlloc(len(tt.in)))
			}
			if allocs > float64(len(tt.in))+8 {
				t.Errorf("decoding %d bytes makes %v allocations", len(tt.in), allocs)
			}
		})
	}
}

func TestHostileMsgpackSizes(t *testing.T) {
	// The records the task is about, byte for byte.
	tests := []struct {
		in   []byte
		size int
	}{
		{fieldsOf(0xdf, be32(1<<26)), 13},
		{fieldsOf(0x81, mpStr("a"), 0xdd, be32(1<<26)), 16},
		{mp(0x81, mpStr("name"), 0xdb, be32(math.MaxUint32)), 11},
	}
	for _, tt := range tests {
		if len(tt.in) != tt.size {
			t.Errorf("% x: %d bytes, want %d", tt.in, len(tt.in), tt.size)
		}
	}
}

func TestHostileJSON(t *testing.T) {
	for _, tt := range hostileJSON {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			var r Record
			err := JSON.Decode(in, &r)
			de := checkDecodeError(t, JSON, in, err)
			if tt.offset >= 0 && de.Offset != tt.offset {
				t.Errorf("Offset = %d, want %d (%v)", de.Offset, tt.offset, err)
			}
			max := maxAlloc(len(in))
			if tt.name == "too many fields" || tt.name == "too long list" {
				// Dense input, allocated for before the limit is hit.
				max = maxAllocDense(len(in))
			}
			allocs, n := allocsPerDecode(JSON, in)
			if n > max {
				t.Errorf("decoding %d bytes allocates %d bytes in %v allocations, want at most %d", len(in), n, allocs, max)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
		})
	}
}

func TestDenseInputAllocation(t *testing.T) {
	// The densest valid inputs: lists of one-byte (MessagePack) or
	// two-byte (JSON) elements, each of which costs a Field. They bound
	// what any input can make the decoders allocate per byte.
	//
	// Measured: about 71 bytes per input byte for MessagePack (one
	// 72-byte Field per 1-byte fixint) and 85 for JSON (a Field per 2
	// bytes, plus append growth). Both exceed 64 bytes per byte, the
	// bound the hostile tests use, so this test allows two Fields per
	// input byte; see the report that came with these tests.
	mpList := fieldsOf(0x81, mpStr("a"), 0xdc, 0x04, 0x00, bytes.Repeat([]byte{1}, MaxFields))
	mpDeep := fieldsOf(0x81, mpStr("a"), 0xdc, 0x04, 0x00, bytes.Repeat([]byte{0x91, 0x91, 0x91, 0x01}, MaxFields))
	jsonList := []byte(`{"fields":{"a":[` + repeat("1,", MaxFields-1) + `1]}}`)
	jsonMap := []byte(`{"fields":{` + manyJSONFields(MaxFields) + `}}`)
	tests := []struct {
		name string
		c    Codec
		in   []byte
	}{
		{"msgpack list", Msgpack, mpList},
		{"msgpack nested lists", Msgpack, mpDeep},
		{"json list", JSON, jsonList},
		{"json map", JSON, jsonMap},
	}
	for _, tt := range tests {
		var r Record
		if err := tt.c.Decode(tt.in, &r); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		_, n := allocsPerDecode(tt.c, tt.in)
		t.Logf("%s: %d bytes of input allocate %d bytes (%.1f per byte)", tt.name, len(tt.in), n, float64(n)/float64(len(tt.in)))
		if max := maxAllocDense(len(tt.in)); n > max {
			t.Errorf("%s: %d bytes of input allocate %d bytes, want at most %d", tt.name, len(tt.in), n, max)
		}
	}
}

func TestTruncatedRecords(t *testing.T) {
	// Every proper prefix of a record is an error, never a panic.
	for _, c := range codecs {
		for _, tt := range roundTripRecords() {
			if tt.name == "bytes" || tt.name == "many fields" {
				continue // long; the others cover every kind
			}
			b, err := c.Append(nil, &tt.r)
			if err != nil {
				t.Fatal(err)
			}
			for n := range len(b) {
				var r Record
				err := c.Decode(b[:n], &r)
				if err == nil {
					t.Errorf("%s: %s: prefix of %d of %d bytes decoded", c, tt.name, n, len(b))
					continue
				}
				var de *DecodeError
				if !errors.As(err, &de) || de.Offset > n {
					t.Errorf("%s: %s: prefix of %d bytes: error %v", c, tt.name, n, err)
				}
			}
		}
	}
}

func TestTrailingBytes(t *testing.T) {
	r := &Record{Seq: 1, Fields: Fields{{"a", Int(1)}}}
	for _, c := range codecs {
		b, err := c.Append(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		n := len(b)
		var got Record
		if c == JSON {
			// Trailing white space is allowed in JSON.
			if err := c.Decode(append(b, " \t\r\n"...), &got); err != nil {
				t.Errorf("JSON with trailing white space: %v", err)
			}
		}
		for _, tail := range []string{"\x00", "x", "{}"} {
			in := append(b[:n:n], tail...)
			de := checkDecodeError(t, c, in, c.Decode(in, &got))
			if de.Offset != n {
				t.Errorf("%s: trailing %q: Offset = %d, want %d", c, tail, de.Offset, n)
			}
		}
	}
}

func TestJSONSurrogates(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`\ud800`, "\ufffd"},
		{`\udfff`, "\ufffd"},
		{`\udc00x`, "\ufffdx"},
		{`\ud800\u0041`, "\ufffdA"},
		{`\ud800\ud800`, "\ufffd\ufffd"},
		{`\ud800\n`, "\ufffd\n"},
		{`\ud800\`, ""}, // unterminated: error
		{`\ud83d\ude00`, "😀"},
		{`\uD83D\uDE00`, "😀"},
		{`\udbff\udfff`, "\U0010ffff"},
		{`a\ud800`, "a\ufffd"},
		{`\ufffd`, "\ufffd"},
		{`\u0000`, "\x00"},
	}
	for _, tt := range tests {
		in := []byte(`{"name":"` + tt.in + `","fields":{"k` + tt.in + `":"` + tt.in + `"}}`)
		var r Record
		err := JSON.Decode(in, &r)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s: decoded, want error", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if r.Name != tt.want || len(r.Fields) != 1 || r.Fields[0].Key != "k"+tt.want || r.Fields[0].Value.Str() != tt.want {
			t.Errorf("%s: decoded name %q, fields %s; want %q", tt.in, r.Name, fieldsString(r.Fields), tt.want)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("%s: decoded record does not validate: %v", tt.in, err)
		}
	}
}

func TestJSONHugeNumbers(t *testing.T) {
	// Field values that overflow float64 are an error (infinities are
	// written as {"$float":"+Inf"}); those that underflow decode as zero.
	for _, in := range []string{"1" + repeat("0", 10000), "-1" + repeat("0", 400), "1e999999999999"} {
		var r Record
		err := JSON.Decode([]byte(`{"fields":{"a":`+in+`}}`), &r)
		if err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("%.40s: %v, want an out-of-range error", in, err)
		}
	}
	tests := []struct {
		in   string
		want Value
	}{
		{"1e-999999999999", Float(0)},
		{"-1e-400", Float(math.Copysign(0, -1))},
		{"0." + repeat("0", 10000) + "1", Float(0)},
		{"18446744073709551615", Uint(math.MaxUint64)},
		{"-9223372036854775808", Int(math.MinInt64)},
	}
	for _, tt := range tests {
		in := []byte(`{"fields":{"a":` + tt.in + `}}`)
		var r Record
		if err := JSON.Decode(in, &r); err != nil {
			t.Errorf("%.40s: %v", tt.in, err)
			continue
		}
		if got := r.Fields[0].Value; !got.Equal(tt.want) {
			t.Errorf("%.40s: decoded %s, want %s", tt.in, valueString(got), valueString(tt.want))
		}
		if _, n := allocsPerDecode(JSON, in); n > maxAlloc(len(in)) {
			t.Errorf("%.40s: allocates %d bytes", tt.in, n)
		}
	}
}

func TestMsgpackErrorOffset(t *testing.T) {
	// A structural error is reported where the bad bytes are: here a
	// string at byte 6 claims 200 bytes that do not follow.
	in := mp(0x82, mpStr("name"), 0xd9, 200, 'x', mpStr("seq"), 0x01)
	var r Record
	de := checkDecodeError(t, Msgpack, in, Msgpack.Decode(in, &r))
	if de.Offset != 6 {
		t.Errorf("Offset = %d for a string at byte 6 running past the end: %v", de.Offset, de)
	}
	// A value of the wrong type has no offset; the message names the key, as
	// JSON's does.
	in = mp(0x82, mpStr("name"), 0xc0, mpStr("seq"), 0x01)
	de = checkDecodeError(t, Msgpack, in, Msgpack.Decode(in, &r))
	if de.Offset != -1 || !strings.Contains(de.Error(), `"name": `) {
		t.Errorf("nil name: %v (Offset %d), want Offset -1 and the field named", de, de.Offset)
	}
}

func TestJSONErrorNamesKey(t *testing.T) {
	// An error in the value of a record key names that key.
	tests := []struct{ in, key string }{
		{`{"name":"\x"}`, `"name"`},
		{`{"seq":-1,"name":"x"}`, `"seq"`},
		{`{"n\u0061me":"\u0041\x"}`, `"name"`},
	}
	for _, tt := range tests {
		var r Record
		err := JSON.Decode([]byte(tt.in), &r)
		checkDecodeError(t, JSON, []byte(tt.in), err)
		if !strings.Contains(err.Error(), tt.key) {
			t.Errorf("error for %s is %q, want it to name %s", tt.in, err, tt.key)
		}
	}
}
