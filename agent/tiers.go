package agent

import (
	"math"
	"sync"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/rollup"
)

// A tier is a stream of rollup summaries, BASE.EVERY (metrics.1m,
// metrics.1h): the finest of a base stream's tiers folds the base's
// samples, each coarser one the summaries of the tier below it, so that
// hours are made of minutes, as they would be rebuilt.
type tier struct {
	s       *stream
	ro      *rollup.Roller
	from    int64                     // rebuilding: the wall ns from which the ring below is folded
	dropped int64                     // the Roller's Dropped, as counted in the stream's rejected
	next    *tier                     // the coarser tier this one feeds
	out     func(*codec.Record) error // hands a summary to write (made once: no allocation a sample)
}

// tiers are a base stream's tiers, finest first; mu orders their Rollers,
// which every collector's samples reach.
type tiers struct {
	mu   sync.Mutex
	list []*tier
}

// buildTiers links each stream's tiers to it.
func (a *Agent) buildTiers() {
	for _, sc := range a.cfg.Streams {
		if sc.Tier == 0 {
			continue
		}
		base := a.streams[sc.Base]
		if base.tiers == nil {
			base.tiers = &tiers{}
		}
		t := &tier{s: a.streams[sc.Name]}
		t.out = func(r *codec.Record) error { return a.writeSummary(t, r) }
		base.tiers.list = append(base.tiers.list, t)
	}
	for _, s := range a.streams {
		if s.tiers == nil {
			continue
		}
		l := s.tiers.list
		for i := 1; i < len(l); i++ { // finest first; not slices.SortFunc, which costs 10 KB
			for j := i; j > 0 && l[j].s.cfg.Tier < l[j-1].s.cfg.Tier; j-- {
				l[j], l[j-1] = l[j-1], l[j]
			}
		}
		for i, t := range l {
			if i == 0 {
				t.ro = rollup.New(t.s.cfg.Tier)
				continue
			}
			t.ro = rollup.NewCascade(t.s.cfg.Tier, l[i-1].s.cfg.Tier)
			l[i-1].next = t
		}
	}
}

// roll folds sample r of the base stream into its tiers.
func (ts *tiers) roll(r *codec.Record) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.list[0].add(r)
}

// add folds r into t's Roller. The samples of groups past the ones it
// keeps count as the tier's rejected records.
func (t *tier) add(r *codec.Record) {
	t.ro.Add(r, t.out) // writeSummary counts its failures
	if d := t.ro.Dropped; d != t.dropped {
		t.s.rejected.Add(uint64(d - t.dropped))
		t.dropped = d
	}
}

// writeSummary appends summary r to t's ring, keeping the boot and times
// the Roller gave it, and folds it into the next tier. A failure is
// counted in the stream's errors: the samples are still in the base
// stream.
func (a *Agent) writeSummary(t *tier, r *codec.Record) error {
	if w := t.s.w.Load(); w == nil {
		t.s.errors.Add(1)
	} else if _, err := w.Append(r); err != nil {
		t.s.errors.Add(1)
	} else {
		t.s.written.Add(1)
	}
	if t.next != nil {
		t.next.add(r)
	}
	return nil
}

// rebuildTiers rolls up again, at start, what the tiers lost when the
// agent last stopped: a tier's newest summaries wait in memory until a
// flush, and an agent killed loses them and the interval in progress.
// Each tier learns from its own ring what it holds, then folds the ring
// below it (the base's for the finest), coarsest first, so that each
// tier's summaries come in order: a summary is never written twice, nor
// of part of an interval the ring below holds whole. A tier with an empty
// ring is made of all the ring below holds.
func (a *Agent) rebuildTiers() {
	for _, s := range a.streamList() {
		ts := s.tiers
		if ts == nil {
			continue
		}
		for _, t := range ts.list {
			t.learn(a)
		}
		for i := len(ts.list) - 1; i >= 0; i-- {
			t, src := ts.list[i], s.cfg.Name
			if i > 0 {
				src = ts.list[i-1].s.cfg.Name
			}
			a.readRing(src, before(t.from), func(r *codec.Record) {
				if r.Wall.UnixNano() >= t.from {
					t.add(r)
				}
			})
		}
	}
}

// learn tells t's Roller the summaries its ring holds, and sets from: the
// start of the newest interval stored. Everything before it was handed
// on and stored, since an interval's summaries are handed on together;
// so the ring below is folded from there (the samples of that interval
// only give the counters' previous values), and only the summaries of
// the last two intervals stored need telling, which bounds the groups
// the Roller keeps whatever instances came and went in a year. The
// newest are in the newest segments, so learning reads those alone.
func (t *tier) learn(a *Agent) {
	name, every := t.s.cfg.Name, int64(t.s.cfg.Tier)
	t.from = math.MinInt64
	newest := func(r *codec.Record) {
		if t.ro.Rolls(r.Name) {
			t.from = max(t.from, r.Wall.UnixNano())
		}
	}
	a.readRing(name, func(*codec.Record) bool { return true }, newest) // the newest segment
	if t.from == math.MinInt64 {
		a.readRing(name, nil, newest) // it holds no summary: they all
	}
	if t.from == math.MinInt64 {
		return
	}
	since := t.from - 2*every
	a.readRing(name, before(since), func(r *codec.Record) {
		if r.Wall.UnixNano() > since {
			t.ro.Stored(r)
		}
	})
}

// before returns a Scan's choice of the newest segment whose first
// record is stamped at or before wall ns: the one to read from for the
// records after wall, if the clock went forward.
func before(wall int64) func(*codec.Record) bool {
	return func(first *codec.Record) bool { return first.Wall.UnixNano() <= wall }
}

// readRing hands each record of stream name's ring to f, in order,
// passing over damage: from the newest segment whose first record from
// accepts (ringlog.Writer.Scan), or all when from is nil. A ring it
// cannot read goes to the diagnostic log.
func (a *Agent) readRing(name string, from func(first *codec.Record) bool, f func(*codec.Record)) {
	w := a.streams[name].w.Load()
	if w == nil {
		return // down: said already
	}
	var r codec.Record
	var start func(ringlog.Entry) bool
	if from != nil {
		start = func(e ringlog.Entry) bool { return e.Decode(&r) == nil && from(&r) }
	}
	err := w.Scan(start, func(e ringlog.Entry) error {
		if e.Decode(&r) == nil {
			f(&r)
		}
		return nil
	})
	if err != nil {
		a.log.Printf("rollup: reading %s: %v", name, err)
	}
}
