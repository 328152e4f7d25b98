package ringlog

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// TestSegSalt: the table-driven salt is the CRC-32C of the number's 8
// little-endian bytes, as FORMAT.md specifies.
func TestSegSalt(t *testing.T) {
	for _, seq := range []uint64{0, 1, 2, 255, 256, 1 << 32, 0x0123456789abcdef, ^uint64(0)} {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], seq)
		if got, want := uint32(segSalt(seq)), crc32.Checksum(b[:], crc32.MakeTable(crc32.Castagnoli)); got != want {
			t.Errorf("segSalt(%#x) = %#08x, want %#08x", seq, got, want)
		}
	}
}
