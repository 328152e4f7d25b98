//go:build !nodiskstats

package agent

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

func init() { registerCollector("diskstats", true, newDiskstatsCollector) }

// diskstatsCollector samples /proc/diskstats for whole disks: a disk has
// a directory in /sys/block, a partition does not. Loop, RAM and zram
// devices are skipped unless include_virtual = true: they are memory or
// files, not the storage an appliance wears out.
type diskstatsCollector struct {
	f              *procFile
	sys            string
	includeVirtual bool
	// disks holds one entry per device name ever seen, partitions and
	// skipped devices included, so that the decision and the record are
	// made once: lookups by []byte key do not allocate.
	disks map[string]*disk
	names uint64 // hash of the previous sample's device names: a change means hotplug
	cols  [][]byte
}

type disk struct {
	decided bool // keep holds the decision
	keep    bool // a whole disk, reported
	rec     codec.Record
}

// virtualDisks are the device name prefixes include_virtual controls.
var virtualDisks = []string{"loop", "ram", "zram"}

func newDiskstatsCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("diskstats", c.Options, "include_virtual"); err != nil {
		return nil, err
	}
	virt, err := optBool(c.Options, "include_virtual", false)
	if err != nil {
		return nil, err
	}
	if c.check {
		return nil, nil
	}
	f, err := openProcFile(filepath.Join(c.Proc, "diskstats"), 4096)
	if err != nil {
		return nil, err
	}
	return &diskstatsCollector{f: f, sys: c.Sys, includeVirtual: virt, disks: map[string]*disk{}}, nil
}

// Close releases the descriptor; the agent calls it when the
// configuration is reloaded.
func (c *diskstatsCollector) Close() error { return c.f.close() }

func (c *diskstatsCollector) Update(e Emitter) error {
	b, err := c.f.read()
	if err != nil {
		return err
	}
	if h := namesHash(b); h != c.names {
		// A device came or went. One that had no /sys/block entry yet
		// while it was being added may have one now: decide again.
		for _, d := range c.disks {
			d.decided = d.decided && d.keep
		}
		c.names = h
	}
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if len(trimSpace(line)) == 0 {
			continue
		}
		var name []byte
		var s diskStat
		if c.cols, name, s, err = parseDiskstatsLine(c.f.path, c.cols, line); err != nil {
			return err
		}
		d := c.disks[string(name)] // no allocation for a []byte key
		if d == nil {
			d = &disk{}
			c.disks[string(name)] = d
		}
		if !d.decided {
			c.decide(d, string(name))
		}
		if !d.keep {
			continue
		}
		for i, v := range s {
			d.rec.Fields.SetUint(i+1, v)
		}
		if err := e.Emit(StreamMetrics, &d.rec); err != nil {
			return err
		}
	}
	return nil
}

// decide decides whether a device is reported, and makes its record.
func (c *diskstatsCollector) decide(d *disk, name string) {
	d.decided, d.keep = true, true
	if !c.includeVirtual {
		for _, p := range virtualDisks {
			d.keep = d.keep && !strings.HasPrefix(name, p)
		}
	}
	if d.keep {
		// /sys/block spells the '/' of names like cciss/c0d0 as '!'.
		_, err := os.Stat(filepath.Join(c.sys, "block", strings.ReplaceAll(name, "/", "!")))
		d.keep = err == nil
	}
	if d.keep && d.rec.Fields == nil {
		d.rec = catalogRecord(&catalog.Disk)
		d.rec.Fields.SetString(0, name)
	}
}

// namesHash hashes the third column of each line (FNV-1a), in order.
func namesHash(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		col, in := 0, false
		for _, ch := range line {
			if ch == ' ' || ch == '\t' {
				in = false
				continue
			}
			if !in {
				in = true
				col++
			}
			if col == 3 {
				h = (h ^ uint64(ch)) * 1099511628211
			}
		}
		h = (h ^ '\n') * 1099511628211
	}
	return h
}

// diskStat holds the values of catalog.Disk's fields after device, in order.
type diskStat [11]uint64

// parseDiskstatsLine parses a line of /proc/diskstats (read from path,
// named in errors): major, minor, name, then 11 counters; kernels 4.18+
// add discard and 5.5+ flush counters, which are ignored. It returns the
// device name, aliasing line.
func parseDiskstatsLine(path string, cols [][]byte, line []byte) ([][]byte, []byte, diskStat, error) {
	var s diskStat
	cols = fields(cols, line)
	if len(cols) < 3+len(s) {
		return cols, nil, s, malformed(path, "%d columns, want at least %d: %s", len(cols), 3+len(s), quoteLine(line))
	}
	for i := range s {
		v, err := parseUint(cols[3+i])
		if err != nil {
			return cols, nil, s, malformed(path, "column %d: %s", 4+i, quoteLine(line))
		}
		s[i] = v
	}
	return cols, cols[2], s, nil
}
