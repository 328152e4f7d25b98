package sha256

import (
	"bytes"
	std "crypto/sha256"
	"testing"
)

// TestSum256 checks the sums of every length around the padding's
// boundaries, and FIPS 180-4's examples, against crypto/sha256.
func TestSum256(t *testing.T) {
	data := make([]byte, 300)
	for i := range data {
		data[i] = byte(i*7 + 3)
	}
	for n := 0; n <= len(data); n++ {
		if got, want := Sum256(data[:n]), std.Sum256(data[:n]); got != want {
			t.Fatalf("%d bytes: %x, want %x", n, got, want)
		}
	}
	for _, s := range []string{"abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"} {
		if got, want := Sum256([]byte(s)), std.Sum256([]byte(s)); got != want {
			t.Fatalf("%q: %x, want %x", s, got, want)
		}
	}
}

func FuzzSum256(f *testing.F) {
	f.Add([]byte("abc"))
	f.Add(bytes.Repeat([]byte{0xff}, 119))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Sum256(b), std.Sum256(b); got != want {
			t.Fatalf("%x, want %x", got, want)
		}
	})
}

// BenchmarkSum256 against crypto/sha256 in one run: the speed a bundle's
// checksums cost.
func BenchmarkSum256(b *testing.B) {
	data := make([]byte, 1<<20)
	b.Run("itiny", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			Sum256(data)
		}
	})
	b.Run("crypto", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			std.Sum256(data)
		}
	})
}
