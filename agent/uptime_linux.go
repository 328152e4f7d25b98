//go:build !nouptime

package agent

import (
	"path/filepath"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

func init() { registerCollector("uptime", true, newUptimeCollector) }

// uptimeCollector samples /proc/uptime: seconds since boot, and the sum of
// the CPUs' idle seconds.
type uptimeCollector struct {
	f    *procFile
	rec  codec.Record
	cols [][]byte
}

func newUptimeCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("uptime", c.Options); err != nil {
		return nil, err
	}
	if c.check {
		return nil, nil
	}
	f, err := openProcFile(filepath.Join(c.Proc, "uptime"), 64)
	if err != nil {
		return nil, err
	}
	return &uptimeCollector{f: f, rec: catalogRecord(&catalog.Uptime)}, nil
}

// Close releases the descriptor; the agent calls it when the
// configuration is reloaded.
func (c *uptimeCollector) Close() error { return c.f.close() }

func (c *uptimeCollector) Update(e Emitter) error {
	b, err := c.f.read()
	if err != nil {
		return err
	}
	var up, idle float64
	if c.cols, up, idle, err = parseUptime(c.f.path, c.cols, b); err != nil {
		return err
	}
	c.rec.Fields.SetFloat(0, up)
	c.rec.Fields.SetFloat(1, idle)
	return e.Emit(StreamMetrics, &c.rec)
}

// parseUptime parses "3429.63 3601.93\n" (read from path, named in errors).
func parseUptime(path string, cols [][]byte, b []byte) ([][]byte, float64, float64, error) {
	cols = fields(cols, b)
	if len(cols) != 2 {
		return cols, 0, 0, malformed(path, "want 2 numbers: %s", quoteLine(b))
	}
	up, err1 := parseFloat(cols[0])
	idle, err2 := parseFloat(cols[1])
	if err1 != nil || err2 != nil || up < 0 || idle < 0 {
		return cols, 0, 0, malformed(path, "bad number: %s", quoteLine(b))
	}
	return cols, up, idle, nil
}
