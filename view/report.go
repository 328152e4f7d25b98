package view

import (
	"bufio"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/itiny/itiny/codec"
)

// ReportOptions shape a report. The zero value reports everything, times
// in UTC.
type ReportOptions struct {
	Title        string         // the page's heading; default "itiny report"
	Since, Until time.Time      // the window of the charts and the events; zero: open
	Location     *time.Location // times are shown in; nil: UTC
	Generated    time.Time      // shown in the heading when set
	Generator    string         // e.g. "itiny-read 0.1.0", shown when set
	Problems     []string       // met opening the inputs (a bundle's changed files)
	MaxCharts    int            // default 12
	MaxPoints    int            // per line of a chart; default 600
	MaxEvents    int            // rows of the timeline, the most recent kept; default 2000
}

func (o *ReportOptions) defaults() {
	if o.Title == "" {
		o.Title = "itiny report"
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.MaxCharts <= 0 {
		o.MaxCharts = 12
	}
	if o.MaxPoints < 4 {
		o.MaxPoints = 600
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = 2000
	}
}

// WriteReport writes one self-contained HTML page about srcs for a field
// engineer: a verify summary per ring, charts of the metrics stream over
// time, the boots and gaps, and a timeline of the other streams' records.
// It needs no network, no other file and no JavaScript: CSS and SVG are
// inline. Every string read from a ring is escaped.
//
// It reads each ring three times: verify (Check), boots (ListBoots), and
// the window's records for the charts and the timeline.
func WriteReport(w io.Writer, srcs []*Source, o ReportOptions) error {
	o.defaults()
	var reps []*Report
	for _, s := range srcs {
		rep, err := Check(s)
		if err != nil {
			return err
		}
		reps = append(reps, rep)
	}
	boots, err := ListBoots(srcs)
	if err != nil {
		return err
	}
	d, err := collect(srcs, &o)
	if err != nil {
		return err
	}
	p := &page{w: bufio.NewWriterSize(w, 64<<10), o: &o}
	p.write(srcs, reps, boots, d)
	if p.err != nil {
		return p.err
	}
	return p.w.Flush()
}

// The metrics stream is charted; every other stream is an event stream.
const metricsStream = "metrics"

// reportData is what the pass over the window's records gathered.
type reportData struct {
	charts     []*chart // to draw, in order
	leftOut    []string // worth a chart, beyond MaxCharts
	untracked  int      // series beyond maxTracked, not even gathered
	samples    int      // metrics records in the window
	rows       []eventRow
	rowsLeft   int // earlier rows left out of the timeline
	eventCount int // event records in the window
}

// An eventRow is one row of the timeline: a record or a marker. Its
// strings are copies (records alias the reader's buffer).
type eventRow struct {
	mark   string // a marker row's text; empty for a record
	when   time.Time
	stream string
	level  codec.Level
	src    string
	name   string
	fields string
}

// Bounds on what one report holds in memory and prints.
const (
	maxTracked  = 96    // charts gathered (the metrics of 96 mounts, disks, interfaces...)
	compactAt   = 16384 // points of a line held before it is downsampled
	compactTo   = 4096
	maxName     = 300  // runes of a record's name in the timeline
	maxSrc      = 64   // runes of a record's source
	maxFields   = 1000 // bytes of a record's fields as text
	maxProblems = 200  // damage rows
	maxGaps     = 200  // gap rows
)

// collect reads the window's records once, merged: metrics into charts,
// the rest into the timeline.
func collect(srcs []*Source, o *ReportOptions) (*reportData, error) {
	m, err := NewMerger(srcs, o.Since)
	if err != nil {
		return nil, err
	}
	f := Filter{Since: o.Since, Until: o.Until}
	acc := newMetrics()
	tl := timeline{max: o.MaxEvents}
	d := &reportData{}
	for {
		it, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch it.Kind {
		case KindRecord:
			if !f.Keep(it.Source.Stream, it.Rec) {
				if it.Source.Stream != metricsStream {
					tl.pending = tl.pending[:0] // outside the window, with the record after them
				}
				continue
			}
			if it.Source.Stream == metricsStream {
				d.samples++
				acc.add(it.Source, it.Rec)
				continue
			}
			d.eventCount++
			tl.record(it.Source.Stream, it.Rec)
		case KindBoot:
			tl.boot = "boot " + strconv.FormatUint(uint64(it.Boot.N), 10) + " (" + string(appendHex(nil, it.Boot.ID[:])) + ") begins"
		case KindGap, KindDamage, KindBadRecord:
			// Markers of the event streams wait for a record shown after
			// them; the metrics' are in the gaps and verify sections.
			if it.Source.Stream != metricsStream {
				tl.mark(string(appendMarker(nil, &it, false)))
			}
		}
	}
	if o.Until.IsZero() {
		tl.flush()
	}
	d.rows, d.rowsLeft = tl.rows(), tl.left
	d.charts, d.leftOut = acc.choose(o.MaxCharts, o.MaxPoints)
	d.untracked = len(acc.untracked)
	return d, nil
}

// timeline keeps the last max rows.
type timeline struct {
	max     int
	buf     []eventRow
	head    int // the oldest row, once buf is full
	left    int
	boot    string   // a boot marker waiting for the first record of its boot
	pending []string // gap and damage markers waiting for a record
}

func (t *timeline) add(r eventRow) {
	if len(t.buf) < t.max {
		t.buf = append(t.buf, r)
		return
	}
	t.buf[t.head] = r
	t.head = (t.head + 1) % t.max
	t.left++
}

// mark adds a marker to show before the next record.
func (t *timeline) mark(s string) {
	if len(t.pending) == t.max {
		t.pending = t.pending[1:]
		t.left++
	}
	t.pending = append(t.pending, s)
}

func (t *timeline) flush() {
	if t.boot != "" {
		t.add(eventRow{mark: t.boot})
		t.boot = ""
	}
	for _, p := range t.pending {
		t.add(eventRow{mark: p})
	}
	t.pending = t.pending[:0]
}

func (t *timeline) record(stream string, r *codec.Record) {
	t.flush()
	var b []byte
	for i, f := range r.Fields {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, f.Key...)
		b = append(b, '=')
		b = appendText(b, f.Value)
		if len(b) > maxFields {
			n := maxFields
			for n > 0 && !utf8.RuneStart(b[n]) {
				n--
			}
			b = append(b[:n], " …"...)
			break
		}
	}
	t.add(eventRow{when: r.Wall, stream: stream, level: r.Level,
		src: clip(r.Source, maxSrc), name: clip(r.Name, maxName), fields: string(b)})
}

func (t *timeline) rows() []eventRow {
	return append(t.buf[t.head:len(t.buf):len(t.buf)], t.buf[:t.head]...)
}

// clip copies s, cut to at most n runes.
func clip(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return strings.Clone(s[:j]) + "…"
		}
		i++
	}
	return strings.Clone(s)
}

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
	src        *Source
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
func (m *metrics) deltas(src *Source, r *codec.Record, name, inst string, v *[8]float64, n int) (d [8]float64, dt float64, ok bool) {
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
				v[i], found = number(f.Value)
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
func (m *metrics) add(src *Source, r *codec.Record) {
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
		if x, ok := number(f.Value); ok {
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

// page writes the HTML. Fixed markup goes through raw; every string that
// came from a ring or a path goes through text, which escapes it.
type page struct {
	w   *bufio.Writer
	o   *ReportOptions
	err error
	buf []byte
}

func (p *page) raw(s string) {
	if p.err == nil {
		_, p.err = p.w.WriteString(s)
	}
}

func (p *page) bytes(b []byte) {
	if p.err == nil {
		_, p.err = p.w.Write(b)
	}
}

func (p *page) text(s string) {
	p.buf = appendEscaped(p.buf[:0], s)
	p.bytes(p.buf)
}

func (p *page) int(n int64) { p.raw(strconv.FormatInt(n, 10)) }

// when formats a wall time in the report's zone.
func (p *page) when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(p.o.Location).Format("2006-01-02 15:04:05.000")
}

// whenSec is when to the second.
func (p *page) whenSec(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(p.o.Location).Format("2006-01-02 15:04:05")
}

// appendEscaped escapes s for HTML text and quoted attributes, and for
// XML (the SVG): control characters and invalid UTF-8 become U+FFFD.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '<':
				b = append(b, "&lt;"...)
			case c == '>':
				b = append(b, "&gt;"...)
			case c == '&':
				b = append(b, "&amp;"...)
			case c == '"':
				b = append(b, "&#34;"...)
			case c == '\'':
				b = append(b, "&#39;"...)
			case c < ' ' && c != '\t' && c != '\n' || c == 0x7f:
				b = append(b, "\uFFFD"...)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r >= 0x80 && r < 0xa0 || r == 0xfffe || r == 0xffff {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}

const reportCSS = `body{font:13px/1.4 system-ui,sans-serif;margin:16px 20px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:13px;margin:0}nav a{margin-right:14px;color:#333}
table{border-collapse:collapse;font-size:12px;margin:4px 0 8px}th,td{padding:2px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}td.t{white-space:nowrap;font-variant-numeric:tabular-nums}
td.w{word-break:break-all;min-width:12em}
td.f{font-family:ui-monospace,monospace;word-break:break-all}
.badge{display:inline-block;padding:1px 8px;border-radius:3px;font-weight:bold;color:#fff;font-size:12px}
.ok{background:#2e7d32}.bad{background:#c62828}.note{color:#666}.warn{color:#b26a00}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(562px,1fr));gap:12px 16px}
figure{margin:0;border:1px solid #e3e3e3;padding:6px 6px 2px}.legend{font-size:11px;color:#444}
.sw{display:inline-block;width:14px;height:3px;vertical-align:middle;margin:0 4px 0 8px}
.lv{display:inline-block;min-width:52px;padding:0 4px;border-radius:2px}
.lv0,.lv1,.lv2{background:#8e0000;color:#fff;font-weight:bold}.lv3{color:#e53935;font-weight:bold}
.lv4{color:#b26a00;font-weight:bold}.lv5{font-weight:bold}.lv7{color:#999}
tr.mark td{color:#00796b;font-style:italic;background:#f7fbfa}`

func (p *page) write(srcs []*Source, reps []*Report, boots []BootInfo, d *reportData) {
	o := p.o
	p.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width\"/>\n<title>")
	p.text(o.Title)
	p.raw("</title>\n<style>\n" + reportCSS + "\n</style></head>\n<body>\n<header><h1>")
	p.text(o.Title)
	p.raw("</h1>\n<p class=\"note\">")
	if !o.Generated.IsZero() {
		p.raw("Generated " + p.when(o.Generated))
		if o.Generator != "" {
			p.raw(" by ")
			p.text(o.Generator)
		}
		p.raw(". ")
	}
	zone := "UTC"
	if o.Location != time.UTC {
		zone = time.Now().In(o.Location).Format("MST (UTC-07:00)")
	}
	p.raw("Times in ")
	p.text(zone)
	p.raw(", as the device's wall clock wrote them. Window of the charts and events: ")
	if o.Since.IsZero() && o.Until.IsZero() {
		p.raw("everything in the rings")
	}
	if !o.Since.IsZero() {
		p.raw("from " + p.when(o.Since) + " ")
	}
	if !o.Until.IsZero() {
		p.raw("until " + p.when(o.Until))
	}
	p.raw(" (verify, boots and gaps cover the whole rings).</p>\n<p>")
	corrupt, rings := 0, 0
	for _, r := range reps {
		corrupt += r.Corrupt
		if r.Corrupt > 0 {
			rings++
		}
	}
	if corrupt > 0 {
		p.raw("<span class=\"badge bad\">CORRUPT</span> ")
		p.int(int64(corrupt))
		p.raw(" problems in ")
		p.int(int64(rings))
		p.raw(" of ")
	} else {
		p.raw("<span class=\"badge ok\">OK</span> ")
	}
	p.int(int64(len(reps)))
	p.raw(" rings: ")
	for i, s := range srcs {
		if i > 0 {
			p.raw(", ")
		}
		p.text(s.Stream)
		p.raw(" <span class=\"note\">")
		p.text(s.Where)
		p.raw("</span>")
	}
	p.raw("</p>\n")
	if len(o.Problems) > 0 {
		p.raw("<p class=\"warn\">Problems met reading the inputs:</p><ul class=\"warn\">")
		for _, pr := range o.Problems {
			p.raw("<li>")
			p.text(pr)
			p.raw("</li>")
		}
		p.raw("</ul>\n")
	}
	p.raw("<nav><a href=\"#verify\">Verify</a><a href=\"#metrics\">Metrics</a><a href=\"#boots\">Boots and gaps</a><a href=\"#events\">Events</a></nav>\n</header>\n")
	p.verify(reps)
	p.metrics(d, boots)
	p.boots(boots, reps)
	p.events(d)
	p.raw("</body></html>\n")
}

func (p *page) verify(reps []*Report) {
	p.raw("<section id=\"verify\"><h2>Verify</h2>\n<table><tr><th>verdict</th><th>stream</th><th>ring</th><th>records</th><th>seq</th><th>segments</th><th>bytes</th><th>oldest record</th><th>newest record</th><th>retired</th><th>missing</th><th>damage</th><th>corrupt</th></tr>\n")
	var probs int
	for _, r := range reps {
		p.raw("<tr><td>")
		if r.Corrupt > 0 {
			p.raw("<span class=\"badge bad\">CORRUPT</span>")
		} else {
			p.raw("<span class=\"badge ok\">OK</span>")
		}
		p.raw("</td><td>")
		p.text(r.Stream)
		p.raw("</td><td class=\"w\">")
		p.text(r.Where)
		p.raw("</td><td class=\"n\">")
		p.int(int64(r.Records))
		p.raw("</td><td class=\"n\">")
		if r.Records > 0 {
			p.raw(u64(r.FirstSeq) + "-" + u64(r.LastSeq))
		}
		p.raw("</td><td class=\"n\">")
		p.int(int64(r.Segments))
		p.raw("</td><td class=\"n\">")
		p.int(r.Bytes)
		p.raw("</td><td class=\"t\">" + p.whenSec(r.First.Time) + "</td><td class=\"t\">" + p.whenSec(r.Last.Time) + "</td><td class=\"n\">" + u64(r.Retired) + "</td><td class=\"n\">" + r.LossText() + "</td><td>")
		kinds := map[string]int{}
		var names []string
		for _, pr := range r.Damage {
			if kinds[pr.Kind] == 0 {
				names = append(names, pr.Kind)
			}
			kinds[pr.Kind]++
		}
		sort.Strings(names)
		for i, k := range names {
			if i > 0 {
				p.raw(", ")
			}
			p.text(k)
			p.raw(" ")
			p.int(int64(kinds[k]))
		}
		if len(names) > 0 && r.Corrupt == 0 {
			p.raw(" <span class=\"note\">(what a crash leaves)</span>")
		}
		p.raw("</td><td class=\"n\">")
		p.int(int64(r.Corrupt))
		p.raw("</td></tr>\n")
		probs += len(r.Damage)
	}
	p.raw("</table>\n")
	if probs == 0 {
		p.raw("<p class=\"note\">No damage: every checksum verifies.</p></section>\n")
		return
	}
	p.raw("<h3>Damage</h3>\n<table><tr><th>stream</th><th>kind</th><th>segment</th><th>offset</th><th>length</th><th>detail</th></tr>\n")
	n := 0
	for _, r := range reps {
		for _, pr := range r.Damage {
			if n++; n > maxProblems {
				continue
			}
			p.raw("<tr><td>")
			p.text(r.Stream)
			p.raw("</td><td>")
			p.text(pr.Kind)
			p.raw("</td><td>")
			p.text(pr.Segment)
			p.raw("</td><td class=\"n\">")
			p.int(pr.Offset)
			p.raw("</td><td class=\"n\">")
			p.int(pr.Length)
			p.raw("</td><td>")
			p.text(pr.Detail)
			p.raw("</td></tr>\n")
		}
	}
	p.raw("</table>\n")
	if n > maxProblems {
		p.raw("<p class=\"note\">")
		p.int(int64(n - maxProblems))
		p.raw(" more: itiny-read verify lists them all.</p>\n")
	}
	p.raw("</section>\n")
}

func (p *page) metrics(d *reportData, boots []BootInfo) {
	p.raw("<section id=\"metrics\"><h2>Metrics</h2>\n")
	if len(d.charts) == 0 {
		p.raw("<p class=\"note\">No metrics to chart in the window (")
		p.int(int64(d.samples))
		p.raw(" records of the metrics stream).</p></section>\n")
		return
	}
	p.raw("<p class=\"note\">")
	p.int(int64(d.samples))
	p.raw(" records of the metrics stream. Rates are counter changes over monotonic time; lines break at boots and pauses; dashed lines mark boots. Each line keeps the lowest and highest value of each short span of time, so spikes show.</p>\n<div class=\"charts\">\n")
	for _, c := range d.charts {
		p.chart(c, boots)
	}
	p.raw("</div>\n")
	if len(d.leftOut) > 0 || d.untracked > 0 {
		p.raw("<p class=\"note\">Not charted (at most ")
		p.int(int64(p.o.MaxCharts))
		p.raw(" charts): ")
		for i, t := range d.leftOut {
			if i == 20 {
				p.raw(", …")
				break
			}
			if i > 0 {
				p.raw(", ")
			}
			p.text(t)
		}
		if d.untracked > 0 {
			p.raw("; ")
			p.int(int64(d.untracked))
			p.raw(" further series")
		}
		p.raw(". itiny-read -o csv --stream metrics has every value.</p>\n")
	}
	p.raw("</section>\n")
}

// Chart geometry, in SVG pixels.
const (
	chartW, chartH         = 560, 190
	padL, padR             = 72, 12
	padT, padB             = 12, 30
	plotW, plotH   float64 = chartW - padL - padR, chartH - padT - padB
)

func (p *page) chart(c *chart, boots []BootInfo) {
	t0, t1, lo, hi, _ := c.bounds()
	if t1 == t0 {
		t0, t1 = t0-int64(time.Second), t1+int64(time.Second)
	}
	ylo, yhi := axis(lo, hi, c.unit, c.zero)
	xOf := func(t int64) float64 { return padL + float64(t-t0)/float64(t1-t0)*plotW }
	yOf := func(v float64) float64 { return padT + (yhi-v)/(yhi-ylo)*plotH }

	p.raw("<figure><h3>")
	p.text(c.title)
	p.raw("</h3><div class=\"legend\">")
	for _, l := range c.lines {
		if len(l.pts) == 0 {
			continue
		}
		llo, lhi := math.Inf(1), math.Inf(-1)
		for _, pt := range l.pts {
			llo, lhi = min(llo, pt.v), max(lhi, pt.v)
		}
		// Three significant digits of the largest, more if the range
		// needs them.
		ref := max(math.Abs(llo), math.Abs(lhi))
		rng := lhi - llo
		if rng == 0 || ref > 0 && ref/100 < rng {
			rng = ref / 100
		}
		p.raw("<span class=\"sw\" style=\"background:" + l.color + "\"></span>")
		p.text(l.label)
		p.raw(": min " + fmtValue(llo, c.unit, ref, rng) + ", max " + fmtValue(lhi, c.unit, ref, rng) + ", last " + fmtValue(l.pts[len(l.pts)-1].v, c.unit, ref, rng))
	}
	p.raw("</div>\n")
	b := p.buf[:0]
	b = appendSVG(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%" height="%" viewBox="0 0 % %" font-family="sans-serif" font-size="10" role="img">`, chartW, chartH, chartW, chartH)
	b = append(b, "\n"...)
	b = appendSVG(b, `<rect x="%" y="%" width="%" height="%" fill="none" stroke="#bbb"/>`, padL, padT, plotW, plotH)
	// y axis: bottom, middle and top, in one scale and precision: one
	// digit of the step, or up to two more where they make the labels
	// exact (0, 1.25, 2.5).
	ref := max(math.Abs(ylo), math.Abs(yhi))
	div, _ := scale(c.unit, ref)
	step := (yhi - ylo) / 2
	rng := step
	for d, extra := decimals(step/div), 0; extra <= 2; extra++ {
		mid := (ylo + step) / div
		if r, _ := strconv.ParseFloat(strconv.FormatFloat(mid, 'f', d+extra, 64), 64); math.Abs(r-mid) <= 1e-9*math.Abs(mid) {
			rng = math.Pow(10, -float64(d+extra)) * div
			break
		}
	}
	for i := 0; i <= 2; i++ {
		v := ylo + step*float64(i)
		y := yOf(v)
		if i == 1 {
			b = appendSVG(b, "\n<line x1=\"%\" y1=\"%\" x2=\"%\" y2=\"%\" stroke=\"#eee\"/>", padL, y, padL+plotW, y)
		}
		b = appendSVG(b, "\n<text x=\"%\" y=\"%\" text-anchor=\"end\" fill=\"#555\">", padL-4, y+3)
		b = append(b, fmtValue(v, c.unit, ref, rng)...)
		b = append(b, "</text>"...)
	}
	// x axis: start, middle and end times.
	layout, first := "15:04:05", "2006-01-02 15:04:05"
	if t1-t0 >= int64(24*time.Hour) {
		layout = "01-02 15:04"
	}
	for i, anchor := range []string{"start", "middle", "end"} {
		t := t0 + (t1-t0)/2*int64(i)
		if i == 2 {
			t = t1
		}
		x := xOf(t)
		b = appendSVG(b, "\n<line x1=\"%\" y1=\"%\" x2=\"%\" y2=\"%\" stroke=\"#bbb\"/>", x, padT+plotH, x, padT+plotH+4)
		b = appendSVG(b, "\n<text x=\"%\" y=\"%\" fill=\"#555\" text-anchor=\""+anchor+"\">", x, padT+plotH+15)
		lay := layout
		if i == 0 {
			lay = first
		}
		b = time.Unix(0, t).In(p.o.Location).AppendFormat(b, lay)
		b = append(b, "</text>"...)
	}
	b = appendSVG(b, "\n<text x=\"%\" y=\"%\" fill=\"#888\" text-anchor=\"middle\">time</text>", padL+plotW/2, float64(chartH-2))
	// Boots: dashed lines where a boot's first record is.
	for _, bt := range boots {
		t := bt.First.UnixNano()
		if bt.Records == 0 || t <= t0 || t > t1 {
			continue
		}
		x := xOf(t)
		b = appendSVG(b, "\n<line x1=\"%\" y1=\"%\" x2=\"%\" y2=\"%\" stroke=\"#999\" stroke-dasharray=\"4,3\"/>", x, padT, x, padT+plotH)
		if x > padL+plotW-40 { // keep the label inside
			b = appendSVG(b, "\n<text x=\"%\" y=\"%\" fill=\"#777\" text-anchor=\"end\">boot ", x-2, padT+9)
		} else {
			b = appendSVG(b, "\n<text x=\"%\" y=\"%\" fill=\"#777\">boot ", x+2, padT+9)
		}
		b = strconv.AppendUint(b, uint64(bt.N), 10)
		b = append(b, "</text>"...)
	}
	for _, l := range c.lines {
		if len(l.pts) == 0 {
			continue
		}
		b = append(b, "\n<path fill=\"none\" stroke=\""+l.color+"\" stroke-width=\"1.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\" d=\""...)
		for i, pt := range l.pts {
			if pt.brk || i == 0 {
				b = append(b, 'M')
			} else {
				b = append(b, 'L')
			}
			b = strconv.AppendFloat(b, xOf(pt.t), 'f', 1, 64)
			b = append(b, ' ')
			b = strconv.AppendFloat(b, yOf(pt.v), 'f', 1, 64)
		}
		b = append(b, "\"/>"...)
	}
	b = append(b, "\n</svg></figure>\n"...)
	p.buf = b
	p.bytes(b)
}

// appendSVG appends format with each % replaced by the next number, to
// one decimal.
func appendSVG(b []byte, format string, nums ...float64) []byte {
	for i := 0; i < len(format); i++ {
		if format[i] == '%' && len(nums) > 0 {
			b = strconv.AppendFloat(b, nums[0], 'f', 1, 64)
			nums = nums[1:]
			continue
		}
		b = append(b, format[i])
	}
	return b
}

// axis returns the y axis's range for values from lo to hi: two steps
// of a round size (1, 2, 2.5 or 5 times a power of ten, in the unit's
// scale) from a multiple of the step, with some room above. A zero-based
// axis starts at 0; a percentage that stays under 100 ends there at most.
func axis(lo, hi float64, u unit, zero bool) (float64, float64) {
	if zero {
		lo, hi = min(lo, 0), max(hi, 0)
	}
	div, _ := scale(u, max(math.Abs(lo), math.Abs(hi)))
	lo, hi = lo/div, hi/div
	rng := (hi - lo) * 1.05
	if rng == 0 {
		rng = max(math.Abs(hi)*0.1, 1e-9)
		lo, hi = lo-rng/2, hi+rng/2
	}
	step := niceCeil(rng / 2)
	base := math.Floor(lo/step) * step
	for i := 0; i < 8 && base+2*step < hi*(1+1e-12); i++ {
		step = niceCeil(step * 1.01)
		base = math.Floor(lo/step) * step
	}
	top := base + 2*step
	if u == unitPct && zero && hi <= 100 {
		top = min(top, 100)
	}
	if b, t := base*div, top*div; t > b && !math.IsInf(t-b, 0) {
		return b, t
	}
	// Values near the float64 limits: no room to round.
	return lo * div, max(hi*div, math.Nextafter(lo*div, math.Inf(1)))
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 0) {
		return v
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*e >= v*(1-1e-12) {
			return m * e
		}
	}
	return 10 * e
}

// scale returns the divisor and suffix that show values up to ref of
// unit u: KiB, MiB... for bytes; k, M, G... for plain numbers.
func scale(u unit, ref float64) (div float64, suffix string) {
	div = 1
	switch u {
	case unitPct:
		return 1, " %"
	case unitCelsius:
		return 1, " °C"
	case unitBytes, unitBytesPerSec:
		names := []string{" B", " KiB", " MiB", " GiB", " TiB", " PiB"}
		i := 0
		for ; i < len(names)-1 && ref >= 1024*div; i++ {
			div *= 1024
		}
		if u == unitBytesPerSec {
			return div, names[i] + "/s"
		}
		return div, names[i]
	}
	for _, s := range []struct {
		min, div float64
		suffix   string
	}{{1e12, 1e12, "T"}, {1e9, 1e9, "G"}, {1e6, 1e6, "M"}, {1e4, 1e3, "k"}} {
		if ref >= s.min {
			return s.div, s.suffix
		}
	}
	return 1, ""
}

// fmtValue formats v of unit u for a label: scaled (KiB, M...) by ref,
// the largest magnitude shown beside it, with the decimals that tell
// apart values rng apart.
func fmtValue(v float64, u unit, ref, rng float64) string {
	div, suffix := scale(u, ref)
	return strconv.FormatFloat(v/div, 'f', decimals(rng/div), 64) + suffix
}

// decimals returns the decimals that show a difference of rng: one
// significant digit of it.
func decimals(rng float64) int {
	if !(rng > 0) || math.IsInf(rng, 0) {
		return 0
	}
	return min(max(-int(math.Floor(math.Log10(rng))), 0), 6)
}

func (p *page) boots(boots []BootInfo, reps []*Report) {
	p.raw("<section id=\"boots\"><h2>Boots and gaps</h2>\n<table><tr><th>idx</th><th>boot</th><th>id</th><th>first record</th><th>last record</th><th>records</th><th>streams</th><th>gaps</th></tr>\n")
	for i, b := range boots {
		p.raw("<tr><td class=\"n\">")
		p.int(int64(i - len(boots) + 1))
		p.raw("</td><td class=\"n\">")
		p.int(int64(b.N))
		p.raw("</td><td class=\"f\">")
		p.bytes(appendHex(p.buf[:0], b.ID[:]))
		p.raw("</td><td class=\"t\">" + p.when(b.First) + "</td><td class=\"t\">" + p.when(b.Last) + "</td><td class=\"n\">")
		p.int(int64(b.Records))
		p.raw("</td><td>")
		var names []string
		for s := range b.Streams {
			names = append(names, s)
		}
		sort.Strings(names)
		for j, s := range names {
			if j > 0 {
				p.raw(" ")
			}
			p.text(s)
			p.raw(":")
			p.int(int64(b.Streams[s]))
		}
		p.raw("</td><td>")
		p.text(b.LossText())
		p.raw("</td></tr>\n")
	}
	p.raw("</table>\n<h3>Gaps in the numbering</h3>\n")
	n := 0
	for _, r := range reps {
		n += len(r.Gaps)
		if r.Retired > 0 {
			n++
		}
	}
	if n == 0 {
		p.raw("<p class=\"note\">None: every stream is numbered without a gap from its first record.</p></section>\n")
		return
	}
	p.raw("<table><tr><th>stream</th><th>ring</th><th>numbers</th><th>what they were, and why</th></tr>\n")
	row := func(r *Report, g *Gap) {
		p.raw("<tr><td>")
		p.text(r.Stream)
		p.raw("</td><td class=\"w\">")
		p.text(r.Where)
		p.raw("</td><td class=\"n\">" + u64(g.From) + "-" + u64(g.To) + "</td><td>")
		p.text(string(g.AppendText(nil)))
		p.raw("</td></tr>\n")
	}
	shown := 0
	for _, r := range reps {
		if r.Retired > 0 {
			row(r, &Gap{From: 1, To: r.Retired, Loss: LossLost, Lost: r.Retired, Cause: CauseRetention + " (the segments before the oldest; some numbers may have been skipped in them)"})
			shown++
		}
		for i := range r.Gaps {
			if shown++; shown <= maxGaps {
				row(r, &r.Gaps[i])
			}
		}
	}
	p.raw("</table>\n")
	if shown > maxGaps {
		p.raw("<p class=\"note\">")
		p.int(int64(shown - maxGaps))
		p.raw(" more: itiny-read verify lists them all.</p>\n")
	}
	p.raw("</section>\n")
}

func (p *page) events(d *reportData) {
	p.raw("<section id=\"events\"><h2>Events</h2>\n<p class=\"note\">")
	p.int(int64(d.eventCount))
	p.raw(" records of the other streams (events, state, itiny...) in the window, oldest first")
	if d.rowsLeft > 0 {
		p.raw("; the earliest ")
		p.int(int64(d.rowsLeft))
		p.raw(" rows are left out, the last ")
		p.int(int64(p.o.MaxEvents))
		p.raw(" shown (itiny-read --since shows them)")
	}
	p.raw(".</p>\n")
	if len(d.rows) == 0 {
		p.raw("</section>\n")
		return
	}
	p.raw("<table><tr><th>time</th><th>stream</th><th>level</th><th>source</th><th>name</th><th>fields</th></tr>\n")
	for _, r := range d.rows {
		if r.mark != "" {
			p.raw("<tr class=\"mark\"><td colspan=\"6\">")
			p.text(r.mark)
			p.raw("</td></tr>\n")
			continue
		}
		p.raw("<tr><td class=\"t\">" + p.when(r.when) + "</td><td>")
		p.text(r.stream)
		p.raw("</td><td><span class=\"lv lv")
		p.int(int64(min(r.level, 7)))
		p.raw("\">")
		p.text(r.level.String())
		p.raw("</span></td><td>")
		p.text(r.src)
		p.raw("</td><td>")
		p.text(r.name)
		p.raw("</td><td class=\"f\">")
		p.text(r.fields)
		p.raw("</td></tr>\n")
	}
	p.raw("</table></section>\n")
}
