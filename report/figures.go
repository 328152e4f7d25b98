// The charts made from the records: the agent's collectors through
// package sar, so that a chart shows the figures itiny-read sar prints,
// by its rule of rates and resets, its lines breaking where its marks
// stand; any other numeric field of the metrics stream as it is.

package report

import (
	"strings"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/sar"
	"github.com/itiny/itiny/view"
)

// metrics turns records into charts.
type metrics struct {
	charts    map[string]*chart
	untracked map[string]bool
	seq       int
	run       int         // the agent's runs seen: a generic series' lines break there
	figs      []*sarLines // read every record, as itiny-read sar's Reader does
}

func newMetrics() *metrics {
	m := &metrics{charts: map[string]*chart{}, untracked: map[string]bool{}}
	for _, d := range drawn {
		m.figs = append(m.figs, d.reader(m))
	}
	return m
}

// A drawing says how a chart draws a sar report's rows.
type drawing struct {
	rep *sar.Report
	// needs are the fields of rep.Record the chart reads: a record
	// without them is not the agent's as the catalogue knows it, and is
	// charted as a generic series (TestDrawn checks they are the
	// catalogue's).
	needs []string
	draw  func(f *sarLines, row *sar.Row)
}

// sarLines is a drawing at work: a sar.Writer its Reader writes the rows
// of each record to as the record is read.
type sarLines struct {
	*drawing
	m   *metrics
	r   *sar.Reader
	rec *codec.Record // the record being read: the rows written are of it
}

func (d *drawing) reader(m *metrics) *sarLines {
	f := &sarLines{drawing: d, m: m}
	f.r = sar.NewReader(d.rep, f, sar.Options{})
	return f
}

// Write draws a row of figures; marks, and the averages, are not drawn:
// Row.Break carries the marks to the lines.
func (f *sarLines) Write(row *sar.Row) error {
	if row.Kind == sar.Sample {
		f.draw(f, row)
	}
	return nil
}

func (f *sarLines) Flush() error { return nil }

// plot adds the figure v of row to chart c's line label (c may be nil:
// beyond what is tracked).
func plot(c *chart, label string, row *sar.Row, v float64) {
	if l := c.line(label); l != nil {
		l.add(row.Time.UnixNano(), v, row.Break)
	}
}

// known reports whether rec is a record of the agent's collectors as the
// catalogue knows it, drawn by sar's figures: of a name drawn, with its
// instance and numbers in the fields the chart reads.
func known(rec *codec.Record) bool {
	for _, d := range drawn {
		c := d.rep.Record
		if c.Name != rec.Name || c.Stream != catalog.StreamMetrics {
			continue // a watched process's record is of the state stream
		}
		if c.Instance != "" && instance(c, rec) == "" {
			return false
		}
		for _, k := range d.needs {
			_, i := c.Field(k)
			if _, ok := (ref{c, k, i}).num(rec); !ok {
				return false
			}
		}
		return true
	}
	return false
}

// col returns the place of rep's figure name, at load time: a name sar
// does not have panics then, and the tests fail.
func col(rep *sar.Report, name string) int {
	if i := rep.Column(name); i >= 0 {
		return i
	}
	panic("report: sar's " + rep.Name + " report has no figure " + name)
}

// The figures the charts draw, by sar's names.
var (
	cpuBusy, cpuIowait  = col(&sar.CPU, "%busy"), col(&sar.CPU, "%iowait")
	memUsed, memCached  = col(&sar.Memory, "kbmemused"), col(&sar.Memory, "kbcached")
	swpFree, swpUsed    = col(&sar.Memory, "kbswpfree"), col(&sar.Memory, "kbswpused")
	ldavg1, ldavg15     = col(&sar.Load, "ldavg-1"), col(&sar.Load, "ldavg-15")
	psiSome10           = col(&sar.PSI, "%some-10")
	diskRead, diskWrite = col(&sar.Disk, "rkB/s"), col(&sar.Disk, "wkB/s")
	netRx, netTx        = col(&sar.Net, "rxkB/s"), col(&sar.Net, "txkB/s")
	tempC               = col(&sar.Temp, "degC")
	procCPU, procRSS    = col(&sar.Process, "%CPU"), col(&sar.Process, "RSS")
	fsUsed              = field(&catalog.Filesystem, "used_pct")
	procUp              = field(&catalog.Process, "running")
)

// drawn are the charts of the agent's collectors, in the catalogue's
// order.
var drawn = []*drawing{
	{&sar.CPU, []string{"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"}, func(f *sarLines, row *sar.Row) {
		c := f.m.chart("cpu", rankCPU, "CPU busy and iowait", unitPct, true)
		plot(c, "busy", row, row.Values[cpuBusy])
		plot(c, "iowait", row, row.Values[cpuIowait])
	}},
	// Memory used is sar's kbmemused: total less free, buffers, cached
	// and slab (docs/DESIGN.md, "Rates and resets").
	{&sar.Memory, []string{"mem_total", "mem_free", "buffers", "cached", "slab"}, func(f *sarLines, row *sar.Row) {
		c, v := f.m.chart("memory", rankMemory, "memory", unitBytes, true), row.Values
		plot(c, "used", row, v[memUsed]*sar.KB)
		plot(c, "cached", row, v[memCached]*sar.KB)
		if v[swpFree]+v[swpUsed] > 0 {
			plot(c, "swap used", row, v[swpUsed]*sar.KB)
		}
	}},
	{&sar.Load, []string{"load1", "load15"}, func(f *sarLines, row *sar.Row) {
		c := f.m.chart("load", rankLoad, "load average", unitNone, true)
		plot(c, "load1", row, row.Values[ldavg1])
		plot(c, "load15", row, row.Values[ldavg15])
	}},
	{&sar.PSI, []string{"some_avg10"}, func(f *sarLines, row *sar.Row) {
		c := f.m.chart("pressure", rankPressure, "pressure stall: some, avg10", unitPct, true)
		plot(c, row.Instance, row, row.Values[psiSome10])
	}},
	{&sar.Disk, []string{"sectors_read", "sectors_written"}, func(f *sarLines, row *sar.Row) {
		c := f.m.chart("disk\x00"+row.Instance, rankDisk, "disk "+row.Instance+": bytes/s", unitBytesPerSec, true)
		plot(c, "read", row, row.Values[diskRead]*sar.KB)
		plot(c, "write", row, row.Values[diskWrite]*sar.KB)
	}},
	{&sar.Net, []string{"rx_bytes", "tx_bytes"}, func(f *sarLines, row *sar.Row) {
		c := f.m.chart("net\x00"+row.Instance, rankNet, "network "+row.Instance+": bytes/s", unitBytesPerSec, true)
		plot(c, "rx", row, row.Values[netRx]*sar.KB)
		plot(c, "tx", row, row.Values[netTx]*sar.KB)
	}},
	// A watched process's record is of the state stream, written on
	// change: its CPU share and RSS as pidstat's, while it runs.
	{&sar.Process, nil, func(f *sarLines, row *sar.Row) {
		if up, ok := procUp.flag(f.rec); !ok || !up || f.rec.Source != catalog.Process.Source {
			return
		}
		plot(f.m.chart("process\x00rss", rankProcess, "watched processes: resident memory", unitBytes, true), row.Instance, row, row.Values[procRSS]*sar.KB)
		plot(f.m.chart("process\x00cpu", rankProcess, "watched processes: CPU (100 % is one CPU)", unitPct, true), row.Instance, row, row.Values[procCPU])
	}},
	// The used share is the agent's used_pct, df's (the one rules alarm
	// on), not sar's %fsused; its line breaks by sar's marks (its rows
	// need the sizes sar's figures read).
	{&sar.Filesystem, []string{"size_bytes", "free_bytes", "used_pct"}, func(f *sarLines, row *sar.Row) {
		v, _ := fsUsed.num(f.rec)
		plot(f.m.chart("fs\x00"+row.Instance, rankFilesystem, "filesystem "+row.Instance+": used", unitPct, false), "used", row, v)
	}},
	{&sar.Temp, []string{"temp_c"}, func(f *sarLines, row *sar.Row) {
		plot(f.m.chart("thermal\x00"+row.Instance, rankThermal, "thermal zone "+row.Instance, unitCelsius, false), "temperature", row, row.Values[tempC])
	}},
}

// read gives a record of any stream to the sar reports' readers: their
// boots, the agent's starts and their records; every is the interval of
// the rollup tier r is a summary of, 0 for a sample.
func (m *metrics) read(r *codec.Record, every time.Duration) error {
	for _, f := range m.figs {
		f.rec = r
		if err := f.r.AddFrom(r, view.TimeAsIs, every); err != nil {
			return err
		}
	}
	return nil
}

// restart notes a start of the agent: a generic series' lines break there.
func (m *metrics) restart() { m.run++ }

// chart returns the chart of key, made on first use; nil beyond maxTracked.
func (m *metrics) chart(key string, rank int, title string, u unit, zero bool) *chart {
	if c, ok := m.charts[key]; ok {
		return c
	}
	if len(m.charts) >= maxTracked {
		if len(m.untracked) < 1000 {
			m.untracked[strings.Clone(key)] = true
		}
		return nil
	}
	m.seq++
	c := &chart{title: strings.Clone(title), rank: rank, seq: m.seq, unit: u, zero: zero}
	m.charts[strings.Clone(key)] = c
	return c
}

// add charts a record of the metrics stream that the sar reports do not
// (read has given it to them): not of the catalogue, or not as the
// catalogue knows it, each numeric field as it is.
func (m *metrics) add(r *codec.Record) {
	switch r.Name {
	case catalog.Uptime.Name:
		return // a straight line up: nothing to see
	case catalog.StreamStats.Name, catalog.IngestPeer.Name, catalog.AgentIO.Name:
		if r.Source == catalog.SelfSource {
			return // the agent's own figures have their section
		}
	}
	if known(r) || r.Source == ringlog.ResumeSource {
		return // a ring's own note of a gap: the gaps table says it
	}
	prefix := r.Name
	if len(r.Fields) > 0 && r.Fields[0].Value.Kind() == codec.KindString {
		prefix += "[" + r.Fields[0].Value.Str() + "]"
	}
	for _, f := range r.Fields {
		if x, ok := f.Value.Number(); ok {
			name := prefix + "." + f.Key
			if l := m.chart("\x00"+name, rankGeneric, name, unitNone, false).line(f.Key); l != nil {
				t := r.Wall.UnixNano()
				l.add(t, x, l.pause(r.BootCount, m.run, t))
			}
		}
	}
}
