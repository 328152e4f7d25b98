//go:build !nonetdev

package agent

import (
	"path/filepath"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

func init() { registerCollector("netdev", true, newNetdevCollector) }

// netdevCollector samples the interface counters of /proc/net/dev (of the
// agent's network namespace) and each interface's operational state from
// /sys/class/net/IFACE/operstate. Interfaces come and go (USB modems, PPP,
// VPN tunnels): one appearing costs allocations, steady state none.
type netdevCollector struct {
	f         *procFile
	sys       string
	includeLo bool
	ifaces    map[string]*iface // by name; a []byte key lookup does not allocate
	gen       uint64            // sample number
	cols      [][]byte
}

type iface struct {
	name  string
	oper  *procFile // nil when sysfs has no operstate for it
	state string    // last operstate read
	gen   uint64    // last sample it was in
	rec   codec.Record
}

func newNetdevCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("netdev", c.Options, "include_lo"); err != nil {
		return nil, err
	}
	lo, err := optBool(c.Options, "include_lo", false)
	if err != nil {
		return nil, err
	}
	if c.check {
		return nil, nil
	}
	f, err := openProcFile(filepath.Join(c.Proc, "net", "dev"), 4096)
	if err != nil {
		return nil, err
	}
	return &netdevCollector{f: f, sys: c.Sys, includeLo: lo, ifaces: map[string]*iface{}}, nil
}

// Close releases the descriptors; the agent calls it when the
// configuration is reloaded.
func (c *netdevCollector) Close() error {
	for name, it := range c.ifaces {
		if it.oper != nil {
			it.oper.close()
		}
		delete(c.ifaces, name)
	}
	return c.f.close()
}

func (c *netdevCollector) Update(e Emitter) error {
	b, err := c.f.read()
	if err != nil {
		return err
	}
	c.gen++
	var first error // of an operstate; the counters are still emitted
	seen := 0
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if isNetdevHeader(line) {
			continue
		}
		var name []byte
		var s netStat
		if c.cols, name, s, err = parseNetdevLine(c.f.path, c.cols, line); err != nil {
			return err
		}
		if !c.includeLo && string(name) == "lo" {
			continue
		}
		it := c.ifaces[string(name)]
		if it == nil {
			if it, err = c.newIface(string(name)); err != nil && first == nil {
				first = err
			}
		}
		it.gen = c.gen
		seen++
		if err := it.readOper(); err != nil && first == nil {
			first = err
		}
		f := it.rec.Fields
		for i, v := range s {
			f.SetUint(1+i, v)
		}
		f.SetString(9, it.state)
		if err := e.Emit(StreamMetrics, &it.rec); err != nil {
			return err
		}
	}
	if seen != len(c.ifaces) {
		for name, it := range c.ifaces {
			if it.gen != c.gen { // removed
				if it.oper != nil {
					it.oper.close()
				}
				delete(c.ifaces, name)
			}
		}
	}
	return first
}

// newIface starts following an interface. A missing operstate (no sysfs)
// is reported once; the interface's state then reads "unknown".
func (c *netdevCollector) newIface(name string) (*iface, error) {
	it := &iface{name: name, state: "unknown", rec: catalogRecord(&catalog.Net)}
	it.rec.Fields.SetString(0, name)
	c.ifaces[name] = it
	var err error
	it.oper, err = openProcFile(filepath.Join(c.sys, "class", "net", name, "operstate"), 32)
	return it, err
}

// readOper reads the interface's operstate. An interface deleted and made
// again under the same name between two samples leaves the descriptor on
// the old one, which fails: then it opens the file again, once.
func (it *iface) readOper() error {
	if it.oper == nil {
		return nil
	}
	b, err := it.oper.read()
	if err != nil {
		path := it.oper.path
		it.oper.close()
		if it.oper, err = openProcFile(path, 32); err == nil {
			b, err = it.oper.read()
		}
		if err != nil {
			it.oper, it.state = nil, "unknown"
			return err
		}
	}
	it.state = operState(it.state, trimSpace(b))
	return nil
}

// operState returns the string of an operstate without allocating for the
// values the kernel writes (RFC 2863 states).
func operState(prev string, b []byte) string {
	switch string(b) {
	case "up":
		return "up"
	case "down":
		return "down"
	case "unknown":
		return "unknown"
	case "dormant":
		return "dormant"
	case "lowerlayerdown":
		return "lowerlayerdown"
	case "notpresent":
		return "notpresent"
	case "testing":
		return "testing"
	}
	return intern(prev, b)
}

// isNetdevHeader reports the two header lines, which hold '|', and blank
// lines.
func isNetdevHeader(line []byte) bool {
	for _, ch := range line {
		if ch == '|' {
			return true
		}
	}
	return len(trimSpace(line)) == 0
}

// netStat holds the values of catalog.Net's fields from rx_bytes to tx_drop.
type netStat [8]uint64

// parseNetdevLine parses an interface line of /proc/net/dev (read from
// path, named in errors): "  eth0: 91712058 2662 0 0 0 0 0 0 198233 1983
// 0 0 0 0 0 0", 8 receive then 8 transmit counters, of which it keeps
// bytes, packets, errs and drop each way. The name aliases line. Old
// kernels write no space after the colon.
func parseNetdevLine(path string, cols [][]byte, line []byte) ([][]byte, []byte, netStat, error) {
	var s netStat
	colon := -1
	for i, ch := range line {
		if ch == ':' { // interface names cannot hold ':'
			colon = i
			break
		}
	}
	if colon < 0 {
		return cols, nil, s, malformed(path, "no interface name: %s", quoteLine(line))
	}
	name := trimSpace(line[:colon])
	if len(name) == 0 {
		return cols, nil, s, malformed(path, "empty interface name: %s", quoteLine(line))
	}
	cols = fields(cols, line[colon+1:])
	if len(cols) != 16 {
		return cols, nil, s, malformed(path, "%d counters, want 16: %s", len(cols), quoteLine(line))
	}
	for i := range s {
		col := i // rx: 0-3; tx: 8-11
		if i >= 4 {
			col = i + 4
		}
		v, err := parseUint(cols[col])
		if err != nil {
			return cols, nil, s, malformed(path, "counter %d: %s", col+1, quoteLine(line))
		}
		s[i] = v
	}
	return cols, name, s, nil
}
