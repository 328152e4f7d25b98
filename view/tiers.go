// Rollup tiers: a stream's summaries over intervals (package rollup) kept
// in rings of their own, named <stream>.<interval> (metrics.1m,
// metrics.1h), beside the ring of its samples. Readers show each part of
// their window from one tier only, the one Tiers picks: the finest that
// has records there, or with --every D the coarsest whose interval is at
// most D.

package view

import (
	"cmp"
	"errors"
	"io"
	"math"
	"slices"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/rollup"
)

// ParseTier splits a stream's name into the stream whose samples it
// summarises and the summaries' interval (rollup.SplitTier): "metrics.1h"
// is metrics over an hour. A stream of samples is its own base, every 0.
func ParseTier(stream string) (base string, every time.Duration) {
	if base, every, ok := rollup.SplitTier(stream); ok {
		return base, every
	}
	return stream, 0
}

// TierName names a tier by its interval as its stream's name ends: 1m,
// 5m, 1h, 1d; "raw" for the samples themselves (every 0).
func TierName(every time.Duration) string {
	if every <= 0 {
		return "raw"
	}
	return rollup.Interval(every)
}

// Tiers says which tier each record of a stream with rollup tiers is
// shown from. Each tier takes the parts of the time line it is preferred
// for and has records in (its coverage: from its oldest record's
// interval to its newest's end, as the first and last segments of its
// rings tell), and no part is taken twice: where a tier's part begins or
// ends inside one of its intervals, the coarser tier's interval is kept
// whole and the finer tier's part cut to it, so that a span is never
// counted from two tiers. Streams without tiers are kept as they are.
// A nil *Tiers keeps every record.
type Tiers struct {
	plan map[string]*tierPlan // by stream
}

// A tierPlan is one tier's share of the time line.
type tierPlan struct {
	every time.Duration
	parts []part // wall ns, in order, disjoint
}

// A part is a stretch [from, to) of wall time (ns since 1970).
type part struct{ from, to int64 }

// tierLevel is a tier of one stream while planning: its sources and
// what they cover.
type tierLevel struct {
	every time.Duration
	srcs  []*Source
	cover part
	any   bool
	plan  *tierPlan
}

// TierOptions say which tier a reader prefers.
type TierOptions struct {
	// Every is the span the reader shows a row per (--every): the
	// coarsest tier whose interval is at most Every is preferred.
	Every time.Duration
	// Points, with Every zero, asks for about this many intervals over
	// the window (a chart's points): Every is then the window's length
	// over Points, the window being Since to Until, or as far as the
	// rings go where they are zero.
	Points       int
	Since, Until time.Time
}

// PlanTiers reads the first and the last segments of each tier's rings
// in srcs and shares the time line between the tiers of each stream
// that has some; it returns nil when no stream has tiers. With no Every
// (nor Points) each part is read from the finest tier that has records
// there (the samples first); with Every (--every), from the coarsest
// tier whose interval is at most Every, then the finer ones where it has
// no records yet, then the coarser ones. Wall times are as clocks
// repairs them (nil: as written).
func PlanTiers(srcs []*Source, clocks *Clocks, o TierOptions) (*Tiers, error) {
	families := map[string][]*tierLevel{}
	for _, s := range srcs {
		base, d := ParseTier(s.Stream)
		families[base] = append(families[base], &tierLevel{every: d, srcs: []*Source{s}})
	}
	t := &Tiers{plan: map[string]*tierPlan{}}
	for _, levels := range families {
		levels = mergeLevels(levels)
		if len(levels) == 1 && levels[0].every == 0 {
			continue // no tiers: the samples as they are
		}
		for _, l := range levels {
			for _, s := range l.srcs {
				c, ok, err := coverage(s, clocks, l.every)
				if err != nil {
					return nil, err
				}
				if ok && l.any {
					c = part{min(c.from, l.cover.from), max(c.to, l.cover.to)}
				}
				if ok {
					l.cover, l.any = c, true
				}
			}
			l.plan = &tierPlan{every: l.every}
			for _, s := range l.srcs {
				t.plan[s.Stream] = l.plan
			}
		}
		share(preferred(levels, o.every(levels)))
	}
	if len(t.plan) == 0 {
		return nil, nil // no tiers: nothing to ask per record
	}
	return t, nil
}

// every returns the span the reader asks for over levels: Every, or
// the window's length over Points.
func (o *TierOptions) every(levels []*tierLevel) time.Duration {
	if o.Every > 0 || o.Points <= 0 {
		return o.Every
	}
	var from, to int64
	any := false
	for _, l := range levels {
		if l.any {
			if !any || l.cover.from < from {
				from = l.cover.from
			}
			if !any || l.cover.to > to {
				to = l.cover.to
			}
			any = true
		}
	}
	if !o.Since.IsZero() {
		from = max(from, o.Since.UnixNano())
	}
	if !o.Until.IsZero() {
		to = min(to, o.Until.UnixNano())
	}
	if !any || to <= from {
		return 0
	}
	return time.Duration((to - from) / int64(o.Points))
}

// mergeLevels puts the sources of one interval (two copies of a ring)
// in one level, finest first.
func mergeLevels(levels []*tierLevel) []*tierLevel {
	slices.SortStableFunc(levels, func(a, b *tierLevel) int { return cmp.Compare(a.every, b.every) })
	out := levels[:0]
	for _, l := range levels {
		if n := len(out); n > 0 && out[n-1].every == l.every {
			out[n-1].srcs = append(out[n-1].srcs, l.srcs...)
			continue
		}
		out = append(out, l)
	}
	return out
}

// preferred orders levels (finest first) as they take their parts.
func preferred(levels []*tierLevel, every time.Duration) []*tierLevel {
	if every <= 0 {
		return levels
	}
	var out []*tierLevel
	for i := len(levels) - 1; i >= 0; i-- {
		if levels[i].every <= every {
			out = append(out, levels[i]) // coarsest first
		}
	}
	for _, l := range levels {
		if l.every > every {
			out = append(out, l) // where nothing finer has records
		}
	}
	return out
}

// share gives each level, in order, the parts of its coverage no level
// before it took; then makes each tier's parts whole intervals of it,
// the coarsest first: a part is widened to its intervals' bounds over
// finer tiers' parts (which lose that much), or narrowed to them next to
// a coarser tier's.
func share(levels []*tierLevel) {
	var taken []span // the time line as shared so far, in order
	for _, l := range levels {
		if !l.any {
			continue
		}
		for _, p := range free(taken, l.cover) {
			taken = insert(taken, span{part: p, l: l})
		}
	}
	byCoarse := slices.Clone(levels)
	slices.SortStableFunc(byCoarse, func(a, b *tierLevel) int { return cmp.Compare(b.every, a.every) })
	for _, l := range byCoarse {
		if l.every > 0 {
			taken = align(taken, l)
		}
	}
	// The newest part stays open: records written after the plan (a
	// reader following the rings) are its tier's.
	for i := len(taken) - 1; i >= 0; i-- {
		if taken[i].to > taken[i].from {
			taken[i].to = math.MaxInt64
			break
		}
	}
	for _, s := range taken {
		if s.to > s.from {
			s.l.plan.parts = append(s.l.plan.parts, s.part)
		}
	}
}

// A span is a part of the time line and the level it is read from.
type span struct {
	part
	l *tierLevel
}

// free returns the parts of c that no span of taken covers, in order.
func free(taken []span, c part) []part {
	var out []part
	at := c.from
	for _, s := range taken {
		if s.to <= at || s.from >= c.to {
			continue
		}
		if s.from > at {
			out = append(out, part{at, s.from})
		}
		at = max(at, s.to)
	}
	if at < c.to {
		out = append(out, part{at, c.to})
	}
	return out
}

// insert adds s to taken, kept in order.
func insert(taken []span, s span) []span {
	i, _ := slices.BinarySearchFunc(taken, s.from, func(a span, from int64) int { return cmp.Compare(a.from, from) })
	return slices.Insert(taken, i, s)
}

// align makes level l's spans whole intervals of it: each end is moved
// out to its interval's bound when the time it takes is the coverage of
// l and held by finer tiers only (or by none), else in.
func align(taken []span, l *tierLevel) []span {
	e := int64(l.every)
	for i := range taken {
		s := &taken[i]
		if s.l != l {
			continue
		}
		if lo := floorDiv(s.from, e) * e; lo < s.from {
			if lo >= l.cover.from && finerOnly(taken, lo, s.from, l) {
				cut(taken, lo, s.from)
				s.from = lo
			} else {
				s.from = lo + e
			}
		}
		if hi := ceilDiv(s.to, e) * e; hi > s.to {
			if hi <= l.cover.to && finerOnly(taken, s.to, hi, l) {
				cut(taken, s.to, hi)
				s.to = hi
			} else {
				s.to = hi - e
			}
		}
		s.to = max(s.to, s.from)
	}
	return taken
}

// finerOnly reports whether the spans over [from, to) are all of tiers
// finer than l.
func finerOnly(taken []span, from, to int64, l *tierLevel) bool {
	for _, s := range taken {
		if s.from < to && s.to > from && s.l.every >= l.every {
			return false
		}
	}
	return true
}

// cut takes [from, to) out of the spans over it (of finer tiers); a span
// cut in two keeps its later part, as a span is cut only at its ends.
func cut(taken []span, from, to int64) {
	for i := range taken {
		s := &taken[i]
		if s.from >= to || s.to <= from {
			continue
		}
		if s.from >= from {
			s.from = min(to, s.to)
		} else {
			s.to = from
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// coverage returns the wall times s's records cover, from the oldest
// record's to the newest's end (a summary's interval's end), as the
// first and last segments with a valid header tell; ok is false for a
// ring with no record.
func coverage(s *Source, clocks *Clocks, every time.Duration) (c part, ok bool, err error) {
	r, err := s.Reader()
	if err != nil {
		return part{}, false, err
	}
	var valid []uint64
	for _, seg := range r.Segments() {
		if seg.Err == nil {
			valid = append(valid, seg.Header.Segment)
		}
	}
	if len(valid) > 2 {
		r.Skip(valid[1 : len(valid)-1])
	}
	var rec codec.Record
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		var d *ringlog.Damage
		if errors.As(err, &d) {
			continue
		}
		if err != nil {
			return part{}, false, err
		}
		if Decode(&e, &rec) != nil || every > 0 && !rollup.IsSummary(&rec) {
			// A tier's mark, stamped as the sample after the summaries,
			// would stretch the tier over the newest samples an interval
			// on, and hide them.
			continue
		}
		// A time before 2000 is of a clock not yet set (1970): it has no
		// place on the time line. A time merely untrusted (a clock never
		// synchronised) is taken as it is, as the filter takes it.
		w, _ := clocks.Correct(rec.Boot, rec.Wall, rec.Mono)
		if !inRange(w) {
			continue
		}
		t := w.UnixNano()
		if !ok || t < c.from {
			c.from = t
		}
		if end := t + max(int64(every), 1); !ok || end > c.to {
			c.to = end
		}
		ok = true
	}
	return c, ok, nil
}

// Keep reports whether rec, of stream, is to be shown: it is of a
// stream without tiers, or its interval lies in a part of the time line
// its tier was given, or its wall time is of a clock not yet set (before
// 2000), which has no place on the time line: it is shown as its ring
// has it.
func (t *Tiers) Keep(stream string, rec *codec.Record) bool {
	if t == nil {
		return true
	}
	p := t.plan[stream]
	if p == nil || !inRange(rec.Wall) {
		return true
	}
	from := rec.Wall.UnixNano()
	to := from + max(int64(p.every), 1)
	for _, q := range p.parts {
		if from >= q.from && to <= q.to {
			return true
		}
	}
	return false
}

// Every returns the interval of the summaries of stream's tier: 0 for
// samples.
func (t *Tiers) Every(stream string) time.Duration {
	if t == nil {
		return 0
	}
	if p := t.plan[stream]; p != nil {
		return p.every
	}
	return 0
}

// Sources returns the sources of srcs with records to show: all but the
// tiers given no part of the time line.
func (t *Tiers) Sources(srcs []*Source) []*Source {
	if t == nil {
		return srcs
	}
	var out []*Source
	for _, s := range srcs {
		if p := t.plan[s.Stream]; p == nil || len(p.parts) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// PassOver makes m pass over the segments of each tier before the first
// part it was given (Merger.SinceFor). Call it before m's first Next.
func (t *Tiers) PassOver(m *Merger) {
	if t == nil {
		return
	}
	for _, h := range m.heads {
		if p := t.plan[h.src.Stream]; p != nil && len(p.parts) > 0 {
			m.SinceFor(h.src, time.Unix(0, p.parts[0].from))
		}
	}
}

// Parts says, for people, which tier each part of the time line of
// stream base is read from, in order: "1h 2026-01-01T00:00Z..2026-12-24T13:00Z".
func (t *Tiers) Parts(base string) []string {
	if t == nil {
		return nil
	}
	type named struct {
		part
		name string
	}
	var all []named
	for stream, p := range t.plan {
		if b, _ := ParseTier(stream); b != base {
			continue
		}
		for _, q := range p.parts {
			all = append(all, named{q, TierName(p.every)})
		}
	}
	slices.SortFunc(all, func(a, b named) int { return cmp.Compare(a.from, b.from) })
	out := make([]string, len(all))
	for i, n := range all {
		out[i] = n.name + " " + time.Unix(0, n.from).UTC().Format(time.RFC3339) + ".."
		if n.to != math.MaxInt64 {
			out[i] += time.Unix(0, n.to).UTC().Format(time.RFC3339)
		}
	}
	return out
}
