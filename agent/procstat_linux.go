//go:build !noprocess

package agent

import (
	"path/filepath"
	"strconv"
)

// Parsers of a process's /proc files, for the process collector.

// procPath names /proc/PID/FILE in error messages. Parse functions take
// the root and pid rather than the path so that building the path, which
// allocates, happens only on error.
func procPath(proc string, pid int, file string) string {
	return filepath.Join(proc, strconv.Itoa(pid), file)
}

// procStat holds what is used of /proc/PID/stat.
type procStat struct {
	comm                    []byte // aliases the input
	state                   byte
	utime, stime, starttime uint64 // in clock ticks
	flags                   uint64 // the thread-group leader's PF_*
	threads                 uint64
}

// pfExiting is PF_EXITING, set on a thread as it starts exiting and never
// cleared.
const pfExiting = 0x4

// dead reports whether the process has ended: no thread of it runs. A
// zombie whose threads run is a leader that called pthread_exit, in a
// process that runs on; one alone is the process's end, until its parent
// reaps it.
func (st *procStat) dead() bool {
	return st.state == 'X' || st.state == 'Z' && st.threads <= 1
}

// parseProcStat parses PROC/PID/stat (named in errors):
// "PID (COMM) STATE PPID ...". COMM may hold spaces and parentheses, so
// the fields are counted from the last ')'; flags, utime, stime,
// num_threads and starttime are fields 9, 14, 15, 20 and 22.
func parseProcStat(proc string, pid int, cols [][]byte, b []byte) ([][]byte, procStat, error) {
	var st procStat
	open, end := -1, -1
	for i, ch := range b {
		if ch == '(' && open < 0 {
			open = i
		}
		if ch == ')' {
			end = i
		}
	}
	if open < 0 || end < open {
		return cols, st, malformed(procPath(proc, pid, "stat"), "no (command name): %s", quoteLine(b))
	}
	st.comm = b[open+1 : end]
	cols = fields(cols, b[end+1:])
	if len(cols) < 20 {
		return cols, st, malformed(procPath(proc, pid, "stat"), "%d fields after the command name, want at least 20", len(cols))
	}
	if len(cols[0]) != 1 {
		return cols, st, malformed(procPath(proc, pid, "stat"), "bad state %s", quoteLine(cols[0]))
	}
	st.state = cols[0][0]
	for _, f := range [...]struct {
		v     *uint64
		field int
	}{{&st.flags, 9}, {&st.utime, 14}, {&st.stime, 15}, {&st.threads, 20}, {&st.starttime, 22}} {
		var err error
		if *f.v, err = parseUint(cols[f.field-3]); err != nil {
			return cols, st, malformed(procPath(proc, pid, "stat"), "field %d: %s", f.field, quoteLine(b))
		}
	}
	return cols, st, nil
}

// parseStatm returns the resident pages of PROC/PID/statm (named in
// errors): "size resident shared text lib data dt".
func parseStatm(proc string, pid int, cols [][]byte, b []byte) ([][]byte, uint64, error) {
	cols = fields(cols, b)
	if len(cols) < 2 {
		return cols, 0, malformed(procPath(proc, pid, "statm"), "want 7 numbers: %s", quoteLine(b))
	}
	v, err := parseUint(cols[1])
	if err != nil {
		return cols, 0, malformed(procPath(proc, pid, "statm"), "bad resident pages: %s", quoteLine(b))
	}
	return cols, v, nil
}
