// Package logfile is the agent's diagnostic log on disk: a file rotated by
// size, its backups numbered, never named or ordered by the clock.
//
// Writes append to NAME. A write that would take NAME past the size limit
// first rotates: NAME.(k-1) becomes NAME.k for each backup kept, NAME
// becomes NAME.1, and a new NAME is created; the oldest backup is
// overwritten by the rename. A write is never split between two files, so
// a line the logger writes in one Write stays whole. Devices boot in 1970
// and step their clocks: a number, not a time, says which backup is newer,
// so a clock step never deletes the newest (as lumberjack's time-named
// backups do, docs/DESIGN.md section 1).
//
// Only a regular file is written: a FIFO or a device at NAME is refused
// when it is opened (opening a FIFO for writing would block until a
// reader comes). Errors of a rotation are returned by the Write that
// needed it, which then appends to the file it has, past the limit,
// rather than lose the line.
package logfile

import (
	"os"
	"strconv"
	"sync"
	"syscall"

	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// A Writer is an open log file. Its methods may be called concurrently.
type Writer struct {
	mu      sync.Mutex
	path    string
	max     int64 // bytes before a rotation
	backups int   // NAME.1 .. NAME.backups
	f       *os.File
	size    int64
}

// Open opens the log at path for appending, creating it, with rotation
// past max bytes and backups older files kept.
func Open(path string, max int64, backups int) (*Writer, error) {
	if max <= 0 || backups < 0 {
		return nil, tinyfmt.Errorf("logfile: %s: bad limits: %d bytes, %d backups", path, max, backups)
	}
	w := &Writer{path: path, max: max, backups: backups}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

// open opens (or creates) path for appending, refusing an irregular file.
func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0o640)
	if err != nil {
		return tinyfmt.Errorf("logfile: %w", err)
	}
	st, err := f.Stat()
	if err == nil {
		err = regular.Check(w.path, st.Mode())
	}
	if err != nil {
		f.Close()
		return tinyfmt.Errorf("logfile: %w", err)
	}
	w.f, w.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past its
// limit.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return 0, os.ErrClosed
	}
	var rerr error
	if w.size > 0 && w.size+int64(len(p)) > w.max {
		rerr = w.rotate()
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	if err == nil {
		err = rerr
	}
	return n, err
}

// rotate shifts the backups up by one and starts a new file. On an error
// the current file stays open, so the line that asked is still written.
func (w *Writer) rotate() error {
	for k := w.backups; k > 1; k-- {
		if err := os.Rename(w.backup(k-1), w.backup(k)); err != nil && !os.IsNotExist(err) {
			return tinyfmt.Errorf("logfile: rotate: %w", err)
		}
	}
	if w.backups == 0 {
		if err := os.Remove(w.path); err != nil {
			return tinyfmt.Errorf("logfile: rotate: %w", err)
		}
	} else if err := os.Rename(w.path, w.backup(1)); err != nil {
		return tinyfmt.Errorf("logfile: rotate: %w", err)
	}
	old := w.f
	if err := w.open(); err != nil {
		w.f = old // renamed away, but still takes the line
		return err
	}
	old.Close()
	return nil
}

func (w *Writer) backup(k int) string { return w.path + "." + strconv.Itoa(k) }

// Close closes the file. Writes after it fail with os.ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
