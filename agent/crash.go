package agent

import (
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// The agent's own crash. The Go runtime prints a panic, a fatal error or
// a signal it dies of (SIGABRT, SIGQUIT) to stderr, which on a device
// goes nowhere or to a journal that turns over; with Options.KeepCrash it
// prints it also to the crash file in the data directory, opened at start
// (runtime/debug.SetCrashOutput: the runtime writes to a descriptor it
// holds, without allocating, as it dies). Each run begins its part of the
// file with a header naming its version and pid. At the next start the
// agent reads the file's head, records each crash it holds as agent.crash
// in the events stream, and only once the records are in the ring does it
// empty the file: a crash the storage cannot take yet stays in the file,
// and the run's own part is appended after it. The file stays bounded:
// what lies past crashRead at start is cut off, the head kept.

// crashFile is the crash file's name in the data directory.
const crashFile = "crash"

// crashHeader begins a run's part of the crash file, followed by its
// version, " pid " and its pid, and a line end.
const crashHeader = "== itiny agent "

// crashRead bounds what the agent reads of the crash file, and what it
// keeps of it: the parts agent.crash may hold, and room for headers.
const crashRead = catalog.MaxCrashParts*catalog.MaxCrashText + 1<<10

// A crash is one run's crash, as the crash file holds it.
type crash struct {
	version string // "" and 0 if the file does not say
	pid     int64
	text    string
	cut     int64 // bytes of the output past crashRead
}

// openCrash opens the crash file, reads the crashes it holds into
// a.crashes, appends this run's header and makes the file the runtime's
// crash output. A file it cannot open or write (a read-only or full
// disk, a FIFO or a symbolic link in its place) is logged: the agent runs
// on, its crashes kept on stderr only, and a crash the file holds waits
// for a start that can empty it.
func (a *Agent) openCrash() {
	path := filepath.Join(a.cfg.Data, crashFile)
	f, err := openCrashFile(path)
	if err != nil {
		a.log.Printf("crash file not kept, the agent's crashes go to stderr only: %v", err)
		return
	}
	head := make([]byte, crashRead)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		f.Close()
		a.log.Printf("crash file not kept, the agent's crashes go to stderr only: %v", err)
		return
	}
	var cut int64
	if st, err := f.Stat(); err == nil && st.Size() > int64(n) {
		cut = st.Size() - int64(n)
		f.Truncate(int64(n)) // bounded: the head stays, for the records
	}
	a.crashes, a.lastRunCrashed = parseCrashes(string(head[:n]), cut)
	a.crashHead = tinyfmt.Sprintf("%s%s pid %d\n", crashHeader, Version, os.Getpid())
	if len(a.crashes) == 0 {
		f.Truncate(0) // headers of runs that did not crash
	}
	if _, err := f.WriteString(a.crashHead); err != nil {
		a.log.Printf("crash file %s: %v", path, err) // the crash, if any, still goes in
	}
	if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
		f.Close()
		a.log.Printf("crash file not kept, the agent's crashes go to stderr only: %v", err)
		return
	}
	a.crashOut = f
}

// openCrashFile opens path for reading and appending, making it if it
// does not exist. Anything but a regular file is refused, unopened if
// seen before: the agent, often root, must not truncate a file a
// symbolic link points to, nor block on a FIFO.
func openCrashFile(path string) (*os.File, error) {
	flag := os.O_RDWR | os.O_APPEND | syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_NOCTTY
	st, err := os.Lstat(path)
	switch {
	case os.IsNotExist(err):
		flag |= os.O_CREATE | os.O_EXCL
	case err != nil:
		return nil, err
	default:
		if err := regular.Check(path, st.Mode()); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, flag, 0o640)
	if err != nil {
		return nil, err
	}
	if st, err = f.Stat(); err == nil {
		err = regular.Check(path, st.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// parseCrashes returns the crashes in the head of a crash file: the runs
// whose header some output follows. cut is the bytes past the head,
// which belong to the last. lastRun says whether the file's last run
// (after its last header) crashed, not only an earlier one.
func parseCrashes(head string, cut int64) (cs []crash, lastRun bool) {
	for len(head) > 0 {
		var c crash
		if rest, ok := strings.CutPrefix(head, crashHeader); ok {
			line, after, _ := strings.Cut(rest, "\n")
			f := strings.Fields(line)
			if len(f) == 3 && f[1] == "pid" {
				c.version = f[0]
				c.pid, _ = strconv.ParseInt(f[2], 10, 64)
			}
			head = after
		}
		// The run's output runs to the next header at a line start.
		end := 0
		if !strings.HasPrefix(head, crashHeader) {
			end = strings.Index(head, "\n"+crashHeader) + 1
			if end == 0 {
				end = len(head)
			}
		}
		c.text, head = strings.TrimSpace(head[:end]), head[end:]
		lastRun = c.text != ""
		if lastRun {
			cs = append(cs, c)
		}
	}
	if len(cs) > 0 {
		cs[len(cs)-1].cut = cut
	}
	return cs, lastRun
}

// noteCrashes records the crashes read at start, or keeps them for when
// the events stream is available; the crash file is emptied once they
// are in the ring.
func (a *Agent) noteCrashes() {
	if len(a.crashes) == 0 {
		return
	}
	limit := min(catalog.MaxCrashText, int(a.streams[StreamEvents].cfg.Segment)/4)
	ok := true
	for _, c := range a.crashes {
		a.log.Printf("the agent crashed (version %s, pid %d): %s", c.version, c.pid, firstLine(c.text))
		parts, cut := crashParts(c.text, limit)
		cut += c.cut
		for i, p := range parts {
			var f codec.Fields
			addString(&f, "version", c.version)
			addInt(&f, "pid", c.pid)
			addInt(&f, "part", int64(i+1))
			addInt(&f, "parts", int64(len(parts)))
			addString(&f, "text", p)
			addInt(&f, "cut", cut)
			if !a.noteStartEvent(catalog.AgentCrash.Name, codec.LevelCrit, f...) {
				ok = false
			}
		}
	}
	a.crashes = nil
	a.crashKept = !ok
	if ok {
		a.emptyCrash()
	}
}

// emptyCrash empties the crash file, its crashes now in the ring, but for
// this run's header.
func (a *Agent) emptyCrash() {
	a.crashKept = false
	if a.crashOut == nil {
		return
	}
	err := a.crashOut.Truncate(0)
	if err == nil {
		_, err = a.crashOut.WriteString(a.crashHead)
	}
	if err != nil {
		a.log.Printf("crash file: %v; its crashes may be recorded again at the next start", err)
	}
}

// crashParts splits a crash's output into at most catalog.MaxCrashParts
// parts of at most limit bytes, at line ends where it can, and returns
// them with the bytes left out. Invalid UTF-8, which readers would refuse
// in a record, is replaced.
func crashParts(text string, limit int) ([]string, int64) {
	text = strings.ToValidUTF8(text, "\uFFFD")
	var parts []string
	for text != "" && len(parts) < catalog.MaxCrashParts {
		n := len(text)
		if n > limit {
			n = limit
			if i := strings.LastIndexByte(text[:n], '\n'); i > 0 {
				n = i + 1
			} else {
				for n > 0 && !utf8.RuneStart(text[n]) {
					n--
				}
			}
		}
		parts = append(parts, text[:n])
		text = text[n:]
	}
	return parts, int64(len(text))
}

// firstLine returns s up to its first line end.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// closeCrash closes the agent's handle on the crash file. The runtime
// holds its own: a crash after Close goes to the file too, and is
// recorded at the next start.
func (a *Agent) closeCrash() {
	if a.crashOut != nil {
		a.crashOut.Close()
		a.crashOut = nil
	}
}
