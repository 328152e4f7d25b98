// The report's charts as data: the records of the agent's collectors,
// read through the catalogue, turned into lines (counters into rates),
// and the lines downsampled to what a chart draws.

package report

import (
	"math"
	"sort"
	"strings"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

// A point of a line: wall time (ns since 1970) and value.
type point struct {
	t   int64
	v   float64
	brk bool // starts a new run: not joined to the point before
}

// A line is one series of a chart.
type line struct {
	label   string
	color   string
	pts     []point
	boot    uint32
	run     int // the agent's run of the last point
	lastT   int64
	minStep int64 // the shortest step seen: the sampling interval
}

// breakAfter is how many sampling intervals without a point break a
// line: a sample or two may come late on a busy device, a longer pause is
// downtime.
const breakAfter = 3

// add appends a point of the agent's run run. A line breaks where the
// boot or the agent's run changes, where the wall clock went back, and,
// for a regular series, across a pause of more than breakAfter sampling
// intervals: no straight line over hours the device or the agent was off.
func (l *line) add(boot uint32, run int, t int64, v float64, regular bool) {
	if !(math.Abs(v) <= 1e300) { // NaN, infinities, and what would overflow the axis's arithmetic
		return
	}
	brk := len(l.pts) == 0 || boot != l.boot || run != l.run || t < l.lastT
	if !brk {
		step := t - l.lastT
		if regular && l.minStep > 0 && step > breakAfter*l.minStep {
			brk = true
		} else if step > 0 && (l.minStep == 0 || step < l.minStep) {
			l.minStep = step
		}
	}
	l.pts = append(l.pts, point{t: t, v: v, brk: brk})
	l.boot, l.run, l.lastT = boot, run, t
	if len(l.pts) >= compactAt {
		l.pts = downsample(l.pts, compactTo)
	}
}

// A unit says how a chart's values read.
type unit uint8

const (
	unitNone unit = iota
	unitPct
	unitBytes
	unitBytesPerSec
	unitCelsius
)

// A chart is one small line chart.
type chart struct {
	title   string
	rank    int  // the catalogue's order; generic series last
	seq     int  // first seen
	zero    bool // the y axis starts at 0 (rates, loads): not fitted to the data
	regular bool // sampled at a steady interval: a long pause breaks its lines
	unit    unit
	lines   []*line
}

// The lines' colours, told apart by people with the common colour
// blindnesses (Okabe and Ito's palette, but for its yellow).
var palette = [...]string{"#1f77b4", "#e66100", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#5d3a9b", "#000000"}

// line returns the chart's line of that label, nil beyond the palette.
func (c *chart) line(label string) *line {
	for _, l := range c.lines {
		if l.label == label {
			return l
		}
	}
	if len(c.lines) == len(palette) {
		return nil
	}
	l := &line{label: strings.Clone(label), color: palette[len(c.lines)]}
	c.lines = append(c.lines, l)
	return l
}

// bounds returns the chart's time and value ranges.
func (c *chart) bounds() (t0, t1 int64, lo, hi float64, n int) {
	t0, t1, lo, hi = math.MaxInt64, math.MinInt64, math.Inf(1), math.Inf(-1)
	for _, l := range c.lines {
		for _, p := range l.pts {
			t0, t1 = min(t0, p.t), max(t1, p.t)
			lo, hi = min(lo, p.v), max(hi, p.v)
			n++
		}
	}
	return
}

// worth reports whether the chart shows something: a line of two points
// or more, values not all zero, and for a generic series, not constant.
func (c *chart) worth() bool {
	two := false
	for _, l := range c.lines {
		two = two || len(l.pts) >= 2
	}
	_, _, lo, hi, _ := c.bounds()
	if !two || lo == 0 && hi == 0 {
		return false
	}
	return c.rank < rankGeneric || lo != hi
}

// Chart ranks: the catalogue of the agent's collectors, then the rest.
const (
	rankCPU = iota
	rankMemory
	rankLoad
	rankPressure
	rankDisk
	rankNet
	rankProcess
	rankFilesystem
	rankThermal
	rankGeneric
)

// metrics turns records into charts: the agent's collectors by the
// catalogue (counters into rates), any other numeric field of the metrics
// stream as it is.
type metrics struct {
	charts    map[string]*chart
	prev      map[prevKey]*sample
	untracked map[string]bool
	seq       int
	run       int // the agent's runs seen: a start breaks every line
}

// prevKey is what a counter's previous value must share with the
// current one for their difference to be a rate: a counter restarts
// from zero in another boot, another run of the agent, another process.
type prevKey struct {
	src        *view.Source
	boot       uint32
	run        int
	name, inst string
	pid        int64
}

// A sample is the counters of a record at a monotonic time, for rates.
type sample struct {
	mono int64
	v    [maxCounters]float64
}

const maxCounters = 8

func newMetrics() *metrics {
	return &metrics{charts: map[string]*chart{}, prev: map[prevKey]*sample{}, untracked: map[string]bool{}}
}

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
	c := &chart{title: strings.Clone(title), rank: rank, seq: m.seq, unit: u, zero: zero, regular: rank != rankProcess}
	m.charts[strings.Clone(key)] = c
	return c
}

func (m *metrics) plot(key string, rank int, title string, u unit, zero bool, label string, r *codec.Record, v float64) {
	if c := m.chart(key, rank, title, u, zero); c != nil {
		if l := c.line(label); l != nil {
			l.add(r.BootCount, m.run, r.Wall.UnixNano(), v, c.regular)
		}
	}
}

// deltas returns the change of the counters v since the record before
// of the same key, over dt seconds of monotonic time; ok is false for the
// first record and after any counter went back (a reset or a wrap: no
// negative rate, and none from a counter that restarted from zero).
func (m *metrics) deltas(k prevKey, r *codec.Record, v []float64) (d [maxCounters]float64, dt float64, ok bool) {
	p := m.prev[k]
	if p == nil && len(m.prev) >= 4*maxTracked {
		return d, 0, false // a hostile number of instances: no rates for more
	}
	if p == nil {
		k.inst = strings.Clone(k.inst)
		p = &sample{mono: math.MinInt64}
		m.prev[k] = p
	}
	ok = p.mono != math.MinInt64 && r.Mono > p.mono
	dt = float64(r.Mono-p.mono) / 1e9
	for i := range v {
		d[i] = v[i] - p.v[i]
		ok = ok && d[i] >= 0
	}
	p.mono = r.Mono
	copy(p.v[:], v)
	return d, dt, ok
}

// restart notes a start of the agent: every line breaks there, and the
// agent's counters restart.
func (m *metrics) restart() { m.run++ }

// A ref is a field of a catalogue record, resolved when the package
// loads: a key the catalogue does not have panics then, and the tests
// fail, rather than a chart quietly going blank.
type ref struct {
	rec *catalog.Record
	key string
	i   int // its place in the record
}

func field(r *catalog.Record, key string) ref {
	if _, i := r.Field(key); i >= 0 {
		return ref{r, key, i}
	}
	panic("report: the catalogue's record " + r.Name + " has no field " + key)
}

// value returns f's value in rec: at its place in the catalogue's order
// (where the agent writes it), or wherever it is.
func (f ref) value(rec *codec.Record) (codec.Value, bool) {
	if f.i < len(rec.Fields) && rec.Fields[f.i].Key == f.key {
		return rec.Fields[f.i].Value, true
	}
	for _, x := range rec.Fields {
		if x.Key == f.key {
			return x.Value, true
		}
	}
	return codec.Value{}, false
}

// num returns f's value in rec as a number.
func (f ref) num(rec *codec.Record) (float64, bool) {
	if v, ok := f.value(rec); ok {
		return view.Number(v)
	}
	return 0, false
}

// str returns f's value in rec as text.
func (f ref) str(rec *codec.Record) string {
	v, ok := f.value(rec)
	if !ok {
		return ""
	}
	return valueText(v)
}

// valueText is a value as text: a string as it is, another value as the
// text view writes it.
func valueText(v codec.Value) string {
	if v.Kind() == codec.KindString {
		return v.Str()
	}
	return string(view.AppendValue(nil, v))
}

// flag returns f's value in rec as a boolean, and whether it is one.
func (f ref) flag(rec *codec.Record) (bool, bool) {
	v, ok := f.value(rec)
	if !ok || v.Kind() != codec.KindBool {
		return false, false
	}
	return v.Bool(), true
}

// nums looks up the fields fs of rec; ok only if all are numbers.
func nums(rec *codec.Record, fs []ref, v []float64) bool {
	for i, f := range fs {
		var ok bool
		if v[i], ok = f.num(rec); !ok {
			return false
		}
	}
	return true
}

// instance returns the instance a record of c is about, "" for none.
func instance(c *catalog.Record, rec *codec.Record) string {
	if c.Instance == "" {
		return ""
	}
	return field(c, c.Instance).str(rec)
}

// The fields the charts read.
var (
	cpuTicks   = counters(&catalog.CPU, catalog.Ticks) // every state's ticks: their sum is the time
	cpuIdle    = indexOf(cpuTicks, "idle")
	cpuIowait  = indexOf(cpuTicks, "iowait")
	memFields  = []ref{field(&catalog.Memory, "mem_total"), field(&catalog.Memory, "mem_available")}
	memCached  = field(&catalog.Memory, "cached")
	memSwap    = []ref{field(&catalog.Memory, "swap_total"), field(&catalog.Memory, "swap_free")}
	loadFields = []ref{field(&catalog.Load, "load1"), field(&catalog.Load, "load15")}
	psiSome    = field(&catalog.Pressure, "some_avg10")
	diskFields = []ref{field(&catalog.Disk, "sectors_read"), field(&catalog.Disk, "sectors_written")}
	netFields  = []ref{field(&catalog.Net, "rx_bytes"), field(&catalog.Net, "tx_bytes")}
	fsUsed     = field(&catalog.Filesystem, "used_pct")
	thermTemp  = field(&catalog.Thermal, "temp_c")
	procPid    = field(&catalog.Process, "pid")
	procRSS    = field(&catalog.Process, "rss_bytes")
	procCPU    = field(&catalog.Process, "cpu_ticks")
	procUp     = field(&catalog.Process, "running")
)

// counters returns the counter fields of r in unit u.
func counters(r *catalog.Record, u catalog.Unit) []ref {
	var fs []ref
	for _, f := range r.Fields {
		if f.Kind == catalog.Counter && f.Unit == u {
			fs = append(fs, field(r, f.Key))
		}
	}
	if len(fs) > maxCounters {
		panic("report: more counters in " + r.Name + " than a sample holds")
	}
	return fs
}

// indexOf returns the place of key in fs.
func indexOf(fs []ref, key string) int {
	for i, f := range fs {
		if f.key == key {
			return i
		}
	}
	panic("report: no field " + key)
}

// add charts one record of the metrics stream.
func (m *metrics) add(src *view.Source, r *codec.Record) {
	var v [maxCounters]float64
	key := func(c *catalog.Record, inst string) prevKey {
		return prevKey{src: src, boot: r.BootCount, run: m.run, name: c.Name, inst: inst}
	}
	switch r.Name {
	case catalog.Uptime.Name:
		return // a straight line up: nothing to see
	case catalog.CPU.Name:
		if nums(r, cpuTicks, v[:len(cpuTicks)]) {
			if d, _, ok := m.deltas(key(&catalog.CPU, ""), r, v[:len(cpuTicks)]); ok {
				total := 0.0
				for _, x := range d {
					total += x
				}
				idle, iowait := d[cpuIdle], d[cpuIowait]
				if total > 0 {
					m.plot("cpu", rankCPU, "CPU busy and iowait", unitPct, true, "busy", r, 100*(total-idle-iowait)/total)
					m.plot("cpu", rankCPU, "", unitPct, true, "iowait", r, 100*iowait/total)
				}
			}
			return
		}
	case catalog.Memory.Name:
		if nums(r, memFields, v[:2]) {
			const title = "memory"
			m.plot("memory", rankMemory, title, unitBytes, true, "used", r, v[0]-v[1])
			if c, ok := memCached.num(r); ok {
				m.plot("memory", rankMemory, title, unitBytes, true, "cached", r, c)
			}
			if nums(r, memSwap, v[2:4]) && v[2] > 0 {
				m.plot("memory", rankMemory, title, unitBytes, true, "swap used", r, v[2]-v[3])
			}
			return
		}
	case catalog.Load.Name:
		if nums(r, loadFields, v[:2]) {
			m.plot("load", rankLoad, "load average", unitNone, true, "load1", r, v[0])
			m.plot("load", rankLoad, "", unitNone, true, "load15", r, v[1])
			return
		}
	case catalog.Pressure.Name:
		if inst := instance(&catalog.Pressure, r); inst != "" && nums(r, []ref{psiSome}, v[:1]) {
			m.plot("pressure", rankPressure, "pressure stall: some, avg10", unitPct, true, inst, r, v[0])
			return
		}
	case catalog.Disk.Name:
		if inst := instance(&catalog.Disk, r); inst != "" && nums(r, diskFields, v[:2]) {
			if d, dt, ok := m.deltas(key(&catalog.Disk, inst), r, v[:2]); ok {
				k := "disk\x00" + inst
				m.plot(k, rankDisk, "disk "+inst+": bytes/s", unitBytesPerSec, true, "read", r, catalog.SectorBytes*d[0]/dt)
				m.plot(k, rankDisk, "", unitBytesPerSec, true, "write", r, catalog.SectorBytes*d[1]/dt)
			}
			return
		}
	case catalog.Net.Name:
		if inst := instance(&catalog.Net, r); inst != "" && nums(r, netFields, v[:2]) {
			if d, dt, ok := m.deltas(key(&catalog.Net, inst), r, v[:2]); ok {
				k := "net\x00" + inst
				m.plot(k, rankNet, "network "+inst+": bytes/s", unitBytesPerSec, true, "rx", r, d[0]/dt)
				m.plot(k, rankNet, "", unitBytesPerSec, true, "tx", r, d[1]/dt)
			}
			return
		}
	case catalog.Filesystem.Name:
		if inst := instance(&catalog.Filesystem, r); inst != "" && nums(r, []ref{fsUsed}, v[:1]) {
			m.plot("fs\x00"+inst, rankFilesystem, "filesystem "+inst+": used", unitPct, false, "used", r, v[0])
			return
		}
	case catalog.Thermal.Name:
		if inst := instance(&catalog.Thermal, r); inst != "" && nums(r, []ref{thermTemp}, v[:1]) {
			m.plot("thermal\x00"+inst, rankThermal, "thermal zone "+inst, unitCelsius, false, "temperature", r, v[0])
			return
		}
	case catalog.StreamStats.Name, catalog.IngestPeer.Name:
		if r.Source == catalog.SelfSource {
			return // the agent's own figures have their section
		}
	}
	// Not a record of the catalogue (or not as the catalogue knows it):
	// each numeric field as it is.
	prefix := r.Name
	if len(r.Fields) > 0 && r.Fields[0].Value.Kind() == codec.KindString {
		prefix += "[" + r.Fields[0].Value.Str() + "]"
	}
	for _, f := range r.Fields {
		if x, ok := view.Number(f.Value); ok {
			name := prefix + "." + f.Key
			m.plot("\x00"+name, rankGeneric, name, unitNone, false, f.Key, r, x)
		}
	}
}

// process charts a watched process's record of the state stream: its
// resident memory, and its CPU time as a share of one CPU. Its counter
// restarts with each new process, so rates are of one pid.
func (m *metrics) process(src *view.Source, r *codec.Record) {
	name := instance(&catalog.Process, r)
	if running, ok := procUp.flag(r); name == "" || !ok || !running {
		return
	}
	if rss, ok := procRSS.num(r); ok {
		m.plot("process\x00rss", rankProcess, "watched processes: resident memory", unitBytes, true, name, r, rss)
	}
	pid, _ := procPid.num(r)
	var v [1]float64
	if nums(r, []ref{procCPU}, v[:]) {
		k := prevKey{src: src, boot: r.BootCount, run: m.run, name: catalog.Process.Name, inst: name, pid: int64(pid)}
		if d, dt, ok := m.deltas(k, r, v[:]); ok && dt > 0 {
			m.plot("process\x00cpu", rankProcess, "watched processes: CPU (100 % is one CPU)", unitPct, true, name, r,
				100*d[0]/catalog.TicksPerSecond/dt)
		}
	}
}

// choose returns the charts worth drawing, in the catalogue's order, at
// most limit of them, their lines downsampled to points; and the titles of
// those left out.
func (m *metrics) choose(limit, points int) (shown []*chart, left []string) {
	var all []*chart
	for _, c := range m.charts {
		if c.worth() {
			all = append(all, c)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].rank != all[j].rank {
			return all[i].rank < all[j].rank
		}
		return all[i].seq < all[j].seq
	})
	for i, c := range all {
		if i >= limit {
			left = append(left, c.title)
			continue
		}
		for _, l := range c.lines {
			l.pts = downsample(l.pts, points)
		}
		shown = append(shown, c)
	}
	return shown, left
}

// downsample returns at most limit (≥ 4) points of pts, by M4: in each
// of up to limit/4 equal spans of time, the first, lowest, highest and
// last points, in time order. A spike survives, and so does a flat run.
// Runs (brk) are never joined.
func downsample(pts []point, limit int) []point {
	if len(pts) <= limit {
		return pts
	}
	t0, t1 := pts[0].t, pts[0].t
	for _, p := range pts {
		t0, t1 = min(t0, p.t), max(t1, p.t)
	}
	span := float64(t1-t0) + 1
	for nb := limit / 4; nb >= 1; nb /= 2 {
		out := make([]point, 0, limit)
		cur, first, lo, hi := -1, 0, 0, 0
		flush := func(last int) {
			// A break only ever starts a bucket: first carries it.
			keep := [4]int{first, lo, hi, last}
			sort.Ints(keep[:])
			for i, k := range keep {
				if i == 0 || k != keep[i-1] {
					out = append(out, pts[k])
				}
			}
		}
		for i, p := range pts {
			bk := int(float64(p.t-t0) / span * float64(nb))
			if i == 0 || bk != cur || p.brk {
				if i > 0 {
					flush(i - 1)
				}
				cur, first, lo, hi = bk, i, i, i
				continue
			}
			if p.v < pts[lo].v {
				lo = i
			}
			if p.v > pts[hi].v {
				hi = i
			}
		}
		flush(len(pts) - 1)
		if len(out) <= limit {
			return out
		}
	}
	// More runs than points allowed: every k-th point, breaks kept.
	out := make([]point, 0, limit)
	k := (len(pts) + limit - 1) / limit
	for i := 0; i < len(pts); i += k {
		p := pts[i]
		for j := max(i-k+1, 1); j < i; j++ {
			p.brk = p.brk || pts[j].brk
		}
		out = append(out, p)
	}
	return out
}
