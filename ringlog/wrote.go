package ringlog

// What a writer writes, counted where it writes it, with mu held: no
// system call and no allocation of its own (docs/DESIGN.md section 30).
//
// A segment holds records and their framing, so that stored plus framing
// is every byte the writer put in its segments (a frame cut off again
// after a failed sync under SyncAlways still counts). The kernel is handed
// those bytes, and the stage's: its header, written or copied into the
// mapping, its zero fill where fallocate is not supported, and each frame
// copied into the mapped stage before it goes to the segment. An msync or
// fdatasync hands nothing new: it makes the kernel write pages already
// dirty, which the kernel's own figure (/proc/self/io write_bytes)
// counts, a page at a time.
type wrote struct {
	record  int64 // the records appended, as their codec encoded them
	stored  int64 // the records as the segments hold them: packed into blocks, or as encoded
	framing int64 // segment bytes that are no record: segment, frame and block headers
	handed  int64 // bytes written with pwrite to the segments
	writes  int64 // pwrite calls to the segments: a flush, a new segment's header
}

// frameOverhead is what a frame adds to its record: the binary frame's
// header, or the text frame's checksum prefix and newline (the record's
// opening brace moves into the prefix, and its closing one stays).
func frameOverhead(text bool) int {
	if text {
		return textPrefixLen
	}
	return binFrameHeader
}

// segWritten counts p, written to the active segment, holding n frames
// (a packed block is one) after a header of hdr bytes.
func (w *Writer) segWritten(p []byte, hdr, n int) {
	fr := int64(hdr + n*frameOverhead(w.text && !w.o.Pack))
	w.wrote.framing += fr
	w.wrote.stored += int64(len(p)) - fr
}
