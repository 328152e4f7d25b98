package ringlog

import (
	"errors"

	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/tinyfmt"
)

var (
	// ErrZeroedFrame means a frame header of all zero bytes: the unwritten
	// end of a preallocated or zero-filled range, not a record.
	ErrZeroedFrame = errors.New("ringlog: zeroed frame")
	// ErrBadFrame means bytes that do not form a valid frame: a checksum
	// mismatch, an impossible length, or a frame from another segment.
	ErrBadFrame = errors.New("ringlog: bad frame")
	// ErrBadBlock means a frame of a packed segment that verifies but
	// whose block does not unpack: its records from the point of failure
	// are lost.
	ErrBadBlock = errors.New("ringlog: packed block does not unpack")
	// ErrTornTail means the last frame of a segment ends early: a write cut
	// short by a crash or a full disk. The records before it are intact.
	ErrTornTail = errors.New("ringlog: torn tail")
	// ErrBadSegmentHeader means a segment whose header is damaged or not a
	// segment header at all.
	ErrBadSegmentHeader = errors.New("ringlog: bad segment header")
	// ErrUnsupported means a segment or stage written by a newer itiny: a
	// format version, or an incompatible flag, this package does not know.
	// Readers skip such a segment whole and writers refuse the ring: they
	// never guess at bytes they cannot read.
	ErrUnsupported = errors.New("ringlog: unsupported format")
	// ErrBadStage means a stage file whose header is damaged: the records
	// only it held, and the ring's high-water mark, are lost.
	ErrBadStage = errors.New("ringlog: bad stage header")
	// ErrSeqBackwards means intact records numbered at or below a record
	// already read: a reader passes over them, and reports them.
	ErrSeqBackwards = errors.New("ringlog: sequence numbers go backwards")
	// ErrRetired means a segment deleted by retention after the reader
	// listed it and before it read it: its records were not read, and
	// From and To of the Damage say which numbers it held.
	ErrRetired = errors.New("ringlog: segment deleted by retention")
	// ErrStaleSegment means a segment whose header names another ring:
	// left over from an earlier ring in the directory, or copied in.
	// Readers skip it whole, and writers neither append to it nor number
	// after it.
	ErrStaleSegment = errors.New("ringlog: segment of another ring")
	// ErrNotRegular means a FIFO, a directory, a device node or a link to
	// one where a segment or the stage should be: readers report it and
	// never open or read it.
	ErrNotRegular = regular.ErrNotRegular
	// ErrRecordTooLarge means a record that cannot fit in one segment.
	ErrRecordTooLarge = errors.New("ringlog: record larger than a segment")
	// ErrLocked means another writer holds the ring.
	ErrLocked = errors.New("ringlog: ring is locked by another writer")
	// ErrClosed means the writer was closed.
	ErrClosed = errors.New("ringlog: writer closed")
)

// IsTornTail reports whether err says a segment ends with a partial frame,
// which recovery treats as the end of the data rather than as damage.
func IsTornTail(err error) bool { return errors.Is(err, ErrTornTail) }

// A Damage describes a range of a segment that the reader skipped.
// It is returned by Reader.Next as an error; reading continues after it.
type Damage struct {
	Segment string // file path
	Offset  int64  // where the skipped range starts
	Length  int64  // how many bytes were skipped
	// From and To are the numbers the range held, where the reader knows
	// them (ErrRetired: from the segment's header and the next one's).
	From, To uint64
	Err      error // ErrBadFrame, ErrTornTail, ErrZeroedFrame, ErrBadSegmentHeader, ErrUnsupported, ErrStaleSegment, ErrBadStage, ErrSeqBackwards, ErrBadBlock or ErrNotRegular
}

func (d *Damage) Error() string {
	if errors.Is(d.Err, ErrNotRegular) {
		return d.Err.Error() // names the file and what it is; nothing was read
	}
	return tinyfmt.Sprintf("%s: skipped %d bytes at offset %d: %v", d.Segment, d.Length, d.Offset, d.Err)
}

func (d *Damage) Unwrap() error { return d.Err }

// Cause names the likely cause of the damage for people.
func (d *Damage) Cause() string {
	switch {
	case errors.Is(d.Err, ErrTornTail):
		return "torn write (crash or full disk during a write)"
	case errors.Is(d.Err, ErrZeroedFrame):
		return "zeroed range (lost or unwritten blocks)"
	case errors.Is(d.Err, ErrBadSegmentHeader):
		return "damaged segment header"
	case errors.Is(d.Err, ErrRetired):
		return "deleted by retention while being read"
	case errors.Is(d.Err, ErrUnsupported):
		return "unsupported: written by a newer itiny"
	case errors.Is(d.Err, ErrStaleSegment):
		return "a segment of another ring (left over, or copied in)"
	case errors.Is(d.Err, ErrBadStage):
		return "damaged stage header (records only the stage held are lost)"
	case errors.Is(d.Err, ErrSeqBackwards):
		return "numbers at or below records already read (a writer that reused numbers, or a copied-in segment)"
	case errors.Is(d.Err, ErrBadBlock):
		return "packed block does not unpack (a faulty writer, or crafted bytes)"
	case errors.Is(d.Err, ErrNotRegular):
		return "not read: a ring's files must be regular files"
	}
	return "corruption (checksum mismatch or garbage)"
}
