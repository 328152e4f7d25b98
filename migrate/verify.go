package migrate

import (
	"context"
	"fmt"
	"io"
	"strconv"
)

// A RingCheck compares what the store holds of one ring with the plan.
type RingCheck struct {
	Stream string `json:"stream"`
	Ring   string `json:"ring"`
	// In the ring (the plan).
	Records uint64 `json:"records"`
	First   uint64 `json:"first"`
	Last    uint64 `json:"last"`
	Markers int    `json:"markers"`
	// In the store, of this ring.
	Stored       uint64 `json:"stored"`         // records within First..Last, each counted once
	StoredFirst  uint64 `json:"stored_first"`   // lowest number stored within First..Last
	StoredLast   uint64 `json:"stored_last"`    // highest
	Duplicates   uint64 `json:"duplicates"`     // messages of a number (or gap) already counted
	Earlier      uint64 `json:"earlier"`        // records below First: moved by an earlier run, retired from the ring since
	Later        uint64 `json:"later"`          // records above Last: appended after an earlier run froze the ring
	StoredMarks  int    `json:"stored_markers"` // gaps of the plan with their marker, or their records, in the store
	OtherMarkers int    `json:"other_markers"`  // gap markers not in the plan (of an earlier run's copy)
	Missing      uint64 `json:"missing"`        // records of the plan not in the store
	OK           bool   `json:"ok"`
	// Behind: not OK only because the ring has records newer than the
	// store's newest of it (Newer of them), which the store never
	// acknowledged (the checkpoint says so): a ring written since it was
	// migrated. Up to StoredLast the store holds the ring exactly.
	Behind bool   `json:"behind"`
	Newer  uint64 `json:"newer"`         // when Behind: records above StoredLast, not migrated yet
	Why    string `json:"why,omitempty"` // why a ring short of its newest records is not Behind
}

// Verify scans what s holds of each ring of p and compares it with the
// plan: every record exactly once, every gap marker, nothing else but
// records an earlier run moved from an older or newer copy of the ring.
//
// Right after a migration (cp nil) the store must hold the plan whole.
// Given cp, the checkpoint of the runs that migrated the rings, a ring
// planned later (itiny-migrate --verify-only on a device still
// recording) may be Behind: held exactly up to the store's newest record
// of it, and its newer records never acknowledged by the store. Records
// the store acknowledged and no longer holds were lost there: a
// mismatch; and without a checkpoint of the ring the two cannot be told
// apart, so it is a mismatch too, Why saying so.
func Verify(ctx context.Context, p *Plan, s Sink, cp *Checkpoint) ([]RingCheck, error) {
	var out []RingCheck
	for _, r := range p.Rings {
		c := RingCheck{Stream: r.Stream, Ring: r.RingID(), Records: r.Records, First: r.First, Last: r.Last, Markers: len(r.Gaps)}
		var recs spans
		stored := map[[2]uint64]bool{}
		err := s.Scan(ctx, r, 0, func(st Stored) {
			if st.Kind == KindGap {
				k := [2]uint64{st.Gap.From, st.Gap.To}
				if stored[k] {
					c.Duplicates++
				}
				stored[k] = true
				return
			}
			if !recs.add(st.Seq) {
				c.Duplicates++
			}
		})
		if err != nil {
			return out, fmt.Errorf("%s: scanning the store: %w", r.Stream, err)
		}
		// The plan's records are those it counted between First and Last:
		// numbers missing there are gaps, and markers, not records.
		if r.Records > 0 {
			c.Stored, c.StoredFirst, c.StoredLast = recs.within(r.First, r.Last)
			c.Earlier, _, _ = recs.within(0, r.First-1)
			c.Later, _, _ = recs.within(r.Last+1, 1<<64-1)
		} else {
			c.Earlier, _, _ = recs.within(0, 1<<64-1)
		}
		// A gap of the plan is accounted for by its marker, or by the
		// records themselves, stored by an earlier run before the ring
		// let them go (retention, --release), and by the markers of the
		// numbers it did not store: a forwarder that read the ring before
		// retention deleted some of it sent records, then a marker for
		// what went unread.
		marks := make([][2]uint64, 0, len(stored))
		for k := range stored {
			marks = append(marks, k)
		}
		for _, g := range r.Gaps {
			k := [2]uint64{g.From, g.To}
			if stored[k] || covered(g.From, g.To, &recs, marks) {
				c.StoredMarks++
			}
			delete(stored, k)
		}
		c.OtherMarkers = len(stored)
		c.Missing = c.Records - min(c.Stored, c.Records)
		c.OK = c.Stored == c.Records && c.StoredFirst == c.First && c.StoredLast == c.Last &&
			c.Duplicates == 0 && c.StoredMarks == c.Markers
		if cp != nil && !c.OK && c.Stored > 0 && c.Duplicates == 0 && c.StoredFirst == c.First &&
			heldThrough(r, c.StoredLast, &recs, marks) {
			sc := cp.Streams[r.Stream]
			switch {
			case sc == nil || sc.Ring != r.RingID():
				c.Why = fmt.Sprintf("the %d records after the store's newest (%d) may be new or lost in the store: no checkpoint of this ring here to tell (--checkpoint)", c.Missing, c.StoredLast)
			case keyThrough(sc.Done) > c.StoredLast:
				c.Why = fmt.Sprintf("the store acknowledged this ring through %d (the checkpoint) and holds it only through %d: lost in the store", keyThrough(sc.Done), c.StoredLast)
			default:
				c.Behind, c.Newer = true, c.Missing
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// heldThrough reports whether the store holds r exactly through h, the
// highest of its numbers stored: every record of the plan up to h, every
// gap before h with its marker or its records, and none that spans h.
func heldThrough(r *RingPlan, h uint64, recs *spans, marks [][2]uint64) bool {
	planned := h - r.First + 1 // the plan's records from First to h
	for _, g := range r.Gaps {
		switch {
		case g.From > h:
			continue // after: its marker is not sent yet either
		case g.To >= h:
			return false // h stored, yet a gap of the plan
		case !covered(g.From, g.To, recs, marks):
			return false
		}
		if g.To >= r.First {
			planned -= g.To - max(g.From, r.First) + 1
		}
	}
	stored, _, _ := recs.within(r.First, h)
	return stored == planned
}

// covered reports whether every number from lo to hi is a record of recs
// or within one of the markers marks.
func covered(lo, hi uint64, recs *spans, marks [][2]uint64) bool {
	for n := lo; n <= hi; {
		end, ok := recs.runEnd(n)
		if !ok {
			for _, m := range marks {
				if m[0] <= n && n <= m[1] {
					end, ok = m[1], true
					break
				}
			}
		}
		if !ok {
			return false
		}
		if end >= hi {
			return true
		}
		n = end + 1
	}
	return true
}

// WriteChecks prints checks as a table, one line per ring.
func WriteChecks(w io.Writer, checks []RingCheck) {
	fmt.Fprintf(w, "%-10s %-6s %10s %21s %10s %21s %7s %5s %7s\n", "STREAM", "RESULT", "RING", "RING SEQ", "STORED", "STORED SEQ", "MARKERS", "DUPS", "MISSING")
	for _, c := range checks {
		verdict := "ok"
		switch {
		case c.Behind:
			verdict = "behind"
		case !c.OK:
			verdict = "MISMATCH"
		}
		fmt.Fprintf(w, "%-10s %-6s %10d %21s %10d %21s %3d/%-3d %5d %7d\n", c.Stream, verdict, c.Records, span(c.First, c.Last),
			c.Stored, span(c.StoredFirst, c.StoredLast), c.StoredMarks, c.Markers, c.Duplicates, c.Missing)
		if c.Behind {
			fmt.Fprintf(w, "%-10s        %d records newer than the store's newest (%d), never acknowledged by it: written since the migration (run itiny-migrate again, or --follow)\n",
				"", c.Newer, c.StoredLast)
		}
		if c.Why != "" {
			fmt.Fprintf(w, "%-10s        %s\n", "", c.Why)
		}
		if c.Earlier > 0 || c.Later > 0 || c.OtherMarkers > 0 {
			fmt.Fprintf(w, "%-10s        also stored: %d records below the ring's oldest, %d above its newest, %d other markers (earlier runs over other copies of the ring, or a forwarder)\n",
				"", c.Earlier, c.Later, c.OtherMarkers)
		}
	}
}

func span(a, b uint64) string {
	if a == 0 && b == 0 {
		return "-"
	}
	return strconv.FormatUint(a, 10) + "-" + strconv.FormatUint(b, 10)
}
