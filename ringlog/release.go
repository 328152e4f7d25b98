package ringlog

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// Release deletes the oldest segments of the ring in dir whose records are
// all numbered at or below through: records moved elsewhere (itiny-migrate
// releases a ring once the store holds all of it, verified). It takes the
// ring's lock, so it fails with ErrLocked while a writer has the ring open.
//
// The newest segment always stays, with the stage: together they carry
// the ring's numbering, so a writer that opens the ring later goes on
// above it and never hands out a number twice. Damaged segments go by
// their successor's first number, like any other.
func Release(dir string, through uint64) (removed []string, err error) {
	f, err := regular.OpenFile(filepath.Join(dir, stageName), os.O_RDWR) // a FIFO or a device there is refused
	switch {
	case errors.Is(err, fs.ErrNotExist): // no writer ever opened it here
	case err != nil:
		return nil, err
	default:
		defer f.Close()
		if err := lockFile(f); err != nil {
			if err == ErrLocked {
				var hdr [stageHeaderSize]byte
				f.ReadAt(hdr[:], 0)
				if si := parseStageHeader(hdr[:]); si.valid && si.pid != 0 {
					return nil, tinyfmt.Errorf("%w (pid %d): %s", ErrLocked, si.pid, dir)
				}
				return nil, tinyfmt.Errorf("%w: %s", ErrLocked, dir)
			}
			return nil, err
		}
	}
	segs, err := listSegments(osDir(dir))
	if err != nil {
		return nil, err
	}
	segs = regularOnly(segs)
	var ring [16]byte
	for _, s := range segs {
		if s.hdrErr == nil {
			ring = s.hdr.Ring
		}
	}
	for i := 0; i+1 < len(segs); i++ {
		next := segs[i+1]
		if next.hdrErr != nil || next.hdr.First == 0 || next.hdr.First-1 > through ||
			segs[i].hdrErr == nil && segs[i].hdr.Ring != ring { // another ring's: not moved
			break
		}
		if err := os.Remove(segs[i].path); err != nil {
			return removed, err
		}
		removed = append(removed, segs[i].path)
	}
	if len(removed) > 0 {
		if err := syncDir(dir); err != nil {
			return removed, err
		}
	}
	return removed, nil
}
