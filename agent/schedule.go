package agent

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
)

// The collectors' schedule: building them from the configuration, handing
// a reload's collectors the timing of those they replace, and the loop
// that samples them at their intervals.

func (a *Agent) buildCollectors(cfg *Config) error {
	cc := CollectorConfig{Proc: a.opts.Proc, Sys: a.opts.Sys, Dev: a.opts.Dev, Data: cfg.Data, Streams: cfg.Streams, boot: a.boot, async: a, ended: a.ended}
	var cols []*scheduled
	var off []offCollector
	now := time.Now()
	for _, name := range sortedKeys(cfg.Collectors) {
		sec := cfg.Collectors[name]
		if !sec.Enabled {
			continue
		}
		base, _, _ := strings.Cut(name, ".")
		cc.Options = sec.Options
		cc.state = filepath.Join(a.cfg.Data, name+stateSuffix)
		c, err := newCollector(base, cc)
		if err != nil {
			// A collector the device cannot serve (no PSI, no thermal
			// zones) is skipped, not fatal.
			a.log.Printf("collector %s off: %v", name, err)
			off = append(off, offCollector{name, err.Error()})
			continue
		}
		cols = append(cols, &scheduled{name: name, c: c, interval: sec.Interval, next: now})
	}
	a.mu.Lock()
	select {
	case <-a.stop: // closed: Close has taken the collectors already
		a.mu.Unlock()
		closeCollectors(cols)
		return ErrClosed
	default:
	}
	old := a.collectors
	handOver(old, cols)
	a.collectors, a.off = cols, off
	a.mu.Unlock()
	closeCollectors(old)
	return nil
}

// handOver gives each collector of a reload the schedule and the failing
// spell of the one of its name it replaces, and what a collector takes
// over (the process collector: the processes it follows): the first
// sample of the new one is due an interval, the new one, after the last
// of the old, on the same grid. Were it due at once, a reload would write a sample of every
// collector off the phase and close after the last: two samples of one
// collector a moment apart. A collector the reload enables samples at
// the next round. Under a.mu.
func handOver(old, cols []*scheduled) {
	for _, s := range cols {
		for _, o := range old {
			if o.name != s.name {
				continue
			}
			s.next, s.sampled = o.next, o.sampled
			if o.sampled {
				s.next = o.next.Add(s.interval - o.interval)
			}
			s.errs, s.failing, s.failedAt, s.failures, s.oks = o.errs, o.failing, o.failedAt, o.failures, o.oks
			if t, ok := s.c.(interface{ takeOver(Collector) }); ok {
				t.takeOver(o.c)
			}
		}
	}
}

func closeCollectors(cols []*scheduled) {
	for _, s := range cols {
		if c, ok := s.c.(io.Closer); ok {
			c.Close()
		}
	}
}

// Run samples the collectors at their intervals, writes the agent's own
// figures and watches the clock, until ctx ends or Close is called.
func (a *Agent) Run(ctx context.Context) error {
	if !a.running.CompareAndSwap(false, true) {
		return errors.New("agent: Run called twice")
	}
	defer close(a.done)
	select {
	case <-a.stop:
		return nil // closed before it ran
	default:
	}
	// stop is closed, and the sleeper woken, when Run must return, and
	// when it has.
	stop, exited := make(chan struct{}), make(chan struct{})
	defer close(exited)
	sl := newSleeper(stop)
	go func() {
		select {
		case <-ctx.Done():
		case <-a.stop:
		case <-exited:
		}
		close(stop)
		sl.wake()
	}()
	next := time.Now()
	nextStats := next.Add(a.live.Load().StatsEvery)
	nextHouse := next.Add(a.opts.HousekeepingEvery)
	nextRetry := next.Add(a.retryEvery())
	for {
		if !sl.sleep(next) {
			return nil
		}
		now := time.Now()
		a.checkClock(now)
		a.mu.Lock()
		a.sample = sampleEmitter{a: a, wall: now, mono: clock.Mono()}
		next = now.Add(time.Hour)
		for _, s := range a.collectors {
			if !now.Before(s.next) {
				a.update(s)
				s.sampled = true
				// Keep the grid: a slow sample does not shift later ones.
				for !now.Before(s.next) {
					s.next = s.next.Add(s.interval)
				}
			}
			next = minTime(next, s.next)
		}
		if !now.Before(nextStats) {
			a.writeStats()
			nextStats = now.Add(a.live.Load().StatsEvery)
		}
		next = minTime(next, nextStats)
		a.mu.Unlock()
		if a.degraded() {
			if !now.Before(nextRetry) {
				if err := a.retryStorage(); err != nil {
					return err
				}
				nextRetry = now.Add(a.retryEvery())
			}
			next = minTime(next, nextRetry)
		}
		if a.opts.Housekeeping != nil && a.opts.HousekeepingEvery > 0 {
			if !now.Before(nextHouse) {
				a.opts.Housekeeping(now)
				nextHouse = now.Add(a.opts.HousekeepingEvery)
			}
			next = minTime(next, nextHouse)
		}
	}
}

// update takes one sample of s, in the round of a.sample, and says when
// s starts failing and when it recovers: once each, not once a failure.
func (a *Agent) update(s *scheduled) {
	err := s.c.Update(&a.sample)
	if err != nil && errors.Is(err, ErrUnavailable) {
		s.errs++
		return // the stream's, not the collector's: said once (storage.go)
	}
	if err == nil {
		if s.failing {
			if s.oks++; s.oks == catalog.RecoverAfter {
				s.failing = false
				f := a.selfFields()
				addString(f, "collector", s.name)
				addUint(f, "failures", s.failures)
				addFloat(f, "failing_s", float64(a.sample.mono-s.failedAt)/1e9)
				a.noteFields(StreamEvents, catalog.CollectorRecovered.Name, codec.LevelNotice)
			}
		}
		return
	}
	s.errs++
	if s.errs == 1 || s.errs%100 == 0 {
		a.log.Printf("collector %s: %v (%d errors)", s.name, err, s.errs)
	}
	s.oks = 0
	if s.failing {
		s.failures++
		return
	}
	s.failing, s.failedAt, s.failures = true, a.sample.mono, 1
	f := a.selfFields()
	addString(f, "collector", s.name)
	addString(f, "error", err.Error())
	a.noteFields(StreamEvents, catalog.CollectorFailing.Name, codec.LevelWarning)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
