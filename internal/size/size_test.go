package size

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // 0: an error
	}{
		{"256MiB", 256 << 20}, {"1GiB", 1 << 30}, {"512KiB", 512 << 10}, {"4M", 4 << 20}, {"2TiB", 2 << 40},
		{"500000", 500000}, {"10B", 10}, {"1KB", 1 << 10}, {"3M", 3 << 20}, {"64 KiB", 64 << 10},
		{"", 0}, {"0", 0}, {"-1MiB", 0}, {"1XB", 0}, {"MiB", 0}, {"1.5MiB", 0}, {"12 parsecs", 0}, {"9999999TiB", 0}, {"99999999999GiB", 0},
	} {
		got, err := Parse(tc.in)
		if got != tc.want || (err == nil) != (tc.want != 0) {
			t.Errorf("Parse(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
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
