//go:build !noload

package agent

import (
	"errors"
	"path/filepath"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

func init() { registerCollector("load", true, newLoadCollector) }

// loadCollector samples /proc/loadavg: the 1, 5 and 15 minute load
// averages and the running and total task counts.
type loadCollector struct {
	f    *procFile
	rec  codec.Record
	cols [][]byte
}

func newLoadCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("load", c.Options); err != nil {
		return nil, err
	}
	if c.check {
		return nil, nil
	}
	f, err := openProcFile(filepath.Join(c.Proc, "loadavg"), 128)
	if err != nil {
		return nil, err
	}
	return &loadCollector{f: f, rec: catalogRecord(&catalog.Load)}, nil
}

func (c *loadCollector) Update(e Emitter) error {
	b, err := c.f.read()
	if err != nil {
		return err
	}
	var l loadavg
	if c.cols, l, err = parseLoad(c.f.path, c.cols, b); err != nil {
		return err
	}
	f := c.rec.Fields
	f.SetFloat(0, l.load1)
	f.SetFloat(1, l.load5)
	f.SetFloat(2, l.load15)
	f.SetUint(3, l.running)
	f.SetUint(4, l.tasks)
	return e.Emit(StreamMetrics, &c.rec)
}

// Close releases the collector's file.
func (c *loadCollector) Close() error { return c.f.close() }

type loadavg struct {
	load1, load5, load15 float64
	running, tasks       uint64
}

// parseLoad parses /proc/loadavg (read from path, named in errors):
// "0.20 0.18 0.12 1/80 11206".
func parseLoad(path string, cols [][]byte, b []byte) ([][]byte, loadavg, error) {
	var l loadavg
	cols = fields(cols, b)
	if len(cols) < 4 {
		return cols, l, malformed(path, "want 5 columns: %s", quoteLine(b))
	}
	var err [5]error
	l.load1, err[0] = parseFloat(cols[0])
	l.load5, err[1] = parseFloat(cols[1])
	l.load15, err[2] = parseFloat(cols[2])
	rt := cols[3]
	slash := -1
	for i, ch := range rt {
		if ch == '/' {
			slash = i
		}
	}
	if slash < 0 {
		return cols, l, malformed(path, "want running/tasks: %s", quoteLine(b))
	}
	l.running, err[3] = parseUint(rt[:slash])
	l.tasks, err[4] = parseUint(rt[slash+1:])
	if e := errors.Join(err[:]...); e != nil {
		return cols, l, malformed(path, "bad number: %s", quoteLine(b))
	}
	return cols, l, nil
}
