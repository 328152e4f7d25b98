// The charts made from the records: the agent's collectors through
// package sar, so that a chart shows the figures itiny-read sar prints,
// by its rule of rates and resets, its lines breaking where its marks
// stand; any other numeric field of the metrics stream as it is.

package report

import (
	"strings"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
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
	// needs are the fields a record of rep.Record must have to be drawn
	// so; one without them is charted as a generic series.
	needs []ref
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

// plot adds the figure v of row to the line label of chart key.
func (f *sarLines) plot(key string, rank int, title string, u unit, zero bool, label string, row *sar.Row, v float64) {
	if l := f.m.line(key, rank, title, u, zero, label); l != nil {
		l.add(row.Time.UnixNano(), v, row.Break)
	}
}

// known reports whether rec is the record of d as the catalogue knows it:
// an instance, if the record has them, and the fields the chart reads.
func (d *drawing) known(rec *codec.Record) bool {
	c := d.rep.Record
	if c.Name != rec.Name || c.Instance != "" && instance(c, rec) == "" {
		return false
	}
	var v [8]float64
	return nums(rec, d.needs, v[:len(d.needs)])
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

// fieldsOf returns the fields keys of r.
func fieldsOf(r *catalog.Record, keys ...string) []ref {
	fs := make([]ref, len(keys))
	for i, k := range keys {
		fs[i] = field(r, k)
	}
	return fs
}

// drawn are the charts of the agent's collectors, in the catalogue's
// order.
var drawn = []*drawing{
	{rep: &sar.CPU, needs: fieldsOf(&catalog.CPU, "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"),
		draw: func(f *sarLines, row *sar.Row) {
			f.plot("cpu", rankCPU, "CPU busy and iowait", unitPct, true, "busy", row, row.Values[cpuBusy])
			f.plot("cpu", rankCPU, "", unitPct, true, "iowait", row, row.Values[cpuIowait])
		}},
	// Memory used is sar's kbmemused: total less free, buffers, cached
	// and slab (docs/DESIGN.md, "Rates and resets").
	{rep: &sar.Memory, needs: fieldsOf(&catalog.Memory, "mem_total", "mem_free", "buffers", "cached", "slab"),
		draw: func(f *sarLines, row *sar.Row) {
			const title = "memory"
			v := row.Values
			f.plot("memory", rankMemory, title, unitBytes, true, "used", row, v[memUsed]*sar.KB)
			f.plot("memory", rankMemory, title, unitBytes, true, "cached", row, v[memCached]*sar.KB)
			if v[swpFree]+v[swpUsed] > 0 {
				f.plot("memory", rankMemory, title, unitBytes, true, "swap used", row, v[swpUsed]*sar.KB)
			}
		}},
	{rep: &sar.Load, needs: fieldsOf(&catalog.Load, "load1", "load15"),
		draw: func(f *sarLines, row *sar.Row) {
			f.plot("load", rankLoad, "load average", unitNone, true, "load1", row, row.Values[ldavg1])
			f.plot("load", rankLoad, "", unitNone, true, "load15", row, row.Values[ldavg15])
		}},
	{rep: &sar.PSI, needs: fieldsOf(&catalog.Pressure, "some_avg10"),
		draw: func(f *sarLines, row *sar.Row) {
			f.plot("pressure", rankPressure, "pressure stall: some, avg10", unitPct, true, row.Instance, row, row.Values[psiSome10])
		}},
	{rep: &sar.Disk, needs: fieldsOf(&catalog.Disk, "sectors_read", "sectors_written"),
		draw: func(f *sarLines, row *sar.Row) {
			k := "disk\x00" + row.Instance
			f.plot(k, rankDisk, "disk "+row.Instance+": bytes/s", unitBytesPerSec, true, "read", row, row.Values[diskRead]*sar.KB)
			f.plot(k, rankDisk, "", unitBytesPerSec, true, "write", row, row.Values[diskWrite]*sar.KB)
		}},
	{rep: &sar.Net, needs: fieldsOf(&catalog.Net, "rx_bytes", "tx_bytes"),
		draw: func(f *sarLines, row *sar.Row) {
			k := "net\x00" + row.Instance
			f.plot(k, rankNet, "network "+row.Instance+": bytes/s", unitBytesPerSec, true, "rx", row, row.Values[netRx]*sar.KB)
			f.plot(k, rankNet, "", unitBytesPerSec, true, "tx", row, row.Values[netTx]*sar.KB)
		}},
	// A watched process's record is of the state stream, written on
	// change: its CPU share and RSS as pidstat's, while it runs.
	{rep: &sar.Process,
		draw: func(f *sarLines, row *sar.Row) {
			if up, ok := procUp.flag(f.rec); !ok || !up || f.rec.Source != catalog.Process.Source {
				return
			}
			f.plot("process\x00rss", rankProcess, "watched processes: resident memory", unitBytes, true, row.Instance, row, row.Values[procRSS]*sar.KB)
			f.plot("process\x00cpu", rankProcess, "watched processes: CPU (100 % is one CPU)", unitPct, true, row.Instance, row, row.Values[procCPU])
		}},
	// The used share is the agent's used_pct, df's (the one rules alarm
	// on), not sar's %fsused; its line breaks by sar's marks, so the
	// record needs the fields sar's figures read too.
	{rep: &sar.Filesystem, needs: fieldsOf(&catalog.Filesystem, "size_bytes", "free_bytes", "used_pct"),
		draw: func(f *sarLines, row *sar.Row) {
			v, _ := fsUsed.num(f.rec)
			f.plot("fs\x00"+row.Instance, rankFilesystem, "filesystem "+row.Instance+": used", unitPct, false, "used", row, v)
		}},
	{rep: &sar.Temp, needs: fieldsOf(&catalog.Thermal, "temp_c"),
		draw: func(f *sarLines, row *sar.Row) {
			f.plot("thermal\x00"+row.Instance, rankThermal, "thermal zone "+row.Instance, unitCelsius, false, "temperature", row, row.Values[tempC])
		}},
}

// read gives a record of any stream to the sar reports' readers: their
// boots, the agent's starts and their records.
func (m *metrics) read(r *codec.Record) error {
	for _, f := range m.figs {
		f.rec = r
		if err := f.r.Add(r); err != nil {
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

// line returns the line label of chart key; nil beyond what is tracked.
func (m *metrics) line(key string, rank int, title string, u unit, zero bool, label string) *line {
	if c := m.chart(key, rank, title, u, zero); c != nil {
		return c.line(label)
	}
	return nil
}

// add charts a record of the metrics stream that the sar reports do not
// (read has given it to them): not of the catalogue, or not as the
// catalogue knows it, each numeric field as it is.
func (m *metrics) add(r *codec.Record) {
	switch r.Name {
	case catalog.Uptime.Name:
		return // a straight line up: nothing to see
	case catalog.StreamStats.Name, catalog.IngestPeer.Name:
		if r.Source == catalog.SelfSource {
			return // the agent's own figures have their section
		}
	}
	for _, d := range drawn {
		if d.known(r) {
			return
		}
	}
	prefix := r.Name
	if len(r.Fields) > 0 && r.Fields[0].Value.Kind() == codec.KindString {
		prefix += "[" + r.Fields[0].Value.Str() + "]"
	}
	for _, f := range r.Fields {
		if x, ok := view.Number(f.Value); ok {
			name := prefix + "." + f.Key
			if l := m.line("\x00"+name, rankGeneric, name, unitNone, false, f.Key); l != nil {
				t := r.Wall.UnixNano()
				l.add(t, x, l.pause(r.BootCount, m.run, t))
			}
		}
	}
}
