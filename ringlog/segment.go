package ringlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/order"
	"github.com/itiny/itiny/internal/regular"
)

// Segment file names are seg-<segment seq, 16 hex digits>.<ext>. The name
// is a convenience for people (ls lists segments in order); readers order
// segments by the sequence number in their headers and use the name only
// to place a segment whose header is damaged.
const (
	segPrefix = "seg-"
	extMsgp   = ".mpk"
	extJSON   = ".jsonl"
	tmpSuffix = ".tmp"
)

func segName(seq uint64, c codec.Codec) string {
	var b [32]byte
	return string(appendSegName(b[:0], seq, c))
}

// appendSegName appends the file name of segment seq.
func appendSegName(b []byte, seq uint64, c codec.Codec) []byte {
	const digits = "0123456789abcdef"
	b = append(b, segPrefix...)
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, digits[seq>>uint(shift)&0xf])
	}
	if c == codec.JSON {
		return append(b, extJSON...)
	}
	return append(b, extMsgp...)
}

// nameSeq returns the segment sequence number a file name claims.
func nameSeq(name string) (uint64, bool) {
	if !strings.HasPrefix(name, segPrefix) {
		return 0, false
	}
	base := strings.TrimSuffix(strings.TrimSuffix(name[len(segPrefix):], extMsgp), extJSON)
	if len(base) != 16 {
		return 0, false
	}
	v, err := strconv.ParseUint(base, 16, 64)
	return v, err == nil
}

func isSegmentName(name string) bool {
	_, ok := nameSeq(name)
	return ok && (strings.HasSuffix(name, extMsgp) || strings.HasSuffix(name, extJSON))
}

// A segRef is a segment file found in a ring directory.
type segRef struct {
	name   string // file name in the ring directory
	path   string // for errors and Entry.Segment; the OS path if there is one
	hdr    Header
	hdrErr error // non-nil: hdr.Segment is guessed from the name
	size   int64
}

// A ringDir is where a ring's files are: a directory of the OS, or one in
// an fs.FS (a support bundle read into memory). The writer and the agent
// use only the first, and so do not link the second.
type ringDir interface {
	readDir() ([]fs.DirEntry, error)
	// open opens a regular file for reading. Anything else (a FIFO, a
	// directory, a device node, or a link to one) is refused with an
	// error wrapping ErrNotRegular, never opened or read.
	open(name string) (fs.File, error)
	path(name string) string // for errors and Entry.Segment
	osDir() string           // "" if not a directory of the OS
}

type osDir string

// readDir is os.ReadDir sorting with package order (names are unique):
// os.ReadDir's generic sort cost the firmware 12 KB (docs/DESIGN.md
// section 14).
func (d osDir) readDir() ([]fs.DirEntry, error) {
	f, err := os.Open(string(d))
	if err != nil {
		return nil, err
	}
	ents, err := f.ReadDir(-1)
	f.Close()
	order.Sort(len(ents), func(i, j int) bool { return ents[i].Name() < ents[j].Name() },
		func(i, j int) { ents[i], ents[j] = ents[j], ents[i] })
	return ents, err
}

func (d osDir) open(name string) (fs.File, error) { return regular.Open(d.path(name)) }
func (d osDir) path(name string) string           { return filepath.Join(string(d), name) }
func (d osDir) osDir() string                     { return string(d) }

type fsDir struct {
	fsys fs.FS
	dir  string
}

func (d fsDir) readDir() ([]fs.DirEntry, error) { return fs.ReadDir(d.fsys, d.dir) }
func (d fsDir) path(name string) string         { return path.Join(d.dir, name) }
func (d fsDir) osDir() string                   { return "" }

// open checks the file's type before opening it too, as regular.Open
// does: an fs.FS of a directory of the OS opens FIFOs blocking.
func (d fsDir) open(name string) (fs.File, error) {
	p := d.path(name)
	if st, err := fs.Stat(d.fsys, p); err != nil {
		return nil, err
	} else if err := regular.Check(p, st.Mode()); err != nil {
		return nil, err
	}
	f, err := d.fsys.Open(p)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil {
		err = regular.Check(p, st.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// listSegments returns the segments of the ring in d ordered by segment
// sequence number. Segments with damaged headers are placed by their file
// names.
func listSegments(d ringDir) ([]segRef, error) {
	ents, err := d.readDir()
	if err != nil {
		return nil, err
	}
	var segs []segRef
	var buf [maxTextHeader]byte
	for _, e := range ents {
		if !isSegmentName(e.Name()) {
			continue
		}
		ref := segRef{name: e.Name(), path: d.path(e.Name())}
		f, err := d.open(ref.name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // deleted by retention since ReadDir
		case errors.Is(err, ErrNotRegular):
			// A FIFO, a directory or a device where a segment should
			// be: listed, so that readers report it, never read.
			ref.hdrErr = err
		case err != nil:
			return nil, err
		default:
			n, err := io.ReadFull(f, buf[:])
			st, serr := f.Stat()
			f.Close()
			if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
				return nil, err
			}
			if serr == nil {
				ref.size = st.Size()
			}
			ref.hdr, ref.hdrErr = parseHeader(buf[:n])
		}
		if ref.hdrErr != nil {
			ref.hdr.Segment, _ = nameSeq(e.Name())
			if strings.HasSuffix(e.Name(), extJSON) {
				ref.hdr.Codec = codec.JSON
			} else {
				ref.hdr.Codec = codec.Msgpack
			}
		}
		segs = append(segs, ref)
	}
	sortSegs(segs)
	return segs, nil
}

// sortSegs sorts segments by number, and two that claim one number (a
// damaged or hostile ring) by name.
func sortSegs(segs []segRef) {
	order.Sort(len(segs), func(i, j int) bool {
		if segs[i].hdr.Segment != segs[j].hdr.Segment {
			return segs[i].hdr.Segment < segs[j].hdr.Segment
		}
		return segs[i].name < segs[j].name
	}, func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
}

// regularOnly drops the segments listSegments listed that are not regular
// files: writers pass over them, as readers report them.
func regularOnly(segs []segRef) []segRef {
	out := segs[:0]
	for _, s := range segs {
		if !errors.Is(s.hdrErr, ErrNotRegular) {
			out = append(out, s)
		}
	}
	return out
}

// markStale finds which ring segs belong to and marks each segment with a
// valid header that names another ring with ErrStaleSegment. The ring is
// that of the newest segment the stage names (the stage is rewritten by
// every writer's Open) or, when the stage names none, that of the newest
// segment: a segment of another ring, even numbered above the ring's own,
// never takes the ring over. ok is false when no header is valid.
func markStale(segs []segRef, si stageInfo) (ring [16]byte, ok bool) {
	for i := len(segs) - 1; i >= 0; i-- {
		if h := &segs[i].hdr; segs[i].hdrErr == nil && (!ok || si.valid && h.Ring == si.ring) {
			ring, ok = h.Ring, true
			if !si.valid || h.Ring == si.ring {
				break
			}
		}
	}
	if ok {
		markRing(segs, ring)
	}
	return ring, ok
}

// markRing marks the segments with a valid header that names a ring
// other than ring with ErrStaleSegment.
func markRing(segs []segRef, ring [16]byte) {
	for i := range segs {
		if s := &segs[i]; s.hdrErr == nil && s.hdr.Ring != ring {
			s.hdrErr = ErrStaleSegment
		}
	}
}

// readFile returns the first MaxSegmentSize bytes of file name of d: read
// into *buf, which grows as needed and is reused from call to call (nil:
// a new one), or, for a file held in memory whose fs.File has a Bytes
// method (a support bundle's), those bytes in place, never copied: the
// caller must not write them.
func readFile(d ringDir, name string, buf *[]byte) ([]byte, error) {
	if buf == nil {
		buf = new([]byte)
	}
	f, err := d.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if m, ok := f.(interface{ Bytes() []byte }); ok {
		b := m.Bytes()
		n := min(len(b), MaxSegmentSize)
		return b[:n:n], nil
	}
	data, err := readMore(f, (*buf)[:0])
	*buf = data
	return data, err
}

// readMore extends buf, which holds the first len(buf) bytes of f, with
// the rest of f, up to MaxSegmentSize in all. A file that cannot read at
// an offset is read from its start.
func readMore(f fs.File, buf []byte) ([]byte, error) {
	ra, ok := f.(io.ReaderAt)
	if !ok {
		ra = &seqReaderAt{r: f}
	}
	for len(buf) < MaxSegmentSize {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := ra.ReadAt(buf[len(buf):min(cap(buf), MaxSegmentSize)], int64(len(buf)))
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// seqReaderAt reads a file that only reads in sequence at increasing
// offsets, skipping what lies before.
type seqReaderAt struct {
	r   io.Reader
	off int64
}

func (s *seqReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < s.off {
		return 0, errors.New("ringlog: file cannot be read again from an earlier offset")
	}
	if off > s.off {
		n, err := io.CopyN(io.Discard, s.r, off-s.off)
		s.off += n
		if err != nil {
			return 0, err
		}
	}
	n, err := s.r.Read(p)
	s.off += int64(n)
	return n, err
}

// A scanner reads the frames of one segment held in memory, skipping and
// reporting damage. Payloads alias data.
type scanner struct {
	path string
	data []byte
	hdr  Header
	salt salt
	text bool
	off  int
	max  int // largest payload a frame may claim
	// live means a writer may still be appending to this segment, so an
	// incomplete last frame is a write in progress, not a torn tail.
	live bool
	// hdrErr is why the header did not parse; the bytes skipped at
	// offset 0 are then reported as this error.
	hdrErr error
	// work counts the bytes resync has checksummed or searched; it stops
	// at resyncBudget, so crafted input costs linear time.
	work int
}

// resyncBudget bounds the bytes resync examines in a segment of n bytes.
// Real damage needs a few checks; only crafted input exhausts it, and the
// rest of the segment is then reported as damaged.
func resyncBudget(n int) int { return 8*n + 1<<20 }

func newScanner(path string, data []byte, hdr Header) scanner {
	return scanner{path: path, data: data, hdr: hdr, salt: segSalt(hdr.Segment), text: hdr.Codec == codec.JSON, off: hdr.Size, max: MaxSegmentSize}
}

// errPending is returned at an incomplete frame at the end of a live
// segment: the caller should try again once more bytes arrive.
var errPending = errors.New("ringlog: frame being written")

// next returns the next intact frame, a *Damage describing bytes it
// skipped (the following call continues after them), errPending, or
// io.EOF at the end of the data.
func (s *scanner) next() (frame, error) {
	if s.off >= len(s.data) {
		return frame{}, io.EOF
	}
	f, st := parseFrame(s.data[s.off:], s.text, s.salt, s.max)
	if st == frameOK && f.Seq >= s.hdr.First {
		s.off += f.Len
		return f, nil
	}
	if st == frameOK {
		st = frameForeign
	}
	// In a live segment, a short frame, or a few zero bytes where a frame
	// header should be (a CRC starting with zeros, seen mid-write), is a
	// write in progress.
	if s.live && (st == frameShort || st == frameZero && len(s.data)-s.off < binFrameHeader) {
		return frame{}, errPending
	}
	start := s.off
	at := s.resync(start + 1)
	if at < 0 {
		// Nothing valid follows: the rest of the segment is lost.
		s.off = len(s.data)
		d := &Damage{Segment: s.path, Offset: int64(start), Length: int64(len(s.data) - start), Err: ErrBadFrame}
		switch {
		case start == 0 && s.hdrErr != nil:
			d.Err = s.hdrErr
		case st == frameShort:
			d.Err = ErrTornTail
		case allZero(s.data[start:]):
			d.Err = ErrZeroedFrame
		}
		return frame{}, d
	}
	s.off = at
	d := &Damage{Segment: s.path, Offset: int64(start), Length: int64(at - start), Err: ErrBadFrame}
	switch {
	case start == 0 && s.hdrErr != nil:
		d.Err = s.hdrErr
	case allZero(s.data[start:at]):
		d.Err = ErrZeroedFrame
	}
	return frame{}, d
}

// resync returns the offset of the next intact frame at or after from, or
// -1. Candidates are filtered by cheap plausibility checks (length fits,
// sequence number within what this segment can hold) before the checksum,
// so garbage costs linear time.
func (s *scanner) resync(from int) int {
	budget := resyncBudget(len(s.data))
	if s.text {
		for from < len(s.data) && s.work < budget {
			i := bytes.Index(s.data[from:], []byte(textPrefix))
			if i < 0 {
				return -1
			}
			at := from + i
			f, st := parseTextFrame(s.data[at:], s.salt, s.max)
			if st == frameOK && f.Seq >= s.hdr.First {
				return at
			}
			s.work += i + max(f.Len, bytes.IndexByte(s.data[at:], '\n'), 1)
			from = at + 1
		}
		return -1
	}
	le := binary.LittleEndian
	span := uint64(len(s.data))
	for at := from; at+binFrameHeader <= len(s.data) && s.work < budget; at++ {
		n := le.Uint32(s.data[at+4:]) &^ packedBit
		if n == 0 || int64(n) > int64(len(s.data)-at-binFrameHeader) {
			continue
		}
		// With an unknown first number (a damaged header), any will do.
		if seq := le.Uint64(s.data[at+8:]); seq < s.hdr.First || s.hdr.First != 0 && seq-s.hdr.First > span {
			continue
		}
		s.work += int(n)
		if _, st := parseFrame(s.data[at:], false, s.salt, s.max); st == frameOK {
			return at
		}
	}
	return -1
}
