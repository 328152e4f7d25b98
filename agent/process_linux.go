//go:build !noprocess

package agent

import (
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/tinyfmt"
)

func init() { registerCollector("process", true, newProcessCollector) }

// processCollector watches the processes named by the watch option, each
// "NAME" or "name=NAME" (the command name in /proc/PID/comm; the oldest
// process wins when several match) or "pidfile:/abs/path". It records to
// the state stream when one starts or restarts (notice), ends cleanly
// (notice: exit code 0, or its pidfile removed) or otherwise (warning),
// with how it ended (procexit_linux.go), and a full record of every
// watched process every snapshot_every samples (info). The first sample
// records every watched process (info). It watches nothing unless
// configured.
//
// A process that removes its pidfile is followed until it exits. A
// pidfile left behind by a crash whose number was reused by another
// process would make that one watched: pidfiles do not say more.
//
// Restarts are counted in the boot, across the agent's restarts and
// reloads, from a state file (procstate.go).
//
// A running process is followed through descriptors kept open on its
// /proc/PID/stat, statm and fd: they refer to the process, not to its
// number, so reading them fails once it has died even if the number has
// been reused. Processes watched by name are looked for by scanning /proc
// only while one of them is not found: a full scan costs three system
// calls per process.
type processCollector struct {
	proc     string // procfs root, for error messages
	procFd   int    // procfs root, kept open to scan it and open relative to it
	watches  []*watch
	every    int // snapshot_every
	samples  int
	pageSize uint64
	dirBuf   []byte // getdents buffer
	buf      []byte // file content buffer
	path     []byte // "PID/stat\0" and the like, built in place
	st       syscall.Stat_t
	pst      procStat // stat's
	cols     [][]byte
	clock    func() uint64 // bootTicks; a test's
	now      uint64        // its ticks, read once an Update (ticks)

	// mu is Update's, and the goroutine's that records exits as the
	// kernel tells them (procexit_linux.go).
	mu      sync.Mutex
	ev      *procEvents  // the kernel's process events; nil: polling
	exits   string       // how exits are learnt: processExits
	async   Emitter      // the goroutine's
	evErr   error        // the filter's failure, for Update to say
	pids    filterPids   // scratch for filterPids
	lostRec codec.Record // process.exits_lost

	// The state file (procstate.go).
	state  string
	boot   codec.BootID
	loaded bool // read at the first Update
	dirty  bool // restarts or a process followed changed since saved
}

// A watch is one watched process and what was last seen of it.
type watch struct {
	name    string // as configured: the record's process field
	comm    []byte // name watches: the command name to look for
	pidfile []byte // pidfile watches: NUL-terminated path

	pid                       int // 0 when not running
	statFd, statmFd, fdsFd    int // on the running process, -1 when closed
	running, seen, gotPidfile bool
	handed                    bool // by the collector a reload replaced (takeOver)
	fdsOnProcfs               bool // fdsFd is on procfs, not a test's copy
	lastPid                   int  // the pid in the record when not running
	restarts                  uint64
	// Start times, in clock ticks since boot, tell one process from
	// another of the same pid: the followed one's, lastPid's.
	start, lastStart uint64
	seenAt           uint64      // when a sample last saw it alive, in ticks
	end              procEnd     // how lastPid ended, once it has
	exits            threadExits // the kernel's word on the followed one's threads
	// scan results: the oldest live process of the name
	candPid   int
	candStart uint64
	rec       codec.Record
}

// stateString returns a process state letter as a string without
// allocating: a slice of a constant.
func stateString(c byte) string {
	const printable = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
	if c < '!' || c > '~' {
		return ""
	}
	return printable[c-'!' : c-'!'+1]
}

const procSuperMagic = 0x9fa0 // PROC_SUPER_MAGIC, procfs's f_type

// maxComm is the length of a command name the kernel keeps for user
// processes (TASK_COMM_LEN - 1); kernel threads may have longer ones.
const maxComm = 15

func newProcessCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("process", c.Options, "watch", "snapshot_every", "proc_events"); err != nil {
		return nil, err
	}
	every, err := optPositive(c.Options, "snapshot_every", 60)
	if err != nil {
		return nil, err
	}
	events, err := optBool(c.Options, "proc_events", true)
	if err != nil {
		return nil, err
	}
	p := &processCollector{
		proc:     c.Proc,
		procFd:   -1,
		every:    every,
		pageSize: uint64(syscall.Getpagesize()),
		dirBuf:   make([]byte, 16<<10),
		buf:      make([]byte, 2048),
		path:     make([]byte, 0, 64),
		cols:     make([][]byte, 0, 64),
		lostRec:  catalogRecord(&catalog.ProcessExitsLost),
		clock:    bootTicks,
		state:    c.state,
		boot:     c.boot,
	}
	seen := map[string]bool{}
	for _, entry := range splitList(c.Options["watch"]) {
		w := &watch{statFd: -1, statmFd: -1, fdsFd: -1}
		switch {
		case strings.HasPrefix(entry, "pidfile:"):
			path := strings.TrimSpace(strings.TrimPrefix(entry, "pidfile:"))
			if !filepath.IsAbs(path) {
				return nil, tinyfmt.Errorf("option watch: pidfile path %q is not absolute", path)
			}
			w.name, w.pidfile = path, cString(path)
		default:
			name := strings.TrimSpace(strings.TrimPrefix(entry, "name="))
			if name == "" || strings.ContainsAny(name, "/") {
				return nil, tinyfmt.Errorf("option watch: bad process name %q", entry)
			}
			w.name, w.comm = name, []byte(name)
		}
		if seen[w.name] {
			return nil, tinyfmt.Errorf("option watch: %q given twice", w.name)
		}
		seen[w.name] = true
		w.rec = catalogRecord(&catalog.Process)
		w.rec.Fields.SetString(0, w.name)
		w.end.code = -1
		p.watches = append(p.watches, w)
	}
	if c.check {
		return nil, nil
	}
	if len(p.watches) > 0 {
		fd, err := syscall.Open(c.Proc, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return nil, &pathError{c.Proc, err}
		}
		p.procFd = fd
		p.exits = "poll"
		if events {
			p.startEvents(c)
		}
	}
	return p, nil
}

// Close releases the descriptors; the agent calls it when the
// configuration is reloaded.
func (p *processCollector) Close() error {
	if p.ev != nil {
		p.ev.close() // not under p.mu: waits for the goroutine, which takes it
	}
	p.mu.Lock()
	p.ev = nil
	for _, w := range p.watches {
		p.follow(w, 0)
	}
	closeFd(&p.procFd)
	p.mu.Unlock()
	return nil
}

func (p *processCollector) Update(e Emitter) error {
	if len(p.watches) == 0 {
		return nil
	}
	p.mu.Lock()
	err := p.update(e)
	p.mu.Unlock()
	return err
}

func (p *processCollector) update(e Emitter) error {
	p.samples++
	snapshot := p.samples%p.every == 0
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if !p.loaded {
		// At the first sample, not when made: a reload makes the new
		// collector while the old one may still sample and save.
		keep(p.loadState())
	}
	// The exits the kernel told since the last sample, before a sample
	// finds one of them gone.
	p.now = 0
	keep(p.drain(e))
	// Find each process: by its pidfile, or still alive under the pid
	// followed, or else by a scan of /proc shared by all names missing.
	scan := false
	for _, w := range p.watches {
		if w.pidfile != nil {
			pid, present, err := p.readPidfile(w)
			keep(err)
			w.gotPidfile = present
			if pid != w.pid && pid != 0 {
				p.follow(w, pid)
			}
		}
		if w.pid != 0 {
			ok, err := p.sample(w)
			keep(err)
			if !ok {
				// The kernel queues an exit before it is seen dead:
				// read, it says how the process ended.
				keep(p.drain(e))
				if w.pid != 0 {
					p.follow(w, 0)
				}
			}
		}
		if w.pid == 0 && w.comm != nil {
			scan = true
		}
	}
	if scan {
		keep(p.scan())
		for _, w := range p.watches {
			if w.pid == 0 && w.candPid != 0 {
				p.follow(w, w.candPid)
				if ok, err := p.sample(w); !ok {
					keep(err)
					p.follow(w, 0)
				}
			}
		}
	}
	for _, w := range p.watches {
		if err := p.report(w, e, snapshot, 0); err != nil {
			return err
		}
	}
	if p.ev != nil && p.ev.overflows > 0 {
		p.lostRec.Level = codec.LevelWarning
		p.lostRec.Fields.SetUint(0, p.ev.overflows)
		p.ev.overflows = 0
		if err := e.Emit(StreamEvents, &p.lostRec); err != nil {
			return err
		}
	}
	keep(p.evErr)
	p.evErr = nil
	keep(p.saveState())
	return first
}

// report records w's state when it changed, or at a snapshot, at
// monotonic time at (an exit the kernel told), or with 0 the sample's.
func (p *processCollector) report(w *watch, e Emitter, snapshot bool, at int64) error {
	running := w.pid != 0
	restarted := running && w.lastPid != 0 && (w.pid != w.lastPid || w.start != w.lastStart)
	changed := !w.seen || running != w.running || restarted
	level := codec.LevelInfo
	switch {
	case restarted:
		// A new process: restarted, maybe after a stop, or while the
		// agent was away.
		w.restarts++
		level = codec.LevelNotice
	case !running && (w.running || !w.seen && w.lastStart != 0):
		// Gone since the last sample, or since the agent's restart: the
		// state file names a process of this boot whose end is not
		// recorded (its runtime unknown). Recorded, it is marked so by a
		// start time of 0, which no process has.
		w.lastStart, p.dirty = 0, true
		if w.end.reason == "" {
			// Not told by the kernel. A daemon removes its pidfile when
			// it stops cleanly; a process gone without doing so died.
			w.end = procEnd{reason: endVanished, code: -1, ticks: max(w.seenAt, w.start) - w.start}
			if w.pidfile != nil && !w.gotPidfile {
				w.end.reason = endStopped
			}
		}
		level = w.end.level()
	case !w.seen:
		// The first state is news, and plain info.
	case running && !w.running:
		level = codec.LevelNotice // started
	}
	w.seen, w.running = true, running
	if running {
		if w.pid != w.lastPid || w.start != w.lastStart {
			p.dirty = true
		}
		w.lastPid, w.lastStart = w.pid, w.start
		if w.end.reason != "" {
			w.end = procEnd{code: -1}
		}
	}
	if !changed && !snapshot {
		return nil
	}
	f := w.rec.Fields
	f.SetBool(1, running)
	f.SetInt(2, int64(w.lastPid))
	f.SetUint(3, w.restarts)
	ticks := w.end.ticks
	if running {
		ticks = max(p.ticks(), w.start) - w.start
	} else {
		for i := 4; i < 7; i++ { // rss_bytes, cpu_ticks, fds
			f.SetInt(i, 0)
		}
		f.SetString(7, "")
	}
	f.SetFloat(8, float64(ticks)/catalog.TicksPerSecond)
	f.SetString(9, w.end.reason)
	f.SetInt(10, int64(w.end.code))
	f.SetString(11, w.end.signal)
	f.SetBool(12, w.end.core)
	w.rec.Level = level
	if at != 0 {
		return emitAt(e, StreamState, &w.rec, at)
	}
	return e.Emit(StreamState, &w.rec)
}

// ticks returns the time since boot in clock ticks, as start times count
// it, read once an Update.
func (p *processCollector) ticks() uint64 {
	if p.now == 0 {
		p.now = p.clock()
	}
	return p.now
}

// bootTicks reads CLOCK_BOOTTIME, the clock of start times (suspend
// included), in clock ticks.
func bootTicks() uint64 {
	const clockBoottime = 7
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockBoottime, uintptr(unsafe.Pointer(&ts)), 0)
	return uint64(ts.Sec)*catalog.TicksPerSecond + uint64(ts.Nsec)/(1e9/catalog.TicksPerSecond)
}

// readPidfile reads a pidfile without allocating. A missing or empty one
// means the process is not running; present says the file exists.
func (p *processCollector) readPidfile(w *watch) (pid int, present bool, err error) {
	fd, err := openat(atFDCWD, w.pidfile, syscall.O_RDONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK)
	if err == syscall.ENOENT {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, &pathError{w.name, err}
	}
	n, err := preadAll(fd, p.buf[:64])
	syscall.Close(fd)
	if err != nil {
		return 0, true, &pathError{w.name, err}
	}
	b := trimSpace(p.buf[:n])
	if len(b) == 0 {
		return 0, true, nil // being written, or truncated on stop
	}
	v, err := parseUint(b)
	if err != nil || v == 0 || v > 1<<22 { // PID_MAX_LIMIT
		return 0, true, malformed(w.name, "want a process ID, got %s", quoteLine(p.buf[:n]))
	}
	return int(v), true, nil
}

// follow closes the descriptors on the process followed, if any, and
// opens them on pid unless it is 0. A process that died in between is
// seen by the next read.
func (p *processCollector) follow(w *watch, pid int) {
	closeFd(&w.statFd)
	closeFd(&w.statmFd)
	closeFd(&w.fdsFd)
	w.pid, w.exits = pid, threadExits{}
	if pid != 0 {
		w.start = 0 // until sampled; else it stays the ended process's
		w.statFd, _ = openat(p.procFd, p.pidPath(pid, "stat"), syscall.O_RDONLY)
		w.statmFd, _ = openat(p.procFd, p.pidPath(pid, "statm"), syscall.O_RDONLY)
		// Reading another user's fd directory needs privileges: without,
		// fds reads -1.
		w.fdsFd, _ = openat(p.procFd, p.pidPath(pid, "fd"), syscall.O_RDONLY|syscall.O_DIRECTORY)
		w.fdsOnProcfs = w.fdsFd >= 0 && onProcfs(w.fdsFd)
	}
	p.filterPids()
}

// onProcfs reports whether fd is on procfs.
func onProcfs(fd int) bool {
	var fs syscall.Statfs_t
	return syscall.Fstatfs(fd, &fs) == nil && fs.Type == procSuperMagic
}

func closeFd(fd *int) {
	if *fd >= 0 {
		syscall.Close(*fd)
		*fd = -1
	}
}

// pidPath builds "PID/name\0" in p.path, relative to the procfs root.
func (p *processCollector) pidPath(pid int, name string) []byte {
	b := strconv.AppendInt(p.path[:0], int64(pid), 10)
	b = append(b, '/')
	b = append(b, name...)
	p.path = append(b, 0)
	return p.path
}

// stat reads the followed process's stat into p.pst. ok is false when it
// has died (the descriptor reads ESRCH), or err says why it could not be
// parsed.
func (p *processCollector) stat(w *watch) (ok bool, err error) {
	if w.statFd < 0 {
		return false, nil
	}
	n, err := preadAll(w.statFd, p.buf)
	if err != nil { // ESRCH: the process has died
		return false, nil
	}
	p.cols, p.pst, err = parseProcStat(p.proc, w.pid, p.cols, p.buf[:n])
	return err == nil, err
}

// sample reads the followed process's figures into its record. ok is
// false when it is gone (or dead, or for a name watch, now runs another
// program).
func (p *processCollector) sample(w *watch) (ok bool, err error) {
	st := &p.pst
	if ok, err = p.stat(w); !ok || st.dead() || w.comm != nil && !commMatches(st.comm, w.comm) {
		return false, err
	}
	w.start, w.seenAt = st.starttime, p.ticks()
	f := w.rec.Fields
	f.SetUint(5, st.utime+st.stime)
	f.SetString(7, stateString(st.state))
	f.SetInt(4, 0)
	if w.statmFd >= 0 {
		n, err := preadAll(w.statmFd, p.buf)
		if err != nil {
			return false, nil
		}
		var pages uint64
		if p.cols, pages, err = parseStatm(p.proc, w.pid, p.cols, p.buf[:n]); err != nil {
			return false, err
		}
		f.SetUint(4, pages*p.pageSize)
	}
	fds := -1
	if w.fdsFd >= 0 {
		// Linux 6.2+ gives the count as the size of procfs's fd
		// directory: one fstat instead of listing it. Older kernels
		// give 0.
		if err := syscall.Fstat(w.fdsFd, &p.st); w.fdsOnProcfs && err == nil && p.st.Size > 0 {
			fds = int(p.st.Size)
		} else if n, err := countDirents(w.fdsFd, p.dirBuf); err == nil {
			fds = n
		}
	}
	f.SetInt(6, int64(fds))
	return true, nil
}

// scan looks through /proc for the oldest live process of each missing
// name watch, reading each process's comm.
func (p *processCollector) scan() error {
	for _, w := range p.watches {
		w.candPid, w.candStart = 0, 0
	}
	if _, err := syscall.Seek(p.procFd, 0, 0); err != nil {
		return &pathError{p.proc, err}
	}
	for {
		n, err := syscall.ReadDirent(p.procFd, p.dirBuf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &pathError{p.proc, err}
		}
		if n <= 0 {
			return nil
		}
		for b := p.dirBuf[:n]; ; {
			name, rest, ok := nextDirent(b)
			if !ok {
				break
			}
			b = rest
			pid, err := parseUint(name)
			if err != nil || pid == 0 || pid > 1<<22 {
				continue // not a process
			}
			p.consider(int(pid))
		}
	}
}

// consider checks whether process pid is what a missing name watch looks
// for, preferring the oldest (the master of a preforking daemon).
func (p *processCollector) consider(pid int) {
	fd, err := openat(p.procFd, p.pidPath(pid, "comm"), syscall.O_RDONLY)
	if err != nil {
		return // gone since the directory was read
	}
	n, err := preadAll(fd, p.buf)
	syscall.Close(fd)
	if err != nil {
		return
	}
	comm := p.buf[:n]
	if n > 0 && comm[n-1] == '\n' {
		comm = comm[:n-1]
	}
	var st procStat
	read := false
	for _, w := range p.watches {
		if w.pid != 0 || w.comm == nil || !commMatches(comm, w.comm) {
			continue
		}
		if !read {
			fd, err := openat(p.procFd, p.pidPath(pid, "stat"), syscall.O_RDONLY)
			if err != nil {
				return
			}
			n, err := preadAll(fd, p.buf)
			syscall.Close(fd)
			if err != nil {
				return
			}
			if p.cols, st, err = parseProcStat(p.proc, pid, p.cols, p.buf[:n]); err != nil || st.dead() {
				return
			}
			read = true
		}
		if w.candPid == 0 || st.starttime < w.candStart {
			w.candPid, w.candStart = pid, st.starttime
		}
	}
}

// commMatches compares a process's command name with a watched name,
// which the kernel would have cut to maxComm bytes.
func commMatches(comm, name []byte) bool {
	if len(name) > maxComm && len(comm) == maxComm {
		name = name[:maxComm]
	}
	return string(comm) == string(name)
}
