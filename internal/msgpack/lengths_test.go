package msgpack

import (
	"fmt"
	"testing"
)

// TestHugeLengths: a str, bin or ext whose 32-bit length claims 2 GiB or
// more is ErrShort, never a panic, also on 32-bit machines, where such a
// length as an int is negative (run with GOARCH=386).
func TestHugeLengths(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		read func([]byte) error
	}{
		{"str32", []byte{0xdb, 0xff, 0xff, 0xff, 0xff, 'x'}, func(b []byte) error { _, _, err := ReadStr(b); return err }},
		{"bin32", []byte{0xc6, 0x80, 0, 0, 0, 'x'}, func(b []byte) error { _, _, err := ReadBin(b); return err }},
		{"map key bin32", []byte{0xc6, 0xff, 0xff, 0xff, 0xf0, 'x'}, func(b []byte) error { _, _, err := ReadMapKey(b); return err }},
		{"bin32 into", []byte{0xc6, 0xff, 0xff, 0xff, 0xff, 'x'}, func(b []byte) error { _, err := ReadBinInto(b, make([]byte, 16)); return err }},
		{"ext32 time", []byte{0xc9, 0xff, 0xff, 0xff, 0xff, 0xff, 'x'}, func(b []byte) error { _, _, err := ReadTime(b); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("panic: %v", p)
					}
				}()
				err = tc.read(tc.b)
			}()
			if err != ErrShort {
				t.Errorf("% x: %v, want ErrShort", tc.b, err)
			}
		})
	}
}
