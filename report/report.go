package report

import (
	"bufio"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

// Options shape a report. The zero value reports everything, times
// in UTC.
type Options struct {
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

func (o *Options) defaults() {
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

// Write writes one self-contained HTML page about srcs for a field
// engineer: a verify summary per ring, charts of the metrics stream over
// time, the boots and gaps, and a timeline of the other streams' records.
// It needs no network, no other file and no JavaScript: CSS and SVG are
// inline. Every string read from a ring is escaped.
//
// It reads each ring three times: verify (Check), boots (ListBoots), and
// the window's records for the charts and the timeline.
func Write(w io.Writer, srcs []*view.Source, o Options) error {
	o.defaults()
	var reps []*view.Health
	for _, s := range srcs {
		rep, err := view.Check(s)
		if err != nil {
			return err
		}
		reps = append(reps, rep)
	}
	boots, err := view.ListBoots(srcs)
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
func collect(srcs []*view.Source, o *Options) (*reportData, error) {
	m, err := view.NewMerger(srcs, o.Since)
	if err != nil {
		return nil, err
	}
	f := view.Filter{Since: o.Since, Until: o.Until}
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
		case view.KindRecord:
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
		case view.KindBoot:
			tl.boot = "boot " + strconv.FormatUint(uint64(it.Boot.N), 10) + " (" + string(hex.AppendEncode(nil, it.Boot.ID[:])) + ") begins"
		case view.KindGap, view.KindDamage, view.KindBadRecord:
			// Markers of the event streams wait for a record shown after
			// them; the metrics' are in the gaps and verify sections.
			if it.Source.Stream != metricsStream {
				tl.mark(string(view.AppendMarker(nil, &it)))
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
		b = view.AppendValue(b, f.Value)
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
