package corespool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// A Spool is the agent's side of the spool directory: it tells the
// handler the limits, and takes the crashes the handler left.
type Spool struct {
	fd  int
	buf []byte // for getdents: a look costs no allocation
}

// Open opens the spool of data directory data, making it if need be.
func Open(data string) (*Spool, error) {
	fd, err := openDir(data)
	if err != nil {
		return nil, err
	}
	return &Spool{fd: fd, buf: make([]byte, 2048)}, nil
}

// Close closes the spool's directory.
func (s *Spool) Close() error { return syscall.Close(s.fd) }

// SetLimits replaces the limits the handler keeps crashes within.
func (s *Spool) SetLimits(l Limits) error {
	return replaceAt(s.fd, limitsFile, []byte(l.String()))
}

// Pending reports whether a crash file waits, and whether a count of
// crashes dropped does (TakeDropped); it allocates nothing.
func (s *Spool) Pending() (crashes, dropped bool, err error) {
	err = listNames(s.fd, s.buf, func(name []byte) {
		crashes = crashes || bytes.HasPrefix(name, []byte(entryPre))
		dropped = dropped || bytes.HasPrefix(name, []byte(latePre)) || string(name) == droppedFlag
	})
	return crashes, dropped, err
}

// TakeDropped calls tell with the number of crashes dropped that no kept
// crash has told (over the per-hour cap, the spool full, or a handler
// late for the lock), if any, and then forgets them, under the spool's
// lock: a crash dropped meanwhile is counted after. When tell fails,
// the count is kept for the next call.
func (s *Spool) TakeDropped(tell func(n int64) error) error {
	if err := lock(s.fd); err != nil {
		return err
	}
	stf, err := openState(s.fd)
	if err != nil {
		syscall.Flock(s.fd, syscall.LOCK_UN)
		return err
	}
	defer stf.Close()
	st := readState(stf)
	var marks []string
	err = listNames(s.fd, s.buf, func(name []byte) {
		if bytes.HasPrefix(name, []byte(latePre)) {
			marks = append(marks, string(name))
		}
	})
	n := st.dropped + int64(len(marks))
	if err == nil && n > 0 {
		err = tell(n)
	}
	if err == nil && st.dropped > 0 {
		st.dropped = 0
		err = writeState(stf, st)
	}
	if err == nil {
		for _, m := range marks {
			syscall.Unlinkat(s.fd, m)
		}
		syscall.Unlinkat(s.fd, droppedFlag)
	}
	syscall.Flock(s.fd, syscall.LOCK_UN)
	stf.Sync()
	syscall.Fsync(s.fd)
	return err
}

// Crashes returns the names of the crash files, oldest first (within a
// boot: by the monotonic time in their names).
func (s *Spool) Crashes() ([]string, error) {
	var names []string
	err := listNames(s.fd, s.buf, func(name []byte) {
		if bytes.HasPrefix(name, []byte(entryPre)) {
			names = append(names, string(name))
		}
	})
	for i := 1; i < len(names); i++ { // a few names: no sort package
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names, err
}

// Read opens a crash file and returns its header, with Size the
// minidump's bytes and Stored what the agent has stored of it, and the
// file to read the minidump from at offset HeaderSize, and to Mark. A
// minidump over max bytes is refused.
func (s *Spool) Read(name string, max int64) (Crash, *os.File, error) {
	if strings.ContainsRune(name, '/') {
		return Crash{}, nil, fmt.Errorf("%s/%s: not a name in the spool", Dir, name)
	}
	f, err := openAt(s.fd, name, syscall.O_RDWR, 0)
	if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EROFS) {
		f, err = openAt(s.fd, name, syscall.O_RDONLY, 0) // Mark fails: progress kept in memory
	}
	if err != nil {
		return Crash{}, nil, err
	}
	c, err := readHeader(f)
	var st os.FileInfo
	if err == nil {
		st, err = f.Stat()
	}
	if err == nil {
		c.Size = st.Size() - HeaderSize
		if c.Size > max {
			err = fmt.Errorf("a %d-byte minidump, over the %d it may take", c.Size, max)
		}
	}
	if err != nil {
		f.Close()
		return c, nil, fmt.Errorf("%s/%s: %w", Dir, name, err)
	}
	return c, f, nil
}

// Mark records in crash file f, opened by Read, what is stored of it. It
// is not synced: it outlives the agent, not a power cut, after which the
// parts since the last synced mark are stored again, never skipped.
func (s *Spool) Mark(f *os.File, p Progress) error {
	if _, err := f.WriteAt(p.progress(), progressOff); err != nil {
		return fmt.Errorf("marking what is stored: %w", err)
	}
	return nil
}

// Remove removes a crash file, its records stored.
func (s *Spool) Remove(name string) error {
	if err := syscall.Unlinkat(s.fd, name); err != nil {
		return fmt.Errorf("%s/%s: %w", Dir, name, err)
	}
	return nil
}
