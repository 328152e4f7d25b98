// Package regular opens files for reading only when they are regular
// files, so that a reader given a FIFO, a directory, a device node or a
// symbolic link to one (a ring file replaced by mistake or by a hostile
// user, a path on the command line) refuses it at once with an error
// naming it, instead of blocking forever on a FIFO or reading /dev/zero
// until memory runs out (docs/DESIGN.md section 24).
//
// A file is checked before it is opened, so that a device node is never
// opened (opening some has effects: a watchdog starts counting, a tape
// rewinds), opened with O_NONBLOCK, so that a FIFO put in its place
// between the check and the open cannot block, and checked again on the
// open descriptor.
package regular

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// ErrNotRegular is wrapped by the error for a file that is not a regular
// file.
var ErrNotRegular = errors.New("not a regular file")

// Check returns nil if mode is that of a regular file, else an error
// naming path and what it is.
func Check(path string, mode fs.FileMode) error {
	if mode.IsRegular() {
		return nil
	}
	return &fs.PathError{Op: "open", Path: path, Err: tinyfmt.Errorf("%s, %w", Kind(mode), ErrNotRegular)}
}

// Kind names the type of a file for people: "a FIFO", "a directory".
func Kind(mode fs.FileMode) string {
	switch t := mode.Type(); {
	case t == 0:
		return "a regular file"
	case t&fs.ModeDir != 0:
		return "a directory"
	case t&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeCharDevice != 0:
		return "a character device"
	case t&fs.ModeDevice != 0:
		return "a block device"
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "an irregular file"
}

// Open opens the regular file at path for reading, through symbolic
// links; anything else is refused with an error that wraps ErrNotRegular.
func Open(path string) (*os.File, error) { return OpenFile(path, os.O_RDONLY) }

// OpenFile is Open with the access flag given: os.O_RDONLY, os.O_RDWR
// (to lock a file that must exist).
func OpenFile(path string, flag int) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := Check(path, st.Mode()); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, flag|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	if st, err = f.Stat(); err == nil {
		err = Check(path, st.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads the regular file at path, refusing one of more than max
// bytes with an error that names it and the limit.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooBig := tinyfmt.Errorf("%s: more than %d bytes, larger than it may be", path, max)
	if st, err := f.Stat(); err == nil && st.Size() > max {
		return nil, tooBig
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1)) // it may have grown
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, tooBig
	}
	return b, nil
}
