package view

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// Wall times repaired: a device without a real-time clock boots in 1970
// and steps to the right time when its clock is first synchronised. Its
// records carry their boot and both clocks, and the agent records that
// first synchronisation (catalog.ClockSync), so the wall time of a record
// taken before it is its monotonic time plus the boot's wall-minus-mono
// offset then (docs/DESIGN.md section 13).

// A TimeMark says how a record's wall time, as the view shows it, came
// to be.
type TimeMark uint8

const (
	// TimeAsIs: the record's own, and the rings do not say more: they
	// hold no clock.sync record at all (an older agent wrote them).
	TimeAsIs TimeMark = iota
	// TimeSynced: the record's own, taken at or after its boot's first
	// synchronised clock.sync, or before it but within clockSlack of the
	// repaired time (the clock was right already: the agent started after
	// the sync, or the device has a real-time clock).
	TimeSynced
	// TimeCorrected: taken before it, further off: the wall time shown
	// is repaired, the record's own is Item.Raw.
	TimeCorrected
	// TimeUnsynced: the record's own, untrusted: its boot's clock.sync
	// records, from the one the agent wrote at its start at the device's
	// boot, never say synchronised; or its repaired time would be out of
	// any device's range (a corrupt clock.sync).
	TimeUnsynced
	// TimeUnknown: the record's own, untrusted: the rings hold clock.sync
	// records, but none of its boot that says synchronised, nor the one
	// the agent wrote at the device's boot: retention took them, or the
	// itiny ring was closed, so the rings do not tell whether the clock
	// was right.
	TimeUnknown
)

var timeMarks = [...]string{"", "synced", "corrected", "unsynced", "unknown"}

// String names the mark as JSON output does: "synced", "corrected",
// "unsynced", "unknown"; "" for TimeAsIs.
func (t TimeMark) String() string { return timeMarks[t] }

// Sign is the character the text view writes after a time so marked:
// ' ' synced, '~' corrected, '?' unsynchronised or not known; 0 for
// TimeAsIs, which has none (output of rings without clock.sync records
// is as before).
func (t TimeMark) Sign() byte {
	switch t {
	case TimeSynced:
		return ' '
	case TimeCorrected:
		return '~'
	case TimeUnsynced, TimeUnknown:
		return '?'
	}
	return 0
}

// Untrusted reports whether a time so marked is the device's clock with
// nothing to say it was right: a span between two times of different
// boots is not known when either is.
func (t TimeMark) Untrusted() bool { return t == TimeUnsynced || t == TimeUnknown }

// A SyncPoint is what the rings say of one boot's clock: whether it was
// ever synchronised and, if so, the wall and monotonic times of its first
// synchronised clock.sync.
type SyncPoint struct {
	Known     bool // a clock.sync of the boot is in the rings
	Synced    bool // one says synchronised, with times in range
	started   bool // the agent's start at the device's boot is in the rings
	restarted bool // and a start of the agent in the boot after it
	Wall      time.Time
	Mono      int64
	// Slept is the time the device was suspended from its boot to the
	// sync point (slept_s), which the monotonic clock does not count:
	// repaired times of records before a suspend are late by up to it.
	Slept time.Duration
	// The monotonic times of the boot's earliest clock.sync, of its
	// agent.start at the device's boot, and of its earliest other one.
	first, start, restart int64
}

// fromBoot reports whether the rings tell the boot's clock from its
// start: its earliest clock.sync is the one the agent wrote at its
// start at the device's boot, not a later one (a flap after a sync
// retention took, or the start of an agent restarted within the boot,
// an upgrade from an agent that wrote none).
func (p *SyncPoint) fromBoot() bool {
	return p.Known && p.started && p.start <= p.first && !(p.restarted && p.restart <= p.first)
}

// Offset is what a monotonic time of the boot is corrected by: the wall
// clock minus the monotonic clock at the sync point.
func (p SyncPoint) Offset() time.Duration { return time.Duration(p.Wall.UnixNano() - p.Mono) }

// Clocks holds the sync point of each boot the rings tell of. A nil
// *Clocks corrects nothing.
type Clocks struct {
	boots map[codec.BootID]SyncPoint
	any   bool // a clock.sync was learnt, of any boot
}

// MaxClockBoots bounds the boots a Clocks holds, 88 bytes each (a SyncPoint and its key): records
// of boots past it are shown as not known (TimeUnknown). The agent's
// itiny ring (1 MiB) holds a few thousand.
const MaxClockBoots = 1 << 16

// LearnClocks reads the clock.sync and agent.start records of srcs, from
// the rings of their stream (catalog.ClockSync.Stream): a pass over
// those alone, which a reader makes before printing any record, since a
// boot's sync point comes after the records it corrects. Other records
// are passed over by their bytes, undecoded.
func LearnClocks(srcs []*Source) (*Clocks, error) {
	c := &Clocks{boots: map[codec.BootID]SyncPoint{}}
	var s slot
	for _, src := range srcs {
		if src.Stream != catalog.ClockSync.Stream {
			continue
		}
		r, err := src.Reader()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Where, err)
		}
		for {
			e, err := r.Next()
			var d *ringlog.Damage
			if err == io.EOF {
				break
			} else if errors.As(err, &d) {
				continue // the merge reports it
			} else if err != nil {
				return nil, fmt.Errorf("%s: %w", src.Where, err)
			}
			if (bytes.Contains(e.Payload, clockSyncName) || bytes.Contains(e.Payload, agentStartName)) && s.decode(&e) == nil {
				c.Learn(&s.rec)
			}
		}
	}
	return c, nil
}

var clockSyncName, agentStartName = []byte(catalog.ClockSync.Name), []byte(catalog.AgentStart.Name)

// newRepairedMerger reads srcs from their start, with the clocks they
// tell of.
func newRepairedMerger(srcs []*Source) (*Merger, error) {
	c, err := LearnClocks(srcs)
	if err != nil {
		return nil, err
	}
	m, err := NewMerger(srcs, time.Time{})
	if m != nil {
		m.Clocks = c
	}
	return m, err
}

// Learn notes r if it is a clock.sync record or an agent.start: a reader
// following the rings learns of a sync as it is written.
func (c *Clocks) Learn(r *codec.Record) {
	if c == nil || r.Source != catalog.SelfSource {
		return
	}
	start := r.Name == catalog.AgentStart.Name
	if !start && r.Name != catalog.ClockSync.Name {
		return
	}
	p, ok := c.boots[r.Boot]
	if !ok && len(c.boots) >= MaxClockBoots {
		return
	}
	switch {
	case start && boolField(r, keyDeviceBoot):
		if !p.started || r.Mono < p.start {
			p.started, p.start = true, r.Mono
		}
	case start:
		if !p.restarted || r.Mono < p.restart {
			p.restarted, p.restart = true, r.Mono
		}
	default:
		if !p.Known || r.Mono < p.first {
			p.first = r.Mono
		}
		c.any, p.Known = true, true
		// A sync point must be of a running boot and a time some device
		// may have: a corrupt one would put records anywhere.
		if boolField(r, keySynced) && r.Mono > 0 && inRange(r.Wall) && (!p.Synced || r.Mono < p.Mono) {
			p.Synced, p.Wall, p.Mono = true, r.Wall, r.Mono
			p.Slept = 0
			if v, ok := field(r, keySlept); ok && v.Kind() == codec.KindFloat && v.Float() > 0 && v.Float() < maxSlept {
				p.Slept = time.Duration(v.Float() * 1e9)
			}
		}
	}
	c.boots[r.Boot] = p
}

// maxSlept bounds slept_s, seconds: a century.
const maxSlept = 100 * 365 * 86400

// The times a repaired wall may be: from 2000, before which no device
// that records clock.sync was synchronised, to the end of year 9999,
// the last RFC 3339 writes.
var (
	minWall = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxWall = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

func inRange(t time.Time) bool { return !t.Before(minWall) && !t.After(maxWall) }

// Point returns what the rings say of the clock of the boot of that id.
func (c *Clocks) Point(boot codec.BootID) SyncPoint {
	if c == nil {
		return SyncPoint{}
	}
	return c.boots[boot]
}

// Correct returns the wall time to show of a record of that boot, stamped
// wall and mono, and how it came to be.
func (c *Clocks) Correct(boot codec.BootID, wall time.Time, mono int64) (time.Time, TimeMark) {
	if c == nil || !c.any {
		return wall, TimeAsIs
	}
	p := c.boots[boot]
	switch {
	case p.Synced && mono >= p.Mono:
		return wall, TimeSynced
	case p.Synced:
		d := mono - p.Mono // < 0, unless it overflowed
		w := p.Wall.Add(time.Duration(d))
		if d > 0 || !inRange(w) {
			return wall, TimeUnsynced
		}
		if d := w.Sub(wall); d <= clockSlack && d >= -clockSlack {
			return wall, TimeSynced
		}
		return w, TimeCorrected
	case p.fromBoot():
		return wall, TimeUnsynced
	}
	return wall, TimeUnknown
}

// clockSlack is how far the wall clock may move from the monotonic one
// and still be trusted: between two segments (steady), and before a sync.
const clockSlack = time.Second

// headerWall is a segment header's creation time, corrected as a record
// of that time would be.
func (c *Clocks) headerWall(h *ringlog.Header) time.Time {
	w, _ := c.Correct(h.Boot, h.Wall, h.Mono)
	return w
}

// correct corrects r's wall time in place, and returns how it came to be
// and r's own when it changed.
func (c *Clocks) correct(r *codec.Record) (TimeMark, time.Time) {
	if c == nil {
		return TimeAsIs, time.Time{}
	}
	c.Learn(r)
	wall, mark := c.Correct(r.Boot, r.Wall, r.Mono)
	if mark != TimeCorrected {
		return mark, time.Time{}
	}
	raw := r.Wall
	r.Wall = wall
	return mark, raw
}

var (
	keySynced = catalog.ClockSync.Key("synced")
	keySlept  = catalog.ClockSync.Key("slept_s")
)
