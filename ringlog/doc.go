// Package ringlog stores a stream of records in a ring of segment files
// under a byte budget, and reads them back, across crashes, power cuts
// and damage. docs/FORMAT.md is the byte-level specification; this
// comment is the contract and a map of the code.
//
// # A ring
//
// A ring is a directory: segment files seg-<16 hex>.mpk (MessagePack) or
// .jsonl (JSON), each a header and frames, and a stage file. Segments are
// ordered by the number in their headers, never by name or time. Numbers
// of records (seq) start at 1 and rise by one within a segment; between
// segments they may jump forward, never back. Retention deletes whole
// segments, oldest first, so that the files never take more than the
// budget, each counted in whole file-system blocks.
//
// # Writing
//
// One Writer may have a ring open, in any process (an OFD lock on the
// stage). Open recovers the ring (recover.go); Append numbers a record,
// frames it and stores it by the staging strategy chosen at Open
// (staging.go); rotation and retention make room (rotate.go); a
// background flusher writes staged frames to the segment and syncs them
// (flusher.go).
//
// When Append returns nil:
//
//   - the record survives the death of the process under every policy
//     but a memory stage (Options.MemoryStage), where it waits in the
//     process's memory for up to FlushEvery;
//   - under SyncAlways it survives a power cut too; under SyncInterval a
//     power cut loses at most the last SyncEvery; under SyncNone what the
//     kernel had not written back;
//   - its number is above every number a reader could have seen, now or
//     after any crash: a writer that reopens a ring never goes back, and
//     when it passes over numbers records may have had, it records why in
//     a ring.resume record (Resume) at the first new one.
//
// On error nothing was appended and no number was used.
//
// # Reading
//
// A Reader returns records in increasing number order, at most once,
// while a writer may append in another process: records reach readers
// when they reach the segment (within FlushEvery), or from the mapped
// stage before that. Damage never stops a Reader: Next returns a *Damage
// for each range it skips (a torn tail, a zeroed range, corruption, a bad
// header, a block that does not unpack, a segment of a newer version,
// numbers going backwards, a damaged stage header, segments retention
// deleted before they were read) and goes on with the next intact frame.
// A frame being written at the end of a live ring is not damage.
//
// # Segment header (MessagePack), 128 bytes, little-endian
//
//	 0               8       10      12              16
//	+---------------+-------+-------+---------------+
//	| magic         | ver   | size  | flags u32     |
//	| 89 I T I N Y  | u16   | u16   | 0-15 incompat |
//	| 0D 0A         |       |       | 16-31 compat  |
//	+------+------+-+-------+-------+---------------+
//	16     17     18                 24              40
//	| codec| slen | reserved (0)     | ring id (16)  |
//	+------+------+------------------+---------------+
//	40              48              56              72
//	| segment u64   | first seq u64 | boot id (16)  |
//	+---------------+---------------+---------------+
//	72              80              88            120       124     128
//	| wall ns i64   | mono ns i64   | stream (32)   | reserved | CRC   |
//	+---------------+---------------+---------------+----------+-------+
//
// CRC is CRC-32C of bytes 0-123. A JSON segment's header is one line of
// JSON with the same fields and a CRC of the line up to its "hcrc" key.
//
// # Binary frame
//
//	 0        4              8                16
//	+--------+--------------+----------------+-------------------+
//	| crc    | length u32   | seq u64        | payload           |
//	|        | bit 31: block|                | (length bytes)    |
//	+--------+--------------+----------------+-------------------+
//
// crc is CRC-32C of bytes 4 to the payload's end, salted: started from the
// CRC of the segment number as 8 little-endian bytes, so a frame from
// another segment, or left from a file's earlier life, never verifies. A
// text frame is the line {"crc":"<8 hex>", then the record's JSON without
// its '{', salted alike over the bytes from "seq" to the closing '}'.
// Sixteen zero bytes where a frame should start mark a zeroed range.
//
// # Stage file
//
// A 128-byte header (magic \x89ITSTG\r\n, ring id, codec, the
// high-water mark with its own CRC, the last writer's pid, state and boot)
// followed, for a mapped stage, by frames acknowledged but not yet in the
// newest segment, salted as that segment's. The high-water mark is a
// number not yet handed out; after a clean close, exactly the next one.
package ringlog
