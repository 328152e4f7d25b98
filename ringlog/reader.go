package ringlog

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/tinyfmt"
	"github.com/itiny/itiny/pack"
)

// An Entry is one record read from a ring.
type Entry struct {
	Seq     uint64
	Payload []byte // the encoded record; valid until the next call to Next
	Codec   codec.Codec
	Segment string // the file it was read from: a segment, or the stage
	Offset  int64  // the frame's offset in that file
}

// Decode decodes the entry's record into r.
func (e *Entry) Decode(r *codec.Record) error {
	if err := e.Codec.Decode(e.Payload, r); err != nil {
		return tinyfmt.Errorf("%s: offset %d: seq %d: %w", e.Segment, e.Offset, e.Seq, err)
	}
	return nil
}

// A Reader reads a ring's records in sequence order: segments in the order
// of the sequence numbers in their headers, never by name or time. It may
// run while a writer appends in another process; after io.EOF, calling
// Next again returns records appended since, across rotations.
//
// Damage never stops a Reader: Next returns a *Damage for every range it
// skips and continues with the next intact frame on the following call.
// Records are returned at most once and in increasing sequence order.
type Reader struct {
	rd     ringDir  // the ring's directory, on disk or in an fs.FS
	segs   []segRef // the segments known, oldest first
	i      int      // index in segs of the segment being scanned
	open   bool     // segs[i] is being scanned by sc
	sc     scanner
	buf    []byte          // the bytes of segs[i], reused from segment to segment
	skip   map[uint64]bool // segments to pass over unread (Skip)
	last   uint64          // the number of the last record returned
	any    bool            // a record was returned: last is set
	ring   [16]byte        // the ring's id: other rings' segments are skipped (markStale)
	ringOK bool            // ring is known: a segment header was valid

	// Records of the stage that continue the newest segment (readStage),
	// and the stage file's bytes they point into.
	staged   []frame
	stageBuf []byte
	stageBad bool // a damaged stage header was reported

	// A block of a packed segment being unpacked, and where its frame is.
	unp      pack.Unpacker
	inBlock  bool
	blockOff int
	blockLen int

	// back gathers a run of intact frames numbered at or below last, and
	// gone the segments retention deleted before they were read; Next
	// reports them before held, the result that came after them.
	back    *Damage
	gone    *Damage
	held    bool
	heldE   Entry
	heldErr error
	stageLo uint64 // the run of numbers last read from the stage, which
	stageHi uint64 // come again from the segment once flushed
}

// NewReader returns a Reader of the ring in dir.
func NewReader(dir string) (*Reader, error) { return newReader(osDir(dir)) }

// NewReaderFS returns a Reader of the ring in directory dir of fsys, such
// as a support bundle read into memory. A file whose fs.File has a method
// Bytes() []byte, returning all of its content (as a bundle's files do),
// is read in place, without a copy, and never written. Such a ring is
// never live: the Reader ends at what the files hold.
func NewReaderFS(fsys fs.FS, dir string) (*Reader, error) {
	return newReader(fsDir{fsys, dir})
}

func newReader(rd ringDir) (*Reader, error) {
	segs, err := listSegments(rd)
	if err != nil {
		return nil, tinyfmt.Errorf("ringlog: %w", err)
	}
	r := &Reader{rd: rd, segs: segs}
	r.ring, r.ringOK = markStale(segs, r.stageInfo())
	return r, nil
}

// stageInfo reads what the stage's header says, for telling the ring's
// segments from another ring's.
func (r *Reader) stageInfo() stageInfo {
	f, err := r.rd.open(stageName)
	if err != nil {
		return stageInfo{}
	}
	defer f.Close()
	var hdr [stageHeaderSize]byte
	n, _ := io.ReadFull(f, hdr[:])
	return parseStageHeader(hdr[:n])
}

// A SegmentInfo describes a segment file of a ring, as its header says.
type SegmentInfo struct {
	Path   string
	Size   int64
	Header Header // when Err is set, only Segment (from the file name) and Codec
	Err    error  // why the header did not parse
}

// Segments returns the segments the Reader knows of, oldest first: those
// listed when it was created, and those found since while following.
func (r *Reader) Segments() []SegmentInfo {
	infos := make([]SegmentInfo, len(r.segs))
	for i, s := range r.segs {
		infos[i] = SegmentInfo{Path: s.path, Size: s.size, Header: s.hdr, Err: s.hdrErr}
	}
	return infos
}

// Skip makes Next pass over the segments numbered in segs without
// reading them, for a reader that knows from their headers that it needs
// none of their records.
func (r *Reader) Skip(segs []uint64) {
	if r.skip == nil {
		r.skip = map[uint64]bool{}
	}
	for _, n := range segs {
		r.skip[n] = true
	}
}

// Next returns the next record, a *Damage for a skipped range of bytes
// (call Next again to continue), or io.EOF when there is nothing more for
// now.
func (r *Reader) Next() (Entry, error) {
	if r.held {
		r.held = false
		return r.heldE, r.heldErr
	}
	e, err := r.next()
	if r.back != nil || r.gone != nil {
		// Intact frames numbered at or below what was read, or segments
		// retention deleted unread, came first: report them, then what
		// followed them.
		d := r.back
		if d == nil {
			d, r.gone = r.gone, nil
		} else {
			r.back = nil
		}
		r.heldE, r.heldErr, r.held = e, err, true
		return Entry{}, d
	}
	return e, err
}

// backwards notes an intact frame at [off, end) of the segment being read
// whose number is at or below the last one returned: passed over, and
// reported as one Damage per run of such frames.
func (r *Reader) backwards(seq uint64, off, end int) {
	if seq >= r.stageLo && seq <= r.stageHi {
		return // read from the stage before it reached the segment
	}
	if r.back == nil || r.back.Segment != r.sc.path {
		r.back = &Damage{Segment: r.sc.path, Offset: int64(off), Err: ErrSeqBackwards}
	}
	r.back.Length = int64(end) - r.back.Offset
}

func (r *Reader) next() (Entry, error) {
	if len(r.staged) > 0 {
		return r.nextStaged(), nil
	}
	if r.inBlock {
		if e, err := r.nextInBlock(); err != io.EOF {
			return e, err
		}
	}
	refreshed, relisted := false, false
	for {
		if !r.open {
			if r.i < len(r.segs) && r.skip[r.segs[r.i].hdr.Segment] {
				r.i++
				continue
			}
			if r.i >= len(r.segs) {
				if refreshed {
					return r.atEnd()
				}
				r.refresh()
				refreshed = true
				continue
			}
			if err := r.openSegment(); err != nil {
				return Entry{}, err
			}
		}
		off := r.sc.off
		f, err := r.sc.next()
		switch {
		case err == nil && f.Packed:
			r.unp.Reset(f.Payload, f.Seq)
			r.inBlock, r.blockOff, r.blockLen = true, off, f.Len
			if e, err := r.nextInBlock(); err != io.EOF {
				return e, err
			}
		case err == nil:
			if r.any && f.Seq <= r.last {
				r.backwards(f.Seq, off, r.sc.off)
				continue
			}
			r.last, r.any = f.Seq, true
			return Entry{Seq: f.Seq, Payload: f.Payload, Codec: r.sc.hdr.Codec, Segment: r.sc.path, Offset: int64(off)}, nil
		case err == io.EOF || err == errPending:
			if r.i+1 < len(r.segs) {
				// Segment numbers are consecutive; a hole may be a segment
				// the last listing missed: list again before passing it.
				if r.segs[r.i+1].hdr.Segment != r.segs[r.i].hdr.Segment+1 && !relisted {
					r.refresh()
					relisted = true
					continue
				}
				r.i++
				r.open = false
				relisted = false
				continue
			}
			if refreshed {
				return r.atEnd()
			}
			r.refresh()
			refreshed = true
		default:
			return Entry{}, err
		}
	}
}

// nextInBlock returns the next record of the block being unpacked, a
// *Damage for the rest of a block that does not unpack, or io.EOF at its
// end.
func (r *Reader) nextInBlock() (Entry, error) {
	for {
		seq, rec, err := r.unp.Next()
		if err == io.EOF {
			r.inBlock = false
			return Entry{}, io.EOF
		}
		if err != nil {
			r.inBlock = false
			return Entry{}, &Damage{Segment: r.sc.path, Offset: int64(r.blockOff), Length: int64(r.blockLen), Err: tinyfmt.Errorf("%w: %v", ErrBadBlock, err)}
		}
		if r.any && seq <= r.last {
			r.backwards(seq, r.blockOff, r.blockOff+r.blockLen)
			continue
		}
		r.last, r.any = seq, true
		return Entry{Seq: seq, Payload: rec, Codec: r.sc.hdr.Codec, Segment: r.sc.path, Offset: int64(r.blockOff)}, nil
	}
}

// atEnd returns records still in the stage, else io.EOF.
func (r *Reader) atEnd() (Entry, error) {
	if err := r.readStage(); err != nil {
		return Entry{}, err
	}
	return r.nextStaged(), nil
}

func (r *Reader) nextStaged() Entry {
	f := r.staged[0]
	r.staged = r.staged[1:]
	if f.Seq != r.stageHi+1 || r.stageLo == 0 {
		r.stageLo = f.Seq
	}
	r.last, r.any, r.stageHi = f.Seq, true, f.Seq
	return Entry{Seq: f.Seq, Payload: f.Payload, Codec: r.newestHeader().Codec, Segment: r.rd.path(stageName), Offset: -1}
}

func (r *Reader) newestHeader() Header {
	for i := len(r.segs) - 1; i >= 0; i-- {
		if r.segs[i].hdrErr == nil {
			return r.segs[i].hdr
		}
	}
	return Header{}
}

// readStage loads acknowledged records that are still in the stage file
// and continue the sequence; they reach a segment at the next flush. It
// returns io.EOF when there are none.
func (r *Reader) readStage() error {
	h := r.newestHeader()
	if h.Size == 0 || !r.any && len(r.segs) == 0 {
		return io.EOF
	}
	stage, err := readFile(r.rd, stageName, &r.stageBuf)
	if errors.Is(err, ErrNotRegular) && !r.stageBad {
		// A FIFO or a device in its place: say so, once.
		r.stageBad = true
		return &Damage{Segment: r.rd.path(stageName), Err: err}
	}
	if err != nil {
		return io.EOF
	}
	si := parseStageHeader(stage)
	if si.valid && si.ring != h.Ring {
		si.err = tinyfmt.Errorf("%w: ring %x, not the segments' %x", ErrBadStage, si.ring[:], h.Ring[:])
	}
	if si.err != nil && !r.stageBad && !r.isLive() {
		// Records only the stage held are lost, and the reader cannot
		// tell how many: say so, once. (A live writer's stage is always
		// whole: it writes the header under its lock.)
		r.stageBad = true
		return &Damage{Segment: r.rd.path(stageName), Length: int64(min(len(stage), stageHeaderSize)), Err: si.err}
	}
	if !si.valid || si.err != nil {
		return io.EOF
	}
	next := h.First
	if r.any {
		next = r.last + 1
	}
	r.staged = stagedFrames(stage[stageHeaderSize:], h, next)
	if len(r.staged) == 0 {
		return io.EOF
	}
	return nil
}

// openSegment starts scanning r.segs[r.i].
func (r *Reader) openSegment() error {
	s := &r.segs[r.i]
	if errors.Is(s.hdrErr, ErrNotRegular) {
		// A FIFO, a directory or a device where a segment should be:
		// never read, reported, so that its records do not vanish
		// unsaid.
		r.i++
		return &Damage{Segment: s.path, Err: s.hdrErr}
	}
	data, err := readFile(r.rd, s.name, &r.buf)
	if errors.Is(err, ErrNotRegular) {
		r.i++ // put in its place since the listing
		return &Damage{Segment: s.path, Err: err}
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Deleted by retention after the listing: say which numbers
			// it held, as far as the headers tell.
			r.i++
			d := &Damage{Segment: s.path, Length: s.size, Err: ErrRetired}
			if s.hdrErr == nil {
				d.From = s.hdr.First
			}
			next := r.segs[r.i:]
			if len(next) == 0 {
				// The last segment known: where its numbers end, the
				// next segment, if any yet, says.
				next, _ = r.relist()
			}
			for _, n := range next {
				if n.hdr.Segment > s.hdr.Segment {
					if n.hdrErr == nil && n.hdr.First > 0 {
						d.To = n.hdr.First - 1
					}
					break
				}
			}
			return d
		}
		return tinyfmt.Errorf("ringlog: %w", err)
	}
	h := s.hdr
	if errors.Is(s.hdrErr, ErrUnsupported) || errors.Is(s.hdrErr, ErrStaleSegment) {
		// Written by a newer itiny, or another ring's: its frames are not
		// read as this ring's, they are reported whole.
		r.i++
		return &Damage{Segment: s.path, Length: int64(len(data)), Err: s.hdrErr}
	}
	if s.hdrErr != nil {
		// Read the frames anyway, from the first byte: their checksums are
		// salted with the segment number the file name claims.
		h.First, h.Size = 0, 0
	}
	r.sc = newScanner(s.path, data, h)
	r.sc.hdrErr = s.hdrErr
	r.sc.live = r.i == len(r.segs)-1 && r.isLive()
	r.open = true
	return nil
}

// Writing reports whether a writer has the ring open now: an agent runs
// on it. A ring read from a bundle or an fs.FS has none.
func (r *Reader) Writing() bool { return r.isLive() }

// isLive reports whether a writer has the ring open now.
func (r *Reader) isLive() bool {
	if r.rd.osDir() == "" {
		return false
	}
	f, err := regular.Open(filepath.Join(r.rd.osDir(), stageName))
	if err != nil {
		return false
	}
	defer f.Close()
	return isLocked(f)
}

// relist lists the segments again, reading only the headers of segments
// it did not know: a header never changes once its segment has its name.
func (r *Reader) relist() ([]segRef, error) {
	ents, err := r.rd.readDir()
	if err != nil {
		return nil, err
	}
	known := make(map[string]*segRef, len(r.segs))
	for i := range r.segs {
		known[r.segs[i].name] = &r.segs[i]
	}
	var segs []segRef
	var news []fs.DirEntry
	for _, e := range ents {
		if k := known[e.Name()]; k != nil {
			ref := *k
			if fi, err := e.Info(); err == nil {
				ref.size = fi.Size()
			}
			segs = append(segs, ref)
			continue
		}
		if isSegmentName(e.Name()) {
			news = append(news, e)
		}
	}
	if len(news) > 0 {
		// New segments: read their headers as listSegments does.
		more, err := listSegments(filtered{r.rd, news})
		if err != nil {
			return nil, err
		}
		if r.ringOK {
			markRing(more, r.ring)
		}
		segs = append(segs, more...)
	}
	sortSegs(segs)
	if !r.ringOK {
		r.ring, r.ringOK = markStale(segs, r.stageInfo())
	}
	return segs, nil
}

// filtered is a ring directory listing only some of its entries.
type filtered struct {
	ringDir
	ents []fs.DirEntry
}

func (f filtered) readDir() ([]fs.DirEntry, error) { return f.ents, nil }

// refresh picks up what a writer appended since: new bytes of the segment
// being read and new segments. The segments after the current one are
// taken from a new listing each time: a directory listing made while a
// writer renames segments into place can miss one and show a later one
// (ext4 lists in hash order), so a list is never trusted to be complete.
func (r *Reader) refresh() {
	segs, err := r.relist()
	if err != nil {
		return
	}
	if r.open && r.i < len(r.segs) && r.rd.osDir() != "" { // files in an fs.FS do not grow
		if f, err := r.rd.open(r.segs[r.i].name); err == nil {
			// Bytes past the last whole frame may be a write the writer
			// has since cut off and written again: read them anew.
			if data, err := readMore(f, r.sc.data[:min(r.sc.off, len(r.sc.data))]); err == nil {
				r.sc.data, r.buf = data, data
			}
			f.Close()
		}
	}
	keep := r.segs[:min(r.i+1, len(r.segs))]
	var cur uint64
	if len(keep) > 0 {
		cur = keep[len(keep)-1].hdr.Segment
	}
	if !r.open && r.i >= len(r.segs) {
		keep = r.segs // every known segment is read: take what follows
	}
	rebuilt := append([]segRef(nil), keep...)
	// Segments after cur that are gone while every segment before them
	// is gone too: retention deleted them before they were read.
	if len(keep) > 0 && len(segs) > 0 {
		if s := segs[0]; s.hdrErr == nil && s.hdr.Segment > cur+1 {
			if r.gone == nil {
				r.gone = &Damage{Segment: r.rd.path(segName(cur+1, s.hdr.Codec)), Err: ErrRetired}
			}
			// A second listing before the first was reported: more gone.
			r.gone.To = max(r.gone.To, s.hdr.First-1)
		}
	}
	for _, s := range segs {
		if len(keep) == 0 || s.hdr.Segment > cur {
			rebuilt = append(rebuilt, s)
		}
	}
	r.segs = rebuilt
	if r.open {
		r.sc.live = r.i == len(r.segs)-1 && r.isLive()
	}
}
