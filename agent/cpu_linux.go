//go:build !nocpu

package agent

import (
	"path/filepath"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

func init() { registerCollector("cpu", true, newCPUCollector) }

// cpuCollector samples /proc/stat: the aggregate CPU time counters and the
// system-wide context switch, interrupt and process counters. All are
// cumulative since boot; readers derive rates.
type cpuCollector struct {
	f    *procFile
	rec  codec.Record
	cols [][]byte
}

func newCPUCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("cpu", c.Options); err != nil {
		return nil, err
	}
	if c.check {
		return nil, nil
	}
	// /proc/stat has a line per CPU and a long intr line: 4 KiB fits a
	// small machine, and procFile doubles the buffer for a big one.
	f, err := openProcFile(filepath.Join(c.Proc, "stat"), 4096)
	if err != nil {
		return nil, err
	}
	return &cpuCollector{f: f, rec: catalogRecord(&catalog.CPU)}, nil
}

// Close releases the descriptor; the agent calls it when the
// configuration is reloaded.
func (c *cpuCollector) Close() error { return c.f.close() }

func (c *cpuCollector) Update(e Emitter) error {
	b, err := c.f.read()
	if err != nil {
		return err
	}
	var s cpuStat
	if c.cols, s, err = parseStat(c.f.path, c.cols, b); err != nil {
		return err
	}
	for i, v := range s {
		c.rec.Fields.SetUint(i, v)
	}
	return e.Emit(StreamMetrics, &c.rec)
}

// cpuStat holds the values of catalog.CPU's fields, in order.
type cpuStat [13]uint64

// parseStat parses /proc/stat (read from path, named in errors): the "cpu"
// line's first eight columns (user to steal, in USER_HZ ticks), the first
// number of "intr" (the total) and the ctxt, processes, procs_running and
// procs_blocked lines. Kernels before 2.6.11 lack iowait to steal: those
// read as 0; the other lines are required.
func parseStat(path string, cols [][]byte, b []byte) ([][]byte, cpuStat, error) {
	var s cpuStat
	const (
		haveCPU = 1 << iota
		haveCtxt
		haveIntr
		haveRunning
		haveBlocked
		haveProcesses
		haveAll = 1<<iota - 1
	)
	have := 0
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		key, rest := line, []byte(nil)
		for i, ch := range line {
			if ch == ' ' || ch == '\t' {
				key, rest = line[:i], line[i+1:]
				break
			}
		}
		var idx, bit int
		switch string(key) { // no allocation: the compiler switches on the bytes
		case "cpu":
			cols = fields(cols, rest)
			if len(cols) < 4 {
				return cols, s, malformed(path, "cpu line has %d columns, want at least 4: %s", len(cols), quoteLine(line))
			}
			for i := 0; i < len(cols) && i < 8; i++ {
				v, err := parseUint(cols[i])
				if err != nil {
					return cols, s, malformed(path, "cpu column %d: %s", i+1, quoteLine(line))
				}
				s[i] = v
			}
			have |= haveCPU
			continue
		case "ctxt":
			idx, bit = 8, haveCtxt
		case "intr":
			idx, bit = 9, haveIntr
		case "procs_running":
			idx, bit = 10, haveRunning
		case "procs_blocked":
			idx, bit = 11, haveBlocked
		case "processes":
			idx, bit = 12, haveProcesses
		default:
			continue
		}
		// The first number only: intr goes on with one count per
		// interrupt, which would be wasted work to split.
		first := trimSpace(rest)
		for i, ch := range first {
			if ch == ' ' {
				first = first[:i]
				break
			}
		}
		v, err := parseUint(first)
		if err != nil {
			return cols, s, malformed(path, "bad number in %s", quoteLine(line))
		}
		s[idx] = v
		have |= bit
	}
	if have != haveAll {
		for i, name := range []string{"cpu", "ctxt", "intr", "procs_running", "procs_blocked", "processes"} {
			if have&(1<<i) == 0 {
				return cols, s, malformed(path, "no %s line", name)
			}
		}
	}
	return cols, s, nil
}
