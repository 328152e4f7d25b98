package ringlog

import (
	"errors"
	"io"
	"io/fs"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/pack"
)

// Scan hands fn the records the ring's segments hold, oldest first,
// passing over damage, a segment of another ring and one whose header is
// damaged without a word: every record when from is nil, else those from
// the newest segment whose first record from accepts (from the oldest
// when it accepts none). It is for a program that rebuilds at start what
// it derives from its own rings (the agent's rollup tiers), and so reads
// them without a Reader: a Reader, which says what it passed over and
// follows a ring being written, costs the firmware 17 KB. Call it before
// appending: records the Writer appends meanwhile may be missed. An
// entry's payload is valid only until the function it is handed to
// returns. fn's error ends the scan and is returned, as is one reading a
// segment.
func (w *Writer) Scan(from func(first Entry) bool, fn func(Entry) error) error {
	w.mu.Lock()
	segs := append([]segRef(nil), w.segs...)
	w.mu.Unlock()
	var buf []byte
	var u pack.Unpacker
	start := 0
	for i := len(segs) - 1; i >= 0 && from != nil; i-- {
		found := false
		err := w.scanSegment(&segs[i], &buf, &u, func(e Entry) error {
			found = from(e)
			return errFirst
		})
		if err != nil && err != errFirst {
			return err
		}
		if found {
			start = i
			break
		}
	}
	for i := start; i < len(segs); i++ {
		if err := w.scanSegment(&segs[i], &buf, &u, fn); err != nil {
			return err
		}
	}
	return nil
}

// errFirst ends a scan of a segment at its first record.
var errFirst = errors.New("ringlog: first record read")

// scanSegment hands fn the records of segment s, read into *buf.
func (w *Writer) scanSegment(s *segRef, buf *[]byte, u *pack.Unpacker, fn func(Entry) error) error {
	if s.hdrErr != nil {
		return nil
	}
	if s.name == "" { // made by this Writer: named by its number
		s.name = segName(s.hdr.Segment, s.hdr.Codec)
		s.path = osDir(w.dir).path(s.name)
	}
	data, err := readFile(osDir(w.dir), s.name, buf)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // retention deleted it
	}
	if err != nil {
		return err
	}
	sc := newScanner(s.path, data, s.hdr)
	for {
		f, err := sc.next()
		var d *Damage
		if err == io.EOF || err == errPending {
			return nil
		}
		if errors.As(err, &d) {
			continue
		}
		if err == nil {
			err = scanFrame(f, s, u, fn)
		}
		if err != nil {
			return err
		}
	}
}

// scanFrame hands fn the records of frame f: its own, or its block's up
// to the end or to its first bad entry.
func scanFrame(f frame, s *segRef, u *pack.Unpacker, fn func(Entry) error) error {
	e := Entry{Seq: f.Seq, Payload: f.Payload, Codec: s.hdr.Codec, Segment: s.path}
	if !f.Packed {
		if e.Codec == codec.JSON {
			e.Payload = textPayload(f.Payload)
		}
		return fn(e)
	}
	u.Reset(f.Payload, f.Seq)
	for {
		var err error
		if e.Seq, e.Payload, err = u.Next(); err != nil {
			return nil // the block's end, or the records before its damage
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}
