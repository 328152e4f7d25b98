package ringlog

import (
	"encoding/binary"
	"hash/crc32"
)

// castagnoli is the CRC-32C table, hardware accelerated on amd64 and arm64.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameCRC returns the checksum of a frame's protected bytes p, salted with
// the sequence number of the segment the frame belongs to, so a frame left
// from a file's earlier life, or copied from another segment, never
// verifies.
func frameCRC(segSeq uint64, p []byte) uint32 {
	var salt [8]byte
	binary.LittleEndian.PutUint64(salt[:], segSeq)
	return crc32.Update(crc32.Update(0, castagnoli, salt[:]), castagnoli, p)
}

func checksum(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }
