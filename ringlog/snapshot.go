package ringlog

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// A File is one file of a ring snapshot.
type File struct {
	Name string // in the ring directory
	Data []byte
}

// Snapshot copies the files of the ring in dir into memory so that the
// copy reads back as the ring did, even while a writer appends, rotates
// and deletes. Segments are read, then the stage, then the newest segment
// again with any created since: records that moved from the stage to a
// segment in between are in the second copy, and records the stage copy
// holds that a segment holds too are read once. Segments retention
// deleted meanwhile are left out, and a write in progress at the end of
// the newest segment is cut off, so that the copy has no torn tail that
// the live ring does not have.
func Snapshot(dir string) ([]File, error) {
	d := osDir(dir)
	data := map[string][]byte{} // nil: deleted before it could be read
	read := func(name string) error {
		b, err := readFile(d, name, nil)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("ringlog: snapshot: %w", err)
		}
		data[name] = b
		return nil
	}
	var segs []segRef
	var stage []byte
	for round := 0; round < 10; round++ {
		var err error
		if segs, err = listSegments(d); err != nil {
			return nil, fmt.Errorf("ringlog: snapshot: %w", err)
		}
		added := false
		for i, s := range segs {
			_, seen := data[s.name]
			if seen && (round == 0 || i < len(segs)-1) {
				continue // only the newest is read again
			}
			added = added || !seen
			if err := read(s.name); err != nil {
				return nil, err
			}
		}
		if round == 0 {
			if err := read(stageName); err != nil {
				return nil, err
			}
			stage = data[stageName]
			continue
		}
		if !added {
			break
		}
	}
	var files []File
	if stage != nil {
		files = append(files, File{stageName, stage})
	}
	for i, s := range segs {
		b := data[s.name]
		if b == nil {
			continue
		}
		if i == len(segs)-1 && s.hdrErr == nil {
			b = cutPending(s, b)
		}
		files = append(files, File{s.name, b})
	}
	return files, nil
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
