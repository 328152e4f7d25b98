package agent

import (
	"sync"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/rollup"
)

// A tier is a stream of rollup summaries, BASE.EVERY (metrics.1m,
// metrics.1h): the finest of a base stream's tiers folds the base's
// samples, each coarser one the summaries of the tier below it, so that
// hours are made of minutes, as they would be rebuilt.
type tier struct {
	a       *Agent
	s       *stream
	src     *stream // the ring it folds: the base's, or the finer tier's
	ro      *rollup.Roller
	dropped int64                     // the Roller's Dropped, as counted in the stream's rejected
	marked  uint64                    // the Roller's Upto last written in a mark
	mark    codec.Record              // catalog.RollupMark, reused
	next    *tier                     // the coarser tier this one feeds
	out     func(*codec.Record) error // hands a summary to write (made once: no allocation a sample)
}

// tiers are a base stream's tiers, finest first; mu orders their Rollers,
// which every collector's samples reach, and the base's appends (emit).
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
		t := &tier{a: a, s: a.streams[sc.Name], src: base}
		t.mark = codec.Record{Source: catalog.SelfSource, Level: codec.LevelInfo, Name: catalog.RollupMark.Name, Fields: codec.Fields{{Key: "upto"}}}
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
			t.src, l[i-1].next = l[i-1].s, t
		}
	}
}

// add folds r into t's Roller, and writes a mark after the summaries r
// made it hand on. The samples of groups past the ones it keeps count as
// the tier's rejected records.
func (t *tier) add(r *codec.Record) {
	t.ro.Add(r, t.out) // writeSummary counts its failures
	if u := t.ro.Upto(); u != t.marked {
		t.marked = u
		m := &t.mark
		m.Boot, m.BootCount, m.Wall, m.Mono = r.Boot, r.BootCount, r.Wall, r.Mono
		m.Fields[0].Value = codec.Uint(u)
		t.append(m)
	}
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
	t.append(r)
	if t.next != nil {
		t.next.add(r)
	}
	return nil
}

// append appends r to t's ring as it is, counting a failure.
func (t *tier) append(r *codec.Record) {
	if w := t.s.w.Load(); w == nil {
		t.s.errors.Add(1)
	} else if _, err := w.Append(r); err != nil {
		t.s.errors.Add(1)
	} else {
		t.s.written.Add(1)
	}
}

// rebuildTiers rolls up again, at start, what the tiers lost when the
// agent last stopped: a tier's newest summaries wait in memory until a
// flush, and an agent killed loses them and the interval in progress.
// Each tier learns from its ring the last record of the ring below that
// it holds the summaries of (its Floor), then folds that ring again from
// there, coarsest tier first, so that the summaries a finer tier rebuilds
// reach the next in order. By the rings' numbers, never the wall clock: a
// summary is never written twice, nor a sample folded twice. A tier with
// an empty ring is made of all the ring below holds.
func (a *Agent) rebuildTiers() {
	for _, s := range a.streamList() {
		if s.tiers == nil {
			continue
		}
		l := s.tiers.list
		for _, t := range l {
			t.learn()
		}
		for i := len(l) - 1; i >= 0; i-- {
			t := l[i]
			a.readRing(t.src.cfg.Name, func(first *codec.Record) bool { return first.Seq <= t.ro.Floor }, t.add)
		}
	}
}

// learn sets t's Floor from the newest mark in its ring: the Roller
// handed on everything up to it, and the summaries were written before
// the mark. Summaries after the last mark were written by a Roller killed
// before its mark (a flush between them): the Roller is told them, so as
// not to write them again. The newest mark is in the newest segment but
// when a segment was begun just before the kill, so learning reads that
// one alone, or else the ring.
func (t *tier) learn() {
	name := t.s.cfg.Name
	var markSeq uint64
	floor, marked := uint64(0), false
	marks := func(r *codec.Record) {
		if r.Name == catalog.RollupMark.Name && r.Source == catalog.SelfSource && len(r.Fields) > 0 {
			floor, markSeq, marked = max(floor, r.Fields[0].Value.Uint()), r.Seq, true
		}
	}
	newest := func(*codec.Record) bool { return true }
	t.a.readRing(name, newest, marks)
	if !marked {
		t.a.readRing(name, nil, marks)
	}
	t.a.readRing(name, newest, func(r *codec.Record) {
		if r.Seq > markSeq && t.ro.Rolls(r.Name) {
			t.ro.Stored(r)
		}
	})
	if next := t.src.w.Load(); next != nil && floor >= next.NextSeq() {
		// The ring below numbers from below the mark: made anew (lost,
		// or its directory replaced). Its records are all new.
		t.a.log.Printf("rollup: %s folds %s up to %d, which numbers from %d: folding all it holds", name, t.src.cfg.Name, floor, next.NextSeq())
		floor = 0
	}
	t.ro.Floor = floor
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
