package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

// marshal is encoding/json's text for v: what this package must write.
func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var texts = []string{
	"", "plain", `"quoted"`, `back\slash`, "<script>&amp;</script>",
	"\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f", "é ü 日本 🙂", "\u2028 \u2029 \u2027 \u202a",
	"bad \xff utf-8 \xc3", "\xed\xa0\x80 a surrogate", "cut short \xe2\x82",
}

func TestAppendString(t *testing.T) {
	for _, s := range texts {
		if got, want := string(AppendString([]byte("x"), s)), "x"+marshal(t, s); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1.5, 3505.2631578947367, 1e6, 1e20, 1e21, 123456789e15,
		1e-6, 9.99e-7, 1e-7, -1e-7, 5e-324, math.MaxFloat64, -math.MaxFloat64, 1e100, 1e-100, math.SmallestNonzeroFloat64} {
		if got, want := string(AppendFloat(nil, f)), marshal(t, f); got != want {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := string(AppendFloat(nil, f)); got != "null" {
			t.Errorf("AppendFloat(%v) = %s, want null", f, got)
		}
	}
}

func TestAppendArray(t *testing.T) {
	elem := func(n *int, b []byte) []byte { return strconv.AppendInt(b, int64(*n), 10) }
	for _, s := range [][]int{nil, {}, {1}, {1, -2, 3}} {
		if got, want := string(AppendArray(nil, s, elem)), marshal(t, s); got != want {
			t.Errorf("AppendArray(%#v) = %s, want %s", s, got, want)
		}
	}
}

var documents = []string{
	`1`, `"s"`, `null`, `[]`, `{}`, `[[]]`, `{"a":{}}`, `[1,2,[3,{}],{"a":[]}]`,
	`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
	`{"a:b":"[{,}]","c\"d":"\\","e":"\\\"","f":["]",":",","]}`,
	`[{"stream":"m","gaps":null,"damage":[{"kind":"torn-tail"}]}]`,
}

func TestIndent(t *testing.T) {
	for _, doc := range documents {
		for _, pi := range [][2]string{{"", "  "}, {"", "\t"}, {"> ", "..."}, {"", ""}} {
			var want bytes.Buffer
			if err := json.Indent(&want, []byte(doc), pi[0], pi[1]); err != nil {
				t.Fatal(err)
			}
			if got := Indent([]byte("x"), []byte(doc), pi[0], pi[1]); string(got) != "x"+want.String() {
				t.Errorf("Indent(%s, %q, %q) =\n%s\nwant\n%s", doc, pi[0], pi[1], got[1:], want.String())
			}
		}
	}
}

// FuzzAppendString: any string is written as encoding/json writes it.
func FuzzAppendString(f *testing.F) {
	for _, s := range texts {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendString(nil, s)), marshal(t, s); got != want {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// FuzzAppendFloat: any finite float64 is written as encoding/json writes it.
func FuzzAppendFloat(f *testing.F) {
	f.Add(uint64(0))
	f.Add(math.Float64bits(1e-7))
	f.Add(math.Float64bits(1e21))
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		if got, want := string(AppendFloat(nil, v)), marshal(t, v); got != want {
			t.Fatalf("AppendFloat(%v) = %s, want %s", v, got, want)
		}
	})
}

// FuzzIndent: any valid JSON document, made compact, is laid out as
// json.Indent lays it out.
func FuzzIndent(f *testing.F) {
	for _, doc := range documents {
		f.Add(doc, "", "  ")
	}
	f.Fuzz(func(t *testing.T, doc, prefix, indent string) {
		var compact, want bytes.Buffer
		if json.Compact(&compact, []byte(doc)) != nil {
			return
		}
		if err := json.Indent(&want, compact.Bytes(), prefix, indent); err != nil {
			t.Fatal(err)
		}
		if got := Indent(nil, compact.Bytes(), prefix, indent); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("Indent(%s, %q, %q) =\n%s\nwant\n%s", compact.Bytes(), prefix, indent, got, want.Bytes())
		}
	})
}

func TestAppendRecordString(t *testing.T) {
	for _, tc := range []struct{ s, want string }{
		{"", `""`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\n\r\t\b\f\x00\x1f\x7f", `"\n\r\t\u0008\u000c\u0000\u001f` + "\x7f" + `"`},
		{"<&> \u2028\u2029 é", "\"<&> \u2028\u2029 é\""},
		{"bad \xff \xc3", `"bad \ufffd \ufffd"`},
	} {
		if got := string(AppendRecordString(nil, tc.s)); got != tc.want {
			t.Errorf("AppendRecordString(%q) = %s, want %s", tc.s, got, tc.want)
		}
	}
}
