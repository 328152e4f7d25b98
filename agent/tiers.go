package agent

import (
	"sync"
	"time"

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
		t.mark = codec.Record{Source: catalog.SelfSource, Level: codec.LevelInfo, Name: catalog.RollupMark.Name, Fields: codec.Fields{{Key: "upto"}, {Key: "of"}}}
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
		for i, t := range l[1:] {
			t.src, l[i].next = l[i].s, t
		}
	}
}

// tiersOf returns the tiers s is the base or a tier of, if any.
func (a *Agent) tiersOf(s *stream) *tiers {
	if s.cfg.Tier != 0 {
		s = a.streams[s.cfg.Base]
	}
	return s.tiers
}

// reset gives each tier a new Roller.
func (ts *tiers) reset() {
	for i, t := range ts.list {
		if i == 0 {
			t.ro = rollup.New(t.s.cfg.Tier)
		} else {
			t.ro = rollup.NewCascade(t.s.cfg.Tier, ts.list[i-1].s.cfg.Tier)
		}
		t.marked, t.dropped = 0, 0
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
		m.Fields[0].Value, m.Fields[1].Value = codec.Uint(u), codec.String(t.src.cfg.Name)
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
		if s.tiers != nil {
			a.rebuild(s.tiers)
		}
	}
}

// rebuild rebuilds ts and writes a catalog.RollupGap for each tier that
// could not fold all it lacked.
func (a *Agent) rebuild(ts *tiers) {
	for _, g := range ts.rebuild() {
		f := a.selfFields()
		addString(f, "tier", g.tier)
		addString(f, "of", g.of)
		addUint(f, "after", g.after)
		addUint(f, "first", g.first)
		addString(f, "from", g.from.UTC().Format(time.RFC3339))
		a.noteFields(StreamSelf, catalog.RollupGap.Name, codec.LevelWarning)
	}
}

// A rollupGap is what a rebuild could not fold again: the ring below no
// longer holds the records after the tier's Floor (catalog.RollupGap).
type rollupGap struct {
	tier, of     string
	after, first uint64
	from         time.Time
}

// rebuild makes ts's Rollers anew and rolls up again what their rings
// lack: at start, and when a ring of theirs opens late (a disk full or
// read-only at start), its samples meanwhile refused or its summaries
// lost.
func (ts *tiers) rebuild() (gaps []rollupGap) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.reset()
	for _, t := range ts.list {
		t.learn()
	}
	for i := len(ts.list) - 1; i >= 0; i-- {
		t := ts.list[i]
		floor, seen := t.ro.Floor, false
		t.a.readRing(t.src.cfg.Name, func(first *codec.Record) bool { return first.Seq <= floor }, func(r *codec.Record) {
			if !seen {
				seen = true
				if floor != 0 && r.Seq > floor+1 {
					// Retention took the records after the floor (or their
					// numbers were passed over): the interval of this one
					// would be summed from part of its samples, so it only
					// gives counters their values, and the tier resumes at
					// the next interval, saying what it skipped.
					every := t.s.cfg.Tier.Nanoseconds()
					from := (r.Wall.UnixNano() + every - 1) / every * every
					t.ro.FloorWall = time.Unix(0, from)
					gaps = append(gaps, rollupGap{tier: t.s.cfg.Name, of: t.src.cfg.Name, after: floor, first: r.Seq, from: t.ro.FloorWall})
				}
			}
			t.add(r)
		})
	}
	return gaps
}

// learn sets t's Floor from the newest mark in its ring: the Roller
// handed on everything up to it, and the summaries were written before
// the mark. Summaries after the last mark were written by a Roller killed
// before its mark (a flush between them): the Roller is told them, so as
// not to write them again. The newest mark is in the newest segment but
// when a segment was begun just before the kill, so learning reads that
// one alone, or else the ring. When the numbers cannot tell (no mark, a
// mark of another ring below, or the ring below numbering from below it:
// made anew), the newest summary's interval is the floor by the wall
// clock.
func (t *tier) learn() {
	name, src := t.s.cfg.Name, t.src.cfg.Name
	var markSeq, floor uint64
	var top time.Time
	marked, ours := false, false
	marks := func(r *codec.Record) {
		if r.Name == catalog.RollupMark.Name && r.Source == catalog.SelfSource && len(r.Fields) > 1 {
			if u := r.Fields[0].Value.Uint(); !marked || u > floor {
				floor, ours = u, r.Fields[1].Value.Str() == src
			}
			markSeq, marked = r.Seq, true
		}
	}
	newest := func(*codec.Record) bool { return true }
	t.a.readRing(name, newest, marks)
	if !marked {
		t.a.readRing(name, nil, marks)
	}
	w := t.src.w.Load()
	byWall := !ours || w != nil && floor >= w.NextSeq()
	if byWall {
		floor = 0
		if marked {
			t.a.log.Printf("rollup: %s: its last mark is not of %s as it is: folding %s from its newest interval", name, src, src)
		}
	}
	// Summaries stamped after now (a clock ahead when they were written,
	// corrected since) are not taken: they would stop the tier until the
	// clock came back to them.
	now := time.Now().Add(t.s.cfg.Tier)
	t.a.readRing(name, newest, func(r *codec.Record) {
		if t.ro.Rolls(r.Name) && !r.Wall.After(now) {
			if r.Wall.After(top) {
				top = r.Wall
			}
			if byWall || r.Seq > markSeq {
				t.ro.Stored(r)
			}
		}
	})
	if byWall {
		t.ro.FloorWall = top
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
