package view

import (
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// A Health is a ring's health as one pass over it found: its figures for
// stats and its problems for verify.
type Health struct {
	Stream   string     `json:"stream"`
	Where    string     `json:"where"`
	Segments int        `json:"segments"`
	Bytes    int64      `json:"bytes"`     // segment files
	Records  int        `json:"records"`   // records that decode (those that do not are Damage)
	FirstSeq uint64     `json:"first_seq"` // numbers of the first and last records, whether they decode or not
	LastSeq  uint64     `json:"last_seq"`
	First    codec.Time `json:"first_wall"` // wall times of the oldest and newest records (untrusted)
	Last     codec.Time `json:"last_wall"`
	Span     string     `json:"span"`             // Last - First
	Rate     float64    `json:"records_per_hour"` // over Span
	Boots    []uint32   `json:"boots"`
	Retired  uint64     `json:"retired"` // numbers below the oldest segment's: deleted by retention
	Losses              // the numbers missing above Retired, by what they were (Gaps)
	Gaps     []Gap      `json:"gaps"`
	Damage   []Problem  `json:"damage"`
	// Corrupt counts problems that are not the torn tail a crash leaves:
	// checksum failures amid a segment, damaged headers, stale segments,
	// records that do not decode.
	Corrupt int `json:"corrupt"`
	// Unsupported counts segments written by a newer itiny, not read.
	Unsupported int `json:"unsupported"`
	// Writes is what the agent's records in this ring say the agent
	// wrote, per stream and in all; none in a ring without them.
	Writes []Writes `json:"writes,omitempty"`
}

// A Problem is damage found in a ring.
type Problem struct {
	Kind    string `json:"kind"` // torn-tail, corruption, zeroed, bad-header, bad-block, bad-record, stale-segment, missing-segment, unsupported, seq-backwards, bad-stage, not-regular
	Segment string `json:"segment"`
	Offset  int64  `json:"offset"`
	Length  int64  `json:"length"`
	Detail  string `json:"detail"`
}

// Check reads every record of src's ring once and returns its health.
func Check(src *Source) (*Health, error) {
	r, err := src.Reader()
	if err != nil {
		return nil, err
	}
	h := &Health{Stream: src.Stream, Where: src.Where}
	segs := r.Segments()
	h.Segments = len(segs)
	for i, s := range segs {
		h.Bytes += s.Size
		if s.Err != nil {
			continue // the reader reports it, with the bytes it skips
		}
		if i > 0 && segs[i-1].Err == nil && s.Header.Segment != segs[i-1].Header.Segment+1 {
			h.add(Problem{Kind: "missing-segment", Segment: s.Path,
				Detail: "segments " + u64(segs[i-1].Header.Segment+1) + "-" + u64(s.Header.Segment-1) + " are missing"}, true)
		}
	}
	var rec codec.Record
	var n numbering
	var writes writesTracker
	boots := map[uint32]bool{}
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		var d *ringlog.Damage
		if errors.As(err, &d) && errors.Is(d, ringlog.ErrRetired) {
			n.gs.see(d) // a live ring's retention, shown by the gap it leaves
			continue
		}
		if errors.As(err, &d) {
			p := Problem{Kind: "corruption", Segment: d.Segment, Offset: d.Offset, Length: d.Length, Detail: d.Cause()}
			switch {
			case ringlog.IsTornTail(d):
				p.Kind = "torn-tail"
			case errors.Is(d.Err, ringlog.ErrZeroedFrame):
				p.Kind = "zeroed"
			case errors.Is(d.Err, ringlog.ErrBadSegmentHeader):
				p.Kind = "bad-header"
			case errors.Is(d.Err, ringlog.ErrBadBlock):
				p.Kind = "bad-block"
			case errors.Is(d.Err, ringlog.ErrUnsupported):
				p.Kind = "unsupported"
				h.Unsupported++
			case errors.Is(d.Err, ringlog.ErrSeqBackwards):
				p.Kind = "seq-backwards"
			case errors.Is(d.Err, ringlog.ErrBadStage):
				p.Kind = "bad-stage"
			case errors.Is(d.Err, ringlog.ErrStaleSegment):
				p.Kind = "stale-segment"
			case errors.Is(d.Err, ringlog.ErrNotRegular):
				p.Kind = "not-regular"
			}
			switch d.Err {
			case ringlog.ErrBadFrame, ringlog.ErrTornTail, ringlog.ErrZeroedFrame, ringlog.ErrSeqBackwards:
			default:
				p.Detail += ": " + d.Err.Error() // which header, which version, which entry
			}
			h.add(p, p.Kind != "torn-tail" && p.Kind != "unsupported")
			n.gs.see(d)
			continue
		}
		if err != nil {
			return nil, err
		}
		// A record that does not decode is reported, and read all the
		// same: it is there, so no gap covers its number.
		got := &rec
		if err := Decode(&e, &rec); err != nil {
			h.add(Problem{Kind: "bad-record", Segment: e.Segment, Offset: e.Offset, Detail: "seq " + u64(e.Seq) + ": " + err.Error()}, true)
			got = nil
		}
		if n.missing(e.Seq) {
			retired, gaps := n.gaps(segs, got, e.Seq, e.Segment)
			if !n.any {
				h.FirstSeq, h.Retired = e.Seq, retired
			}
			for i := range gaps {
				h.Gaps = append(h.Gaps, gaps[i])
				h.Add(&gaps[i])
			}
		}
		n.read(e.Seq)
		h.LastSeq = e.Seq
		if got == nil {
			continue
		}
		if h.Records == 0 {
			h.First.Time = rec.Wall
		}
		h.Records++
		h.Last.Time = rec.Wall
		writes.see(&rec)
		if !boots[rec.BootCount] {
			boots[rec.BootCount] = true
			h.Boots = append(h.Boots, rec.BootCount)
		}
	}
	h.Writes = writes.result()
	if span := h.Last.Sub(h.First.Time); h.Records > 1 && span > 0 {
		h.Span = span.Round(time.Second).String()
		h.Rate = float64(h.Records-1) / span.Hours()
	}
	return h, nil
}

// Verdict is verify's word on the ring: ok, ok with what crashes leave
// (a torn tail, a gap), CORRUPT, or UNSUPPORTED (segments of a newer
// itiny).
func (h *Health) Verdict() string {
	switch {
	case h.Corrupt > 0:
		return "CORRUPT: " + Count(h.Corrupt, "problem", "problems")
	case h.Unsupported > 0:
		return "UNSUPPORTED: " + Count(h.Unsupported, "segment", "segments") + " written by a newer itiny, not read"
	case len(h.Damage) > 0 || len(h.Gaps) > 0:
		return "ok, with what crashes leave"
	}
	return "ok"
}

// RetiredText says which numbers retention deleted, "" for none.
func (h *Health) RetiredText() string {
	if h.Retired == 0 {
		return ""
	}
	return "numbers 1-" + u64(h.Retired) + ", in the segments before the oldest"
}

func (h *Health) add(p Problem, corrupt bool) {
	h.Damage = append(h.Damage, p)
	if corrupt {
		h.Corrupt++
	}
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }
