package agent

import "time"

// A tokenBucket admits rate events a second on average and burst at once:
// the limit of each sender on the sockets (peers.go), of state-change
// events (rules.go) and of kernel messages (kmsg_linux.go). Its zero value
// is empty: a new bucket is full from fill.
type tokenBucket struct {
	tokens float64
	filled time.Time // when tokens were last refilled
}

func (b *tokenBucket) fill(now time.Time, burst float64) { b.tokens, b.filled = burst, now }

// take refills b for the time since the last call and spends one token,
// if it has one.
func (b *tokenBucket) take(now time.Time, rate, burst float64) bool {
	if d := now.Sub(b.filled).Seconds(); d > 0 {
		b.tokens = min(burst, b.tokens+d*rate)
	}
	b.filled = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// A dropTally counts what a limit dropped until it is reported in one
// event (ingest.dropped, kernel.dropped), at most once per
// dropReportEvery: a flood costs the events stream one record per
// interval, with its count and span.
type dropTally struct {
	pending     uint64 // dropped since the last report
	first, last time.Time
	reported    time.Time // the last report
}

const dropReportEvery = time.Minute

func (d *dropTally) add(now time.Time) {
	if d.pending == 0 {
		d.first = now
	}
	d.pending++
	d.last = now
}

// due returns the drops to report now, if a report is due (force: at
// close), and marks them reported.
func (d *dropTally) due(now time.Time, force bool) (n uint64, first, last time.Time, ok bool) {
	if d.pending == 0 || !force && !d.reported.IsZero() && now.Sub(d.reported) < dropReportEvery {
		return 0, first, last, false
	}
	n, first, last = d.pending, d.first, d.last
	d.pending, d.reported = 0, now
	return n, first, last, true
}
