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
	// TimeAsIs: the record's own, and the rings do not say more: no
	// clock.sync of its boot (an older agent, or retention took them).
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
	// records never say synchronised.
	TimeUnsynced
)

var timeMarks = [...]string{"", "synced", "corrected", "unsynced"}

// String names the mark as JSON output does: "synced", "corrected",
// "unsynced"; "" for TimeAsIs.
func (t TimeMark) String() string { return timeMarks[t] }

// Sign is the character the text view writes after a time so marked:
// ' ' synced, '~' corrected, '?' unsynchronised; 0 for TimeAsIs, which
// has none (output of rings without clock.sync records is as before).
func (t TimeMark) Sign() byte {
	switch t {
	case TimeSynced:
		return ' '
	case TimeCorrected:
		return '~'
	case TimeUnsynced:
		return '?'
	}
	return 0
}

// A SyncPoint is what the rings say of one boot's clock: whether it was
// ever synchronised and, if so, the wall and monotonic times of its first
// synchronised clock.sync.
type SyncPoint struct {
	Known  bool // a clock.sync of the boot is in the rings
	Synced bool // one says synchronised
	Wall   time.Time
	Mono   int64
}

// Offset is what a monotonic time of the boot is corrected by: the wall
// clock minus the monotonic clock at the sync point.
func (p SyncPoint) Offset() time.Duration { return time.Duration(p.Wall.UnixNano() - p.Mono) }

// Clocks holds the sync point of each boot the rings tell of. A nil
// *Clocks corrects nothing.
type Clocks struct {
	boots map[codec.BootID]SyncPoint
}

// MaxClockBoots bounds the boots a Clocks holds, 48 bytes each: records
// of boots past it are shown as they are (TimeAsIs). The agent's itiny
// ring (1 MiB) holds a few thousand.
const MaxClockBoots = 1 << 16

// LearnClocks reads the clock.sync records of srcs, from the rings of
// their stream (catalog.ClockSync.Stream): a pass over those alone,
// which a reader makes before printing any record, since a boot's sync
// point comes after the records it corrects. Other records are passed
// over by their bytes, undecoded.
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
			if bytes.Contains(e.Payload, clockSyncName) && s.decode(&e) == nil {
				c.Learn(&s.rec)
			}
		}
	}
	return c, nil
}

var clockSyncName = []byte(catalog.ClockSync.Name)

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

// Learn notes r if it is a clock.sync record: a reader following the
// rings learns of a sync as it is written.
func (c *Clocks) Learn(r *codec.Record) {
	if c == nil || r.Name != catalog.ClockSync.Name || r.Source != catalog.ClockSync.Source {
		return
	}
	p, ok := c.boots[r.Boot]
	if !ok && len(c.boots) >= MaxClockBoots {
		return
	}
	p.Known = true
	if boolField(r, keySynced) && (!p.Synced || r.Mono < p.Mono) {
		p.Synced, p.Wall, p.Mono = true, r.Wall, r.Mono
	}
	c.boots[r.Boot] = p
}

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
	if c == nil || len(c.boots) == 0 {
		return wall, TimeAsIs
	}
	p := c.boots[boot]
	switch {
	case !p.Known:
		return wall, TimeAsIs
	case !p.Synced:
		return wall, TimeUnsynced
	case mono >= p.Mono:
		return wall, TimeSynced
	}
	w := p.Wall.Add(time.Duration(mono - p.Mono))
	if d := w.Sub(wall); d <= clockSlack && d >= -clockSlack {
		return wall, TimeSynced
	}
	return w, TimeCorrected
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

var keySynced = catalog.ClockSync.Key("synced")
