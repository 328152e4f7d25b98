// Package tiertest writes a data directory of a metrics ring and its
// rollup tiers (metrics.1m, metrics.1h) for the tests of their readers:
// real rings, written as the agent writes its periodic streams, of
// summaries that package rollup makes from simulated samples.
package tiertest

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/rollup"
)

// A Config says what the rings hold, back from End.
type Config struct {
	End       time.Time     // the samples stop here
	Hours     time.Duration // the hour tier's span (a year)
	Minutes   time.Duration // the minute tier's (a week)
	Raw       time.Duration // the samples' (hours)
	HourLag   time.Duration // the newest hours not flushed yet
	MinuteLag time.Duration // the newest minutes not flushed yet
	Reset     time.Time     // the interface's counters start again from 0 here
	Reboot    time.Time     // boot 2 starts here, its monotonic clock from 0
	// Unsynced stamps the raw ring's samples of its first Unsynced with a
	// clock not yet set: 1970 plus the monotonic time (the tiers have
	// them at their true time).
	Unsynced time.Duration
}

// Pace is the samples' interval over the last Minutes (and an hour
// before): coarser before, where only hours are kept.
const (
	Pace     = 20 * time.Second
	SlowPace = 5 * time.Minute
)

// RxRate is the interface's receive rate, in bytes a second: constant, so
// that every rate over it is this, whatever tier shows it.
const RxRate = 1000

// A Summary is what a test checks of one summary written: the load's
// mean, the interface's receive rate, and the samples folded.
type Summary struct {
	Load1    float64
	RxRate   float64 // NaN: absent
	Samples  int64
	LoadSeen bool
}

// Truth is what Write wrote: the summaries of each tier by their
// interval's start (Unix seconds), and the samples in the raw ring.
type Truth struct {
	Hours, Minutes map[int64]*Summary
	Raw            int // samples of each record
	RawFrom        time.Time
	// The marks (catalog.RollupMark) in each tier's ring: as the agent
	// does, one after the summaries a sample made the tier's Roller hand
	// on, stamped as that sample.
	HourMarks, MinuteMarks int
}

// Write writes DATA/metrics, DATA/metrics.1m and DATA/metrics.1h under
// data as c says, and returns what they hold. Records are load, net
// (eth0) and cpu; boot 1 until c.Reboot, then boot 2.
func Write(tb testing.TB, data string, c Config) *Truth {
	tb.Helper()
	start := c.End.Add(-c.Hours)
	mono := int64(time.Hour)
	now := func() (time.Time, int64) { return start, mono } // of segment headers: the simulated clocks
	raw := open(tb, data, catalog.StreamMetrics, now)
	mins := open(tb, data, catalog.StreamMetrics+".1m", now)
	hours := open(tb, data, catalog.StreamMetrics+".1h", now)
	tr := &Truth{Hours: map[int64]*Summary{}, Minutes: map[int64]*Summary{}, RawFrom: c.End.Add(-c.Raw)}
	fast := c.End.Add(-c.Minutes - time.Hour)
	ro1m, ro1h := rollup.New(time.Minute), rollup.New(time.Hour)
	var bootN uint32 = 1
	boot := codec.BootID{1}
	var rx, ticks uint64
	var load float64
	reset := false
	var handed1h, handed1m bool // the sample made the tier hand on summaries
	write := func(w *ringlog.Writer, every, lag time.Duration, from time.Time, into map[int64]*Summary, handed *bool) func(*codec.Record) error {
		return func(r *codec.Record) error {
			if r.Wall.Before(from) || r.Wall.Add(every).After(c.End.Add(-lag)) {
				return nil
			}
			r.BootCount = bootOf(r.Boot)
			note(into, r)
			*handed = true
			_, err := w.Append(r)
			return err
		}
	}
	out1h := write(hours, time.Hour, c.HourLag, start, tr.Hours, &handed1h)
	out1m := write(mins, time.Minute, c.MinuteLag, c.End.Add(-c.Minutes), tr.Minutes, &handed1m)
	// mark writes a tier's mark after the summaries sample r made it hand on.
	var seq uint64 // the samples' numbers, as the raw ring of an agent that kept them all would have them
	mark := func(w *ringlog.Writer, handed *bool, n *int, r *codec.Record, of string) {
		if !*handed {
			return
		}
		*handed = false
		*n++
		m := &codec.Record{Boot: r.Boot, BootCount: r.BootCount, Wall: r.Wall, Mono: r.Mono, Source: catalog.SelfSource, Level: codec.LevelInfo,
			Name: catalog.RollupMark.Name, Fields: codec.Fields{{Key: "upto", Value: codec.Uint(seq - 1)}, {Key: "of", Value: codec.String(of)}}}
		if _, err := w.Append(m); err != nil {
			tb.Fatal(err)
		}
	}
	step := SlowPace
	for t := start; t.Before(c.End); t = t.Add(step) {
		start = t // now's
		if !t.Before(fast) {
			step = Pace
		}
		if !c.Reboot.IsZero() && !t.Before(c.Reboot) && bootN == 1 {
			bootN, boot, mono, rx, ticks = 2, codec.BootID{2}, int64(time.Second), 0, 0
		}
		if !c.Reset.IsZero() && !t.Before(c.Reset) && !reset {
			rx, reset = uint64(RxRate*step/time.Second), true // counted again from 0 right after the sample before
		}
		hour := float64(t.Unix()%86400) / 3600
		load = 1 + math.Sin(hour/24*2*math.Pi) + float64(t.Unix()%7)/10
		for _, r := range records(t, mono, boot, bootN, load, rx, ticks) {
			seq++
			if err := ro1h.Add(r, out1h); err != nil {
				tb.Fatal(err)
			}
			mark(hours, &handed1h, &tr.HourMarks, r, catalog.StreamMetrics+".1m")
			if !t.Before(fast) {
				if err := ro1m.Add(r, out1m); err != nil {
					tb.Fatal(err)
				}
				mark(mins, &handed1m, &tr.MinuteMarks, r, catalog.StreamMetrics)
			}
			if !t.Before(tr.RawFrom) {
				if t.Before(tr.RawFrom.Add(c.Unsynced)) {
					r.Wall = time.Unix(0, r.Mono).UTC()
				}
				if _, err := raw.Append(r); err != nil {
					tb.Fatal(err)
				}
			}
		}
		if !t.Before(tr.RawFrom) {
			tr.Raw++
		}
		mono += int64(step)
		rx += uint64(RxRate * step / time.Second)
		ticks += uint64(100 * step / time.Second)
	}
	for _, w := range []*ringlog.Writer{raw, mins, hours} {
		if err := w.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return tr
}

// bootOf is the boot counter of the simulated boots.
func bootOf(id codec.BootID) uint32 { return uint32(id[0]) }

// records returns a sample of each record at t.
func records(t time.Time, mono int64, boot codec.BootID, n uint32, load float64, rx, ticks uint64) []*codec.Record {
	stamp := func(r *codec.Record) *codec.Record {
		r.Wall, r.Mono, r.Boot, r.BootCount, r.Level = t, mono, boot, n, codec.LevelInfo
		return r
	}
	return []*codec.Record{
		stamp(&codec.Record{Name: "load", Source: "load", Fields: codec.Fields{
			{Key: "load1", Value: codec.Float(load)}, {Key: "load5", Value: codec.Float(1)}, {Key: "load15", Value: codec.Float(1)},
			{Key: "running", Value: codec.Int(1)}, {Key: "tasks", Value: codec.Int(100)}}}),
		stamp(&codec.Record{Name: "net", Source: "netdev", Fields: codec.Fields{
			{Key: "iface", Value: codec.String("eth0")}, {Key: "rx_bytes", Value: codec.Uint(rx)}, {Key: "rx_packets", Value: codec.Uint(rx / 100)},
			{Key: "rx_errs", Value: codec.Uint(0)}, {Key: "rx_drop", Value: codec.Uint(0)},
			{Key: "tx_bytes", Value: codec.Uint(rx / 2)}, {Key: "tx_packets", Value: codec.Uint(rx / 200)},
			{Key: "tx_errs", Value: codec.Uint(0)}, {Key: "tx_drop", Value: codec.Uint(0)}, {Key: "oper", Value: codec.String("up")}}}),
		stamp(&codec.Record{Name: "cpu", Source: "cpu", Fields: codec.Fields{
			{Key: "user", Value: codec.Uint(ticks / 4)}, {Key: "nice", Value: codec.Uint(0)}, {Key: "system", Value: codec.Uint(ticks / 4)},
			{Key: "idle", Value: codec.Uint(ticks / 2)}, {Key: "iowait", Value: codec.Uint(0)}, {Key: "irq", Value: codec.Uint(0)},
			{Key: "softirq", Value: codec.Uint(0)}, {Key: "steal", Value: codec.Uint(0)}, {Key: "ctxt", Value: codec.Uint(ticks)},
			{Key: "intr", Value: codec.Uint(ticks)}, {Key: "procs_running", Value: codec.Int(1)}, {Key: "procs_blocked", Value: codec.Int(0)},
			{Key: "processes", Value: codec.Uint(ticks / 100)}}}),
	}
}

// note keeps what a test checks of summary r.
func note(into map[int64]*Summary, r *codec.Record) {
	k := r.Wall.Unix()
	s := into[k]
	if s == nil {
		s = &Summary{RxRate: math.NaN()}
		into[k] = s
	}
	for _, f := range r.Fields {
		v, _ := f.Value.Number()
		switch {
		case r.Name == "load" && f.Key == "load1":
			s.Load1, s.LoadSeen = v, true
		case r.Name == "load" && f.Key == "samples":
			s.Samples = int64(v)
		case r.Name == "net" && f.Key == "rx_bytes_rate":
			s.RxRate = v
		}
	}
}

// open opens the ring of stream under data as the agent's periodic
// streams are written: msgpack, packed.
// now stamps the segment headers. Segments are small, so that a week of
// minutes takes several and readers can pass over some.
func open(tb testing.TB, data, stream string, now func() (time.Time, int64)) *ringlog.Writer {
	w, err := ringlog.Open(filepath.Join(data, stream), ringlog.Options{Stream: stream, Codec: codec.Msgpack, Budget: 256 << 20,
		SegmentSize: 16 << 10, MemoryStage: true, Pack: true, FlushEvery: time.Hour, StageSize: 8 << 10, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	return w
}
