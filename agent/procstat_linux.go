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
}

// parseProcStat parses PROC/PID/stat (named in errors):
// "PID (COMM) STATE PPID ...". COMM may hold spaces and parentheses, so
// the fields are counted from the last ')'; utime, stime and starttime
// are fields 14, 15 and 22.
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
	var err [3]error
	st.utime, err[0] = parseUint(cols[11])
	st.stime, err[1] = parseUint(cols[12])
	st.starttime, err[2] = parseUint(cols[19])
	for i, e := range err {
		if e != nil {
			return cols, st, malformed(procPath(proc, pid, "stat"), "field %d: %s", [3]int{14, 15, 22}[i], quoteLine(b))
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
