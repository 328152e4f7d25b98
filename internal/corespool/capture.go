package corespool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/itiny/itiny/minicore"
)

// ErrDropped is wrapped by Capture's error for a crash it counted and
// did not keep: over the per-hour cap, or the spool full.
var ErrDropped = errors.New("crash dropped")

// lockWait is the longest Capture waits for another handler's lock,
// which is held only while the state is read and written.
const lockWait = 2 * time.Second

// hour is the per-hour cap's window, by the monotonic clock: it opens
// at the first crash after the last window closed, and a reboot opens a
// new one.
const hour = int64(time.Hour)

// minRoom is the least spool room a minidump is made in: the notes alone
// of a small process.
const minRoom = 16 << 10

// Capture is itiny core's work: it makes the minidump of the core it
// reads from core and keeps it, with c (pid, tid, signal, time, exe,
// boot, mono: what the kernel and the handler know), in the spool of data
// directory data, within the limits the agent wrote there, def if it
// wrote none; c's exe, the kernel's %e, gives way to the executable's
// path, or the core's command name. It returns the crash file's name; the file's error is c's
// and what went wrong with the core (truncated, not one). It returns
// an error when it kept no file: a dropped crash (ErrDropped), or the
// spool could not be written. It reads core no further than the
// minidump needs: the caller drains it.
func Capture(data string, c Crash, core io.Reader, def Limits) (string, error) {
	fd, err := openDir(data)
	if err != nil {
		return "", err
	}
	defer syscall.Close(fd)
	tmp := tmpPre + strconv.Itoa(os.Getpid()) + ".tmp"
	lim, room, f, err := admit(fd, &c, def, tmp)
	if err != nil {
		return "", err
	}
	ml := minicore.Limits{ // which bounds the limits
		ThreadBytes: int(min(lim.ThreadBytes, minicore.MaxThreadBytes)), Threads: int(min(lim.Threads, minicore.MaxThreads)), Size: min(lim.Size, room-HeaderSize),
	}
	// The process lives until its dump ends: gdb's list of the shared
	// libraries is read from its memory (minicore.Limits.Mem).
	mem := &procMem{pid: c.Pid}
	defer mem.close()
	ml.Mem = mem
	info, merr := minicore.Write(io.NewOffsetWriter(f, HeaderSize), core, ml)
	c.Threads, c.Stacks, c.Read, c.Size = int64(info.Threads), int64(info.Stacks), info.Read, info.Size
	// The executable's path while the process lives (its dump runs),
	// else the core's command name: the kernel's %e is the crashing
	// thread's name, which a thread sets as it likes.
	if exe, err := os.Readlink("/proc/" + strconv.FormatInt(c.Pid, 10) + "/exe"); err == nil && c.Pid > 0 {
		c.Exe = exe
	} else if info.Exe != "" {
		c.Exe = info.Exe
	}
	if merr != nil {
		c.Error = joinErr(c.Error, merr.Error())
	}
	name := fmt.Sprintf("%s%016x-%d", entryPre, c.Mono, c.Pid)
	_, err = f.WriteAt(c.header(), 0)
	if err == nil {
		err = f.Truncate(HeaderSize + info.Size) // a note cut short, or an unusable minidump
	}
	if err = install(fd, f, tmp, name, err); err != nil {
		return "", err
	}
	return name, nil
}

// procMem reads a process's memory, opening /proc/PID/mem at the first
// read: a core that needs none (static, not a core) says nothing of it.
type procMem struct {
	pid int64
	f   *os.File
	err error
}

func (m *procMem) ReadAt(b []byte, off int64) (int, error) {
	if m.f == nil && m.err == nil {
		m.f, m.err = os.Open("/proc/" + strconv.FormatInt(m.pid, 10) + "/mem")
	}
	if m.err != nil {
		return 0, m.err
	}
	return m.f.ReadAt(b, off)
}

func (m *procMem) close() {
	if m.f != nil {
		m.f.Close()
	}
}

// joinErr appends what went wrong to a crash's error.
func joinErr(e, more string) string {
	if e == "" {
		return more
	}
	return e + "; " + more
}

// admit decides, under the spool's lock, whether the crash is kept: under
// the per-hour cap, with room in the spool. It counts it either way, sets
// c.Dropped to the crashes dropped before it when kept, and returns the
// limits, the room the minidump has, and, kept, the temporary file tmp
// it is written to, made and locked under the spool's lock: another
// handler counts it from then on.
func admit(fd int, c *Crash, def Limits, tmp string) (Limits, int64, *os.File, error) {
	if err := lock(fd); err != nil {
		return Limits{}, 0, nil, err
	}
	defer syscall.Flock(fd, syscall.LOCK_UN)
	lim := def // what the agent wrote overrides it, key by key
	if b, err := readAt(fd, limitsFile, 1024); err != nil || parseFields(string(b), lim.fields()) != nil {
		lim = def
	}
	st := readState(fd)
	// Handlers started at once take the lock in any order: a crash a
	// little before the window's start is in it.
	if st.boot != c.Boot || c.Mono >= st.start+hour || c.Mono <= st.start-hour {
		st = state{boot: c.Boot, start: c.Mono, dropped: st.dropped}
	}
	used, err := spoolUse(fd, lim.Size)
	if err != nil {
		return lim, 0, nil, err
	}
	room := lim.Spool - used
	var drop error
	switch {
	case st.count >= lim.PerHour:
		drop = fmt.Errorf("%w: %d crashes kept this hour, per_hour is %d", ErrDropped, st.count, lim.PerHour)
	case room < minRoom:
		drop = fmt.Errorf("%w: the spool holds %d bytes of its %d", ErrDropped, used, lim.Spool)
	}
	var f *os.File
	if drop == nil {
		syscall.Unlinkat(fd, tmp) // a handler of this pid that died
		if f, err = openAt(fd, tmp, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, 0o640); err != nil {
			return lim, 0, nil, err
		}
		syscall.Flock(int(f.Fd()), syscall.LOCK_EX) // new: no other holds it
		owned(f, fd)
	}
	if drop != nil {
		st.dropped++
	} else {
		st.count++
		c.Dropped, st.dropped = st.dropped, 0
	}
	if err := replaceAt(fd, stateFile, appendFields(nil, st.fields())); err != nil {
		if f != nil {
			f.Close()
			syscall.Unlinkat(fd, tmp)
		}
		return lim, 0, nil, err
	}
	return lim, room, f, drop
}

// lock takes the spool's lock, waiting for another handler at most
// lockWait.
func lock(fd int) error {
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EWOULDBLOCK || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("%s: lock: %w", Dir, err)
			}
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// spoolUse returns the bytes the spool's crash files take, counting
// size for each minidump a handler is writing. A handler holds its
// temporary file's lock until it is renamed: one whose lock can be
// taken was left by a handler that died (a kill, a reboot: its pid may
// be another process's now), and is removed.
func spoolUse(fd int, size int64) (int64, error) {
	var used int64
	buf := make([]byte, 4096)
	err := listNames(fd, buf, func(n []byte) {
		name := string(n)
		switch {
		case strings.HasPrefix(name, entryPre):
			if f, err := openAt(fd, name, syscall.O_RDONLY, 0); err == nil {
				if st, err := f.Stat(); err == nil {
					used += st.Size()
				}
				f.Close()
			}
		case strings.HasPrefix(name, tmpPre) && strings.HasSuffix(name, ".tmp"):
			f, err := openAt(fd, name, syscall.O_RDONLY, 0)
			if err != nil {
				return // renamed or removed meanwhile
			}
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				syscall.Unlinkat(fd, name) // under its lock: no writer
			} else if st, err := f.Stat(); err == nil {
				used += max(st.Size(), HeaderSize+size)
			}
			f.Close()
		}
	})
	return used, err
}

// state is the per-hour window, and the crashes dropped since the last
// kept.
type state struct {
	boot           string
	start          int64 // monotonic ns
	count, dropped int64
}

func (s *state) fields() []field {
	return []field{{key: "boot", s: &s.boot}, {key: "start", n: &s.start}, {key: "count", n: &s.count}, {key: "dropped", n: &s.dropped}}
}

// readState reads the state file; a missing or bad one is a fresh state.
func readState(fd int) state {
	var s state
	b, err := readAt(fd, stateFile, 1024)
	if err == nil && parseFields(string(b), s.fields()) == nil {
		return s
	}
	return state{}
}
