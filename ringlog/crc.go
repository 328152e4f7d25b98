package ringlog

import (
	"hash/crc32"
)

// castagnoli is the CRC-32C table, hardware accelerated on amd64 and arm64.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// A salt is the CRC-32C of a segment's sequence number (8 bytes, little
// endian). Frame checksums start from it, so a frame left from a file's
// earlier life, or copied from another segment, never verifies.
type salt uint32

func segSalt(segSeq uint64) salt {
	// Byte by byte from the table: crc32.Checksum would move an 8-byte
	// buffer to the heap (it calls through a function value), once per
	// rotation.
	crc := ^uint32(0)
	for i := 0; i < 8; i++ {
		crc = castagnoli[byte(crc)^byte(segSeq>>(8*i))] ^ crc>>8
	}
	return salt(^crc)
}

// frameCRC returns the checksum of a frame's protected bytes p: the
// CRC-32C of the segment number followed by p.
func frameCRC(s salt, p []byte) uint32 { return crc32.Update(uint32(s), castagnoli, p) }

func checksum(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }
