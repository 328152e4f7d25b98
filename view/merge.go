package view

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// A Kind says what an Item is.
type Kind uint8

const (
	KindRecord    Kind = iota
	KindBoot           // the records that follow are of another boot
	KindGap            // numbers missing in a stream
	KindDamage         // bytes skipped in a segment
	KindBadRecord      // a frame that verifies but does not decode
)

// An Item is one thing the view shows. Rec and Entry are valid until the
// next call to Next.
type Item struct {
	Kind   Kind
	Source *Source
	Entry  ringlog.Entry
	Rec    *codec.Record // KindRecord
	Boot   Boot          // KindBoot: the boot that begins; KindGap: the boot of the stream's record before the gap
	Gap    Gap           // KindGap
	Damage *ringlog.Damage
	Err    error // KindBadRecord
	// With Merger.Clocks, Time says how Rec.Wall came to be: repaired
	// (TimeCorrected: Raw is the record's own), trusted, or not; for
	// KindBoot, that of the boot's first record, and Sync what the rings
	// say of the boot's clock.
	Time TimeMark
	Raw  time.Time
	Sync SyncPoint
}

// A Boot is one boot of the device, as its records tell.
type Boot struct {
	N  uint32 // the agent's boot counter
	ID codec.BootID
}

// A Merger reads several rings as one sequence, ordered by boot counter,
// then monotonic time, then stream and sequence number. Each ring is read
// in its own order; the merge puts the heads of the rings in order.
type Merger struct {
	heads    []*head
	lean     bool    // more rings than feeders: direct heads keep no record decoded
	scratch  slot    // lean: where a direct head's record is decoded
	ready    heads   // heads holding their next record (ok), the earliest first
	todo     []*head // heads to advance before the next pick, in order
	todoAt   int     // todo[:todoAt] are advanced
	idle     []*head // following: heads at their ring's end for now
	lastBoot Boot
	anyBoot  bool
	pending  []Item // to return before the next record
	// Follow makes Next return io.EOF when every ring is read for now,
	// and read again on the next call; without it a ring that ended is
	// not read again. Set it before the first call to Next.
	Follow bool
	// Clocks, if set, repairs the wall times of records taken before
	// their boot's clock was first synchronised (LearnClocks), in the
	// records themselves, and the window's segments are passed over by
	// repaired times. Set it before the first call to Next.
	Clocks       *Clocks
	since, until time.Time // the window, for passing over segments
	started      bool
}

type head struct {
	src     *Source
	r       *ringlog.Reader
	feed    *feeder // reads ahead, unless following
	cur     *batch  // from feed: the records being merged
	i       int     // next in cur
	e       ringlog.Entry
	rec     *codec.Record // e decoded; nil when lean and only key is kept
	key     key           // of rec, for the merge's order
	own     slot          // rec without a feeder
	ok      bool          // e and key hold the next record
	done    bool
	n       numbering             // the numbers read
	segs    []ringlog.SegmentInfo // the reader's segments when its feeder started
	boot    Boot                  // of the last record that decoded
	skipped map[uint64]bool       // segments passed over by their headers
	since   time.Time             // SinceFor's, if later than the merge's
}

// NewMerger opens a reader of each source. With since set, it skips the
// segments that end before since by their headers' wall times, as far as
// the clock was steady between them.
func NewMerger(srcs []*Source, since time.Time) (*Merger, error) {
	m := &Merger{since: since}
	for _, s := range srcs {
		r, err := s.Reader()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Where, err)
		}
		m.heads = append(m.heads, &head{src: s, r: r})
	}
	return m, nil
}

// sinceSkips lists the segments whose records are all older than
// since: those followed by a segment created before since. The wall clock
// is trusted only between two segments of one boot whose wall and
// monotonic times moved alike, so a segment followed by a boot change or
// a clock step is read; the ones before and after it may still be
// skipped, each on its own. Header times are repaired by c.
func sinceSkips(segs []ringlog.SegmentInfo, since time.Time, c *Clocks) []uint64 {
	var skip []uint64
	for i := 0; i+1 < len(segs); i++ {
		if a, b := segs[i], segs[i+1]; steady(a, b, c) && c.headerWall(&b.Header).Before(since) {
			skip = append(skip, a.Header.Segment)
		}
	}
	return skip
}

// untilSkips lists the segments created at or after until whose records
// are all that late by the next segment's header (one boot, wall and
// monotonic times moving alike between them); the newest segment is
// always read. Header times are repaired by c.
func untilSkips(segs []ringlog.SegmentInfo, until time.Time, c *Clocks) []uint64 {
	var skip []uint64
	for i := 1; i+1 < len(segs); i++ {
		if a := segs[i]; steady(a, segs[i+1], c) && !c.headerWall(&a.Header).Before(until) {
			skip = append(skip, a.Header.Segment)
		}
	}
	return skip
}

// skip makes h's reader pass over segments, and h remember them.
func (h *head) skip(segs []uint64) {
	if h.skipped == nil {
		h.skipped = map[uint64]bool{}
	}
	for _, n := range segs {
		h.skipped[n] = true
	}
	h.r.Skip(segs)
}

// Until makes the merge pass over each segment created at or after t
// whose records are all that late (untilSkips). Call it before the first
// Next; records after t still come from the segments read, so a Filter
// must still apply the window.
func (m *Merger) Until(t time.Time) { m.until = t }

// SinceFor makes the merge pass over src's segments whose records are
// all before t (sinceSkips), as NewMerger's since does for every source:
// for a tier read only from t on (Tiers.From). Call it before the first
// Next.
func (m *Merger) SinceFor(src *Source, t time.Time) {
	for _, h := range m.heads {
		if h.src == src {
			h.since = t
		}
	}
}

// skipWindow passes over the segments out of the window, by their
// headers' times as Clocks repairs them.
func (m *Merger) skipWindow() {
	for _, h := range m.heads {
		if since := m.since; !since.IsZero() || !h.since.IsZero() {
			if h.since.After(since) {
				since = h.since
			}
			h.skip(sinceSkips(h.r.Segments(), since, m.Clocks))
		}
		if !m.until.IsZero() {
			h.skip(untilSkips(h.r.Segments(), m.until, m.Clocks))
		}
	}
}

// steady reports whether two consecutive segments are of one boot and
// their wall and monotonic times, as c repairs them, moved alike, so
// that the wall clock can be trusted between them.
func steady(a, b ringlog.SegmentInfo, c *Clocks) bool {
	if a.Err != nil || b.Err != nil || a.Header.Boot != b.Header.Boot {
		return false
	}
	dw := c.headerWall(&b.Header).Sub(c.headerWall(&a.Header))
	dm := time.Duration(b.Header.Mono - a.Header.Mono)
	return dw-dm <= clockSlack && dm-dw <= clockSlack
}

// Next returns the next item, or io.EOF at the end (for now, if Follow).
func (m *Merger) Next() (Item, error) {
	if len(m.pending) > 0 {
		it := m.pending[0]
		m.pending = m.pending[1:]
		return it, nil
	}
	if !m.started {
		m.started = true
		m.skipWindow()
		for i, h := range m.heads {
			if !m.Follow && i < maxFeeders {
				h.segs = h.r.Segments() // the feeder's goroutine reads on
				h.feed = startFeeder(h.r)
			}
		}
		m.todo = append(m.todo, m.heads...)
		m.lean = len(m.heads) > maxFeeders
	}
	if m.Follow {
		// A ring read to its end may have grown since: look again, before
		// each record, so that its new records take their place.
		m.todo = append(m.todo, m.idle...)
		m.idle = m.idle[:0]
	}
	// Only the heads whose record was taken, and those following a ring's
	// end, are advanced; the others wait in order in a heap, so that a
	// record costs O(log rings), not O(rings) (BenchmarkManyRings).
	for m.todoAt < len(m.todo) {
		h := m.todo[m.todoAt]
		if it, ok, err := m.advance(h); err != nil || ok {
			return it, err // h is advanced again on the next call
		}
		m.todoAt++
		switch {
		case h.ok:
			heap.Push(&m.ready, h)
		case m.Follow:
			m.idle = append(m.idle, h)
		}
	}
	m.todo, m.todoAt = m.todo[:0], 0
	if len(m.ready) == 0 {
		return Item{}, io.EOF
	}
	best := heap.Pop(&m.ready).(*head)
	m.todo = append(m.todo, best)
	best.ok = false
	if best.rec == nil {
		// Lean: decoded before, for its key, and let go; it decodes
		// again, as the reader has not read on.
		if err := m.scratch.decode(&best.e); err != nil {
			return m.undecoded(best, best.e, err), nil
		}
		best.rec = &m.scratch.rec
	}
	var items []Item
	mark, raw := m.Clocks.correct(best.rec)
	b := Boot{N: best.key.n, ID: best.key.id}
	if !m.anyBoot || b != m.lastBoot {
		m.lastBoot, m.anyBoot = b, true
		items = append(items, Item{Kind: KindBoot, Source: best.src, Boot: b, Time: mark, Sync: m.Clocks.Point(b.ID)})
	}
	if best.boot == (Boot{}) {
		best.boot = b // gaps before the stream's first record that decoded: its boot's
	}
	items = best.read(items, &best.e, best.rec)
	best.boot = b
	return m.emit(items, Item{Kind: KindRecord, Source: best.src, Entry: best.e, Rec: best.rec, Time: mark, Raw: raw}), nil
}

// emit returns the first of items and it, and keeps the rest to return
// next.
func (m *Merger) emit(items []Item, it Item) Item {
	if len(items) == 0 {
		return it
	}
	m.pending = append(append(m.pending, items[1:]...), it)
	return items[0]
}

// read notes h's record e as read, and appends to items the gaps before
// it; rec is nil when it does not decode. Numbers below the first record
// that retention deleted are left unsaid, as every ring that rotated has
// them; where the merge passed over segments, nothing is said.
func (h *head) read(items []Item, e *ringlog.Entry, rec *codec.Record) []Item {
	if h.n.missing(e.Seq) && !h.passedOver(e) {
		_, gaps := h.n.gaps(h.segments(), rec, e.Seq, e.Segment)
		for _, g := range gaps {
			items = append(items, Item{Kind: KindGap, Source: h.src, Gap: g, Boot: h.boot})
		}
	}
	h.n.read(e.Seq)
	return items
}

// segments returns h's segments as its reader knows them: as when the
// feeder started, since the feeder's goroutine owns the reader after.
func (h *head) segments() []ringlog.SegmentInfo {
	if h.feed != nil {
		return h.segs
	}
	return h.r.Segments()
}

// passedOver reports whether the numbers missing before h's record e are
// where the merge chose not to read: below the first record when it
// skipped segments, or at the start of a segment that follows a skipped
// one. They are not a gap.
func (h *head) passedOver(e *ringlog.Entry) bool {
	if len(h.skipped) == 0 {
		return false
	}
	if !h.n.any {
		return true
	}
	for _, s := range h.segments() {
		if s.Path == e.Segment {
			return s.Err == nil && s.Header.First == e.Seq && h.skipped[s.Header.Segment-1]
		}
	}
	return false
}

// advance reads h's next record into its head. Damage and undecodable
// records are returned at once, as items (ok set); an undecodable record
// after the gaps before it.
func (m *Merger) advance(h *head) (Item, bool, error) {
	if h.feed != nil {
		return m.advanceFed(h)
	}
	e, err := h.r.Next()
	if err != nil {
		return m.readError(h, err)
	}
	if err := h.own.decode(&e); err != nil {
		return m.undecoded(h, e, err), true, nil
	}
	h.e, h.rec, h.ok, h.done = e, &h.own.rec, true, false
	h.key = keyOf(h.rec)
	if m.lean {
		// Thousands of rings: each keeps its record's key only, so that
		// what they hold is bounded whatever their records are.
		h.own, h.rec = slot{}, nil
	}
	return Item{}, false, nil
}

// advanceFed takes h's next record from its feeder's batches.
func (m *Merger) advanceFed(h *head) (Item, bool, error) {
	for h.cur == nil || h.i == h.cur.n {
		if h.cur != nil {
			if end := h.cur.end; end != nil {
				h.cur = nil
				return m.readError(h, end)
			}
			h.feed.free <- h.cur
		}
		h.cur, h.i = <-h.feed.full, 0
	}
	fe := &h.cur.ents[h.i]
	h.i++
	if fe.err != nil {
		if fe.e.Payload == nil {
			return m.readError(h, fe.err)
		}
		return m.undecoded(h, fe.e, fe.err), true, nil
	}
	h.e, h.rec, h.ok, h.done = fe.e, &fe.rec.rec, true, false
	h.key = keyOf(h.rec)
	return Item{}, false, nil
}

// undecoded returns the item of h's record e, which does not decode, or
// the first gap before it. It is read all the same: it was stored, and is
// shown as such, so no gap covers its number.
func (m *Merger) undecoded(h *head, e ringlog.Entry, err error) Item {
	items := h.read(nil, &e, nil)
	return m.emit(items, Item{Kind: KindBadRecord, Source: h.src, Entry: e, Err: err})
}

// Close stops the readers reading ahead.
func (m *Merger) Close() {
	for _, h := range m.heads {
		if h.feed != nil {
			h.feed.close()
			h.feed = nil
		}
	}
}

// readError turns a reader's error into an item (damage), the end, or an
// error. Apart from advance, so that its errors.As target escapes only
// when there is an error.
func (m *Merger) readError(h *head, err error) (Item, bool, error) {
	var d *ringlog.Damage
	switch {
	case err == io.EOF:
		h.done = true
		return Item{}, false, nil
	case errors.As(err, &d):
		h.n.gs.see(d)
		if errors.Is(d, ringlog.ErrRetired) {
			return m.advance(h) // shown by the gap it leaves
		}
		return Item{Kind: KindDamage, Source: h.src, Damage: d}, true, nil
	}
	return Item{}, false, fmt.Errorf("%s: %w", h.src.Where, err)
}

// maxFeeders bounds the rings read ahead, each in its own goroutine with
// batches of records (8 MB at most, feeder): a data directory has a few
// rings, all read ahead; of a bundle of thousands the rest are read
// directly, and then only the key of each one's next record is held
// (lean; docs/DESIGN.md section 24).
const maxFeeders = 4

// heads is a heap of heads, the earliest record first (container/heap).
type heads []*head

func (q heads) Len() int           { return len(q) }
func (q heads) Less(i, j int) bool { return before(q[i], q[j]) }
func (q heads) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *heads) Push(x any)        { *q = append(*q, x.(*head)) }
func (q *heads) Pop() any {
	old := *q
	h := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return h
}

// A key is what the merge orders a record by, and the boot it is in.
type key struct {
	n    uint32 // boot counter
	id   codec.BootID
	mono int64
}

func keyOf(r *codec.Record) key { return key{r.BootCount, r.Boot, r.Mono} }

// before orders two heads: boot counter, monotonic time, stream, seq.
func before(a, b *head) bool {
	ka, kb := &a.key, &b.key
	switch {
	case ka.n != kb.n:
		return ka.n < kb.n
	case ka.mono != kb.mono:
		return ka.mono < kb.mono
	case a.src.Stream != b.src.Stream:
		return a.src.Stream < b.src.Stream
	}
	return a.e.Seq < b.e.Seq
}
