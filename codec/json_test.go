package codec

import (
	"encoding/base64"
	"testing"
)

// TestDecodeBase64: the hand-written decoder agrees with encoding/base64
// on what it takes, in place or not, and refuses what is not base64.
func TestDecodeBase64(t *testing.T) {
	for _, s := range []string{"", "f", "fo", "foo", "foob", "fooba", "foobar", "\x00\xff\xfe"} {
		enc := base64.StdEncoding.EncodeToString([]byte(s))
		for _, in := range []string{enc, enc[:min(len(enc), 4)] + "\r\n" + enc[min(len(enc), 4):]} {
			out := make([]byte, len(in))
			n, err := decodeBase64(out, []byte(in))
			if err != nil || string(out[:n]) != s {
				t.Errorf("%q: %q, %v; want %q", in, out[:n], err, s)
			}
			b := []byte(in) // in place
			if n, err := decodeBase64(b, b); err != nil || string(b[:n]) != s {
				t.Errorf("%q in place: %q, %v", in, b[:n], err)
			}
		}
	}
	for _, bad := range []string{"Zm9", "Zm9v!", "Zg=", "Zg==Zg==", "Z===", "=Zm9", "Zm=v"} {
		out := make([]byte, len(bad))
		_, err := decodeBase64(out, []byte(bad))
		_, want := base64.StdEncoding.DecodeString(bad)
		if err == nil || want == nil {
			t.Errorf("%q: %v (encoding/base64: %v); want an error from both", bad, err, want)
		}
	}
}
