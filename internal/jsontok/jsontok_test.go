package jsontok

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in     string
		strict bool
		want   string
		off    int // of the error; -1: none
	}{
		{`"plain"`, false, "plain", -1},
		{`"a\"b\\c\/d\b\f\n\r\t"`, false, "a\"b\\c/d\b\f\n\r\t", -1},
		{`"\u00e9\u20AC"`, false, "é€", -1},
		{`"\ud83d\ude00"`, true, "😀", -1},
		{`"\ud800x"`, false, "\uFFFDx", -1},
		{`"\ud800x"`, true, "", 2},
		{`"\ude00\u0041"`, false, "\uFFFDA", -1},
		{`"abc`, false, "", 4},
		{`"abc\`, false, "", 5},
		{`"a\x"`, false, "", 3},
		{`"a\u12G4"`, false, "", 3},
		{"\"a\x01\"", false, "", 2},
		{"\"\\ta\nb\"", false, "", 4},
		{"\"a\xffb\"", false, "", 2},
		{"\"\\ta\xffb\"", false, "", 1}, // with an escape: the string's start
		{`x`, false, "", 0},
	} {
		s, end, err := String(nil, []byte(tc.in), 0, tc.strict)
		var te *Error
		switch {
		case tc.off < 0 && (err != nil || string(s) != tc.want || end != len(tc.in)):
			t.Errorf("%q: %q, end %d, %v; want %q", tc.in, s, end, err, tc.want)
		case tc.off >= 0 && (!errors.As(err, &te) || te.Off != tc.off):
			t.Errorf("%q: %v; want an error at offset %d", tc.in, err, tc.off)
		}
	}
}

// TestStringInPlace: unescaped into its own input, a string is as
// unescaped into a new buffer.
func TestStringInPlace(t *testing.T) {
	p := []byte(`"a\n\u00e9\ud83d\ude00b" tail`)
	s, end, err := String(p[1:1], p, 0, false)
	if err != nil || string(s) != "a\né😀b" || string(p[end:]) != " tail" {
		t.Errorf("%q, %q, %v", s, p[end:], err)
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		in    string
		end   int
		float bool
		off   int
	}{
		{"0", 1, false, -1}, {"-12", 3, false, -1}, {"1.5e-3,", 6, true, -1}, {"01", 1, false, -1},
		{"-", 0, false, 1}, {"1.", 0, false, 2}, {"1e", 0, false, 2}, {"+1", 0, false, 0}, {".5", 0, false, 0},
	} {
		end, float, err := Number([]byte(tc.in), 0)
		var te *Error
		switch {
		case tc.off < 0 && (err != nil || end != tc.end || float != tc.float):
			t.Errorf("%q: end %d, float %v, %v", tc.in, end, float, err)
		case tc.off >= 0 && (!errors.As(err, &te) || te.Off != tc.off):
			t.Errorf("%q: %v; want an error at offset %d", tc.in, err, tc.off)
		}
	}
}

// FuzzString: what scans as a string is what encoding/json unquotes, and
// what encoding/json takes, String takes, but for bytes that are not
// UTF-8, which encoding/json replaces and String refuses.
func FuzzString(f *testing.F) {
	for _, s := range []string{`"a"`, `"\u00e9"`, `"\ud800"`, `"\ud83d\ude00"`, `"a\"`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		s, end, err := String(nil, p, 0, false)
		var want string
		jerr := json.Unmarshal(p, &want)
		if err == nil && end == len(p) && (jerr != nil || string(s) != want) {
			t.Fatalf("%q: %q, encoding/json %q, %v", p, s, want, jerr)
		}
		if jerr == nil && len(p) > 0 && p[0] == '"' && utf8.Valid(p) && err != nil {
			t.Fatalf("%q: %v; encoding/json takes it", p, err)
		}
	})
}
