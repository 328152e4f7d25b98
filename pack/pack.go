// Package pack compresses a run of MessagePack records of one stream into
// a block, and expands it again. There are three versions of blocks; one
// Unpacker reads them all.
//
// Version 3 (Encoder; docs/FORMAT.md 3.6), which writers use, codes the
// bits of version 2's syntax with a binary range coder (LZMA's), each
// with a probability that learns from the bits before it (rc.go,
// coder.go): a bit nearly certain costs nearly nothing.
//
// Version 2 (Encoder with Version2; 3.5) is a stream of bits in which
// every record is an instance of a shape the block keeps
// for its whole length, and each number of a shape is a series predicted
// from its own past: the change of its difference or the difference, in
// a variable-length code; a float as the change of its decimal mantissa
// m of m·10^e (package decimal) where it has one, else as an XOR. Records
// whose templates differ only in strings (two interfaces, two mounts)
// share all but those strings. Writer and reader keep the same bounded
// table (MaxShapes, MaxTemplate, MaxSeries: under 0.5 MiB); see table.go.
//
// Version 1 (Packer; 3.4), described below, is still read.
//
// Periodic samples repeat themselves: the same record names, field names and
// types every interval, with numbers that move a little. A block therefore
// stores a record either whole (a literal) or as a reference to one of the
// 32 records before it that has the same shape, followed by the change of
// each of its numbers. Two records have the same shape when their
// MessagePack items are the same one by one, except numbers: every integer,
// float and timestamp may differ in value, and an integer in width.
//
// A block is a sequence of entries, one per record:
//
//	entry   = tag [uvarint gap] body
//	tag     = one byte: bits 0-5 ref (0 to 32), bit 6 set when gap follows, bit 7 zero
//	gap     = the record's sequence number minus the previous one's, minus 1
//	          (the first record's is counted from the block's first sequence number)
//	body    = uvarint length, then length bytes of one MessagePack record  (ref 0)
//	        | one delta per number of the referenced record, in order         (ref k)
//
// A record with ref k is the record k entries back with its numbers
// replaced, each delta taken against that record's number:
//
//   - integer (positive or negative fixint, uint8-64, int8-64): a uvarint of
//     the zigzag of new − old, in 64-bit wrap-around arithmetic on the
//     numbers' two's-complement bits. The new integer is written as msgp
//     writes it: with the old one's signedness (uint8-64 unsigned; fixints
//     and int8-64 signed), in the fewest bytes.
//   - float32, float64: a uvarint of new XOR old, as IEEE 754 bits.
//   - timestamp (extension type −1 with 4, 8 or 12 data bytes, whose
//     nanoseconds since 1970 fit an int64): a uvarint of the zigzag of the
//     difference in nanoseconds, written as msgp's AppendTimeExt writes it.
//
// The first Predicted numbers of a reference store their difference minus
// a prediction: the difference of the same position in the last reference
// that had a number there (0 for a float, and 0 at first). docs/FORMAT.md
// section 3.4 has the exact rule.
//
// Every other item is copied unchanged. The packer emits a reference only
// when the reconstruction gives back the record's bytes exactly, so
// unpacking yields byte for byte what was packed.
//
// Packing allocates nothing; its references point into the records it was
// given, which must stay unchanged until the next Reset. Unpacking keeps
// the last 32 records, each at most MaxRecord bytes, so it needs at most
// about 2 MiB whatever the block holds, and rejects every malformed block
// with an error naming the offset.
package pack

import "errors"

const (
	// Refs is how many earlier records an entry may refer to.
	Refs = 32
	// MaxRecord bounds every record of a block, packed or unpacked.
	MaxRecord = 64 << 10
	// MaxRefRecord bounds the records a Packer refers to, and so its
	// memory: larger ones are stored whole.
	MaxRefRecord = 2 << 10
	// Predicted is how many leading numbers of a record are stored as the
	// change of their difference: in an itiny record, seq, bootn, wall and
	// mono, whose differences repeat from record to record.
	Predicted = 4

	tagRef = 0x3f
	tagGap = 0x40
	tagBad = 0x80
)

// ErrCorrupt is wrapped by every error from unpacking a malformed block.
var ErrCorrupt = errors.New("pack: corrupt block")

// ErrFull is returned by Encoder.Append when the block holds MaxEntries
// records: the record is for a new block.
var ErrFull = errors.New("pack: block full")
