package view

import (
	"strings"
	"testing"

	"github.com/itiny/itiny/codec"
)

// TestBlobText: text shows a short binary value as JSON does, a longer
// one (a part of a minidump) by its size only.
func TestBlobText(t *testing.T) {
	for _, tc := range []struct {
		v    codec.Value
		want string
	}{
		{codec.Bytes([]byte("\x7fELF")), `{"$base64":"f0VMRg=="}`},
		{codec.Bytes(make([]byte, maxTextBlob)), `{"$base64":"` + strings.Repeat("A", 86) + `=="}`},
		{codec.Bytes(make([]byte, 32<<10)), "[32768 bytes]"},
	} {
		if got := string(AppendValue(nil, tc.v)); got != tc.want {
			t.Errorf("%d bytes: %s, want %s", len(tc.v.Str()), got, tc.want)
		}
	}
}
