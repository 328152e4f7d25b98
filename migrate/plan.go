package migrate

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

// A Plan lists what a migration moves: one RingPlan per stream.
type Plan struct {
	Scope   string
	Rings   []*RingPlan
	Skipped []Skipped // rings that cannot be migrated, and why
}

// A Skipped ring has no readable identity (every segment header damaged,
// or a FIFO or device in a segment's place): its records cannot be sent
// under the ring's name, so the plan leaves it out and says so.
type Skipped struct {
	Stream, Where, Why string
}

// A RingPlan is one ring to move, as read from a frozen copy of it.
type RingPlan struct {
	Stream  string
	Where   string // the ring, for people
	Ring    [16]byte
	Codec   codec.Codec // of the ring's records
	Records uint64      // records to move
	First   uint64      // their lowest number (0: none)
	Last    uint64      // their highest number
	Bytes   int64       // their encoded size
	Oldest  time.Time   // wall time of the first record
	Newest  time.Time   // wall time of the last record
	Gaps    []view.Gap  // numbers missing, markers to send; retention first
	Bad     uint64      // records that did not decode: sent as they are, flagged
	Scope   string      // the plan's
	Dir     string      // the ring's directory on this machine; "" for a bundle or a segment file

	src  *view.Source // frozen: what the plan counted
	live *view.Source // the ring on this machine, for Follow; nil for a bundle
}

// RingID is the ring's identity in hexadecimal, as messages carry it.
func (r *RingPlan) RingID() string { return hex.EncodeToString(r.Ring[:]) }

// Messages counts the messages the ring becomes: records and gap markers.
func (r *RingPlan) Messages() uint64 { return r.Records + uint64(len(r.Gaps)) }

// retired sends the marker for the numbers retention deleted below the
// ring's oldest segment, before it, the first item of the ring.
func (r *RingPlan) retired(it view.Item, scope, ringHex string, fn func(*Message) error) error {
	rd, err := it.Source.Reader()
	if err != nil {
		return err
	}
	n := view.Retired(rd.Segments())
	if it.Kind == view.KindGap {
		n = min(n, it.Gap.From-1)
	} else {
		n = min(n, it.Entry.Seq-1)
	}
	if n == 0 {
		return nil
	}
	// Segments deleted whole: at most n records, since numbers skipped
	// among them went with them.
	m := Message{Kind: KindGap, Stream: r.Stream, Gap: view.Gap{From: 1, To: n, Loss: view.LossPossible, Lost: n, Cause: CauseRetention,
		Bound: "the numbers below the oldest segment"}}
	m.setID(scope, ringHex)
	return fn(&m)
}

// CauseRetention marks the numbers below a ring's oldest record: the ring
// deleted them to stay within its budget.
const CauseRetention = "retention"

// NewPlan reads each ring of in once, from a frozen copy (view.Source.Frozen),
// and plans its migration under scope. Two rings of one stream are an
// error: a migration moves one instance.
func NewPlan(in *view.Input, scope string) (*Plan, error) {
	if err := ValidScope(scope); err != nil {
		return nil, err
	}
	p := &Plan{Scope: scope}
	seen := map[string]string{}
	for _, src := range in.Sources {
		if w, dup := seen[src.Stream]; dup {
			return nil, fmt.Errorf("stream %q twice: %s and %s (migrate one instance at a time)", src.Stream, w, src.Where)
		}
		seen[src.Stream] = src.Where
		if !codec.ValidStream(src.Stream) {
			return nil, fmt.Errorf("%s: stream name %q cannot be a subject token", src.Where, src.Stream)
		}
		fz, err := src.Frozen()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Where, err)
		}
		r := &RingPlan{Stream: src.Stream, Where: src.Where, Scope: scope, src: fz}
		if src.Live {
			r.Dir, r.live = src.Where, src
		}
		if r.Ring, r.Codec, err = ringOf(fz); err != nil {
			p.Skipped = append(p.Skipped, Skipped{src.Stream, src.Where, err.Error()})
			continue
		}
		err = r.walk("", codec.Codec(0), func(m *Message) error {
			switch m.Kind {
			case KindGap:
				r.Gaps = append(r.Gaps, m.Gap)
			case KindRecord:
				if r.Records == 0 {
					r.First, r.Oldest = m.Seq, m.Wall
				}
				r.Records++
				r.Last, r.Newest = m.Seq, m.Wall
				r.Bytes += int64(len(m.Payload))
				if m.Bad != "" {
					r.Bad++
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Where, err)
		}
		p.Rings = append(p.Rings, r)
	}
	if len(p.Rings) == 0 {
		if len(p.Skipped) > 0 {
			return nil, fmt.Errorf("no ring to migrate: %s: %s", p.Skipped[0].Where, p.Skipped[0].Why)
		}
		return nil, errors.New("no ring to migrate")
	}
	return p, nil
}

// SelfStream is the agent's own stream; its ring names the instance.
const SelfStream = "itiny"

// DefaultScope names the instance of in when no scope is given: "inst-"
// and the first 16 hex digits of the identity of its agent's own ring
// (the itiny stream), random when the data directory was created and the
// same for as long as it lives, on the device or in a bundle of it.
func DefaultScope(in *view.Input) (string, error) {
	for _, src := range in.Sources {
		if src.Stream == SelfStream {
			ring, _, err := ringOf(src)
			if err != nil {
				return "", fmt.Errorf("%s: %w", src.Where, err)
			}
			return "inst-" + hexID(ring)[:16], nil
		}
	}
	return "", errors.New("no scope: name the instance with --scope (without the itiny stream's ring, nothing in the input names it)")
}

// ValidScope reports whether s can name an instance: one NATS subject token
// and one Kafka header value, so letters, digits, '-' and '_', at most 64.
func ValidScope(s string) error {
	if s == "" {
		return errors.New("no scope: name the instance with --scope")
	}
	if len(s) > 64 {
		return fmt.Errorf("scope %q: longer than 64 bytes", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("scope %q: byte %q at %d (letters, digits, '-' and '_' only)", s, c, i)
		}
	}
	return nil
}

// walk reads the frozen ring and calls fn with each message it becomes, in
// order: the retention marker, then records with a gap marker before each
// record that follows missing numbers. With scope set, messages carry their
// IDs; with to set, record payloads are converted to that codec. m and its
// payload are valid until fn returns.
func (r *RingPlan) walk(scope string, to codec.Codec, fn func(*Message) error) error {
	mg, err := view.NewMerger([]*view.Source{r.src}, time.Time{})
	if err != nil {
		return err
	}
	defer mg.Close()
	var (
		m       Message
		buf     []byte
		started bool
		ringHex = r.RingID()
	)
	for {
		it, err := mg.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !started && (it.Kind == view.KindGap || it.Kind == view.KindRecord || it.Kind == view.KindBadRecord) {
			// The merge shows what is missing below the first record
			// but what retention deleted; that comes first.
			started = true
			if err := r.retired(it, scope, ringHex, fn); err != nil {
				return err
			}
		}
		ok, err := r.message(&it, scope, ringHex, to, &buf, &m)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := fn(&m); err != nil {
			return err
		}
	}
}

// message makes m the message of item it of the ring, its payload in
// buf when converted to codec to; false for an item that is no message
// (a boot change: boots are in every record's headers).
func (r *RingPlan) message(it *view.Item, scope, ringHex string, to codec.Codec, buf *[]byte, m *Message) (bool, error) {
	switch it.Kind {
	case view.KindGap:
		*m = Message{Kind: KindGap, Stream: r.Stream, Gap: it.Gap}
	case view.KindRecord, view.KindBadRecord:
		e := &it.Entry
		*m = Message{Kind: KindRecord, Stream: r.Stream, Seq: e.Seq, Codec: e.Codec, Payload: e.Payload}
		if it.Kind == view.KindRecord {
			rec := it.Rec
			m.Wall, m.Boot, m.BootID, m.Level, m.Name = rec.Wall, rec.BootCount, rec.Boot, rec.Level, rec.Name
			if to != 0 && to != e.Codec {
				var err error
				if *buf, err = to.Append((*buf)[:0], rec); err != nil {
					return false, fmt.Errorf("record %d: converting to %s: %w", e.Seq, to, err)
				}
				m.Codec, m.Payload = to, *buf
			}
		} else {
			m.Bad = it.Err.Error()
		}
	default: // damage shows as a gap
		return false, nil
	}
	m.setID(scope, ringHex)
	return true, nil
}

// ringOf returns the ring identity and codec its newest readable segment
// header names.
func ringOf(src *view.Source) (ring [16]byte, c codec.Codec, err error) {
	rd, err := src.Reader()
	if err != nil {
		return ring, 0, err
	}
	found := false
	for _, s := range rd.Segments() {
		if s.Err == nil {
			ring, c, found = s.Header.Ring, s.Header.Codec, true
		}
	}
	if !found {
		return ring, 0, errors.New("no readable segment header names the ring")
	}
	return ring, c, nil
}

func (m *Message) setID(scope, ring string) {
	if scope == "" {
		return
	}
	id := make([]byte, 0, len(scope)+len(ring)+len(m.Stream)+48)
	id = append(id, scope...)
	id = append(id, '.')
	id = append(id, ring...)
	id = append(id, '.')
	id = append(id, m.Stream...)
	id = append(id, '.')
	if m.Kind == KindGap {
		id = append(id, "gap."...)
		id = strconv.AppendUint(id, m.Gap.From, 10)
		id = append(id, '-')
		id = strconv.AppendUint(id, m.Gap.To, 10)
	} else {
		id = strconv.AppendUint(id, m.Seq, 10)
	}
	m.ID = string(id)
}
