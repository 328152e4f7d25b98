package tinyfmt_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// operands holds one value of each supported kind, and edge values.
var operands = []any{
	true, false,
	"", "mount /var", "naïve\t\"q\"\x00", []byte("ab\xff"),
	0, 1, -1, 42, -42, math.MaxInt, math.MinInt, int64(math.MaxInt64), int64(math.MinInt64),
	int8(-128), int16(300), int32(-7), int64(1) << 40,
	uint(7), uint8(255), uint16(65535), uint32(0o7777), uint64(math.MaxUint64), uintptr(0xdead),
	0.0, -0.0, 1.5, -2.25, 1e6, 1e21, 1e-7, 123456.789, 0.1 + 0.2, math.Inf(1), math.Inf(-1), math.NaN(),
	float32(0.1), float32(-3.5e10),
	errors.New("disk full"), fs.ErrNotExist, syscall.ENOSPC,
	3 * time.Second, 1500 * time.Millisecond, syscall.SIGTERM,
}

// verbs are the formats tried on every operand: those fmt formats without
// an error (it begins "%!") must come out the same.
var verbs = []string{
	"%v", "%s", "%q", "%d", "%x", "%X", "%o", "%t", "%f", "%e", "%g",
	"%5v", "%-5v|", "%05d", "%+d", "% d", "%#x", "%#X", "%016x", "%04o", "%#o",
	"%-8s|", "%8s", "%.2s", "% x", "% X", "%# x", "%.3f", "%8.3f", "%-8.3f|",
	"%+.1e", "%.0f", "%#v"[0:2], "%.5d", "%8.5d", "%-08d|", "%3c"[0:0] + "%%",
}

// TestAgreesWithFmt formats every operand with every verb: tinyfmt must
// give what fmt gives, or refuse (%!) where fmt would need reflection.
func TestAgreesWithFmt(t *testing.T) {
	for _, v := range verbs {
		for _, a := range operands {
			want, got := fmt.Sprintf(v, a), tinyfmt.Sprintf(v, a)
			if got != want && (!strings.Contains(got, "%!") || supported(v, a)) {
				t.Errorf("Sprintf(%q, %T %#v) = %q, fmt gives %q", v, a, a, got, want)
			}
		}
	}
}

// supported reports whether the package comment promises fmt's output
// for the operand under the format's verb.
func supported(format string, a any) bool {
	verb := strings.TrimRight(format, "|")
	verb = verb[len(verb)-1:]
	if verb == "v" && strings.Contains(format, "#") {
		return false // Go syntax
	}
	switch a.(type) {
	case bool:
		return strings.Contains("vt", verb)
	case string:
		return strings.Contains("vsqxX", verb)
	case []byte:
		return strings.Contains("sqxX", verb)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr:
		return strings.Contains("vdxXo", verb)
	case float32, float64:
		return strings.Contains("vfeFgEG", verb) && !strings.Contains(format, "#")
	case error, fmt.Stringer:
		return strings.Contains("vsqxX", verb)
	}
	return false
}

func TestStringSlice(t *testing.T) {
	for _, s := range [][]string{nil, {"metrics"}, {"metrics", "events", "state"}} {
		if got, want := tinyfmt.Sprintf("streams %v", s), fmt.Sprintf("streams %v", s); got != want {
			t.Errorf("%q, fmt gives %q", got, want)
		}
	}
}

func TestMistakes(t *testing.T) {
	type level uint8 // a named integer without String: fmt needs reflection
	for _, tc := range []struct {
		format string
		args   []any
		want   string
	}{
		{"%d", nil, "%!d(MISSING)"},
		{"%d %d", []any{1}, "1 %!d(MISSING)"},
		{"%d", []any{1, 2}, "1%!(EXTRA)"},
		{"%d", []any{"x"}, "%!d(BADTYPE)"},
		{"%d", []any{level(3)}, "%!d(BADTYPE)"},
		{"%v", []any{struct{}{}}, "%!v(BADTYPE)"},
		{"%v", []any{nil}, "<nil>"},
		{"%s", []any{nil}, "%!s(<nil>)"},
		{"%w", []any{errors.New("x")}, "%!w(BADTYPE)"}, // only Errorf wraps
		{"50%", nil, "50%!(NOVERB)"},
		{"%%", nil, "%"},
	} {
		if got := tinyfmt.Sprintf(tc.format, tc.args...); got != tc.want {
			t.Errorf("Sprintf(%q, %v) = %q, want %q", tc.format, tc.args, got, tc.want)
		}
	}
}

func TestErrorfWraps(t *testing.T) {
	err := tinyfmt.Errorf("segment %s: %w", "metrics-3", fs.ErrNotExist)
	if err.Error() != "segment metrics-3: file does not exist" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v: does not wrap fs.ErrNotExist", err)
	}
	var errno syscall.Errno
	err = tinyfmt.Errorf("%w: %w", fs.ErrClosed, syscall.EIO)
	if !errors.Is(err, fs.ErrClosed) || !errors.As(err, &errno) || errno != syscall.EIO {
		t.Errorf("%v: does not wrap both", err)
	}
	if err := tinyfmt.Errorf("no verbs"); errors.Unwrap(err) != nil || err.Error() != "no verbs" {
		t.Errorf("%v wraps %v", err, errors.Unwrap(err))
	}
	if err := tinyfmt.Errorf("bad: %w", "not an error"); err.Error() != "bad: %!w(BADTYPE)" || errors.Unwrap(err) != nil {
		t.Errorf("%v", err)
	}
}

func TestFprint(t *testing.T) {
	var b bytes.Buffer
	tinyfmt.Fprintf(&b, "%s = %t\n", "pack", true)
	tinyfmt.Fprintln(&b, "ok", 3, 1.5, time.Second)
	tinyfmt.Fprintln(&b)
	want := "pack = true\n" + fmt.Sprintln("ok", 3, 1.5, time.Second) + "\n"
	if b.String() != want {
		t.Errorf("%q, want %q", b.String(), want)
	}
	if got := string(tinyfmt.Appendf([]byte("x "), "%d%%", 5)); got != "x 5%" {
		t.Errorf("Appendf: %q", got)
	}
}

var oneVerb = regexp.MustCompile(`^%[-+# 0]*[0-9]{0,3}(\.[0-9]{0,3})?[a-zA-Z]$`)

// FuzzAgreesWithFmt formats fuzzed numbers and strings under fuzzed
// flags, width and precision, and compares with fmt.
func FuzzAgreesWithFmt(f *testing.F) {
	f.Add("%-08.3f", int64(-5), 1.25, "ab")
	f.Add("%#016x", int64(1)<<62, math.Inf(1), "\xff")
	f.Fuzz(func(t *testing.T, verb string, i int64, x float64, s string) {
		if len(verb) > 12 || !oneVerb.MatchString(verb) {
			return
		}
		for _, a := range []any{i, uint64(i), x, s, int32(i), float32(x)} {
			want, got := fmt.Sprintf(verb, a), tinyfmt.Sprintf(verb, a)
			if got != want && (!strings.Contains(got, "%!") || supported(verb, a)) {
				t.Fatalf("Sprintf(%q, %T %v) = %q, fmt gives %q", verb, a, a, got, want)
			}
		}
	})
}
