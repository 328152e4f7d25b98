// Package salvage copies every record that still reads out of a damaged
// ring, into a new clean ring or as JSON lines.
//
// A record is salvaged when its frame's checksum holds and it decodes;
// damaged bytes (a range the ring reader reports as ringlog.Damage) and
// records that do not decode are skipped and counted, never guessed at.
// A salvaged record keeps its sequence number, so the new ring's gaps
// are the old ring's: a reader of the copy sees where records were lost,
// and ringlog.Writer.AppendSeq notes each gap as a skip the copy made.
// The source is only read.
package salvage

import (
	"errors"
	"io"
	"path/filepath"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/view"
)

// A Result counts what a salvage read.
type Result struct {
	Records     int // copied
	Damaged     int // ranges of damaged bytes skipped
	Undecodable int // records whose frame held but whose record did not decode
}

// ToRing copies src's records into a new ring dir/STREAM, in the codec of
// src's newest segment, with no retention: the copy holds every record
// the Result counts, whatever the original's budget was.
func ToRing(src *view.Source, dir string) (res Result, err error) {
	r, err := src.Reader()
	if err != nil {
		return res, err
	}
	c := codec.Msgpack
	for _, s := range r.Segments() {
		c = s.Header.Codec
	}
	// A budget from the records' size is not enough: each gap starts a
	// segment (AppendSeq), whole blocks on disk, and retention would
	// delete salvaged records to make room (TestSalvageManyGaps). The
	// disk, not a budget, bounds a copy.
	o := ringlog.Options{Stream: src.Stream, Codec: c, SegmentSize: 1 << 20, Budget: noRetention}
	w, err := ringlog.Open(filepath.Join(dir, src.Stream), o)
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}()
	return copyRecords(r, func(rec *codec.Record) error { return w.AppendSeq(rec) })
}

// noRetention is a budget no copy reaches.
const noRetention = 1 << 62

// ToJSON writes src's records to w as JSON lines, as itiny-read -o json
// prints them.
func ToJSON(src *view.Source, w io.Writer) (Result, error) {
	r, err := src.Reader()
	if err != nil {
		return Result{}, err
	}
	var buf []byte
	return copyRecords(r, func(rec *codec.Record) error {
		if buf, err = codec.AppendJSON(buf[:0], rec); err != nil {
			return err
		}
		_, err := w.Write(append(buf, '\n'))
		return err
	})
}

// copyRecords hands put every record of r that reads and decodes, with
// its sequence number.
func copyRecords(r *ringlog.Reader, put func(*codec.Record) error) (Result, error) {
	var res Result
	var rec codec.Record
	for {
		e, err := r.Next()
		if err == io.EOF {
			return res, nil
		}
		var d *ringlog.Damage
		if errors.As(err, &d) {
			res.Damaged++
			continue
		}
		if err != nil {
			return res, err
		}
		if err := view.Decode(&e, &rec); err != nil {
			res.Undecodable++
			continue
		}
		rec.Seq = e.Seq
		if err := put(&rec); err != nil {
			return res, err
		}
		res.Records++
	}
}
