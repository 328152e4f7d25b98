package ringlog

import "github.com/itiny/itiny/codec"

// ResumeName names the record a writer appends when it resumes numbering
// above numbers that records may have had (Recovery.Resume). The record
// is the first of its segment; the numbers from its "after" field plus
// one up to its own minus one are the gap it explains
// (docs/FORMAT.md section 4.3).
const ResumeName = "ring.resume"

// ResumeSource is the src of a resume note: the ring itself. Writers of
// records from elsewhere (the agent's socket) refuse it.
const ResumeSource = "ringlog"

// A Loss says what the numbers of a gap were.
type Loss uint8

const (
	// LossNone: no record had the numbers; they were passed over.
	LossNone Loss = iota
	// LossExact: every number was a record's, and those records are lost.
	LossExact
	// LossPossible: at most Lost of the numbers were records, now lost;
	// the rest were passed over. Bound says what bounds it.
	LossPossible
)

var lossNames = [...]string{"none", "lost", "possible"}

func (l Loss) String() string {
	if int(l) < len(lossNames) {
		return lossNames[l]
	}
	return "unknown"
}

// A Resume is what a writer knows of the numbers it passed over when it
// reopened a ring.
type Resume struct {
	After uint64 // the last number found on disk; the gap starts above it
	Loss  Loss
	Lost  uint64 // records lost: exactly (LossExact) or at most (LossPossible)
	Cause string // why, for people
	Bound string // what bounds a possible loss, for people
}

// fill makes r the note's record: its source, level, name and fields.
func (n *Resume) fill(r *codec.Record) {
	r.Source, r.Name, r.Level = ResumeSource, ResumeName, codec.LevelWarning
	if n.Loss == LossNone {
		r.Level = codec.LevelNotice
	}
	r.Fields = codec.Fields{
		{Key: "after", Value: codec.Uint(n.After)},
		{Key: "loss", Value: codec.String(n.Loss.String())},
		{Key: "lost", Value: codec.Uint(n.Lost)},
		{Key: "cause", Value: codec.String(n.Cause)},
	}
	if n.Bound != "" {
		r.Fields = append(r.Fields, codec.Field{Key: "bound", Value: codec.String(n.Bound)})
	}
}

// ParseResume returns the note r holds, if r is a resume note. Its Cause
// and Bound are r's strings: views of the bytes r was decoded from when
// it was decoded with codec.DecodeAlias, to be copied to be kept.
func ParseResume(r *codec.Record) (Resume, bool) {
	if r.Name != ResumeName || r.Source != ResumeSource {
		return Resume{}, false
	}
	var n Resume
	var ok bool
	n.Loss = 255
	for _, f := range r.Fields {
		switch f.Key {
		case "after":
			n.After, ok = f.Value.Uint(), f.Value.Kind() == codec.KindUint || f.Value.Kind() == codec.KindInt && f.Value.Int() >= 0
		case "loss":
			for i, s := range lossNames {
				if f.Value.Str() == s {
					n.Loss = Loss(i)
				}
			}
		case "lost":
			n.Lost = f.Value.Uint()
		case "cause":
			n.Cause = f.Value.Str()
		case "bound":
			n.Bound = f.Value.Str()
		}
	}
	if !ok || n.Loss > LossPossible || n.After >= r.Seq {
		return Resume{}, false
	}
	return n, true
}
