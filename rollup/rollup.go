// Package rollup folds metrics samples into summaries of fixed intervals
// of the wall clock, a minute or an hour: the long trend of a device kept
// in kilobytes, beside the raw samples that hold only hours of it.
//
// A Roller keeps one group per record name and instance (the catalogue's
// Instance field: a mount, an interface, a disk) and, when a sample falls
// in a later interval than its group's, hands on the group's summary: a
// record of the same name, stamped with the interval's start, whose
// fields are
//
//   - the labels of the samples, as they are (the instance among them);
//   - for each gauge field F of the catalogue: F, the mean of the
//     interval's samples, and F_min, F_max and F_last;
//   - for each counter field F: F, its last value, and F_rate, its
//     increase per second over the interval: the sum of the increases
//     between consecutive samples over the monotonic time they span, a
//     value going down (a reset, a wrap) counting from zero, a new boot
//     counting nothing, so that a reset never reads as a negative or huge
//     rate; absent when the interval has no two samples of one boot, the
//     first the previous interval's last;
//   - samples, the number of samples folded.
//
// A summary is handed on only when its interval is over: an interval in
// progress is not written, so that a summary is never written twice, nor
// one of part of an interval that a restart completes (the agent rebuilds
// it from the raw samples). Records the catalogue does not know, and
// fields that are not numbers, are not rolled up. A clock stepped back
// into an earlier interval closes the group's interval as a later one
// would: intervals follow the samples' order, not the clock's.
package rollup

import (
	"math"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// A Roller folds samples into summaries of Every.
type Roller struct {
	every  int64 // ns
	defs   map[string]*catalog.Record
	groups map[groupKey]*group
}

// New returns a Roller of intervals of every, a minute or an hour: the
// wall clock's, aligned to their multiples since 1970 (UTC).
func New(every time.Duration) *Roller {
	ro := &Roller{every: int64(every), defs: map[string]*catalog.Record{}, groups: map[groupKey]*group{}}
	for _, r := range catalog.All() {
		if r.Stream == catalog.StreamMetrics {
			ro.defs[r.Name] = r
		}
	}
	return ro
}

type groupKey struct{ name, instance string }

// A group is one record name and instance's interval in progress.
type group struct {
	def      *catalog.Record
	written  int64 // the last interval stored (Written); samples up to it are skipped
	interval int64 // wall ns / every
	boot     codec.BootID
	n        int64
	first    int64 // monotonic ns of the first sample
	labels   codec.Fields
	slot     []int // def's field i: its acc, or -1 (a label, or not a number)
	fields   []acc // one per numeric field of def
	out      codec.Record
}

// acc accumulates one numeric field.
type acc struct {
	keys     [4]string // gauge: F, F_min, F_max, F_last; counter: F, F_rate
	counter  bool
	n        int64 // samples with a value this interval
	min, max float64
	sum      float64
	last     float64
	// Counters: the previous sample, this interval's or the last one's
	// last, and the increase since and the time it spans.
	prev     float64
	prevMono int64
	prevBoot codec.BootID
	havePrev bool
	inc      float64
	span     int64
}

// Add folds the sample r into its group, handing each summary its
// arrival completes to out, which may keep the record until it returns.
func (ro *Roller) Add(r *codec.Record, out func(*codec.Record) error) error {
	def := ro.defs[r.Name]
	if def == nil {
		return nil
	}
	k := groupKey{name: def.Name}
	if def.Instance != "" {
		for _, f := range r.Fields {
			if f.Key == def.Instance {
				k.instance = f.Value.Str()
			}
		}
	}
	g := ro.group(def, k)
	interval := floorDiv(r.Wall.UnixNano(), ro.every)
	if interval <= g.written {
		g.see(r) // in a summary already stored: only a counter's previous value
		return nil
	}
	if g.n > 0 && interval != g.interval {
		if err := out(g.summary(ro.every)); err != nil {
			return err
		}
		g.reset()
	}
	if g.n == 0 {
		g.interval, g.first = interval, r.Mono
		g.labels = g.labels[:0]
	}
	g.fold(r)
	return nil
}

// Written says that the summaries of record name and instance ("" for a
// record without one) are stored up to the interval that starts at
// start: the samples of those intervals are skipped. An agent restarted
// calls it with the last summary of each group in its ring, then adds
// the raw samples of the interval in progress again, so that a summary
// is never written twice nor of part of its interval.
func (ro *Roller) Written(name, instance string, start time.Time) {
	def := ro.defs[name]
	if def == nil {
		return
	}
	g := ro.group(def, groupKey{name: def.Name, instance: instance})
	g.written = max(g.written, floorDiv(start.UnixNano(), ro.every))
}

// group returns the group of key k, made if new.
func (ro *Roller) group(def *catalog.Record, k groupKey) *group {
	g := ro.groups[k]
	if g == nil {
		g = newGroup(def)
		ro.groups[groupKey{name: k.name, instance: string([]byte(k.instance))}] = g
	}
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

func newGroup(def *catalog.Record) *group {
	g := &group{def: def, written: math.MinInt64, slot: make([]int, len(def.Fields))}
	for i, f := range def.Fields {
		g.slot[i] = -1
		switch f.Kind {
		case catalog.Gauge:
			g.slot[i] = len(g.fields)
			g.fields = append(g.fields, acc{keys: [4]string{f.Key, f.Key + "_min", f.Key + "_max", f.Key + "_last"}})
		case catalog.Counter:
			g.slot[i] = len(g.fields)
			g.fields = append(g.fields, acc{keys: [4]string{f.Key, f.Key + "_rate"}, counter: true})
		}
	}
	g.out = codec.Record{Name: def.Name, Source: def.Source, Level: codec.LevelInfo}
	return g
}

// see notes sample r's counters as the previous values, folding nothing.
func (g *group) see(r *codec.Record) {
	for _, f := range r.Fields {
		i := g.field(f.Key)
		if i < 0 || g.slot[i] < 0 || !g.fields[g.slot[i]].counter {
			continue
		}
		if v, ok := f.Value.Number(); ok {
			a := &g.fields[g.slot[i]]
			a.prev, a.prevMono, a.prevBoot, a.havePrev = v, r.Mono, r.Boot, true
		}
	}
}

// fold adds sample r to the interval.
func (g *group) fold(r *codec.Record) {
	g.n++
	g.boot = r.Boot
	for _, f := range r.Fields {
		i := g.field(f.Key)
		if i < 0 {
			continue
		}
		if g.def.Fields[i].Kind == catalog.Label && g.n == 1 {
			g.labels = append(g.labels, codec.Field{Key: g.def.Fields[i].Key, Value: codec.String(string([]byte(f.Value.Str())))})
		}
		v, ok := f.Value.Number()
		if g.slot[i] < 0 || !ok {
			continue
		}
		a := &g.fields[g.slot[i]]
		if a.n == 0 {
			a.min, a.max, a.sum = v, v, 0
		}
		a.n++
		a.min, a.max, a.sum, a.last = min(a.min, v), max(a.max, v), a.sum+v, v
		if a.counter {
			if a.havePrev && a.prevBoot == r.Boot && r.Mono > a.prevMono {
				d := v - a.prev
				if d < 0 {
					d = v // reset: counted from zero
				}
				a.inc += d
				a.span += r.Mono - a.prevMono
			}
			a.prev, a.prevMono, a.prevBoot, a.havePrev = v, r.Mono, r.Boot, true
		}
	}
}

// field returns the index of def's field key, or -1.
func (g *group) field(key string) int {
	for i, f := range g.def.Fields {
		if f.Key == key {
			return i
		}
	}
	return -1
}

// summary returns the record of the interval in progress.
func (g *group) summary(every int64) *codec.Record {
	r := &g.out
	r.Boot, r.Wall, r.Mono = g.boot, time.Unix(0, g.interval*every).UTC(), g.first
	r.Fields = append(r.Fields[:0], g.labels...)
	for i := range g.fields {
		a := &g.fields[i]
		if a.n == 0 {
			continue
		}
		if a.counter {
			r.Fields = append(r.Fields, codec.Field{Key: a.keys[0], Value: codec.Float(a.last)})
			if a.span > 0 {
				r.Fields = append(r.Fields, codec.Field{Key: a.keys[1], Value: codec.Float(a.inc / (float64(a.span) / 1e9))})
			}
			continue
		}
		r.Fields = append(r.Fields,
			codec.Field{Key: a.keys[0], Value: codec.Float(a.sum / float64(a.n))},
			codec.Field{Key: a.keys[1], Value: codec.Float(a.min)},
			codec.Field{Key: a.keys[2], Value: codec.Float(a.max)},
			codec.Field{Key: a.keys[3], Value: codec.Float(a.last)})
	}
	r.Fields = append(r.Fields, codec.Field{Key: "samples", Value: codec.Int(g.n)})
	return r
}

// reset starts the next interval; counters keep their last sample.
func (g *group) reset() {
	g.n = 0
	for i := range g.fields {
		a := &g.fields[i]
		a.n, a.inc, a.span = 0, 0, 0
	}
}
