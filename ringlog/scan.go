package ringlog

import (
	"errors"
	"io"
	"io/fs"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/pack"
)

// Scan hands fn every record the ring's segments hold, oldest segment
// first, passing over damage, a segment of another ring and one whose
// header is damaged without a word. It is for a program that rebuilds at
// start what it derives from its own rings (the agent's rollup tiers),
// and so reads them without a Reader: a Reader, which says what it passed
// over and follows a ring being written, costs the firmware 17 KB. Call
// it before appending: records the Writer appends meanwhile may be
// missed. The entry's payload is valid only until fn returns. fn's error ends the
// scan and is returned, as is one reading a segment.
func (w *Writer) Scan(fn func(Entry) error) error {
	w.mu.Lock()
	segs := append([]segRef(nil), w.segs...)
	w.mu.Unlock()
	var buf []byte
	var u pack.Unpacker
	for i := range segs {
		s := &segs[i]
		if s.hdrErr != nil {
			continue
		}
		data, err := readFile(osDir(w.dir), s.name, &buf)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // retention deleted it
			}
			return err
		}
		sc := newScanner(s.path, data, s.hdr)
		for {
			f, err := sc.next()
			var d *Damage
			if err == io.EOF || err == errPending {
				break
			}
			if errors.As(err, &d) {
				continue
			}
			if err == nil {
				err = scanFrame(f, s, &u, fn)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
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
