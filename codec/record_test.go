package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var codecs = []Codec{Msgpack, JSON}

// recordDiff returns a description of the first fields in which got and
// want differ, or "" if they are equal. Times are compared with Equal and
// fields with Fields.Equal. TestRecordDiffCoversEveryField keeps it in step
// with the Record type.
func recordDiff(got, want *Record) string {
	var d []string
	if got.Seq != want.Seq {
		d = append(d, "Seq: got "+strconv.FormatUint(got.Seq, 10)+", want "+strconv.FormatUint(want.Seq, 10))
	}
	if got.Stream != want.Stream {
		d = append(d, "Stream: got "+strconv.Quote(got.Stream)+", want "+strconv.Quote(want.Stream))
	}
	if got.Boot != want.Boot {
		d = append(d, "Boot differs")
	}
	if got.BootCount != want.BootCount {
		d = append(d, "BootCount: got "+strconv.FormatUint(uint64(got.BootCount), 10)+", want "+strconv.FormatUint(uint64(want.BootCount), 10))
	}
	if !got.Wall.Equal(want.Wall) {
		d = append(d, "Wall: got "+got.Wall.String()+", want "+want.Wall.String())
	}
	if got.Mono != want.Mono {
		d = append(d, "Mono: got "+strconv.FormatInt(got.Mono, 10)+", want "+strconv.FormatInt(want.Mono, 10))
	}
	if got.Source != want.Source {
		d = append(d, "Source: got "+strconv.Quote(got.Source)+", want "+strconv.Quote(want.Source))
	}
	if got.Level != want.Level {
		d = append(d, "Level: got "+got.Level.String()+", want "+want.Level.String())
	}
	if got.Name != want.Name {
		d = append(d, "Name: got "+strconv.Quote(got.Name)+", want "+strconv.Quote(want.Name))
	}
	if !got.Fields.Equal(want.Fields) {
		d = append(d, "Fields: got "+fieldsString(got.Fields)+", want "+fieldsString(want.Fields))
	}
	return strings.Join(d, "; ")
}

// fieldsString formats fs for failure messages.
func fieldsString(fs Fields) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(f.Key))
		b.WriteByte(':')
		b.WriteString(valueString(f.Value))
	}
	b.WriteByte('}')
	return b.String()
}

func valueString(v Value) string {
	switch v.Kind() {
	case KindInt:
		return strconv.FormatInt(v.Int(), 10)
	case KindUint:
		return strconv.FormatUint(v.Uint(), 10) + "u"
	case KindFloat:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64) + "f"
	case KindBool:
		return strconv.FormatBool(v.Bool())
	case KindString:
		return strconv.Quote(v.Str())
	case KindBytes:
		return "bytes" + strconv.Quote(v.Str())
	case KindList:
		var b strings.Builder
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(valueString(v.Index(i)))
		}
		b.WriteByte(']')
		return b.String()
	case KindMap:
		return fieldsString(v.sub)
	}
	return v.Kind().String()
}

func TestRecordDiffCoversEveryField(t *testing.T) {
	// recordDiff must compare every field of Record; update it (and this
	// table) when Record gains a field.
	if n := reflect.TypeFor[Record]().NumField(); n != 10 {
		t.Fatalf("Record has %d fields; recordDiff knows 10", n)
	}
	base := func() *Record {
		return &Record{Seq: 1, Stream: "s", Boot: BootID{1}, BootCount: 1, Wall: time.Unix(1, 0), Mono: 1,
			Source: "src", Level: LevelInfo, Name: "n", Fields: Fields{{"a", Int(1)}}}
	}
	mutations := []struct {
		field  string
		mutate func(*Record)
	}{
		{"Seq", func(r *Record) { r.Seq++ }},
		{"Stream", func(r *Record) { r.Stream += "x" }},
		{"Boot", func(r *Record) { r.Boot[15] = 1 }},
		{"BootCount", func(r *Record) { r.BootCount++ }},
		{"Wall", func(r *Record) { r.Wall = r.Wall.Add(1) }},
		{"Mono", func(r *Record) { r.Mono++ }},
		{"Source", func(r *Record) { r.Source += "x" }},
		{"Level", func(r *Record) { r.Level++ }},
		{"Name", func(r *Record) { r.Name += "x" }},
		{"Fields", func(r *Record) { r.Fields = Fields{{"a", Uint(1 << 63)}} }},
	}
	if len(mutations) != reflect.TypeFor[Record]().NumField() {
		t.Fatalf("%d mutations for %d fields", len(mutations), reflect.TypeFor[Record]().NumField())
	}
	if d := recordDiff(base(), base()); d != "" {
		t.Fatalf("equal records differ: %s", d)
	}
	// The same instant in another location is the same wall time.
	r := base()
	r.Wall = r.Wall.In(time.FixedZone("X", 3600))
	if d := recordDiff(r, base()); d != "" {
		t.Errorf("same instant in another zone: %s", d)
	}
	for _, m := range mutations {
		r := base()
		m.mutate(r)
		if d := recordDiff(r, base()); !strings.HasPrefix(d, m.field) {
			t.Errorf("mutating %s: recordDiff = %q", m.field, d)
		}
	}
}

// deepList returns a value of n nested lists around v.
func deepList(n int, v Value) Value {
	for range n {
		v = List(v)
	}
	return v
}

// deepMap returns a value of n nested single-entry maps around v.
func deepMap(n int, v Value) Value {
	for range n {
		v = Map(Field{"k", v})
	}
	return v
}

func seqBytes(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i * 7)
	}
	return p
}

var (
	wall2026 = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)
	bootA    = BootID{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xff}
)

// roundTripRecords returns records that are valid and must survive both
// encodings unchanged. The fuzz targets are seeded with them too.
func roundTripRecords() []struct {
	name string
	r    Record
} {
	type tc = struct {
		name string
		r    Record
	}
	rec := func(fs ...Field) Record {
		return Record{Seq: 7, Stream: "metrics", Boot: bootA, BootCount: 2, Wall: wall2026, Mono: 123456789,
			Source: "test", Level: LevelInfo, Name: "t", Fields: fs}
	}
	f := func(k string, v Value) Field { return Field{k, v} }
	tests := []tc{
		{"zero", Record{}},
		{"empty fields", rec()},
		{"empty non-nil fields", rec(Fields{}...)},
		{"every kind", rec(
			f("int", Int(-42)), f("uint", Uint(math.MaxUint64)), f("float", Float(2.5)),
			f("true", Bool(true)), f("false", Bool(false)), f("string", String("hello")),
			f("bytes", Bytes([]byte{1, 2, 3})), f("list", List(Int(1), String("two"), Float(3.5))),
			f("map", Map(Field{"a", Int(1)}, Field{"b", Bool(false)})))},
		{"int extremes", rec(
			f("min", Int(math.MinInt64)), f("max", Int(math.MaxInt64)), f("zero", Int(0)), f("m1", Int(-1)),
			f("i8", Int(-128)), f("i16", Int(-32769)), f("u8", Int(255)), f("u32", Int(1<<32)))},
		{"uint", rec(
			f("max", Uint(math.MaxUint64)), f("min uint", Uint(1<<63)), f("small", Uint(5)),
			f("maxint", Uint(math.MaxInt64)))},
		{"floats", rec(
			f("zero", Float(0)), f("negzero", Float(math.Copysign(0, -1))), f("1e-7", Float(1e-7)),
			f("1e21", Float(1e21)), f("1e20", Float(1e20)), f("1e300", Float(1e300)), f("-1e300", Float(-1e300)),
			f("denormal", Float(math.SmallestNonzeroFloat64)), f("maxfloat", Float(math.MaxFloat64)),
			f("nan", Float(math.NaN())), f("inf", Float(math.Inf(1))), f("-inf", Float(math.Inf(-1))),
			f("third", Float(1.0/3)), f("one", Float(1)), f("-1.5e-6", Float(-1.5e-6)), f("2^53+", Float(1<<53+2)))},
		{"strings", rec(
			f("empty", String("")), f("quotes", String(`say "hi"`)), f("backslash", String(`C:\dir\`)),
			f("controls", String("\x00\x01\x08\x0c\x1f\x7f\t\r")), f("newline", String("a\nb\n")),
			f("u2028", String("line\u2028sep\u2029")), f("utf8", String("héllo, 世界")),
			f("emoji", String("😀👍🏽")), f("slash", String("</script>")), f("fffd", String("\ufffd")))},
		{"bytes", rec(
			f("empty", Bytes(nil)), f("one", Bytes([]byte{0xff})), f("two", Bytes([]byte{0, 0xfe})),
			f("three", Bytes([]byte{1, 2, 3})), f("300", Bytes(seqBytes(300))), f("70000", Bytes(seqBytes(70000))))},
		{"nested", rec(
			f("list of maps", List(Map(Field{"a", Int(1)}), Map(), List())),
			f("map of lists", Map(Field{"x", List(Int(1), List(Int(2)))}, Field{"y", List()})),
			f("empty list", List()), f("empty map", Map()))},
		{"deep lists", rec(f("l", deepList(MaxDepth, Int(1))), f("l0", deepList(MaxDepth, String("x"))))},
		{"deep maps", rec(f("m", deepMap(MaxDepth, Bool(true))))},
		{"deep mixed", rec(f("x", List(deepMap(MaxDepth-2, List()))))},
		{"keys", rec(f("a b", Int(1)), f("ключ", Int(2)), f(`"q"`, Int(3)), f("a$", Int(4)), f(strings.Repeat("k", MaxKeyLen), Int(5)))},
		{"wall 1970", Record{Wall: time.Unix(0, 0)}},
		{"wall 1970 nanos", Record{Wall: time.Unix(0, 1)}},
		{"wall before 1970", Record{Wall: time.Unix(0, -1)}},
		{"wall 2026", Record{Wall: wall2026}},
		{"wall 2026 zone", Record{Wall: wall2026.In(time.FixedZone("NPT", 5*3600+45*60))}},
		{"wall zero", Record{Wall: time.Time{}}},
		{"wall int64 ns min", Record{Wall: time.Unix(0, math.MinInt64)}},
		{"wall int64 ns max", Record{Wall: time.Unix(0, math.MaxInt64)}},
		{"wall year 1 plus 1 ns", Record{Wall: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)}},
		{"wall year 0", Record{Wall: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"wall year -1", Record{Wall: time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
		{"wall year -5", Record{Wall: time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC)}},
		{"wall year 9999", Record{Wall: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
		{"wall year 10000", Record{Wall: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"wall year 12000", Record{Wall: time.Date(12000, 2, 29, 12, 0, 0, 5, time.UTC)}},
		{"wall seconds min", Record{Wall: time.Unix(math.MinInt64, 0)}},
		{"wall seconds max", Record{Wall: time.Unix(math.MaxInt64, 999999999)}},
		{"header extremes", Record{Seq: math.MaxUint64, Stream: strings.Repeat("z", MaxStreamLen), Boot: BootID{15: 1},
			BootCount: math.MaxUint32, Mono: math.MinInt64, Source: "src \"q\"\n", Name: "name\t\u2028😀"}},
		{"mono max", Record{Mono: math.MaxInt64}},
		{"many fields", rec(manyFields(MaxFields)...)},
	}
	for l := LevelEmerg; l <= LevelDebug; l++ {
		r := rec(f("level", Int(int64(l))))
		r.Level = l
		tests = append(tests, tc{"level " + l.String(), r})
	}
	return tests
}

func manyFields(n int) Fields {
	fs := make(Fields, n)
	for i := range fs {
		fs[i] = Field{"f" + strconv.Itoa(i), Int(int64(i))}
	}
	return fs
}

func TestRoundTrip(t *testing.T) {
	for _, c := range codecs {
		var reused Record // decoded into for every record, to test storage reuse
		for _, tt := range roundTripRecords() {
			t.Run(c.String()+"/"+tt.name, func(t *testing.T) {
				want := &tt.r
				if err := want.Validate(); err != nil {
					t.Fatalf("Validate: %v", err)
				}
				b, err := c.Append([]byte("prefix"), want)
				if err != nil {
					t.Fatalf("Append: %v", err)
				}
				if !bytes.HasPrefix(b, []byte("prefix")) {
					t.Fatalf("Append did not append: %q", b)
				}
				b = b[len("prefix"):]
				if c == JSON {
					checkJSONText(t, b)
				}
				var got Record
				if err := c.Decode(b, &got); err != nil {
					t.Fatalf("Decode: %v\n%q", err, b)
				}
				if d := recordDiff(&got, want); d != "" {
					t.Fatalf("round trip: %s", d)
				}
				if err := c.Decode(b, &reused); err != nil {
					t.Fatalf("Decode into reused record: %v", err)
				}
				if d := recordDiff(&reused, want); d != "" {
					t.Fatalf("round trip into reused record: %s", d)
				}
				// Encoding is deterministic: the decoded record encodes
				// to the same bytes.
				b2, err := c.Append(nil, &got)
				if err != nil {
					t.Fatalf("Append decoded: %v", err)
				}
				if !bytes.Equal(b, b2) {
					t.Errorf("re-encoding differs:\n%q\n%q", b, b2)
				}
			})
		}
	}
}

// checkJSONText checks the properties every JSON record has.
func checkJSONText(t *testing.T, b []byte) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte(`{"seq":`)) {
		t.Errorf("JSON does not start with {\"seq\": %q", b)
	}
	if i := bytes.IndexAny(b, "\n\r"); i >= 0 {
		t.Errorf("JSON holds a raw line break at byte %d: %q", i, b)
	}
	if !json.Valid(b) {
		t.Errorf("invalid JSON: %q", b)
	}
}

func TestRoundTripKinds(t *testing.T) {
	// Check the decoded kinds and values directly, not only through Equal.
	tests := []struct {
		v    Value
		kind Kind
	}{
		{Int(math.MinInt64), KindInt},
		{Int(math.MaxInt64), KindInt},
		{Uint(5), KindInt},
		{Uint(math.MaxInt64), KindInt},
		{Uint(math.MaxInt64 + 1), KindUint},
		{Uint(math.MaxUint64), KindUint},
		{Float(0), KindFloat},
		{Float(1), KindFloat},
		{Float(1e21), KindFloat},
		{Bool(true), KindBool},
		{String("1"), KindString},
		{Bytes([]byte("1")), KindBytes},
		{List(), KindList},
		{Map(), KindMap},
	}
	for _, c := range codecs {
		for _, tt := range tests {
			if k := tt.v.Kind(); k != tt.kind {
				t.Errorf("%s: Kind() = %v, want %v", valueString(tt.v), k, tt.kind)
			}
			r := &Record{Fields: Fields{{"v", tt.v}}}
			b, err := c.Append(nil, r)
			if err != nil {
				t.Fatal(err)
			}
			var got Record
			if err := c.Decode(b, &got); err != nil {
				t.Fatalf("%s: Decode %s: %v", c, valueString(tt.v), err)
			}
			g := got.Fields[0].Value
			if g.Kind() != tt.kind || !g.Equal(tt.v) || g.Uint() != tt.v.Uint() {
				t.Errorf("%s: %s decoded as %s (%v)", c, valueString(tt.v), valueString(g), g.Kind())
			}
		}
		// The sign of zero is kept.
		r := &Record{Fields: Fields{{"z", Float(math.Copysign(0, -1))}, {"p", Float(0)}}}
		b, _ := c.Append(nil, r)
		var got Record
		if err := c.Decode(b, &got); err != nil {
			t.Fatal(err)
		}
		if z, p := got.Fields[0].Value.Float(), got.Fields[1].Value.Float(); !math.Signbit(z) || z != 0 || math.Signbit(p) {
			t.Errorf("%s: zeros decoded as %v, %v (signbit %v, %v)", c, z, p, math.Signbit(z), math.Signbit(p))
		}
	}
}

func TestValueEqual(t *testing.T) {
	negZero := math.Copysign(0, -1)
	tests := []struct {
		a, b Value
		want bool
	}{
		{Float(math.NaN()), Float(math.NaN()), true},
		{Float(math.NaN()), Float(math.Float64frombits(0x7ff0000000000001)), true},
		{Float(0), Float(negZero), false},
		{Float(negZero), Float(negZero), true},
		{Float(1), Int(1), false},
		{Int(1), Uint(1), true},
		{Int(-1), Uint(math.MaxUint64), false},
		{String("a"), Bytes([]byte("a")), false},
		{List(Int(1)), List(Int(1)), true},
		{List(Int(1)), List(Int(1), Int(2)), false},
		{List(), Map(), false},
		{Map(Field{"a", Int(1)}), Map(Field{"b", Int(1)}), false},
		{Map(Field{"a", Float(math.NaN())}), Map(Field{"a", Float(math.NaN())}), true},
		{Value{}, Value{}, true},
		{Bool(true), Bool(false), false},
	}
	for _, tt := range tests {
		if got := tt.a.Equal(tt.b); got != tt.want {
			t.Errorf("%s.Equal(%s) = %v, want %v", valueString(tt.a), valueString(tt.b), got, tt.want)
		}
		if got := tt.b.Equal(tt.a); got != tt.want {
			t.Errorf("%s.Equal(%s) = %v, want %v", valueString(tt.b), valueString(tt.a), got, tt.want)
		}
	}
}

func TestJSONText(t *testing.T) {
	// The JSON text of values, as docs/FORMAT.md specifies it.
	tests := []struct {
		v    Value
		want string
	}{
		{Int(-3), `-3`},
		{Int(math.MinInt64), `-9223372036854775808`},
		{Uint(math.MaxUint64), `18446744073709551615`},
		{Float(0), `0.0`},
		{Float(math.Copysign(0, -1)), `-0.0`},
		{Float(1), `1.0`},
		{Float(12.5), `12.5`},
		{Float(1e-6), `0.000001`},
		{Float(1e-7), `1e-7`},
		{Float(1e20), `100000000000000000000.0`},
		{Float(1e21), `1e+21`},
		{Float(1e300), `1e+300`},
		{Float(-1e-300), `-1e-300`},
		{Float(math.SmallestNonzeroFloat64), `5e-324`},
		{Float(math.NaN()), `{"$float":"NaN"}`},
		{Float(math.Inf(1)), `{"$float":"+Inf"}`},
		{Float(math.Inf(-1)), `{"$float":"-Inf"}`},
		{Bool(false), `false`},
		{String("a\"\\\n\r\t\x00\x1f\x7f\u2028é"), `"a\"\\\n\r\t\u0000\u001f` + "\x7f\u2028é" + `"`},
		{String("a\xffb\xc3"), `"a\ufffdb\ufffd"`},
		{Bytes(nil), `{"$base64":""}`},
		{Bytes([]byte{0xfb, 0xff}), `{"$base64":"+/8="}`},
		{List(Int(1), Map()), `[1,{}]`},
		{Map(Field{"k", List()}), `{"k":[]}`},
	}
	for _, tt := range tests {
		b, err := AppendJSON(nil, &Record{Fields: Fields{{"v", tt.v}}})
		if err != nil {
			t.Fatal(err)
		}
		suffix := `,"fields":{"v":` + tt.want + `}}`
		if !bytes.HasSuffix(b, []byte(suffix)) {
			t.Errorf("JSON of %s = %s, want suffix %s", valueString(tt.v), b, suffix)
		}
	}
}

func TestJSONMatchesEncodingJSON(t *testing.T) {
	// encoding/json must read the same header, strings, numbers and bytes
	// back from our JSON.
	for _, tt := range roundTripRecords() {
		r := &tt.r
		b, err := AppendJSON(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Seq    uint64
			Stream string
			Boot   string
			Bootn  uint32
			Wall   string
			Mono   int64
			Src    string
			Level  string
			Name   string
			Fields map[string]json.RawMessage
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%s: encoding/json: %v\n%s", tt.name, err, b)
		}
		if m.Seq != r.Seq || m.Stream != r.Stream || m.Bootn != r.BootCount || m.Mono != r.Mono ||
			m.Src != r.Source || m.Level != r.Level.String() || m.Name != r.Name {
			t.Errorf("%s: encoding/json read header %+v", tt.name, m)
		}
		if y := r.Wall.UTC().Year(); y < 0 || y > 9999 {
			// Signed years, which Format does not write: TestAppendWall.
		} else if want := r.Wall.UTC().Format(WallLayout); m.Wall != want {
			t.Errorf("%s: wall = %q, want %q", tt.name, m.Wall, want)
		}
		if len(m.Fields) != len(r.Fields) {
			t.Errorf("%s: encoding/json read %d fields, want %d", tt.name, len(m.Fields), len(r.Fields))
		}
		for _, f := range r.Fields {
			raw := m.Fields[f.Key]
			switch v := f.Value; v.Kind() {
			case KindString:
				var s string
				if err := json.Unmarshal(raw, &s); err != nil || s != v.Str() {
					t.Errorf("%s: field %q: encoding/json read %q, %v; want %q", tt.name, f.Key, s, err, v.Str())
				}
			case KindBytes:
				var tag map[string]string
				if err := json.Unmarshal(raw, &tag); err != nil || tag["$base64"] != base64.StdEncoding.EncodeToString([]byte(v.Str())) {
					t.Errorf("%s: field %q: %s is not standard base64 of %q", tt.name, f.Key, raw, v.Str())
				}
			case KindFloat:
				if fv := v.Float(); !math.IsInf(fv, 0) && !math.IsNaN(fv) {
					got, err := strconv.ParseFloat(string(raw), 64)
					if err != nil || math.Float64bits(got) != math.Float64bits(fv) {
						t.Errorf("%s: field %q: %s reads as %v, want %v", tt.name, f.Key, raw, got, fv)
					}
				}
			case KindInt, KindUint:
				if string(raw) != valueString(v) && string(raw)+"u" != valueString(v) {
					t.Errorf("%s: field %q: %s, want %s", tt.name, f.Key, raw, valueString(v))
				}
			}
		}
	}
}

func TestAppendTooDeep(t *testing.T) {
	tests := []struct {
		name string
		v    Value
	}{
		{"list", deepList(MaxDepth+1, Int(1))},
		{"map", deepMap(MaxDepth+1, Int(1))},
		{"empty list", deepList(MaxDepth+1, List())},
		{"mixed", List(deepMap(MaxDepth, List()))},
		{"second entry", Map(Field{"ok", Int(1)}, Field{"deep", deepList(MaxDepth, List())})},
	}
	for _, tt := range tests {
		r := &Record{Fields: Fields{{"a", Int(1)}, {"x", tt.v}}}
		for _, c := range codecs {
			if _, err := c.Append(nil, r); !errors.Is(err, ErrTooDeep) {
				t.Errorf("%s: %s: Append error = %v, want ErrTooDeep", tt.name, c, err)
			}
		}
		if err := r.Validate(); !errors.Is(err, ErrTooDeep) {
			t.Errorf("%s: Validate = %v, want ErrTooDeep", tt.name, err)
		}
	}
}

func TestAppendInvalidValue(t *testing.T) {
	for _, fs := range []Fields{
		{{"a", Value{}}},
		{{"a", List(Int(1), Value{})}},
		{{"a", Map(Field{"b", Value{}})}},
	} {
		r := &Record{Fields: fs}
		for _, c := range codecs {
			if _, err := c.Append(nil, r); !errors.Is(err, ErrInvalidValue) {
				t.Errorf("%s: Append(%s) error = %v, want ErrInvalidValue", c, fieldsString(fs), err)
			}
		}
		if r.Validate() == nil {
			t.Errorf("Validate(%s) = nil, want error", fieldsString(fs))
		}
	}
}

func TestUnknownCodec(t *testing.T) {
	c := Codec(3)
	if s := c.String(); s != "codec(3)" {
		t.Errorf("String() = %q", s)
	}
	if _, err := c.Append(nil, &Record{}); err == nil {
		t.Error("Append with unknown codec succeeded")
	}
	if err := c.Decode([]byte("{}"), &Record{}); err == nil {
		t.Error("Decode with unknown codec succeeded")
	}
}

func TestDecodeDoesNotAliasInput(t *testing.T) {
	// Rings reuse their read buffers: a decoded record must own its data.
	for _, c := range codecs {
		for _, tt := range roundTripRecords() {
			b, err := c.Append(nil, &tt.r)
			if err != nil {
				t.Fatal(err)
			}
			var got Record
			if err := c.Decode(b, &got); err != nil {
				t.Fatal(err)
			}
			for i := range b {
				b[i] = 'X'
			}
			if d := recordDiff(&got, &tt.r); d != "" {
				t.Errorf("%s: %s: decoded record changed with its input: %s", c, tt.name, d)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range roundTripRecords() {
		if err := tt.r.Validate(); err != nil {
			t.Errorf("%s: Validate = %v", tt.name, err)
		}
	}
	ok := func() *Record { return &Record{Stream: "metrics", Level: LevelInfo, Fields: Fields{{"a", Int(1)}}} }
	bad := []struct {
		name   string
		mutate func(*Record)
	}{
		{"level 8", func(r *Record) { r.Level = 8 }},
		{"level 255", func(r *Record) { r.Level = 255 }},
		{"key $", func(r *Record) { r.Fields[0].Key = "$x" }},
		{"key $float", func(r *Record) { r.Fields[0].Key = "$float" }},
		{"empty key", func(r *Record) { r.Fields[0].Key = "" }},
		{"long key", func(r *Record) { r.Fields[0].Key = strings.Repeat("k", MaxKeyLen+1) }},
		{"duplicate key", func(r *Record) { r.Fields = append(r.Fields, Field{"b", Int(2)}, Field{"a", Int(3)}) }},
		{"bad utf8 key", func(r *Record) { r.Fields[0].Key = "a\xff" }},
		{"bad utf8 name", func(r *Record) { r.Name = "\xc3" }},
		{"bad utf8 source", func(r *Record) { r.Source = "src\xed\xa0\x80" }}, // encoded surrogate
		{"bad utf8 string", func(r *Record) { r.Fields[0].Value = String("\xff") }},
		{"bad utf8 in list", func(r *Record) { r.Fields[0].Value = List(String("ok"), String("\x80")) }},
		{"bad utf8 in map", func(r *Record) { r.Fields[0].Value = Map(Field{"k", String("\xfe")}) }},
		{"$ key in map", func(r *Record) { r.Fields[0].Value = Map(Field{"$base64", String("")}) }},
		{"empty key in map", func(r *Record) { r.Fields[0].Value = Map(Field{"", Int(1)}) }},
		{"duplicate key in map", func(r *Record) { r.Fields[0].Value = Map(Field{"k", Int(1)}, Field{"k", Int(1)}) }},
		{"invalid value", func(r *Record) { r.Fields[0].Value = Value{} }},
		{"too deep list", func(r *Record) { r.Fields[0].Value = deepList(MaxDepth+1, Int(1)) }},
		{"too deep map", func(r *Record) { r.Fields[0].Value = deepMap(MaxDepth+1, Int(1)) }},
		{"too many fields", func(r *Record) { r.Fields = manyFields(MaxFields + 1) }},
		{"too long list", func(r *Record) { r.Fields[0].Value = Map(manyFields(MaxFields + 1)...) }},
	}
	if err := ok().Validate(); err != nil {
		t.Fatalf("base record: %v", err)
	}
	for _, tt := range bad {
		r := ok()
		tt.mutate(r)
		if err := r.Validate(); err == nil {
			t.Errorf("%s: Validate = nil, want error", tt.name)
		}
	}
}

func TestValidStream(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"metrics", true},
		{"a", true},
		{"0", true},
		{"a.b-c_d", true},
		{"9lives", true},
		{"a..", true},
		{strings.Repeat("x", MaxStreamLen), true},
		{"", false},
		{strings.Repeat("x", MaxStreamLen+1), false},
		{"Metrics", false},
		{"_a", false},
		{".a", false},
		{"-a", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"a b", false},
		{"a\x00", false},
		{"é", false},
		{"a\\b", false},
		{"a:b", false},
	}
	for _, tt := range tests {
		if got := ValidStream(tt.s); got != tt.want {
			t.Errorf("ValidStream(%q) = %v, want %v", tt.s, got, tt.want)
		}
		r := &Record{Stream: tt.s}
		wantErr := !tt.want && tt.s != "" // an empty stream is allowed in a record
		if err := r.Validate(); (err != nil) != wantErr {
			t.Errorf("Validate(Stream: %q) = %v, want error %v", tt.s, err, wantErr)
		}
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		s    string
		want Level
		ok   bool
	}{
		{"emerg", LevelEmerg, true},
		{"alert", LevelAlert, true},
		{"crit", LevelCrit, true},
		{"err", LevelErr, true},
		{"warning", LevelWarning, true},
		{"notice", LevelNotice, true},
		{"info", LevelInfo, true},
		{"debug", LevelDebug, true},
		{"emergency", LevelEmerg, true},
		{"critical", LevelCrit, true},
		{"error", LevelErr, true},
		{"warn", LevelWarning, true},
		{"0", LevelEmerg, true},
		{"3", LevelErr, true},
		{"7", LevelDebug, true},
		{"8", 0, false},
		{"9", 0, false},
		{"-1", 0, false},
		{"07", 0, false},
		{"", 0, false},
		{"INFO", 0, false},
		{"Info", 0, false},
		{" info", 0, false},
		{"info ", 0, false},
		{"panic", 0, false},
		{"level(8)", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseLevel(tt.s)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", tt.s, got, err, tt.want)
		}
		if !tt.ok && err == nil {
			t.Errorf("ParseLevel(%q) = %v, want error", tt.s, got)
		}
	}
	// String and ParseLevel are inverses.
	for l := LevelEmerg; l <= LevelDebug; l++ {
		if got, err := ParseLevel(l.String()); err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l.String(), got, err)
		}
	}
	if s := Level(8).String(); s != "level(8)" {
		t.Errorf("Level(8).String() = %q", s)
	}
}

func TestParseCodec(t *testing.T) {
	tests := []struct {
		s    string
		want Codec
		ok   bool
	}{
		{"msgpack", Msgpack, true},
		{"json", JSON, true},
		{"JSON", 0, false},
		{"MsgPack", 0, false},
		{"", 0, false},
		{"mp", 0, false},
		{"json ", 0, false},
		{"codec(3)", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseCodec(tt.s)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("ParseCodec(%q) = %v, %v; want %v", tt.s, got, err, tt.want)
		}
		if !tt.ok && err == nil {
			t.Errorf("ParseCodec(%q) = %v, want error", tt.s, got)
		}
		if tt.ok && got.String() != tt.s {
			t.Errorf("ParseCodec(%q).String() = %q", tt.s, got.String())
		}
	}
	// The codec numbers are part of the on-disk format.
	if Msgpack != 1 || JSON != 2 {
		t.Errorf("Msgpack = %d, JSON = %d; want 1, 2", Msgpack, JSON)
	}
}

func TestKindString(t *testing.T) {
	want := []string{"invalid", "int", "uint", "float", "bool", "string", "bytes", "list", "map", "kind(9)"}
	for k := KindInvalid; k <= KindMap+1; k++ {
		if got := k.String(); got != want[k] {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want[k])
		}
	}
}

func TestJSONDecodeForms(t *testing.T) {
	// Inputs other than our own encoding that the JSON decoder accepts:
	// any key order, white space, unknown keys, other level and time forms.
	tests := []struct {
		in   string
		want Record
	}{
		{`{}`, Record{}},
		{" \t\r\n{ \"seq\" : 5 , \"name\" : \"x\" } \n", Record{Seq: 5, Name: "x"}},
		{`{"name":"x","seq":5}`, Record{Seq: 5, Name: "x"}},
		{`{"future":{"a":[1,null,true,"s",{"b":null}]},"seq":1}`, Record{Seq: 1}},
		{`{"future":null,"seq":1}`, Record{Seq: 1}},
		{`{"future":[1e999,-0.0e-999,184467440737095516160],"seq":1}`, Record{Seq: 1}}, // skipped, not converted
		{`{"level":3}`, Record{Level: LevelErr}},
		{`{"level":"warn"}`, Record{Level: LevelWarning}},
		{`{"level":"7"}`, Record{Level: LevelDebug}},
		{`{"wall":"2026-03-14T16:09:26.535897932+01:00"}`, Record{Wall: wall2026}},
		{`{"wall":"2026-03-14T15:09:26.5358979320Z"}`, Record{Wall: wall2026}},
		{`{"wall":"1970-01-01T00:00:00Z"}`, Record{Wall: time.Unix(0, 0)}},
		{`{"boot":"DEADBEEF0102030405060708090A0BFF"}`, Record{Boot: bootA}},
		{`{"mono":-0}`, Record{}},
		{`{"fields":{"a":1E2,"b":-0.0e0,"c":-0,"d":"\u00e9\/\ud83d\ude00"}}`, Record{Fields: Fields{
			{"a", Float(100)}, {"b", Float(math.Copysign(0, -1))}, {"c", Int(0)}, {"d", String("é/😀")}}}},
		{`{"fields":{"a":{"$base64":"AQID"},"b":{"$float":"-Inf"},"c":{ "$float" : "NaN" }}}`, Record{Fields: Fields{
			{"a", Bytes([]byte{1, 2, 3})}, {"b", Float(math.Inf(-1))}, {"c", Float(math.NaN())}}}},
		{`{"fields":{"a":{"\u0024float":"+Inf"}}}`, Record{Fields: Fields{{"a", Float(math.Inf(1))}}}},
		{`{"fields":{"big":18446744073709551616,"neg":-9223372036854775809}}`, Record{Fields: Fields{
			{"big", Float(18446744073709551616)}, {"neg", Float(-9223372036854775809)}}}},
	}
	for _, tt := range tests {
		if tt.want.Wall.IsZero() {
			tt.want.Wall = Epoch // missing
		}
		var got Record
		if err := JSON.Decode([]byte(tt.in), &got); err != nil {
			t.Errorf("Decode(%s): %v", tt.in, err)
			continue
		}
		if d := recordDiff(&got, &tt.want); d != "" {
			t.Errorf("Decode(%s): %s", tt.in, d)
		}
	}
}

func TestDecodeMissingKeys(t *testing.T) {
	// FORMAT.md 4: a missing key decodes as zero, and a missing wall as
	// timestamp 0 (1970), not Go's zero time, whatever the record decoded
	// into held before.
	old := func() *Record {
		return &Record{Seq: 9, Stream: "old", Boot: bootA, BootCount: 3, Wall: wall2026, Mono: 5, Source: "old",
			Name: "old", Level: LevelDebug, Fields: Fields{{"old", Int(1)}}}
	}
	inputs := map[Codec][][]byte{
		JSON:    {[]byte(`{}`), []byte(`{"seq":1}`)},
		Msgpack: {{0x80}, {0x81, 0xa3, 's', 'e', 'q', 0x01}},
	}
	for _, c := range codecs {
		for i, in := range inputs[c] {
			want := &Record{Seq: uint64(i), Wall: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)}
			for _, r := range []*Record{{}, old()} {
				if err := c.Decode(in, r); err != nil {
					t.Fatalf("%s: Decode(%q): %v", c, in, err)
				}
				if d := recordDiff(r, want); d != "" || r.Wall.Unix() != 0 || r.Wall.Nanosecond() != 0 {
					t.Errorf("%s: Decode(%q): %s", c, in, d)
				}
				if r.WallSet() {
					t.Errorf("%s: Decode(%q): WallSet = true for a missing wall", c, in)
				}
			}
		}
	}
	if (&Record{}).WallSet() || !(&Record{Wall: time.Unix(0, 1)}).WallSet() {
		t.Error("WallSet: Go's zero time is not set; 1 ns after 1970 is")
	}
}

func TestRoundTripTaggedAtMaxDepth(t *testing.T) {
	// JSON writes NaN, infinities and bytes as one-key objects; at the
	// deepest level allowed they are still values, not a level of nesting.
	tests := []struct {
		name string
		v    Value
	}{
		{"nan", Float(math.NaN())},
		{"inf", Float(math.Inf(1))},
		{"bytes", Bytes([]byte("abc"))},
		{"finite float", Float(1.5)},
	}
	for _, tt := range tests {
		for _, c := range codecs {
			t.Run(tt.name+"/"+c.String(), func(t *testing.T) {
				want := &Record{Fields: Fields{{"l", deepList(MaxDepth, tt.v)}, {"m", deepMap(MaxDepth, tt.v)}}}
				if err := want.Validate(); err != nil {
					t.Fatalf("Validate: %v", err)
				}
				b, err := c.Append(nil, want)
				if err != nil {
					t.Fatalf("Append: %v", err)
				}
				var got Record
				if err := c.Decode(b, &got); err != nil {
					t.Fatalf("Decode: %v\n%s", err, b)
				}
				if d := recordDiff(&got, want); d != "" {
					t.Errorf("round trip: %s", d)
				}
			})
		}
	}
}

func TestValueAccessors(t *testing.T) {
	if v := Int(-2); v.Int() != -2 || v.Uint() != math.MaxUint64-1 {
		t.Errorf("Int(-2): Int() = %d, Uint() = %d", v.Int(), v.Uint())
	}
	if v := Bool(true); !v.Bool() || Bool(false).Bool() {
		t.Error("Bool round trip")
	}
	if v := Float(-1.25); v.Float() != -1.25 {
		t.Errorf("Float(-1.25).Float() = %v", v.Float())
	}
	p := []byte("abc")
	v := Bytes(p)
	p[0] = 'X'
	if v.Str() != "abc" {
		t.Errorf("Bytes did not copy its argument: %q", v.Str())
	}
	l := List(Int(1), String("b"))
	if l.Len() != 2 || l.Index(0).Int() != 1 || l.Index(1).Str() != "b" || l.Entry(1).Key != "" {
		t.Errorf("List: Len %d, elements %s", l.Len(), valueString(l))
	}
	m := Map(Field{"x", Bool(true)}, Field{"y", Int(2)})
	if m.Len() != 2 || m.Entry(1).Key != "y" || m.Index(1).Int() != 2 || !m.Entry(0).Value.Bool() {
		t.Errorf("Map: %s", valueString(m))
	}
	if (Value{}).Kind() != KindInvalid || List().Len() != 0 {
		t.Error("zero values")
	}
}

func TestJSONInvalidLevel(t *testing.T) {
	// AppendJSON writes a level it has no name for as a number, and the
	// decoder refuses it, as Validate does.
	r := &Record{Level: 8}
	b, err := AppendJSON(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`,"level":8,`)) || !json.Valid(b) {
		t.Errorf("level 8 written as %s", b)
	}
	var got Record
	checkDecodeError(t, JSON, b, JSON.Decode(b, &got))
	if r.Validate() == nil {
		t.Error("Validate accepts level 8")
	}
}
