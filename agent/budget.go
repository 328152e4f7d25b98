package agent

import (
	"math"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// A stream's write budget (StreamConfig.WriteBudget), in bytes a day the
// device writes for it, as estimated: the bytes handed to the kernel,
// and writeCost for each write to a segment. Every budgetRounds stats
// rounds the agent projects the estimate since the last look to a day. A
// periodic stream over its budget doubles its flush interval, up to
// maxStretch times its configured one: fewer, larger blocks pack better
// and cost the flash fewer pages. One far under it (a third) halves the
// stretch back. A stream that is over and cannot stretch further (a
// continuous one, or a periodic one at its stretch's end: a flood) is
// told once, as stream.write_budget at warning, and once again at notice
// when it is back within.

// maxStretch bounds the flush interval at this many times the stream's
// flush: the records it holds in memory, which a crash loses.
const maxStretch = 16

// writeCost is what a write to a segment costs the device beside its
// bytes: the file system's metadata (the inode's size and times, the
// block allocation at writeback), in journal commits and checkpoints.
// Measured on ext4 at its defaults: about 38 KB a flush of a periodic
// stream, of 44 KB in all with 5.6 KB of records (docs/BENCHMARKS.md
// section 14). Counting handed bytes alone, stretching the interval
// would seem to save nothing, as the records are the same.
const writeCost = 36 << 10

// budgetRounds is the stats rounds a look spans at least, by the
// monotonic clock: ten minutes at the default stats_every; and at least
// three flush intervals, as stretched.
const budgetRounds = 10

// budget is a stream's budget state, kept by the stats loop.
type budget struct {
	cost    int64 // the estimate at the look's start
	at      int64 // and its monotonic time
	stretch int64 // the flush interval's multiple: 1 to maxStretch
	over    bool  // told over its budget
}

// checkBudget looks at stream s's writes, with its ring's figures st,
// at monotonic time now, when a look's span has passed since the last.
func (a *Agent) checkBudget(s *stream, w *ringlog.Writer, st ringlog.Stats, now int64) {
	b, sc := &s.budget, &s.cfg
	if sc.WriteBudget <= 0 || w == nil {
		return
	}
	cost := st.HandedBytes + st.SegWrites*writeCost
	if b.stretch == 0 || cost < b.cost { // the first look, or the ring reopened
		b.cost, b.at = cost, now
		b.stretch = max(b.stretch, 1)
		return
	}
	// A look spans several flushes: one that held none would read as
	// far under the budget and shrink the stretch back at once.
	if span := max(budgetRounds*int64(a.live.Load().StatsEvery), 3*int64(s.flushEvery())); now-b.at < span {
		return
	}
	// A float's projection, clamped: a burst over a short look would
	// overflow an int64.
	perDay := int64(min(float64(cost-b.cost)/(float64(now-b.at)/float64(24*time.Hour)), math.MaxInt64/2))
	b.cost, b.at = cost, now
	periodic := sc.Mode == Periodic
	switch {
	case perDay > sc.WriteBudget && periodic && b.stretch < maxStretch:
		b.stretch *= 2
		w.SetFlushEvery(time.Duration(b.stretch) * sc.Flush)
	case perDay > sc.WriteBudget && !b.over:
		b.over = true
		a.noteBudget(sc, perDay, b.stretch, codec.LevelWarning)
	case perDay <= sc.WriteBudget && b.over:
		b.over = false
		a.noteBudget(sc, perDay, b.stretch, codec.LevelNotice)
	case perDay < sc.WriteBudget/3 && periodic && b.stretch > 1:
		b.stretch /= 2
		w.SetFlushEvery(time.Duration(b.stretch) * sc.Flush)
	}
}

// flushEvery is how soon the stream's records reach its ring now: its
// flush interval as stretched for a periodic stream, 0 for a continuous
// one.
func (s *stream) flushEvery() time.Duration {
	if s.cfg.Mode != Periodic {
		return 0
	}
	return time.Duration(max(s.budget.stretch, 1)) * s.cfg.Flush
}

// noteBudget writes stream.write_budget for stream sc: over its budget
// (warning) or back within it (notice).
func (a *Agent) noteBudget(sc *StreamConfig, perDay, stretch int64, level codec.Level) {
	flush := time.Duration(0)
	if sc.Mode == Periodic {
		flush = time.Duration(stretch) * sc.Flush
	}
	f := a.selfFields()
	addString(f, "stream", sc.Name)
	addBool(f, "over", level == codec.LevelWarning)
	addInt(f, "budget_bytes", sc.WriteBudget)
	addInt(f, "bytes_per_day", perDay)
	addFloat(f, "flush_s", flush.Seconds())
	a.noteFields(StreamSelf, catalog.StreamWriteBudget.Name, level)
}
