//go:build !noprocess

package agent

import (
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
)

// How a watched process ended: from the kernel's process events where the
// agent may listen to them (procevents_linux.go), else by the samples
// that find it gone.

// A procEnd is how a watched process ended (catalog's processFields).
type procEnd struct {
	reason string // "" while it runs, or not known
	code   int    // the exit code, for "exited"; -1 otherwise
	sig    syscall.Signal
	signal string // sig's name
	core   bool
	ticks  uint64    // its run time, in clock ticks
	_      [0]func() // not comparable: no equality function in the binary
}

// threadExits is what the kernel told of the exits of a followed
// process's threads, until the process's own end is known. The
// thread-group leader's exit is not the process's: the kernel tells it
// too when another thread execs (which takes the leader's pid), and when
// the leader calls pthread_exit and the others run on. Nor does the
// leader's wait status tell all: only the thread that dumps core carries
// the core flag (0x80), and the process ends with its last thread.
type threadExits struct {
	status uint32 // the last thread's wait status
	mono   int64  // and when it exited
	core   bool   // a thread dumped core
	leader bool   // the leader has exited
	ended  bool   // and the process with it, to be recorded
}

// The reasons.
const (
	endExited   = "exited"
	endKilled   = "killed"
	endStopped  = "stopped"
	endVanished = "vanished"
)

// endOf decodes an exit's wait status.
func endOf(status uint32) procEnd {
	ws := syscall.WaitStatus(status)
	switch {
	case ws.Exited():
		return procEnd{reason: endExited, code: ws.ExitStatus()}
	case ws.Signaled():
		return procEnd{reason: endKilled, code: -1, sig: ws.Signal(), signal: signalName(ws.Signal()), core: ws.CoreDump()}
	}
	return procEnd{reason: endVanished, code: -1} // not an exit's status
}

// level is the level of the state record that says the process ended.
// A clean end is a notice: exit code 0, or a pidfile removed.
func (e *procEnd) level() codec.Level {
	if e.reason == endStopped || e.reason == endExited && e.code == 0 {
		return codec.LevelNotice
	}
	return codec.LevelWarning
}

// eventLevel is the level of the process.exit event for this end; ok is
// false when none is due: a clean exit, or an end not known.
func (e *procEnd) eventLevel() (l codec.Level, ok bool) {
	switch {
	case e.reason == endExited:
		return codec.LevelErr, e.code != 0
	case e.reason != endKilled:
		return 0, false
	case e.core || e.sig < 32 && dumpsCore&(1<<e.sig) != 0:
		return codec.LevelCrit, true
	case e.sig == syscall.SIGTERM || e.sig == syscall.SIGINT:
		return codec.LevelWarning, true // asked to stop
	}
	return codec.LevelErr, true
}

// signalNames names the signals 1 to 31, as kill -l does, where Linux
// numbers them as most architectures do (asm-generic: x86, arm, arm64,
// riscv), and mipsSignalNames where MIPS numbers them; coreSignals and
// mipsCoreSignals mark those whose default action dumps core (signal(7)):
// a crash. Elsewhere (sparc, alpha) signals are named by number.
const (
	signalNames = "SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGKILL SIGUSR1 SIGSEGV SIGUSR2 " +
		"SIGPIPE SIGALRM SIGTERM SIGSTKFLT SIGCHLD SIGCONT SIGSTOP SIGTSTP SIGTTIN SIGTTOU SIGURG SIGXCPU " +
		"SIGXFSZ SIGVTALRM SIGPROF SIGWINCH SIGIO SIGPWR SIGSYS"
	coreSignals     uint32 = 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<11 | 1<<24 | 1<<25 | 1<<31
	mipsSignalNames        = "SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGEMT SIGFPE SIGKILL SIGBUS SIGSEGV SIGSYS " +
		"SIGPIPE SIGALRM SIGTERM SIGUSR1 SIGUSR2 SIGCHLD SIGPWR SIGWINCH SIGURG SIGIO SIGSTOP SIGTSTP " +
		"SIGCONT SIGTTIN SIGTTOU SIGVTALRM SIGPROF SIGXCPU SIGXFSZ"
	mipsCoreSignals uint32 = 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<10 | 1<<11 | 1<<12 | 1<<30 | 1<<31
	genericNumbers         = syscall.SIGBUS == 7 && syscall.SIGSYS == 31
	mipsNumbers            = syscall.SIGBUS == 10 && syscall.SIGSYS == 12 && syscall.SIGPWR == 19
)

// dumpsCore marks the signals whose default action dumps core.
var _, dumpsCore = signals()

// signals returns this architecture's names of signals 1 to 31 and those
// that dump core, or "" and 0 where it knows neither.
func signals() (string, uint32) {
	switch {
	case genericNumbers:
		return signalNames, coreSignals
	case mipsNumbers:
		return mipsSignalNames, mipsCoreSignals
	}
	return "", 0
}

// signalName names a signal, "SIG" and its number for one without a name
// (a real-time signal, or any where the numbers are not known).
func signalName(s syscall.Signal) string {
	names, _ := signals()
	for n := syscall.Signal(1); names != "" && n <= 31; n++ {
		name, rest, _ := strings.Cut(names, " ")
		if n == s {
			return name
		}
		names = rest
	}
	return "SIG" + strconv.Itoa(int(s))
}

// startEvents listens to the kernel's process events if the option and
// the kernel allow, and says which in p.exits. With an emitter for
// records between samples, a goroutine waits for them in the runtime's
// poller and records each exit as it happens; without, each Update reads
// those queued.
func (p *processCollector) startEvents(c CollectorConfig) {
	// The events name pids as the initial PID namespace numbers them,
	// where alone the kernel gives them: a fixture's are not those, nor
	// another namespace's procfs's (a container's, through
	// /proc/PID/root/proc).
	if !onProcfs(p.procFd) {
		p.exits = "poll: " + c.Proc + " is not procfs"
		return
	}
	if !ownProcfs(p.procFd) {
		p.exits = "poll: " + c.Proc + " is another PID namespace's procfs"
		return
	}
	ev, err := openProcEvents()
	if err != nil {
		p.exits = "poll: " + err.Error()
		return
	}
	p.ev, p.exits = ev, "netlink"
	p.filterPids() // none followed yet: none passes
	if c.async == nil {
		return
	}
	// Non-blocking: the file is registered with the poller.
	ev.f = os.NewFile(uintptr(ev.fd), "netlink proc connector")
	ev.rc, _ = ev.f.SyscallConn()
	ev.done = make(chan struct{})
	p.async = c.async
	go p.listen()
}

// ownProcfs reports whether the procfs at fd numbers processes as the
// agent's PID namespace does: its "self" is the agent's pid.
func ownProcfs(fd int) bool {
	self := [...]byte{'s', 'e', 'l', 'f', 0}
	var b [16]byte
	n, _, e := syscall.Syscall6(syscall.SYS_READLINKAT, uintptr(fd), uintptr(unsafe.Pointer(&self[0])),
		uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, 0)
	return e == 0 && string(b[:n]) == strconv.Itoa(os.Getpid())
}

// takeOver takes from the collector c, which a reload replaces and will
// close, what it follows, before the first sample and while c samples no
// more (under the agent's lock): its socket on the kernel's events, with
// the exits queued, and for each watch of the same name the process
// followed, its restarts and what the kernel told of it. An exit while
// the agent reloads is then recorded once, with its code, neither lost
// in between (no collector following it) nor told twice. Watches on
// another procfs root are not taken: their pids may be another
// namespace's.
func (p *processCollector) takeOver(c Collector) {
	o, ok := c.(*processCollector)
	if !ok || o.proc != p.proc || len(p.watches) == 0 {
		return
	}
	ev := o.ev
	if p.ev == nil {
		ev = nil // polling now: c closes it
	}
	if ev != nil {
		ev.release()
		p.ev.close() // its own: not under p.mu, as in Close
	}
	o.mu.Lock()
	p.mu.Lock()
	if ev != nil {
		p.ev, o.ev = ev, nil
		if p.async != nil {
			ev.done = make(chan struct{})
			go p.listen()
		}
	}
	// A watch of the same name is made of the same option: the old one
	// itself serves, and c closes the new one, which follows nothing.
	for i, w := range p.watches {
		for j, ow := range o.watches {
			if ow.name == w.name {
				p.watches[i], o.watches[j], ow.handed = ow, w, true
			}
		}
	}
	p.dirty = o.dirty
	// The first sample records every watch, as a new collector's does.
	p.samples = p.every - 1
	p.filterPids()
	p.mu.Unlock()
	o.mu.Unlock()
}

// listen records exits as the kernel tells them, until the socket is
// closed. It reads under p.mu, as Update does: an exit is read and
// recorded by one or the other, never seen half-done.
func (p *processCollector) listen() {
	defer close(p.ev.done)
	p.ev.rc.Read(func(uintptr) bool {
		p.mu.Lock()
		p.drain(p.async) // a record it could not write, the stream counts
		failed := p.ev.failed
		p.mu.Unlock()
		// A read failing otherwise than EAGAIN ends the wait, rather
		// than wake it again and again; Update then reads, and says.
		return failed
	})
}

// processExits says how the collector learns of exits, for agent.start:
// "" when it watches nothing.
func (p *processCollector) processExits() string { return p.exits }

// drain records the exits the kernel told of the processes followed,
// and counts its queue's overflows. Under p.mu.
//
// A process has ended when its leader has exited and its stat, read
// after, is gone or shows the leader alone: a thread's exit is queued
// before the thread is released, so every exit of a thread gone by then
// is read by the next read of the queue, which comes before the end is
// recorded. A leader whose pid is found running, not exiting, was
// replaced by a thread that exec'd: its exit is forgotten. Otherwise
// (the leader exiting or a zombie, other threads still there) the end
// waits for their exits, or the next sample (the last exit is told just
// before its thread is released, but reading it takes longer).
func (p *processCollector) drain(e Emitter) error {
	if err := p.readExits(); err != nil {
		return err
	}
	ended := false
	for _, w := range p.watches {
		if w.exits.leader && !w.exits.ended {
			w.exits.ended = p.processEnded(w)
		}
		ended = ended || w.exits.ended
	}
	if !ended {
		return nil
	}
	if err := p.readExits(); err != nil {
		return err
	}
	for _, w := range p.watches {
		if w.exits.ended {
			if err := p.exited(w, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// readExits reads the queue to its end, keeping the exits of the threads
// of the processes followed in their watches.
func (p *processCollector) readExits() error {
	if p.ev == nil {
		return nil
	}
	ne := binary.NativeEndian
	for {
		n, err := p.ev.recv()
		switch err {
		case nil:
		case syscall.EAGAIN:
			return nil
		case syscall.ENOBUFS:
			p.ev.overflows++
			continue
		default:
			p.ev.failed = true
			return &pathError{"netlink proc connector", err}
		}
		m := p.ev.buf[:n]
		if n < exitLen || ne.Uint32(m[offWhat:]) != procEventExit {
			continue // what the filter passed before
		}
		tgid := int(ne.Uint32(m[offTgid:]))
		for _, w := range p.watches {
			if w.pid != tgid {
				continue
			}
			x := &w.exits
			x.status, x.mono = ne.Uint32(m[offCode:]), int64(ne.Uint64(m[offTime:]))
			x.core = x.core || syscall.WaitStatus(x.status).CoreDump()
			x.leader = x.leader || ne.Uint32(m[offPid:]) == uint32(tgid)
		}
	}
}

// processEnded says, once w's leader has exited, whether its process has
// ended; if the pid runs another thread, it forgets the leader's exit.
func (p *processCollector) processEnded(w *watch) bool {
	ok, err := p.stat(w)
	st := &p.pst
	switch {
	case err != nil:
		return false // not known: the next sample says
	case !ok || st.state == 'X':
		return true
	case st.state == 'Z' || st.flags&pfExiting != 0:
		return st.threads <= 1
	}
	w.exits = threadExits{} // an exec
	return false
}

// exited records the end of w's process as the kernel told it, at the
// time of its last thread's exit: the state, and an event for a code
// other than 0 or a signal.
func (p *processCollector) exited(w *watch, e Emitter) error {
	x := w.exits
	w.end = endOf(x.status)
	w.end.core = w.end.reason == endKilled && x.core
	p.now = 0 // the clock now, not at the last sample
	// The exit's time since boot as start times count it, from its age
	// by the event's clock: CLOCK_MONOTONIC, which does not count
	// suspend, but the exit is read moments after it.
	if now := p.ticks(); w.start != 0 {
		age := uint64(max(clock.Mono()-x.mono, 0)) / (1e9 / catalog.TicksPerSecond)
		if now > age && now-age > w.start {
			w.end.ticks = now - age - w.start
		}
	}
	if w.lastPid != w.pid || w.lastStart != w.start {
		// Followed but not yet recorded: a new process all the same,
		// which ran.
		if w.lastPid != 0 {
			w.restarts++
		}
		w.lastPid, w.lastStart, w.running, p.dirty = w.pid, w.start, true, true
	}
	p.follow(w, 0)
	if err := p.report(w, e, false, x.mono); err != nil {
		return err
	}
	level, ok := w.end.eventLevel()
	if !ok {
		return nil
	}
	// The event is the state record, in the events stream.
	w.rec.Name, w.rec.Level = catalog.ProcessExit.Name, level
	err := emitAt(e, StreamEvents, &w.rec, x.mono)
	w.rec.Name = catalog.Process.Name
	return err
}

// filterPids has the kernel pass the exits of the processes followed.
func (p *processCollector) filterPids() {
	if p.ev == nil {
		return
	}
	p.pids.n = 0
	for _, w := range p.watches {
		if w.pid != 0 && w.statFd >= 0 {
			if p.pids.n < maxFilterPids {
				p.pids.pid[p.pids.n] = uint32(w.pid)
			}
			p.pids.n++
		}
	}
	if err := p.ev.setPids(&p.pids); err != nil && p.evErr == nil {
		p.evErr = &pathError{"netlink proc connector filter", err}
	}
}
