package view

import (
	"errors"
	"strconv"
	"strings"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// A Gap is a run of sequence numbers missing in a stream, and what the
// ring can tell of them: whether records had them, how many, and why.
type Gap struct {
	From, To uint64 // missing: From..To
	Loss     Loss   `json:"loss"`
	// Lost counts the records lost: exactly for LossLost, at most for
	// LossPossible (Bound says what bounds it); 0 for LossSkipped.
	Lost  uint64 `json:"lost"`
	Cause string `json:"cause"`
	Bound string `json:"bound,omitempty"`
}

// Numbers counts the gap's numbers.
func (g *Gap) Numbers() uint64 { return g.To - g.From + 1 }

// A Loss says what a gap's numbers were.
type Loss string

const (
	LossSkipped  Loss = "skipped"       // no record ever had them
	LossLost     Loss = "lost"          // records had them and are gone; Lost is exact
	LossPossible Loss = "possibly lost" // at most Lost records had them; the rest were skipped
	LossUnread   Loss = "unread"        // in a segment a newer itiny wrote, which this reader cannot read
)

// Gap causes, as far as the ring can tell. A resume note gives its own.
const (
	CauseDamage    = "damage"                           // damaged bytes were skipped where they were
	CauseRetention = "deleted by retention"             // whole segments deleted to keep the budget
	CauseRestart   = "numbers passed over at a restart" // a ring written before writers said why
	CauseUnknown   = "unknown"                          // no record of this ring had them (a copied ring keeps its source's gaps)
)

// gapState is what a reader of one ring has seen since its last record.
type gapState struct {
	damaged bool   // damage was skipped since the last record
	unread  bool   // a segment of a newer itiny was passed over since
	retired uint64 // numbers up to this were in segments retention deleted
}

// next is the state after a record: damage is behind, while the numbers
// retention deleted stay known (a reader may learn of them early).
func (s gapState) next() gapState { return gapState{retired: s.retired} }

// see notes the damage item d in s.
func (s *gapState) see(d *ringlog.Damage) {
	if errors.Is(d.Err, ringlog.ErrRetired) {
		s.retired = max(s.retired, d.To, d.From)
		return
	}
	if errors.Is(d.Err, ringlog.ErrUnsupported) {
		s.unread = true
		return
	}
	if errors.Is(d.Err, ringlog.ErrStaleSegment) {
		return // another ring's numbers: no gap of this ring
	}
	s.damaged = true
}

// A numbering follows the numbers of one ring's records as a reader reads
// them. Every record read counts, one that does not decode too: it was
// stored and is reported (itiny-read, verify) or sent as it is
// (itiny-migrate), so no gap may cover its number, and the gap before it
// is explained before it.
type numbering struct {
	gs   gapState // what was seen since the last record
	last uint64   // the last record's number
	any  bool     // a record was read
}

// missing reports whether numbers are missing before the record numbered
// seq: below the first record read, or since the last.
func (n *numbering) missing(seq uint64) bool { return !n.any || seq != n.last+1 }

// gaps explains the numbers missing before the record numbered seq, in
// segment path of segs; rec is nil when it does not decode. Below the
// first record, the numbers retention deleted are returned apart, as
// retired, and left out of the gaps.
func (n *numbering) gaps(segs []ringlog.SegmentInfo, rec *codec.Record, seq uint64, path string) (retired uint64, gs []Gap) {
	switch {
	case !n.any:
		return leading(segs, rec, seq, n.gs, path)
	case !n.missing(seq):
		return 0, nil
	}
	return 0, explain(n.last, rec, seq, n.gs, segs, path)
}

// read notes the record numbered seq as read.
func (n *numbering) read(seq uint64) { n.last, n.any, n.gs = seq, true, n.gs.next() }

// explain returns the gaps before record rec, numbered seq, of a ring
// whose last record was last; segs are the ring's segments and path the
// segment rec is in; rec is nil when it does not decode. A resume note
// explains its own gap; numbers below a note's "after" are split off and
// explained by what the reader saw.
func explain(last uint64, rec *codec.Record, seq uint64, s gapState, segs []ringlog.SegmentInfo, path string) []Gap {
	g := Gap{From: last + 1, To: seq - 1}
	var gs []Gap
	first, known := segmentFirst(segs, path)
	// A writer's note is the first record of its segment; a record that
	// only looks like one (sent by a client, say) explains nothing.
	if n, ok := parseResume(rec); ok && known && first == seq && n.After+1 >= g.From && n.After < g.To+1 {
		if n.After >= g.From {
			// Records the note's writer had on disk are missing too.
			gs = append(gs, seen(Gap{From: g.From, To: n.After}, s, false))
		}
		g.From = n.After + 1
		if g.From > g.To {
			return gs
		}
		// The note's strings are the reader's buffer, which the next
		// records overwrite: a gap is held until a record is shown.
		g.Cause, g.Bound = strings.Clone(n.Cause), strings.Clone(n.Bound)
		switch n.Loss {
		case ringlog.LossNone:
			g.Loss = LossSkipped
		case ringlog.LossExact:
			g.Loss, g.Lost = LossLost, g.Numbers()
		default:
			g.Loss, g.Lost = LossPossible, min(n.Lost, g.Numbers())
		}
		return append(gs, g)
	}
	if known && first > g.From && first <= g.To {
		// Numbers from the segment's first are in it, consecutive: what
		// is missing there is the segment's own. Those below are
		// explained apart, as what ended the segment before.
		gs = append(gs, seen(Gap{From: g.From, To: first - 1}, s, true))
		g.From = first
	}
	return append(gs, seen(g, s, known && first == seq))
}

// parseResume parses rec as a resume note; a record that does not decode
// is none.
func parseResume(rec *codec.Record) (ringlog.Resume, bool) {
	if rec == nil {
		return ringlog.Resume{}, false
	}
	return ringlog.ParseResume(rec)
}

// segmentFirst returns the first number of the segment at path, as its
// header says.
func segmentFirst(segs []ringlog.SegmentInfo, path string) (uint64, bool) {
	for _, s := range segs {
		if s.Path == path {
			return s.Header.First, s.Err == nil
		}
	}
	return 0, false
}

// seen explains a gap no note explains, from what the reader saw: damage
// (numbers within a segment are consecutive, so every missing one was a
// record), segments retention deleted, or a new segment's first number
// above the last.
func seen(g Gap, s gapState, starts bool) Gap {
	switch {
	case s.unread && !s.damaged:
		g.Loss, g.Cause = LossUnread, "in a segment written by a newer itiny, which this reader cannot read"
	case s.retired >= g.To:
		g.Loss, g.Lost, g.Cause = LossLost, g.Numbers(), CauseRetention
	case s.damaged && !starts:
		g.Loss, g.Lost, g.Cause = LossLost, g.Numbers(), CauseDamage
	case s.damaged:
		g.Loss, g.Lost, g.Cause = LossPossible, g.Numbers(), CauseDamage+", and "+CauseRestart
		g.Bound = "the numbers missing"
	case starts:
		g.Loss, g.Lost, g.Cause = LossPossible, g.Numbers(), CauseRestart
		g.Bound = "the numbers missing"
	default:
		g.Loss, g.Cause = LossSkipped, CauseUnknown
	}
	return g
}

// Retired returns the numbers below a ring's oldest segment that
// retention deleted: those of segments numbered below it. A ring whose
// oldest segment is its first lost nothing to retention, whatever number
// its first record has. A damaged oldest segment (numbered by its name)
// says nothing of what was before it: its numbers are damage's.
func Retired(segs []ringlog.SegmentInfo) uint64 {
	if len(segs) == 0 || segs[0].Err != nil || segs[0].Header.Segment <= 1 || segs[0].Header.First == 0 {
		return 0
	}
	return segs[0].Header.First - 1
}

// AppendText appends the gap in words: how many numbers, which, what
// they were and why.
func (g *Gap) AppendText(b []byte) []byte {
	n := g.Numbers()
	switch g.Loss {
	case LossSkipped:
		b = appendCount(b, n, " number skipped (", " numbers skipped (")
	case LossUnread:
		b = appendCount(b, n, " number unread (", " numbers unread (")
	case LossLost:
		b = appendCount(b, n, " record lost (", " records lost (")
	default:
		b = appendCount(b, n, " number missing (", " numbers missing (")
	}
	b = strconv.AppendUint(b, g.From, 10)
	if g.To != g.From {
		b = append(b, '-')
		b = strconv.AppendUint(b, g.To, 10)
	}
	b = append(b, ")"...)
	switch g.Loss {
	case LossSkipped:
		b = append(b, ", no record lost"...)
	case LossPossible:
		b = append(b, ", up to "...)
		b = appendCount(b, g.Lost, " record possibly lost", " records possibly lost")
	}
	b = append(b, ": "...)
	b = append(b, g.Cause...)
	if g.Bound != "" {
		b = append(b, "; bound: "...)
		b = append(b, g.Bound...)
	}
	return b
}

// Count says how many of a thing there are, in words that agree with the
// number: Count(1, "boot", "boots") is "1 boot", Count(2, ...) "2 boots".
// one and many may go on past the noun ("record that does not decode").
func Count[N ~int | ~int64 | ~uint64](n N, one, many string) string {
	return string(appendCount(nil, uint64(n), " "+one, " "+many))
}

// appendCount appends n and then one or many, which begin with a space.
func appendCount(b []byte, n uint64, one, many string) []byte {
	b = strconv.AppendUint(b, n, 10)
	if n == 1 {
		return append(b, one...)
	}
	return append(b, many...)
}

// Losses add up gaps' numbers by what they were: skipped by design,
// records lost (exactly), and records possibly lost (at most PossiblyLost
// of Unsure numbers).
type Losses struct {
	Skipped      uint64 `json:"skipped"`
	Lost         uint64 `json:"lost"`
	PossiblyLost uint64 `json:"possibly_lost"`
	Unsure       uint64 `json:"unsure"`
	Unread       uint64 `json:"unread"`
}

// Add counts gap g.
func (r *Losses) Add(g *Gap) {
	switch g.Loss {
	case LossSkipped:
		r.Skipped += g.Numbers()
	case LossLost:
		r.Lost += g.Numbers()
	case LossUnread:
		r.Unread += g.Numbers()
	default:
		r.PossiblyLost += g.Lost
		r.Unsure += g.Numbers()
	}
}

// LossText sums up what the gaps cost, for a table cell.
func (r *Losses) LossText() string {
	if r.Lost == 0 && r.Unsure == 0 && r.Skipped == 0 && r.Unread == 0 {
		return "none"
	}
	var b []byte
	sep := func() {
		if len(b) > 0 {
			b = append(b, ", "...)
		}
	}
	if r.Lost > 0 {
		b = appendCount(b, r.Lost, " record lost", " records lost")
	}
	if r.Unsure > 0 {
		sep()
		b = append(b, "up to "...)
		b = appendCount(b, r.PossiblyLost, " possibly lost", " possibly lost")
	}
	if r.Skipped > 0 {
		sep()
		b = appendCount(b, r.Skipped, " skipped", " skipped")
	}
	if r.Unread > 0 {
		sep()
		b = appendCount(b, r.Unread, " unread", " unread")
	}
	return string(b)
}

// leading returns the numbers below record rec, numbered seq and the
// first read, that retention deleted, and the gaps below it apart from
// those.
func leading(segs []ringlog.SegmentInfo, rec *codec.Record, seq uint64, s gapState, path string) (uint64, []Gap) {
	retired := min(Retired(segs), seq-1)
	if seq-1 == retired {
		return retired, nil
	}
	return retired, explain(retired, rec, seq, s, segs, path)
}
