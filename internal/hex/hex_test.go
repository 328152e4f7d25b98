package hex_test

import (
	stdhex "encoding/hex"
	"testing"

	"github.com/itiny/itiny/internal/hex"
)

// FuzzAgreesWithEncodingHex checks encoding against encoding/hex, and
// decoding for the same bytes and the same success.
func FuzzAgreesWithEncodingHex(f *testing.F) {
	for _, s := range []string{"", "00ff", "0A1b", "abc", "zz", "0g", "g0", "7f45 4c46"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := hex.EncodeToString(b), stdhex.EncodeToString(b); got != want {
			t.Fatalf("EncodeToString(%q) = %q, want %q", b, got, want)
		}
		got := make([]byte, hex.DecodedLen(len(b)))
		want := make([]byte, stdhex.DecodedLen(len(b)))
		n, err := hex.Decode(got, b)
		m, werr := stdhex.Decode(want, b)
		if n != m || (err == nil) != (werr == nil) || string(got[:n]) != string(want[:m]) {
			t.Fatalf("Decode(%q) = %d %q, %v; encoding/hex: %d %q, %v", b, n, got[:n], err, m, want[:m], werr)
		}
	})
}

func TestDecodeErrors(t *testing.T) {
	for in, want := range map[string]string{
		"abc":    "hex: odd length hex string",
		"0g":     "hex: invalid byte 0x67 at offset 1",
		"g0":     "hex: invalid byte 0x67 at offset 0",
		"ab\xff": "hex: invalid byte 0xff at offset 2",
	} {
		_, err := hex.Decode(make([]byte, 4), []byte(in))
		if err == nil || err.Error() != want {
			t.Errorf("Decode(%q): %v, want %s", in, err, want)
		}
	}
}
