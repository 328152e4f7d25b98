package corespool

import (
	"errors"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/itiny/itiny/internal/tinyfmt"
	"github.com/itiny/itiny/minicore"
)

// ErrDropped is wrapped by Capture's error for a crash it counted and
// did not keep: over the per-hour cap, the spool full, or the spool's
// lock held by other handlers for over lockWait (counted by a marker).
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
// spool could not be written. A disk too full for a minidump, or that
// fills as it is written, leaves the crash its header alone, its error
// saying so and how much was free. It reads core no further than the
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
	// The file system's free room bounds the minidump too: where it has
	// not the least a minidump needs, the crash is kept without one, its
	// header alone, for the agent still to tell of it.
	var info minicore.Info
	var merr error
	if free, keep, err := diskRoom(fd); err == nil && free-keep < minRoom {
		c.Error = joinErr(c.Error, diskFull(fd, "before the core was read"))
	} else {
		if err == nil {
			ml.Size = min(ml.Size, free-keep-HeaderSize)
		}
		info, merr = minicore.Write(io.NewOffsetWriter(f, HeaderSize), core, ml)
	}
	c.Threads, c.Stacks, c.Read, c.Size = int64(info.Threads), int64(info.Stacks), info.Read, info.Size
	// The executable's path while the process lives (its dump runs),
	// else the core's command name: the kernel's %e is the crashing
	// thread's name, which a thread sets as it likes.
	if exe, err := os.Readlink("/proc/" + strconv.FormatInt(c.Pid, 10) + "/exe"); err == nil && c.Pid > 0 {
		c.Exe = exe
	} else if info.Exe != "" {
		c.Exe = info.Exe
	}
	name := entryName(c.Mono, c.Pid)
	// Another writer may fill the disk meanwhile (the free room was
	// read, not reserved): the minidump's write, or its sync (a delayed
	// allocation), then meets ENOSPC, and the header is kept alone, in
	// the room the minidump's blocks leave.
	if noRoom(merr) {
		merr = nil
		c.Error = joinErr(c.Error, diskFull(fd, "as the minidump was written"))
		c.Stacks, c.Size = 0, 0
	}
	if merr != nil {
		c.Error = joinErr(c.Error, merr.Error())
	}
	err = finish(f, &c)
	if noRoom(err) && c.Size > 0 {
		c.Error = joinErr(c.Error, diskFull(fd, "as the minidump was synced"))
		c.Stacks, c.Size = 0, 0
		err = finish(f, &c)
	}
	// A crash not renamed into place is left, unlocked, for the next
	// look at the spool to keep as far as it got (adopt), or to count
	// with the drops it carries: never lost with its file.
	if err = install(fd, f, tmp, name, err, true); err != nil {
		return "", tinyfmt.Errorf("%w (left for the next look at the spool to keep, with the %d crashes dropped before it)", err, c.Dropped)
	}
	return name, nil
}

// noRoom says whether err is the file system's being full, or the
// user's quota.
func noRoom(err error) bool { return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) }

// entryName is the name of a crash file: its handler's monotonic time
// and the crashed process's pid.
func entryName(mono, pid int64) string { return tinyfmt.Sprintf("%s%016x-%d", entryPre, mono, pid) }

// finish cuts f, a crash file, to c's header and c.Size bytes of
// minidump (a note cut short, or an unusable minidump, is cut off), writes
// the header and syncs it: ENOSPC of a delayed allocation shows then.
func finish(f *os.File, c *Crash) error {
	err := f.Truncate(HeaderSize + c.Size)
	if err == nil {
		_, err = f.WriteAt(c.header(), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	return err
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
