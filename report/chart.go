// The report's charts as data: lines of points, which series is worth a
// chart, and the lines downsampled to what a chart draws; figures.go
// makes them from the records.

package report

import (
	"math"
	"sort"
	"strings"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/sar"
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
	label string
	color string
	pts   []point
	lastT int64
	held  bool // a break waits for the next point drawn
	// For a series the catalogue does not know (pause): its boot, the
	// agent's run and sampling interval.
	boot uint32
	run  int
	pace sar.Pace
}

// add appends a point at wall time t (ns since 1970); brk starts a new
// run, not joined to the point before. A value a chart cannot draw (NaN,
// infinities, and what would overflow the axis's arithmetic) is left out,
// its break kept for the next point. A line also breaks where the wall
// clock went back: it cannot be drawn backwards.
func (l *line) add(t int64, v float64, brk bool) {
	if !(math.Abs(v) <= 1e300) {
		l.held = l.held || brk
		return
	}
	brk = brk || l.held || len(l.pts) == 0 || t < l.lastT
	l.pts = append(l.pts, point{t: t, v: v, brk: brk})
	l.lastT, l.held = t, false
	if len(l.pts) >= compactAt {
		l.pts = downsample(l.pts, compactTo)
	}
}

// pause reports whether a point of a series the catalogue does not know,
// of boot and the agent's run run, at wall time t, starts a new run: the
// boot or the run changed, or it comes after more than sar.GapFactor
// sampling intervals (sar.Pace), as sar's gap rule. The catalogue's series break by
// sar's marks instead (Row.Break).
func (l *line) pause(boot uint32, run int, t int64) bool {
	brk := len(l.pts) == 0 || boot != l.boot || run != l.run
	if brk {
		l.pace.Reset()
	} else if step := t - l.lastT; step > 0 && l.pace.Gap(step) {
		brk = true
	}
	l.boot, l.run = boot, run
	return brk
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

// The lines' colours, told apart by people with the common colour
// blindnesses (Okabe and Ito's palette, but for its yellow).
var palette = [...]string{"#1f77b4", "#e66100", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#5d3a9b", "#000000"}

// line returns the chart's line of that label, nil beyond the palette
// and for no chart (c nil: beyond what is tracked).
func (c *chart) line(label string) *line {
	if c == nil {
		return nil
	}
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
		return v.Number()
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
