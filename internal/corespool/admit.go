package corespool

import (
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// latePre starts the name of a marker, .late-MONO-PID: an empty file a
// handler that could not take the spool's lock leaves, counted as a
// dropped crash by the next handler that scans the spool, which removes
// it.
const latePre = ".late-"

// droppedFlag is an empty file a handler that drops a crash leaves, for
// the agent to see in its look at the spool (Spool.Pending) that the
// state holds a count to tell (Spool.TakeDropped).
const droppedFlag = ".dropped"

// admit decides, under the spool's lock, whether the crash is kept: under
// the per-hour cap, with room in the spool. It counts it either way, sets
// c.Dropped to the crashes dropped before it when kept, and returns the
// limits, the room the minidump has, and, kept, the temporary file tmp
// it is written to, made and locked under the spool's lock: another
// handler counts it from then on. A handler that cannot take the lock
// leaves a marker that counts its crash (late).
//
// Nothing is synced under the lock: on slow flash one fsync can take
// longer than lockWait, and with a storm of crashes queued on the lock
// (the kernel runs a handler a crash, kernel.core_pipe_limit at once) the
// last would give up. The state is read and written only under the lock,
// so it is written in place, with no rename to make it whole to readers,
// and synced once the lock is released, for a power cut not to lose the
// dropped count. A cut between the write and the sync may leave the state
// old, empty or torn, which readState reads as a fresh state: for the
// window that is what the reboot does anyway (a new boot opens one), and
// what is lost is at most the drops of the last instants before the cut.
func admit(fd int, c *Crash, def Limits, tmp string) (Limits, int64, *os.File, error) {
	if err := lock(fd); err != nil {
		return def, 0, nil, late(fd, c, err)
	}
	stf, err := openState(fd)
	if err != nil {
		syscall.Flock(fd, syscall.LOCK_UN)
		return def, 0, nil, err
	}
	defer stf.Close()
	lim, room, f, err := decide(fd, stf, c, def, tmp)
	syscall.Flock(fd, syscall.LOCK_UN)
	stf.Sync()
	syscall.Fsync(fd) // the markers' removal, the crash's file
	return lim, room, f, err
}

// decide is admit's work under the lock, with the state file stf. The
// spool is scanned only for a crash within the per-hour cap: in a storm
// the others hold the lock for two small reads and a write.
func decide(fd int, stf *os.File, c *Crash, def Limits, tmp string) (Limits, int64, *os.File, error) {
	lim := def // what the agent wrote overrides it, key by key
	if b, err := readAt(fd, limitsFile, 1024); err != nil || parseFields(string(b), lim.fields()) != nil {
		lim = def
	}
	st := readState(stf)
	// Handlers started at once take the lock in any order: a crash a
	// little before the window's start is in it.
	if st.boot != c.Boot || c.Mono >= st.start+hour || c.Mono <= st.start-hour {
		st = state{boot: c.Boot, start: c.Mono, dropped: st.dropped}
	}
	var drop error
	var room int64
	var marks []string
	if st.count >= lim.PerHour {
		drop = tinyfmt.Errorf("%w: %d crashes kept this hour, per_hour is %d", ErrDropped, st.count, lim.PerHour)
	} else {
		used, m, lost, err := spoolUse(fd, lim.Size)
		if err != nil {
			return lim, 0, nil, err
		}
		marks, room = m, lim.Spool-used
		st.dropped += int64(len(marks)) + lost
		if room < minRoom {
			drop = tinyfmt.Errorf("%w: the spool holds %d bytes of its %d", ErrDropped, used, lim.Spool)
		}
	}
	var f *os.File
	if drop == nil {
		var err error
		syscall.Unlinkat(fd, tmp) // a handler of this pid that died
		if f, err = openAt(fd, tmp, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, 0o640); err != nil {
			return lim, 0, nil, err
		}
		syscall.Flock(int(f.Fd()), syscall.LOCK_EX) // new: no other holds it
		owned(f, fd)
		// The header first, with the drops the crash carries and saying
		// it was not kept whole: what a handler that dies before its
		// rename leaves, for the next look at the spool to keep (adopt).
		// Its block, allocated now, also holds the final header on a
		// disk that fills meanwhile.
		pc := *c
		pc.Dropped, pc.Error = st.dropped, joinErr(c.Error, notWhole)
		if _, err := f.WriteAt(pc.header(), 0); err != nil {
			f.Close()
			syscall.Unlinkat(fd, tmp)
			f, drop = nil, tinyfmt.Errorf("%w: its header: %w", ErrDropped, err)
		}
	}
	if drop != nil {
		st.dropped++
	} else {
		st.count++
		c.Dropped, st.dropped = st.dropped, 0
	}
	if err := writeState(stf, st); err != nil {
		if f != nil {
			f.Close()
			syscall.Unlinkat(fd, tmp)
		}
		return lim, 0, nil, err
	}
	for _, m := range marks { // counted in the state now
		syscall.Unlinkat(fd, m)
	}
	if drop != nil {
		if fl, err := openAt(fd, droppedFlag, syscall.O_WRONLY|syscall.O_CREAT, 0o640); err == nil {
			fl.Close()
		}
	}
	return lim, room, f, drop
}

// late counts a crash whose handler could not take the spool's lock
// (why): it makes the marker .late-MONO-PID, exclusively, for the next
// handler that scans the spool to count. Only if the marker cannot be
// made is the crash not counted, and the error not ErrDropped: the
// handler says so in the kernel log.
func late(fd int, c *Crash, why error) error {
	name := tinyfmt.Sprintf("%s%016x-%d", latePre, c.Mono, c.Pid)
	m, err := syscall.Openat(fd, name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o640)
	if err != nil {
		return tinyfmt.Errorf("%w, and %s/%s: %w", why, Dir, name, err)
	}
	syscall.Close(m)
	syscall.Fsync(fd)
	return tinyfmt.Errorf("%w: %w; counted by %s/%s", ErrDropped, why, Dir, name)
}

// lock takes the spool's lock, waiting for another handler at most
// lockWait.
func lock(fd int) error {
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if err != syscall.EWOULDBLOCK {
			return tinyfmt.Errorf("%s: lock: %w", Dir, err)
		}
		if time.Now().After(deadline) {
			return tinyfmt.Errorf("%s: locked by another process for over %v", Dir, lockWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// spoolUse returns the bytes the spool's crash files take, counting
// size for each minidump a handler is writing, the names of the markers
// of crashes not counted yet (late), and the crashes lost with handlers
// that died (adopt). A handler holds its temporary file's lock until it
// is renamed: one whose lock can be taken was left by a handler that
// died (a kill, a reboot: its pid may be another process's now). The
// scan costs a getdents64 a few dozen names, and an open and fstat a
// crash file: the spool holds at most Limits.Spool / HeaderSize of them.
func spoolUse(fd int, size int64) (used int64, marks []string, lost int64, err error) {
	buf := make([]byte, 4096)
	err = listNames(fd, buf, func(n []byte) {
		name := string(n)
		switch {
		case strings.HasPrefix(name, entryPre):
			if f, err := openAt(fd, name, syscall.O_RDONLY, 0); err == nil {
				if st, err := f.Stat(); err == nil {
					used += st.Size()
				}
				f.Close()
			}
		case strings.HasPrefix(name, latePre):
			marks = append(marks, name)
		case strings.HasPrefix(name, tmpPre) && strings.HasSuffix(name, ".tmp"):
			f, err := openAt(fd, name, syscall.O_RDWR, 0)
			if errors.Is(err, syscall.ENOENT) {
				return // renamed or removed meanwhile
			}
			tmpOpened(name)
			switch {
			case err != nil: // not a file a handler made
				syscall.Unlinkat(fd, name)
			case syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil:
				if st, err := f.Stat(); err == nil {
					used += max(st.Size(), HeaderSize+size)
				}
			case !stillNamed(fd, name, f):
				// Its handler renamed it into place and let go of it
				// since it was opened: kept, not left (counting it lost
				// told a kept crash as dropped too).
			default:
				n, kept := adopt(fd, f, name) // under its lock: no writer
				used, lost = used+kept, lost+n
			}
			if f != nil {
				f.Close()
			}
		}
	})
	return used, marks, lost, err
}

// tmpOpened is called when spoolUse has opened a temporary file by its
// name, before it tries its lock: tests make a handler finish there.
var tmpOpened = func(name string) {}

// stillNamed reports whether name in the directory fd is still the file f.
func stillNamed(fd int, name string, f *os.File) bool {
	g, err := openAt(fd, name, syscall.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer g.Close()
	var a, b syscall.Stat_t
	return syscall.Fstat(int(f.Fd()), &a) == nil && syscall.Fstat(int(g.Fd()), &b) == nil && a.Dev == b.Dev && a.Ino == b.Ino
}

// notWhole is the error of a crash whose handler died before it kept
// it whole: in the header it writes first, which the final one replaces.
const notWhole = "itiny core ended before it kept the crash whole (killed, or a power cut)"

// adopt keeps what a handler that died left in its temporary file f,
// name: with its final header, the crash whole; else its first header,
// which says it was not kept whole, alone. The crash was counted as kept
// when its handler was admitted. It returns the crashes lost, to count as
// dropped: one whose header never reached the disk (a power cut), and
// those it carried, when it cannot be kept; and the bytes it takes.
func adopt(fd int, f *os.File, name string) (lost, kept int64) {
	c, err := readHeader(f)
	if err != nil {
		syscall.Unlinkat(fd, name)
		return 1, 0
	}
	if strings.Contains(c.Error, notWhole) {
		err = f.Truncate(HeaderSize)
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syscall.Renameat(fd, name, fd, entryName(c.Mono, c.Pid))
	}
	if err != nil {
		syscall.Unlinkat(fd, name)
		return 1 + c.Dropped, 0
	}
	if st, err := f.Stat(); err == nil {
		kept = st.Size()
	}
	return 0, kept
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

// openState opens the state file, made if missing; anything else in its
// place (a link, a FIFO another user put there) is removed first.
func openState(fd int) (*os.File, error) {
	f, err := openAt(fd, stateFile, syscall.O_RDWR, 0)
	if err != nil {
		syscall.Unlinkat(fd, stateFile)
		if f, err = openAt(fd, stateFile, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, 0o640); err != nil {
			return nil, err
		}
		owned(f, fd) // made here: never a file another put in its place
	}
	return f, nil
}

// readState reads the state file f; an empty or bad one is a fresh
// state.
func readState(f *os.File) state {
	var s state
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 1024))
	if err == nil && parseFields(string(b), s.fields()) == nil {
		return s
	}
	return state{}
}

// writeState writes s over the state file f, in place: the file's
// block is reused, so that a full disk does not stop the count.
func writeState(f *os.File, s state) error {
	b := appendFields(nil, s.fields())
	_, err := f.WriteAt(b, 0)
	if err == nil {
		err = f.Truncate(int64(len(b)))
	}
	if err != nil {
		return tinyfmt.Errorf("%s/%s: %w", Dir, stateFile, err)
	}
	return nil
}
