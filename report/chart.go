// The report's charts as data: the metrics records of the agent's
// collectors turned into lines (counters into rates), and the lines
// downsampled to what a chart draws.

package report

import (
	"math"
	"sort"
	"strings"
	"time"

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
	lastT   int64
	minStep int64 // the shortest step seen: the sampling interval
}

// add appends a point. A line is broken where the boot changes, where
// the wall clock went back, and across a pause of more than ten sampling
// intervals (and a minute): no straight line over hours the device was off.
func (l *line) add(boot uint32, t int64, v float64) {
	if !(math.Abs(v) <= 1e300) { // NaN, infinities, and what would overflow the axis's arithmetic
		return
	}
	brk := len(l.pts) == 0 || boot != l.boot || t < l.lastT
	if !brk {
		step := t - l.lastT
		if step > 10*l.minStep && step > int64(time.Minute) {
			brk = true
		} else if step > 0 && (l.minStep == 0 || step < l.minStep) {
			l.minStep = step
		}
	}
	l.pts = append(l.pts, point{t: t, v: v, brk: brk})
	l.boot, l.lastT = boot, t
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
	title string
	rank  int  // the catalogue's order; generic series last
	seq   int  // first seen
	zero  bool // the y axis starts at 0 (rates, loads): not fitted to the data
	unit  unit
	lines []*line
}

var palette = [...]string{"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"}

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
	rankFilesystem
	rankThermal
	rankGeneric
)

// metrics turns metrics records into charts: the agent's collectors by
// name (counters into rates), any other numeric field as it is.
type metrics struct {
	charts    map[string]*chart
	prev      map[prevKey]*sample
	untracked map[string]bool
	seq       int
}

type prevKey struct {
	src        *view.Source
	boot       uint32
	name, inst string
}

// A sample is the counters of a record at a monotonic time, for rates.
type sample struct {
	mono int64
	v    [8]float64
}

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
	c := &chart{title: strings.Clone(title), rank: rank, seq: m.seq, unit: u, zero: zero}
	m.charts[strings.Clone(key)] = c
	return c
}

func (m *metrics) plot(key string, rank int, title string, u unit, zero bool, label string, r *codec.Record, v float64) {
	if c := m.chart(key, rank, title, u, zero); c != nil {
		if l := c.line(label); l != nil {
			l.add(r.BootCount, r.Wall.UnixNano(), v)
		}
	}
}

// deltas returns the change of n counters since the record before of the
// same source, boot, name and instance, over dt seconds of monotonic
// time; ok is false for the first record and after a counter went back
// (a reset).
func (m *metrics) deltas(src *view.Source, r *codec.Record, name, inst string, v *[8]float64, n int) (d [8]float64, dt float64, ok bool) {
	k := prevKey{src, r.BootCount, name, inst}
	p := m.prev[k]
	if p == nil && len(m.prev) >= 4*maxTracked {
		return d, 0, false // a hostile number of instances: no rates for more
	}
	if p == nil {
		k.inst = strings.Clone(inst)
		p = &sample{mono: math.MinInt64}
		m.prev[k] = p
	}
	ok = p.mono != math.MinInt64 && r.Mono > p.mono
	dt = float64(r.Mono-p.mono) / 1e9
	for i := 0; i < n; i++ {
		d[i] = v[i] - p.v[i]
		ok = ok && d[i] >= 0
	}
	p.mono, p.v = r.Mono, *v
	return d, dt, ok
}

// numbers looks up the named numeric fields; ok only if all are there.
func numbers(fs codec.Fields, keys []string, v *[8]float64) bool {
	for i, k := range keys {
		found := false
		for _, f := range fs {
			if f.Key == k {
				v[i], found = view.Number(f.Value)
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

var (
	cpuTicks  = []string{"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"}
	diskKeys  = []string{"sectors_read", "sectors_written"}
	netKeys   = []string{"rx_bytes", "tx_bytes"}
	loadKeys  = []string{"load1", "load15"}
	memKeys   = []string{"mem_available"}
	fsKeys    = []string{"used_pct"}
	psiKeys   = []string{"some_avg10"}
	thermKeys = []string{"temp_c"}
)

// add charts one metrics record.
func (m *metrics) add(src *view.Source, r *codec.Record) {
	inst := ""
	if len(r.Fields) > 0 && r.Fields[0].Value.Kind() == codec.KindString {
		inst = r.Fields[0].Value.Str()
	}
	var v [8]float64
	switch r.Name {
	case "uptime":
		return // a straight line up: nothing to see
	case "cpu":
		if numbers(r.Fields, cpuTicks, &v) {
			if d, _, ok := m.deltas(src, r, "cpu", "", &v, len(cpuTicks)); ok {
				total := 0.0
				for _, x := range d {
					total += x
				}
				if total > 0 {
					m.plot("cpu", rankCPU, "CPU busy and iowait", unitPct, true, "busy", r, 100*(total-d[3]-d[4])/total)
					m.plot("cpu", rankCPU, "", unitPct, true, "iowait", r, 100*d[4]/total)
				}
			}
			return
		}
	case "memory":
		if numbers(r.Fields, memKeys, &v) {
			m.plot("memory", rankMemory, "memory available", unitBytes, true, "available", r, v[0])
			return
		}
	case "load":
		if numbers(r.Fields, loadKeys, &v) {
			m.plot("load", rankLoad, "load average", unitNone, true, "load1", r, v[0])
			m.plot("load", rankLoad, "", unitNone, true, "load15", r, v[1])
			return
		}
	case "pressure":
		if numbers(r.Fields, psiKeys, &v) && inst != "" {
			m.plot("pressure", rankPressure, "pressure stall: some, avg10", unitPct, true, inst, r, v[0])
			return
		}
	case "disk":
		if numbers(r.Fields, diskKeys, &v) && inst != "" {
			if d, dt, ok := m.deltas(src, r, "disk", inst, &v, 2); ok {
				key := "disk\x00" + inst
				m.plot(key, rankDisk, "disk "+inst+": bytes/s", unitBytesPerSec, true, "read", r, 512*d[0]/dt)
				m.plot(key, rankDisk, "", unitBytesPerSec, true, "write", r, 512*d[1]/dt)
			}
			return
		}
	case "net":
		if numbers(r.Fields, netKeys, &v) && inst != "" {
			if d, dt, ok := m.deltas(src, r, "net", inst, &v, 2); ok {
				key := "net\x00" + inst
				m.plot(key, rankNet, "network "+inst+": bytes/s", unitBytesPerSec, true, "rx", r, d[0]/dt)
				m.plot(key, rankNet, "", unitBytesPerSec, true, "tx", r, d[1]/dt)
			}
			return
		}
	case "filesystem":
		if numbers(r.Fields, fsKeys, &v) && inst != "" {
			m.plot("fs\x00"+inst, rankFilesystem, "filesystem "+inst+": used", unitPct, false, "used", r, v[0])
			return
		}
	case "thermal":
		if numbers(r.Fields, thermKeys, &v) && inst != "" {
			m.plot("thermal\x00"+inst, rankThermal, "thermal zone "+inst, unitCelsius, false, "temperature", r, v[0])
			return
		}
	}
	// Not a record of the catalogue (or not as the catalogue knows it):
	// each numeric field as it is.
	prefix := r.Name
	if inst != "" {
		prefix += "[" + inst + "]"
	}
	for _, f := range r.Fields {
		if x, ok := view.Number(f.Value); ok {
			name := prefix + "." + f.Key
			m.plot("\x00"+name, rankGeneric, name, unitNone, false, f.Key, r, x)
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
