package agent

import (
	"math"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
	"github.com/itiny/itiny/ringlog"
)

// A stream's write budget (StreamConfig.WriteBudget), in bytes a day
// handed to the kernel. Every budgetRounds stats rounds the agent
// projects the bytes the stream handed since the last look to a day. A
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

// budgetRounds is the stats rounds a look spans: ten minutes at the
// default stats_every, long enough to hold several flushes.
const budgetRounds = 10

// budget is a stream's budget state, kept by the stats loop.
type budget struct {
	handed  int64 // HandedBytes at the look's start
	at      int64 // and its monotonic time
	rounds  int
	stretch int64 // the flush interval's multiple: 1 to maxStretch
	over    bool  // told over its budget
}

// checkBudget looks at stream s's writes, with its ring's figures st.
func (a *Agent) checkBudget(s *stream, w *ringlog.Writer, st ringlog.Stats) {
	b, sc := &s.budget, &s.cfg
	if sc.WriteBudget <= 0 || w == nil {
		return
	}
	now := clock.Mono()
	if b.stretch == 0 || st.HandedBytes < b.handed { // the first look, or the ring reopened
		b.handed, b.at, b.rounds = st.HandedBytes, now, 0
		b.stretch = max(b.stretch, 1)
		return
	}
	if b.rounds++; b.rounds < budgetRounds || now <= b.at {
		return
	}
	// A float's projection, clamped: a burst over a short look would
	// overflow an int64.
	perDay := int64(min(float64(st.HandedBytes-b.handed)/(float64(now-b.at)/float64(24*time.Hour)), math.MaxInt64/2))
	b.handed, b.at, b.rounds = st.HandedBytes, now, 0
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

// noteBudget writes stream.write_budget for stream sc: over its budget
// (warning) or back within it (notice).
func (a *Agent) noteBudget(sc *StreamConfig, perDay, stretch int64, level codec.Level) {
	flush := time.Duration(0)
	if sc.Mode == Periodic {
		flush = time.Duration(stretch) * sc.Flush
	}
	a.note(StreamSelf, catalog.StreamWriteBudget.Name, level,
		codec.Field{Key: "stream", Value: codec.String(sc.Name)},
		codec.Field{Key: "over", Value: codec.Bool(level == codec.LevelWarning)},
		codec.Field{Key: "budget_bytes", Value: codec.Int(sc.WriteBudget)},
		codec.Field{Key: "bytes_per_day", Value: codec.Int(perDay)},
		codec.Field{Key: "flush_s", Value: codec.Float(flush.Seconds())})
}
