package ringlog

import (
	"errors"
	"io"
	"io/fs"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// A File is one file of a ring snapshot.
type File struct {
	Name string // in the ring directory
	Data []byte
}

// Snapshot copies the files of the ring in dir into memory so that the
// copy reads back as the ring did, even while a writer appends, rotates
// and deletes. It reads the segments, then the stage, then again every
// segment from the one that was newest: a record staged when the stage
// was read is in its copy, or was flushed since to a segment read after,
// and records both copies hold are read once. Segments retention deleted
// meanwhile are left out, and a write in progress at the end of the newest
// segment is cut off, so that the copy has no torn tail that the live ring
// does not have.
func Snapshot(dir string) ([]File, error) {
	for try := 0; ; try++ {
		files, whole, err := snapshot(dir)
		if err != nil || whole {
			return files, err
		}
		if try == 4 {
			return nil, tinyfmt.Errorf("ringlog: snapshot: %s: retention deleted the segments faster than they could be copied", dir)
		}
	}
}

// snapshot takes one snapshot; whole is false if retention deleted every
// segment it listed before it could copy them.
func snapshot(dir string) (files []File, whole bool, err error) {
	d := osDir(dir)
	data := map[string][]byte{} // nil: deleted before it could be read
	read := func(name string) error {
		b, err := readFile(d, name, nil)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return tinyfmt.Errorf("ringlog: snapshot: %w", err)
		}
		data[name] = b
		return nil
	}
	segs, err := listSegments(d)
	if err != nil {
		return nil, false, tinyfmt.Errorf("ringlog: snapshot: %w", err)
	}
	var newest uint64
	for _, s := range segs {
		if err := read(s.name); err != nil {
			return nil, false, err
		}
		newest = s.hdr.Segment
	}
	if err := read(stageName); err != nil {
		return nil, false, err
	}
	stage := data[stageName]
	// List again for the segments created since. A listing made while the
	// writer renames a segment into place can miss it (ext4 lists in hash
	// order): keep every segment either listing showed, and list again
	// while the numbers have a hole.
	bySeg := map[uint64]segRef{}
	for _, s := range segs {
		bySeg[s.hdr.Segment] = s
	}
	for try := 0; try < 5; try++ {
		again, err := listSegments(d)
		if err != nil {
			return nil, false, tinyfmt.Errorf("ringlog: snapshot: %w", err)
		}
		for _, s := range again {
			bySeg[s.hdr.Segment] = s
		}
		if consecutive(bySeg) {
			break
		}
	}
	segs = segs[:0]
	for _, s := range bySeg {
		segs = append(segs, s)
	}
	sortSegs(segs)
	// Read again from the segment that was newest. One that retention
	// deleted meanwhile ends the copy's history: the segments before it
	// are left out too, or its records would be a hole.
	from := 0
	for i, s := range segs {
		if _, seen := data[s.name]; !seen || s.hdr.Segment >= newest {
			if err := read(s.name); err != nil {
				return nil, false, err
			}
		}
		if data[s.name] == nil {
			from = i + 1
		}
	}
	if from == len(segs) && len(segs) > 0 {
		return nil, false, nil
	}
	if stage != nil {
		files = append(files, File{stageName, stage})
	}
	for i, s := range segs[from:] {
		b := data[s.name]
		if from+i == len(segs)-1 && s.hdrErr == nil {
			b = cutPending(s, b)
		}
		files = append(files, File{s.name, b})
	}
	return files, true, nil
}

// consecutive reports whether the segment numbers have no hole.
func consecutive(segs map[uint64]segRef) bool {
	lo, hi := ^uint64(0), uint64(0)
	for n := range segs {
		lo, hi = min(lo, n), max(hi, n)
	}
	return len(segs) == 0 || hi-lo+1 == uint64(len(segs))
}

// cutPending cuts a write in progress off the end of segment data.
func cutPending(s segRef, b []byte) []byte {
	sc := newScanner(s.path, b, s.hdr)
	sc.live = true
	for {
		off := sc.off
		_, err := sc.next()
		if err == errPending {
			return b[:off]
		}
		if err == io.EOF {
			return b
		}
	}
}
