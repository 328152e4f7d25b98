//go:build !nomemory

package agent

import (
	"path/filepath"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

func init() { registerCollector("memory", true, newMemoryCollector) }

// memoryCollector samples /proc/meminfo, in bytes.
type memoryCollector struct {
	f    *procFile
	rec  codec.Record
	cols [][]byte
}

func newMemoryCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("memory", c.Options); err != nil {
		return nil, err
	}
	if c.check {
		return nil, nil
	}
	f, err := openProcFile(filepath.Join(c.Proc, "meminfo"), 2048)
	if err != nil {
		return nil, err
	}
	return &memoryCollector{f: f, rec: catalogRecord(&catalog.Memory)}, nil
}

// Close releases the descriptor; the agent calls it when the
// configuration is reloaded.
func (c *memoryCollector) Close() error { return c.f.close() }

func (c *memoryCollector) Update(e Emitter) error {
	b, err := c.f.read()
	if err != nil {
		return err
	}
	var m meminfo
	if c.cols, m, err = parseMeminfo(c.f.path, c.cols, b); err != nil {
		return err
	}
	for i, v := range m {
		c.rec.Fields.SetUint(i, v)
	}
	return e.Emit(StreamMetrics, &c.rec)
}

// meminfo holds the values of catalog.Memory's fields, in order, in bytes.
type meminfo [12]uint64

// meminfoIndex maps a /proc/meminfo key to its place in meminfo, -1 for
// the keys not collected.
func meminfoIndex(key []byte) int {
	switch string(key) { // no allocation: the compiler switches on the bytes
	case "MemTotal":
		return 0
	case "MemFree":
		return 1
	case "MemAvailable":
		return 2
	case "Buffers":
		return 3
	case "Cached":
		return 4
	case "SwapTotal":
		return 5
	case "SwapFree":
		return 6
	case "Dirty":
		return 7
	case "Writeback":
		return 8
	case "Shmem":
		return 9
	case "Slab":
		return 10
	case "SReclaimable":
		return 11
	}
	return -1
}

// parseMeminfo parses /proc/meminfo lines "MemTotal:  24684084 kB" (read
// from path, named in errors). MemTotal and MemFree are required; keys a
// kernel lacks (MemAvailable came in 3.14, Shmem in 2.6.32) read as 0.
func parseMeminfo(path string, cols [][]byte, b []byte) ([][]byte, meminfo, error) {
	var m meminfo
	var seen [len(m)]bool
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if len(trimSpace(line)) == 0 {
			continue
		}
		colon := -1
		for i, ch := range line {
			if ch == ':' {
				colon = i
				break
			}
		}
		if colon <= 0 {
			return cols, m, malformed(path, "no key: %s", quoteLine(line))
		}
		i := meminfoIndex(line[:colon])
		if i < 0 {
			continue
		}
		cols = fields(cols, line[colon+1:])
		if len(cols) < 1 || len(cols) > 2 {
			return cols, m, malformed(path, "want a number and a unit: %s", quoteLine(line))
		}
		v, err := parseUint(cols[0])
		if err != nil {
			return cols, m, malformed(path, "bad number: %s", quoteLine(line))
		}
		if len(cols) == 2 {
			if string(cols[1]) != "kB" {
				return cols, m, malformed(path, "unit is not kB: %s", quoteLine(line))
			}
			if v > (1<<64-1)/1024 {
				return cols, m, malformed(path, "value out of range: %s", quoteLine(line))
			}
			v *= 1024
		}
		m[i], seen[i] = v, true
	}
	if !seen[0] || !seen[1] {
		return cols, m, malformed(path, "no MemTotal or MemFree line")
	}
	return cols, m, nil
}
