// Package rollup folds metrics samples into summaries of fixed intervals
// of the wall clock, a minute or an hour: the long trend of a device kept
// in kilobytes, beside the raw samples that hold only hours of it.
//
// A Roller keeps one group per record name and instance (the catalogue's
// Instance field: a mount, an interface, a disk) and, once an interval is
// over, hands on each group's summary: a record of the same name, stamped
// with the interval's start (wall) and its first sample's boot, boot count
// and monotonic time, whose fields are
//
//   - the labels, as the interval's last sample had them (the instance
//     among them);
//   - for each gauge field F of the catalogue: F, the mean of the
//     interval's samples, and F_min, F_max and F_last, which a summary of
//     one sample leaves out (they are F);
//   - for each counter field F: F_rate, its increase per second over the
//     interval: the sum of the increases between consecutive samples over
//     the monotonic time they span, a value falling below half the one
//     before (a reset, a wrap) counting from zero, one back a little (the
//     kernel's iowait may) counting nothing, and a new boot counting
//     nothing, so that a reset never reads as a negative or huge rate. The
//     previous sample, the first of a pair, may be of an interval before
//     if it is at most two intervals or two hours old (a counter sampled
//     hourly still has a rate): after a longer gap (the device off, the
//     interface gone) the rate starts again. F_rate is absent when the
//     interval has no pair. The counter's own value is not kept: its
//     increase is the rate's, and the value would cost a summary more
//     than all its other figures (DESIGN 31);
//   - samples, the number of samples folded.
//
// Every figure is rounded to Digits significant digits, three for hours
// and four for finer intervals: a trend needs no more, and a decimal of
// few digits packs into a few bits (pack, version 3).
//
// A Roller made by NewCascade folds the summaries of a finer Roller
// instead of samples: an hour's mean is the mean of its minutes' weighted
// by their samples, its extremes theirs, and its rate their rates' mean.
// A tier is then rebuilt from the tier below it, which keeps more.
//
// An interval is over when a sample of any group falls in a later one:
// summaries are handed on whole, never twice, and never of part of an
// interval (the interval in progress is not written: an agent restarted
// rebuilds it from the raw samples, from Floor on, see Upto). A sample
// stamped before its group's interval in progress is not folded; one
// stamped more than two intervals before the latest is a clock stepped
// back, and starts a new time line (intervals may then be summarised
// twice, samples are not).
// Records the catalogue does not know, the agent's own (stream.stats,
// agent.io), fields that are not numbers and NaNs are not rolled up. At most MaxGroups groups are kept: a group idle
// for two intervals is forgotten, and samples that would make one more are
// counted in Dropped.
package rollup

import (
	"math"
	"sync"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/decimal"
)

// MaxGroups bounds the groups a Roller keeps, and so its memory: about a
// kilobyte each. A device has a few dozen (a record per collector, one per
// disk, interface and mount).
const MaxGroups = 256

// Digits returns the significant digits of the figures of summaries of
// intervals of every: four under an hour, three from an hour up, the
// half unit of whose last digit is 0.5% of the figure. A trend over
// months needs no more, and it is what keeps a year of hours of a
// device in a mebibyte (docs/DESIGN.md 34).
func Digits(every time.Duration) int {
	if every >= time.Hour {
		return 3
	}
	return 4
}

// pairMax is the longest two samples of a counter may be apart and still
// give a rate, beyond two intervals: a counter sampled every 5 minutes or
// hourly (the flash collector's) still has one in the minute it ends, so
// that the hours folded from minutes have it. Longer, a device off or an
// interface gone, and the rate starts again.
const pairMax = int64(2 * time.Hour)

// A Roller folds samples into summaries of one interval.
type Roller struct {
	every   int64 // ns
	digits  int   // Digits(every)
	finer   int64 // ns: the intervals of the summaries folded; 0 for samples
	defs    map[string]*rollDef
	out     codec.Record // the summary handed on, reused by every group
	groups  map[groupKey]*group
	order   []*group // the groups, oldest first: summaries go out in this order
	latest  int64    // the latest interval a sample fell in
	upto    uint64   // the number before the sample that last ended an interval
	Dropped int64    // samples not rolled up: their group would pass MaxGroups
	// Floor is the number of the last sample already rolled up and
	// stored: a sample numbered at or below it (Record.Seq, the ring's)
	// only gives a counter its previous value. 0: none.
	Floor uint64
	// FloorWall does the same by the wall clock, for when the numbers
	// cannot tell (the ring below was made anew): a sample stamped before
	// it only gives a counter its previous value.
	FloorWall time.Time
}

// A rollDef is a catalogue record and the keys of its summary's fields,
// shared by its groups.
type rollDef struct {
	*catalog.Record
	slot []int       // per catalogue field, its numeric field, or -1
	keys [][4]string // per numeric field, its figures: F, F_min, F_max, F_last; or F, F_rate
	ctr  []bool      // per numeric field: a counter
}

// New returns a Roller of intervals of every, a minute or an hour: the
// wall clock's, aligned to their multiples since 1970 (UTC). It panics if
// every is not positive.
func New(every time.Duration) *Roller {
	if every <= 0 {
		panic("rollup: an interval of " + every.String())
	}
	return &Roller{every: int64(every), digits: Digits(every), defs: rollDefs(), groups: map[groupKey]*group{}, latest: math.MinInt64}
}

// defs are the rollDefs of the catalogue's rolled records, made once and
// shared by every Roller (an agent makes new ones at each rebuild);
// maxFields is the most fields a summary of them has.
var (
	defsOnce  sync.Once
	defs      map[string]*rollDef
	maxFields int
)

func rollDefs() map[string]*rollDef {
	defsOnce.Do(func() {
		defs = map[string]*rollDef{}
		for _, r := range catalog.All() {
			if !rolled(r) {
				continue
			}
			d := &rollDef{Record: r, slot: make([]int, len(r.Fields))}
			n := 1 // samples
			for i, f := range r.Fields {
				d.slot[i] = len(d.keys)
				switch f.Kind {
				case catalog.Gauge:
					d.keys, d.ctr = append(d.keys, [4]string{f.Key, f.Key + "_min", f.Key + "_max", f.Key + "_last"}), append(d.ctr, false)
					n += 4
				case catalog.Counter:
					d.keys, d.ctr = append(d.keys, [4]string{f.Key, f.Key + "_rate"}), append(d.ctr, true)
					n++
				default:
					d.slot[i] = -1
					n++ // a label, at most
				}
			}
			defs[r.Name] = d
			maxFields = max(maxFields, n)
		}
	})
	return defs
}

// rolled reports whether Rollers summarise the catalogue's record r: the
// device's samples, not the agent's own figures (a stream's stats are
// more fields than a device's samples), nor its events.
func rolled(r *catalog.Record) bool {
	return r.Stream == catalog.StreamMetrics && r.Source != catalog.SelfSource
}

// IsSummary reports whether r, a record of a tier's ring, is a summary a
// Roller handed on, not one the ring holds beside them: the agent's mark
// after each batch (catalog.RollupMark), stamped as the sample that ended
// an interval, or a resume note. Only summaries say what time a tier
// covers.
func IsSummary(r *codec.Record) bool {
	c := catalog.Lookup(r.Name)
	return c != nil && rolled(c)
}

// NewCascade returns a Roller of intervals of every that folds the
// summaries of a Roller of intervals of finer, which must divide every.
func NewCascade(every, finer time.Duration) *Roller {
	if finer <= 0 || every%finer != 0 || every == finer {
		panic("rollup: intervals of " + every.String() + " from intervals of " + finer.String())
	}
	ro := New(every)
	ro.finer = int64(finer)
	return ro
}

// Every returns the Roller's interval.
func (ro *Roller) Every() time.Duration { return time.Duration(ro.every) }

type groupKey struct{ name, instance string }

// A group is one record name and instance's interval in progress.
type group struct {
	key      groupKey
	def      *rollDef
	written  int64 // the last interval handed on or stored (Written)
	interval int64 // the interval in progress: wall ns / every
	seen     int64 // the last interval with a sample
	n        int64
	boot     codec.BootID // the first sample's
	bootn    uint32       // and its boot count
	first    int64        // and its monotonic ns
	labels   codec.Fields
	fields   []acc // one per numeric field of def
}

// acc accumulates one numeric field.
type acc struct {
	n        int64 // samples with a value this interval
	min, max float64
	sum      float64
	last     float64
	// Counters: the previous sample, this interval's or the one before's
	// last, and the increase since and the time it spans.
	prev     float64
	prevMono int64
	prevBoot codec.BootID
	havePrev bool
	inc      float64
	span     int64
}

// Add folds the sample r into its group, handing each summary whose
// interval it ends to out, which may keep the record until it returns.
func (ro *Roller) Add(r *codec.Record, out func(*codec.Record) error) error {
	d := ro.defs[r.Name]
	if d == nil {
		return nil
	}
	interval := floorDiv(r.Wall.UnixNano(), ro.every)
	if ro.Floor != 0 && r.Seq <= ro.Floor || r.Wall.Before(ro.FloorWall) {
		// Rolled up and stored already.
		if g := ro.group(d, instance(d, r)); g != nil && ro.finer == 0 {
			g.see(r)
		}
		return nil
	}
	if ro.latest != math.MinInt64 && interval < ro.latest-2 {
		// The clock stepped back (an RTC ahead, then corrected): a new
		// time line, not hours of samples left out until it catches up.
		if err := ro.restart(interval, out); err != nil {
			return err
		}
	}
	if interval > ro.latest {
		if err := ro.sweep(interval, r.Seq, out); err != nil {
			return err
		}
	}
	g := ro.group(d, instance(d, r))
	if g == nil {
		ro.Dropped++
		return nil
	}
	g.seen = max(g.seen, interval)
	if interval <= g.written || g.n > 0 && interval < g.interval {
		if ro.finer == 0 {
			g.see(r) // stored already, or before the interval in progress
		}
		return nil
	}
	if g.n > 0 && interval > g.interval {
		if err := g.hand(ro, out); err != nil {
			return err
		}
	}
	if g.n == 0 {
		g.interval, g.boot, g.bootn, g.first = interval, r.Boot, r.BootCount, r.Mono
	}
	g.fold(r, ro)
	return nil
}

// Upto returns the number before the sample that last ended an interval
// with summaries to hand on: every sample up to it is in the summaries
// handed on (or a later interval's), none after it. The agent stores it
// after the summaries (catalog.RollupMark), and sets Floor from it when
// it starts again.
func (ro *Roller) Upto() uint64 { return ro.upto }

// sweep hands on every group's interval before interval, which sample
// seq has reached, and forgets the groups idle for two intervals, or for
// pairMax: a counter sampled less often keeps its previous value.
func (ro *Roller) sweep(interval int64, seq uint64, out func(*codec.Record) error) error {
	ro.latest = interval
	kept := ro.order[:0]
	var err error
	for _, g := range ro.order {
		if g.n > 0 && g.interval < interval && err == nil {
			err = g.hand(ro, out)
			ro.upto = max(ro.upto, seq-min(seq, 1))
		}
		if idle := max(2, pairMax/ro.every); g.n == 0 && g.seen < interval-idle && g.written < interval-idle {
			delete(ro.groups, g.key)
			continue
		}
		kept = append(kept, g)
	}
	clear(ro.order[len(kept):])
	ro.order = kept
	return err
}

// restart hands on every group's interval in progress and starts a new
// time line at interval, before the intervals handed on: a clock stepped
// back. Its summaries may have the walls of earlier ones: samples are
// never folded twice, but an interval may be summarised twice.
func (ro *Roller) restart(interval int64, out func(*codec.Record) error) error {
	var err error
	for _, g := range ro.order {
		if g.n > 0 && err == nil {
			err = g.hand(ro, out)
		}
		g.written, g.seen = min(g.written, interval-1), min(g.seen, interval)
	}
	ro.latest = interval
	return err
}

// Written says that the summaries of record name and instance ("" for a
// record without one) are stored up to the interval that starts at
// start: the samples of those intervals are skipped. An agent restarted
// calls it with the last summary of each group in its ring, then adds
// the raw samples of the interval in progress again, so that a summary
// is never written twice nor of part of its interval.
func (ro *Roller) Written(name, instance string, start time.Time) {
	d := ro.defs[name]
	if d == nil {
		return
	}
	if g := ro.group(d, instance); g != nil {
		iv := floorDiv(start.UnixNano(), ro.every)
		g.written, g.seen = max(g.written, iv), max(g.seen, iv)
	}
}

// Rolls reports whether the Roller summarises records named name: a
// tier's ring holds the ring's own records too (a resume note).
func (ro *Roller) Rolls(name string) bool { return ro.defs[name] != nil }

// Stored says that summary r is stored, as Written does: an agent
// restarted calls it with each summary in its ring.
func (ro *Roller) Stored(r *codec.Record) {
	if d := ro.defs[r.Name]; d != nil {
		ro.Written(r.Name, instance(d, r), r.Wall)
	}
}

// instance returns r's value of d's instance field, "" if none.
func instance(d *rollDef, r *codec.Record) string {
	if d.Instance != "" {
		for _, f := range r.Fields {
			if f.Key == d.Instance {
				return f.Value.Str()
			}
		}
	}
	return ""
}

// group returns the group of d and instance, made if new; nil when there
// are MaxGroups already.
func (ro *Roller) group(d *rollDef, instance string) *group {
	if g := ro.groups[groupKey{d.Name, instance}]; g != nil {
		return g
	}
	if len(ro.groups) >= MaxGroups {
		return nil
	}
	k := groupKey{d.Name, string([]byte(instance))}
	g := &group{key: k, def: d, written: math.MinInt64, seen: math.MinInt64, fields: make([]acc, len(d.keys))}
	ro.groups[k] = g
	ro.order = append(ro.order, g)
	return g
}

// floorDiv is a / b rounded down: intervals before 1970 are negative.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// see notes sample r's counters as the previous values, folding nothing.
func (g *group) see(r *codec.Record) {
	for i, f := range r.Fields {
		if a, ctr := g.value(i, f.Key); a != nil && ctr {
			if v, ok := f.Value.Number(); ok && !math.IsNaN(v) {
				a.prev, a.prevMono, a.prevBoot, a.havePrev = v, r.Mono, r.Boot, true
			}
		}
	}
}

// index returns the catalogue index of a sample's field key, its i-th:
// a collector writes its fields in the catalogue's order, so the i-th is
// tried first. -1 if the catalogue does not know it.
func (d *rollDef) index(i int, key string) int {
	if i < len(d.Fields) && d.Fields[i].Key == key {
		return i
	}
	_, i = d.Field(key)
	return i
}

// value returns the accumulator of a sample's i-th field, key, if it is
// a number, and whether it is a counter.
func (g *group) value(i int, key string) (*acc, bool) {
	if ci := g.def.index(i, key); ci >= 0 {
		if s := g.def.slot[ci]; s >= 0 {
			return &g.fields[s], g.def.ctr[s]
		}
	}
	return nil, false
}

// figure returns the accumulator of a summary's field key, which of its
// figures key names (0 the mean, 1 the minimum or a counter's rate, 2 the
// maximum, 3 the last), and whether it is a counter's.
func (g *group) figure(key string) (*acc, int, bool) {
	for s := range g.def.keys {
		for j, k := range g.def.keys[s] {
			if k == key && k != "" {
				return &g.fields[s], j, g.def.ctr[s]
			}
		}
	}
	return nil, 0, false
}

// fold adds r to the interval: a sample, or a summary of a finer Roller
// (an interval of ro.finer) counting as its samples.
func (g *group) fold(r *codec.Record, ro *Roller) {
	k, summary := int64(1), ro.finer != 0
	if summary {
		for _, f := range r.Fields {
			if f.Key == "samples" {
				k = max(1, f.Value.Int())
			}
		}
	}
	g.n += k
	nl := 0
	for i, f := range r.Fields {
		if ci := g.def.index(i, f.Key); ci >= 0 && g.def.Fields[ci].Kind == catalog.Label {
			g.label(nl, f)
			nl++
			continue
		}
		var a *acc
		fig, ctr := 0, false
		if summary {
			a, fig, ctr = g.figure(f.Key)
		} else {
			a, ctr = g.value(i, f.Key)
		}
		v, ok := f.Value.Number()
		if a == nil || !ok || math.IsNaN(v) {
			continue
		}
		switch {
		case ctr && fig == 0 && !summary:
			a.n++
			if a.havePrev && a.prevBoot == r.Boot && r.Mono > a.prevMono && r.Mono-a.prevMono <= max(2*ro.every, pairMax) {
				d := v - a.prev
				switch {
				case v < a.prev/2:
					d = v // reset or wrap: counted from zero
				case d < 0:
					d = 0 // back a little: iowait may (proc(5)); not a reset
				}
				a.inc += d
				a.span += r.Mono - a.prevMono
			}
			a.prev, a.prevMono, a.prevBoot, a.havePrev = v, r.Mono, r.Boot, true
		case ctr && fig == 1: // a summary's rate: over its whole interval
			a.n += k
			a.inc += v * float64(ro.finer) / 1e9
			a.span += ro.finer
		case ctr:
		case fig == 0: // a sample's value, or a summary's mean
			if a.n == 0 {
				a.min, a.max, a.sum = v, v, 0
			}
			a.n += k
			a.sum += v * float64(k)
			a.min, a.max, a.last = min(a.min, v), max(a.max, v), v
		case fig == 1:
			a.min = min(a.min, v)
		case fig == 2:
			a.max = max(a.max, v)
		default:
			a.last = v
		}
	}
	g.labels = g.labels[:nl]
}

// label keeps f as the group's label i, copying its string only when it
// changed: a sample allocates nothing.
func (g *group) label(i int, f codec.Field) {
	if i < len(g.labels) && g.labels[i].Key == f.Key && g.labels[i].Value.Str() == f.Value.Str() {
		return
	}
	l := codec.Field{Key: f.Key, Value: codec.String(string([]byte(f.Value.Str())))}
	if i < len(g.labels) {
		g.labels[i] = l
	} else {
		g.labels = append(g.labels, l)
	}
}

// hand hands on the interval in progress and starts the next: counters
// keep their last sample.
func (g *group) hand(ro *Roller, out func(*codec.Record) error) error {
	err := out(g.summary(ro))
	g.written, g.n = g.interval, 0
	for i := range g.fields {
		a := &g.fields[i]
		a.n, a.inc, a.span = 0, 0, 0
	}
	return err
}

// summary returns the record of the interval in progress, in ro's one
// summary record: its fields are made once, as many as the largest
// summary has, so that no summary allocates (nor leaves garbage, which
// would cost the agent a collection).
func (g *group) summary(ro *Roller) *codec.Record {
	r := &ro.out
	if r.Fields == nil {
		r.Fields = make(codec.Fields, 0, maxFields)
	}
	r.Name, r.Source, r.Level = g.def.Name, g.def.Source, codec.LevelInfo
	r.Boot, r.BootCount, r.Wall, r.Mono = g.boot, g.bootn, time.Unix(0, g.interval*ro.every).UTC(), g.first
	r.Fields = append(r.Fields[:0], g.labels...)
	for i := range g.fields {
		a, k := &g.fields[i], &g.def.keys[i]
		switch {
		case a.n == 0:
		case g.def.ctr[i]:
			if a.span > 0 {
				r.Fields = append(r.Fields, rounded(k[1], a.inc/(float64(a.span)/1e9), ro.digits))
			}
		case a.n == 1:
			// One sample (a collector at the interval): its extremes and
			// last are its value, which a reader takes from F.
			r.Fields = append(r.Fields, rounded(k[0], a.sum, ro.digits))
		default:
			r.Fields = append(r.Fields, rounded(k[0], a.sum/float64(a.n), ro.digits),
				rounded(k[1], a.min, ro.digits), rounded(k[2], a.max, ro.digits), rounded(k[3], a.last, ro.digits))
		}
	}
	r.Fields = append(r.Fields, codec.Field{Key: "samples", Value: codec.Int(g.n)})
	return r
}

// rounded is a summary's field: x rounded to digits digits.
func rounded(key string, x float64, digits int) codec.Field {
	return codec.Field{Key: key, Value: codec.Float(decimal.Round(x, digits))}
}
