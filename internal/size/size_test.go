package size

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // 0: an error
		why  string
	}{
		{"256MiB", 256 << 20, ""}, {"1GiB", 1 << 30, ""}, {"512KiB", 512 << 10, ""}, {"4M", 4 << 20, ""}, {"2TiB", 2 << 40, ""},
		{"500000", 500000, ""}, {"10B", 10, ""}, {"1KB", 1 << 10, ""}, {"3M", 3 << 20, ""}, {"64 KiB", 64 << 10, ""},
		// The issue's: 1G, 1GB and 1g are one GiB; 100M is 100 MiB.
		{"1G", 1 << 30, ""}, {"1GB", 1 << 30, ""}, {"1g", 1 << 30, ""}, {"1gb", 1 << 30, ""}, {"1gib", 1 << 30, ""},
		{"100M", 100 << 20, ""}, {"100m", 100 << 20, ""}, {"8k", 8 << 10, ""}, {"2t", 2 << 40, ""}, {"7b", 7, ""},
		{"", 0, "want a whole number"}, {"MiB", 0, "want a whole number"}, {"1.5MiB", 0, `unknown unit ".5MiB"`},
		{"0", 0, "more than 0"}, {"0KiB", 0, "more than 0"}, {"-1MiB", 0, "want a whole number"}, {"+1MiB", 0, "want a whole number"},
		{"1XB", 0, `unknown unit "XB"`}, {"12 parsecs", 0, `unknown unit "parsecs"`}, {"1Mi", 0, "unknown unit"},
		{"1 G B", 0, "unknown unit"}, {"9999999TiB", 0, "too large"}, {"99999999999GiB", 0, "too large"},
		{"99999999999999999999", 0, "too large"},
	} {
		got, err := Parse(tc.in)
		if got != tc.want || (err == nil) != (tc.want != 0) || err != nil && !strings.Contains(err.Error(), tc.why) {
			t.Errorf("Parse(%q) = %d, %v; want %d and %q", tc.in, got, err, tc.want, tc.why)
		}
		if tc.want != 0 {
			if back, err := Parse(Format(got)); back != got || err != nil {
				t.Errorf("Parse(Format(%d)) = %d, %v", got, back, err)
			}
		}
	}
	if s := Format(256 << 20); s != "256MiB" {
		t.Errorf("Format = %q", s)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1G", "64 KiB", "1.5MiB", "99999999999GiB", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err == nil && (n <= 0 || n > 1<<62) {
			t.Fatalf("Parse(%q) = %d", s, n)
		}
		if err == nil {
			if back, err := Parse(Format(n)); back != n || err != nil {
				t.Fatalf("Parse(Format(%d)) = %d, %v", n, back, err)
			}
		}
	})
}
