package sar

import (
	"strconv"
	"strings"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

// A Reader turns records into a report's rows. Give it every record of
// the rings in the merged order (boot counter, then monotonic time), all
// streams: the agent's start records tell its restarts.
type Reader struct {
	rep    *Report
	w      Writer
	o      Options
	series []*series // in the order first seen
	byInst map[string]*series
	boot   uint32
	id     codec.BootID
	any    bool // a record was read: boot and id hold its boot
	run    int  // the agent's starts read
	also   []float64
	alsoOK bool // also holds a sample of this boot
	bucket int64
	inSpan bool // rows are in bucket accumulators
	sm     sample
	row    Row           // the sample's row
	avgRow Row           // a span's or an Average row: written while row is held
	last   Row           // the last mark written, not to repeat it
	lastAt int64         // the monotonic time of the record that made it
	clock  view.TimeMark // how the view came to the wall time of the record read
	rates  []float64     // a summary's rates, by the catalogue's positions
	names  map[time.Duration]string
}

// NewReader returns a Reader of report rep writing to w.
func NewReader(rep *Report, w Writer, o Options) *Reader {
	if o.Location == nil {
		o.Location = time.UTC
	}
	r := &Reader{rep: rep, w: w, o: o, byInst: map[string]*series{}}
	r.row.Values = make([]float64, len(rep.Columns))
	r.avgRow.Values = make([]float64, len(rep.Columns))
	if rep.Also != nil {
		r.also = make([]float64, len(rep.Also.Fields))
	}
	return r
}

// Add reads one record, its wall time as written.
func (r *Reader) Add(rec *codec.Record) error { return r.AddMarked(rec, view.TimeAsIs) }

// AddMarked reads one record, its wall time as the view came to it
// (view.Item.Time): the rows it makes carry the mark.
func (r *Reader) AddMarked(rec *codec.Record, clock view.TimeMark) error {
	return r.AddFrom(rec, clock, 0)
}

// AddFrom reads one record of a tier (view.Tiers.Every): a sample for
// 0, else a summary of an interval of every (package rollup). A
// summary's gauges are its means and its counters' rates its F_rate,
// never a difference with the summary before; its row is at the end of
// its interval, as a sample's is at the end of the one it closes, and
// weighs as many samples as it folded in the averages.
func (r *Reader) AddFrom(rec *codec.Record, clock view.TimeMark, every time.Duration) error {
	r.clock = clock
	if !r.any || rec.BootCount != r.boot || rec.Boot != r.id {
		was := r.any
		r.boot, r.id, r.any, r.alsoOK = rec.BootCount, rec.Boot, true, false
		if was {
			if err := r.mark(rec, "reboot", "boot "+strconv.FormatUint(uint64(rec.BootCount), 10)); err != nil {
				return err
			}
		}
	}
	switch rec.Name {
	case catalog.AgentStart.Name:
		if rec.Source != catalog.SelfSource {
			return nil
		}
		r.run++
		for _, s := range r.series {
			if s.any && s.boot == rec.BootCount && s.id == rec.Boot {
				return r.mark(rec, "agent restart", "")
			}
		}
		return nil
	case r.rep.Record.Name:
	default:
		if a := r.rep.Also; a != nil && rec.Name == a.Name {
			values(a, rec, r.also)
			r.alsoOK = true
		}
		return nil
	}
	c := r.rep.Record
	inst := ""
	if c.Instance != "" {
		inst = label(rec, c.Instance)
	}
	s := r.byInst[inst]
	if s == nil {
		if len(r.series) >= maxSeries {
			return nil // a hostile number of instances: the first ones only
		}
		// Clone: a record's strings may share the reader's buffers.
		s = &series{inst: strings.Clone(inst), vals: make([]float64, len(c.Fields))}
		s.labels = make([]string, len(r.rep.Labels))
		r.series = append(r.series, s)
		r.byInst[inst] = s
	}
	for i, l := range r.rep.Labels {
		if v := label(rec, c.Fields[l].Key); v != s.labels[i] {
			s.labels[i] = strings.Clone(v)
		}
	}
	cur := r.sm.prev // the slice to reuse: prev is s.vals
	if cap(cur) < len(c.Fields) {
		cur = make([]float64, len(c.Fields))
	}
	cur = cur[:len(c.Fields)]
	values(c, rec, cur)
	var ok bool
	var why, note string
	if every > 0 {
		ok, why, note = s.summary(rec, every)
	} else {
		ok, why, note = s.interval(r.rep, rec, cur, r.run)
	}
	if why != "" {
		if err := r.mark(rec, why, note); err != nil {
			return err
		}
	}
	r.sm = sample{cur: cur, prev: s.vals, ok: ok, dt: float64(rec.Mono-s.mono) / 1e9, n: 1}
	wall := rec.Wall
	if every > 0 {
		if r.rates == nil {
			r.rates = make([]float64, len(c.Fields))
		}
		r.sm.n = summaryRates(c, rec, r.rates)
		r.sm.rates, r.sm.dt = r.rates, every.Seconds()
		wall = wall.Add(every) // the interval's end
	}
	if r.alsoOK {
		r.sm.also = r.also
	}
	r.rep.figures(&r.sm, r.row.Values)
	// Keep the sample: its values become the series', and the series'
	// old ones the slice the next record is read into.
	s.vals, r.sm.prev = cur, s.vals
	s.any, s.boot, s.id, s.mono, s.run, s.every = true, rec.BootCount, rec.Boot, rec.Mono, r.run, every
	if r.rep.restart != "" {
		if p := label(rec, r.rep.restart); p != s.proc {
			s.proc = strings.Clone(p)
		}
	}
	if allNaN(r.row.Values) {
		return nil // a rate-only report's first sample
	}
	return r.add(s, wall, r.tierName(every))
}

// tierName returns view.TierName(every), made once.
func (r *Reader) tierName(every time.Duration) string {
	n, ok := r.names[every]
	if !ok {
		if r.names == nil {
			r.names = map[time.Duration]string{}
		}
		n = view.TierName(every)
		r.names[every] = n
	}
	return n
}

// maxSeries bounds the instances a report follows.
const maxSeries = 4096

// add takes the figures in r.row.Values as the series' row at wall: into
// the average, and written or added to the span of Options.Every.
func (r *Reader) add(s *series, wall time.Time, tier string) error {
	dt, reqs := r.sm.dt, 0.0
	if r.rep.requests != nil && r.sm.ok {
		reqs = r.rep.requests(&r.sm)
	}
	s.avg.add(r.rep, r.row.Values, dt, reqs, r.sm.n, wall, r.clock, tier)
	if r.o.Every == 0 {
		setRow(&r.row, Sample, s, wall, r.clock)
		r.row.Break, s.brk, r.row.Tier = s.brk, false, tier
		return r.w.Write(&r.row)
	}
	k := span(wall, r.o.Every, r.o.Location)
	if r.inSpan && k != r.bucket {
		if err := r.flushSpan(); err != nil {
			return err
		}
	}
	r.bucket, r.inSpan = k, true
	s.bucket.add(r.rep, r.row.Values, dt, reqs, r.sm.n, wall, r.clock, tier)
	s.bucket.brk, s.brk = s.bucket.brk || s.brk, false
	return nil
}

// setRow fills row for series s but for its values.
func setRow(row *Row, k RowKind, s *series, wall time.Time, clock view.TimeMark) {
	row.Kind, row.Time, row.Clock, row.Boot = k, wall, clock, s.boot
	row.Instance, row.Labels = s.inst, s.labels
	row.Why, row.Note, row.Break, row.Tier = "", "", false, ""
}

// flushSpan writes a row per series of the span of Options.Every, in
// the order the series were first seen.
func (r *Reader) flushSpan() error {
	r.inSpan = false
	for _, s := range r.series {
		if s.bucket.n == 0 {
			continue
		}
		s.bucket.mean(r.avgRow.Values)
		setRow(&r.avgRow, Sample, s, s.bucket.last, s.bucket.lastClock)
		r.avgRow.Break, r.avgRow.Tier = s.bucket.brk, s.bucket.tier
		s.bucket.reset()
		if err := r.w.Write(&r.avgRow); err != nil {
			return err
		}
	}
	return nil
}

// mark writes a mark row, unless it repeats the one before: made by a
// record of the same monotonic time (the series of one round of samples
// each meet the same gap; a copy of a ring repeats an agent.start). A
// span of Options.Every ends there, so that no row covers a mark.
func (r *Reader) mark(rec *codec.Record, why, note string) error {
	if r.inSpan {
		if err := r.flushSpan(); err != nil {
			return err
		}
	}
	if r.last.Why == why && r.last.Note == note && r.last.Boot == rec.BootCount && r.lastAt == rec.Mono {
		return nil
	}
	m := Row{Kind: Mark, Time: rec.Wall, Clock: r.clock, Boot: rec.BootCount, Why: why, Note: note}
	r.last, r.lastAt = m, rec.Mono
	return r.w.Write(&m)
}

// Close writes the last span's rows, then an Average row per series, and
// flushes the writer.
func (r *Reader) Close() error {
	if r.inSpan {
		if err := r.flushSpan(); err != nil {
			return err
		}
	}
	for _, s := range r.series {
		if s.avg.n == 0 {
			continue
		}
		s.avg.mean(r.avgRow.Values)
		setRow(&r.avgRow, Average, s, time.Time{}, view.TimeAsIs)
		r.avgRow.Boot, r.avgRow.Tier = 0, s.avg.tier
		if err := r.w.Write(&r.avgRow); err != nil {
			return err
		}
	}
	return r.w.Flush()
}

// span returns the number of the span of length every that wall ends:
// spans are (k-1)·every < t ≤ k·every from the zone's midnight (of
// 1970-01-01), so that a sample at 10:01:00 closes the minute that began
// at 10:00:00, as sar labels an interval by its end.
func span(wall time.Time, every time.Duration, loc *time.Location) int64 {
	_, off := wall.In(loc).Zone()
	t := wall.Unix() + int64(off)
	e := int64(every / time.Second)
	k := t / e
	if t%e > 0 {
		k++
	}
	return k
}

func allNaN(v []float64) bool {
	for _, x := range v {
		if x == x {
			return false
		}
	}
	return true
}

// Series returns how many instances of the report's record were read:
// 0 when the rings hold none.
func (r *Reader) Series() int { return len(r.series) }
