package corespool

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"syscall"

	"github.com/itiny/itiny/internal/tinyfmt"
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
// crashes dropped, or a handler's temporary file, does (TakeDropped); it
// allocates nothing.
func (s *Spool) Pending() (crashes, dropped bool, err error) {
	err = listNames(s.fd, s.buf, func(name []byte) {
		crashes = crashes || bytes.HasPrefix(name, []byte(entryPre))
		dropped = dropped || bytes.HasPrefix(name, []byte(latePre)) || bytes.HasPrefix(name, []byte(tmpPre)) ||
			string(name) == droppedFlag
	})
	return crashes, dropped, err
}

// TakeDropped calls tell with the number of crashes dropped that no kept
// crash has told (over the per-hour cap, the spool full, a handler late
// for the lock, or one that died: its crash is kept, as far as it got,
// if it can be), if any, and then takes them off the count. tell runs
// outside the spool's lock, so that the handlers never wait for an
// event to be synced; a crash dropped meanwhile is counted after. When
// tell fails, the count is kept for the next call.
func (s *Spool) TakeDropped(tell func(n int64) error) error {
	d0, marks, err := s.lockedState(func(st *state, marks []string) bool { return false })
	if err != nil || d0+int64(len(marks)) == 0 {
		return err
	}
	if err := tell(d0 + int64(len(marks))); err != nil {
		return err
	}
	_, _, err = s.lockedState(func(st *state, _ []string) bool {
		st.dropped = max(st.dropped-d0, 0)
		for _, m := range marks {
			syscall.Unlinkat(s.fd, m)
		}
		return true
	})
	return err
}

// lockedState calls change with the state and the late handlers'
// markers under the spool's lock, having kept what handlers that died
// left (adopt), and writes the state back if change says so. It returns
// the state's dropped count and the markers as change saw them. The
// state is synced after the lock is released, as a handler does.
func (s *Spool) lockedState(change func(st *state, marks []string) bool) (int64, []string, error) {
	if err := lock(s.fd); err != nil {
		return 0, nil, err
	}
	stf, err := openState(s.fd)
	if err != nil {
		syscall.Flock(s.fd, syscall.LOCK_UN)
		return 0, nil, err
	}
	defer stf.Close()
	st := readState(stf)
	_, marks, lost, err := spoolUse(s.fd, 0)
	st.dropped += lost
	d0 := st.dropped
	if err == nil && (change(&st, marks) || lost > 0) {
		err = writeState(stf, st)
	}
	if err == nil && st.dropped == 0 {
		syscall.Unlinkat(s.fd, droppedFlag) // a handler sets it again, under the lock
	}
	syscall.Flock(s.fd, syscall.LOCK_UN)
	stf.Sync()
	syscall.Fsync(s.fd)
	return d0, marks, err
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
		return Crash{}, nil, tinyfmt.Errorf("%s/%s: not a name in the spool", Dir, name)
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
			err = tinyfmt.Errorf("a %d-byte minidump, over the %d it may take", c.Size, max)
		}
	}
	if err != nil {
		f.Close()
		return c, nil, tinyfmt.Errorf("%s/%s: %w", Dir, name, err)
	}
	return c, f, nil
}

// Mark records in crash file f, opened by Read, what is stored of it,
// synced: written after the records it counts are synced, it is never
// ahead of them, and at most one record behind (a power cut between the
// two), which the agent finds at the end of its ring.
func (s *Spool) Mark(f *os.File, p Progress) error {
	_, err := f.WriteAt(p.progress(), progressOff)
	if err == nil {
		err = syscall.Fdatasync(int(f.Fd()))
	}
	if err != nil {
		return tinyfmt.Errorf("%s: marking what is stored: %w", f.Name(), err)
	}
	return nil
}

// Remove removes a crash file, its records stored.
func (s *Spool) Remove(name string) error {
	if err := syscall.Unlinkat(s.fd, name); err != nil {
		return tinyfmt.Errorf("%s/%s: %w", Dir, name, err)
	}
	return nil
}
