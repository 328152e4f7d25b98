package agent

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// A sleeper blocks Run until its next sample is due. It sleeps on a
// timerfd that the Go runtime's network poller watches, rather than on a
// Go timer, because an idle agent then wakes one thread once a second and
// no other:
//
//   - A Go timer also wakes the runtime's monitor thread (sysmon), which
//     sleeps until the next timer is due, and 10 ms later again.
//   - A goroutine woken by a timer inherits the time slice of the last
//     one that ran, a second earlier, so sysmon, awake at that moment,
//     takes it for one running too long and preempts it with a signal.
//   - A goroutine woken by the poller starts a fresh time slice, and with
//     no timer due and no blocking system call made (collectors read
//     /proc with raw system calls, see pread), sysmon sleeps on.
//
// Arming and reading the timerfd are raw system calls too: neither can
// block, the descriptor being non-blocking. Without a timerfd (a seccomp
// filter), or if it fails, the sleeper sleeps in steps of at most
// fallbackStep.
type sleeper struct {
	stop <-chan struct{}
	f    *os.File // the timerfd; nil: none
	fd   uintptr  // f's, armed directly: only Run's goroutine does
	ok   bool     // the timerfd works
	rc   syscall.RawConn
	// What the system calls take and give, and the function that reads,
	// made once: a closure made per sleep would allocate.
	spec struct{ interval, value syscall.Timespec } // itimerspec
	buf  [8]byte                                    // the expiration count
	err  syscall.Errno
	read func(fd uintptr) bool
}

// fallbackStep bounds a sleep without a timerfd, and so how long closing
// stop takes to end it.
const fallbackStep = 250 * time.Millisecond

// newSleeper returns a sleeper whose sleeps end, for good, once stop is
// closed and wake called.
func newSleeper(stop <-chan struct{}) *sleeper {
	s := &sleeper{stop: stop}
	const clockMonotonic = 1
	// TFD_NONBLOCK and TFD_CLOEXEC are O_NONBLOCK and O_CLOEXEC.
	fd, _, e := syscall.RawSyscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if e != 0 {
		return s
	}
	f := os.NewFile(fd, "timerfd") // non-blocking: registered with the poller
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return s
	}
	s.f, s.fd, s.rc, s.ok = f, fd, rc, true
	s.read = func(fd uintptr) bool {
		for {
			_, _, s.err = syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)))
			if s.err != syscall.EINTR {
				return s.err != syscall.EAGAIN // EAGAIN: not expired yet, wait in the poller
			}
		}
	}
	return s
}

// wake ends a sleep under way, for good: it closes the timerfd. Call it
// after closing stop, from any goroutine.
func (s *sleeper) wake() {
	if s.f != nil {
		s.f.Close()
	}
}

// sleep blocks until t or until stop is closed; it reports whether it
// slept until t.
func (s *sleeper) sleep(t time.Time) bool {
	for {
		select {
		case <-s.stop:
			return false
		default:
		}
		d := time.Until(t)
		if d <= 0 {
			return true
		}
		if !s.ok {
			time.Sleep(min(d, fallbackStep))
			continue
		}
		// A relative expiry on the monotonic clock, as time.Until. Once
		// wake has closed the descriptor this fails (EBADF), or finds
		// whatever took its number, which is no timerfd (EINVAL).
		s.spec.value = syscall.NsecToTimespec(int64(d))
		_, _, e := syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, s.fd, 0, uintptr(unsafe.Pointer(&s.spec)), 0, 0, 0)
		if e != 0 || s.rc.Read(s.read) != nil || s.err != 0 {
			select {
			case <-s.stop:
				return false
			default:
			}
			s.ok = false // failed: steps from now on
			s.f.Close()
		}
	}
}
