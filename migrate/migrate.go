// Package migrate replays the rings of an itiny instance into a stream
// store once, when a device moves to a deployment that has one: every
// record exactly once, in ring order, resumable after a crash at any point,
// verified at the end. It never writes the rings.
//
// The contract, for every sink (one file each: jetstream.go, kafka.go):
//
//   - NewPlan freezes each ring (a copy in memory, view.Source.Frozen) and
//     reads it once to count what moves. Run reads the same copy again.
//   - Each record becomes one Message whose ID is its stable identity,
//     SCOPE.RING.STREAM.SEQ, with the record's original wall time, boot,
//     number and level in headers, and its encoded bytes (or the bytes
//     converted to another codec) as the payload.
//   - Numbers missing in a ring travel as marker messages, never silently:
//     SCOPE.RING.STREAM.gap.FROM-TO, with the cause (retention below the
//     oldest record, damage, a crash or power cut, unknown).
//   - Messages go out in windows of at most Options.Window. The next window
//     starts only once every message of the one before is acknowledged,
//     then the checkpoint is replaced atomically (checkpoint.go), while the
//     next window is sent.
//   - On resume, messages at or below the checkpoint are skipped and the
//     store's tail after the checkpoint's position is scanned: messages
//     found there, sent before a crash but never checkpointed, are skipped
//     too. A store's duplicate window alone would not do: it is minutes
//     long, an outage may last days.
//   - At the end, Verify scans what the store holds of each ring and
//     compares counts, first and last numbers with the plan.
package migrate

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

// A Kind says what a Message is.
type Kind uint8

const (
	KindRecord Kind = iota // one record of the ring
	KindGap                // numbers missing in the ring
)

// A Message is one record, or one gap marker, on its way to a store.
type Message struct {
	Kind    Kind
	Stream  string
	ID      string // SCOPE.RING.STREAM.SEQ, or SCOPE.RING.STREAM.gap.FROM-TO
	Seq     uint64 // KindRecord
	Gap     view.Gap
	Wall    time.Time // the record's own wall time (untrusted, shown)
	Boot    uint32    // the agent's boot counter
	BootID  codec.BootID
	Level   codec.Level
	Name    string
	Codec   codec.Codec // of Payload
	Payload []byte      // the encoded record; empty for a gap
	Bad     string      // a record that did not decode: why; Payload is its bytes
}

// Key orders a ring's messages: a gap marker comes just before the record
// that follows the gap. Checkpoints hold keys.
func (m *Message) Key() uint64 {
	if m.Kind == KindGap {
		return 2*(m.Gap.To+1) - 1
	}
	return 2 * m.Seq
}

// Header names, shared by the sinks. Values are decimal numbers, RFC 3339
// times in UTC with nanoseconds, hexadecimal ids and syslog level names.
const (
	HeaderRing     = "Itiny-Ring"      // the ring's identity (32 hex digits)
	HeaderSeq      = "Itiny-Seq"       // the record's number in its stream
	HeaderTime     = "Itiny-Time"      // the record's wall time: the store stamps its own
	HeaderBoot     = "Itiny-Boot"      // the agent's boot counter
	HeaderBootID   = "Itiny-Boot-Id"   // the boot's id (32 hex digits)
	HeaderLevel    = "Itiny-Level"     // syslog level name
	HeaderName     = "Itiny-Name"      // the record's name
	HeaderCodec    = "Itiny-Codec"     // msgpack or json: the payload's encoding
	HeaderGap      = "Itiny-Gap"       // on a marker: FROM-TO, the numbers missing
	HeaderGapCause = "Itiny-Gap-Cause" // on a marker: why they are missing
	HeaderBad      = "Itiny-Undecoded" // on a record that did not decode: why
	// HeaderScope names the instance on Kafka records: topics are shared
	// by all instances, and unlike a NATS subject a topic does not say.
	HeaderScope = "Itiny-Scope"
)

// maxHeaders is the most headers Message.Headers gives.
const maxHeaders = 9

// Headers calls add with each header of m, in a fixed order.
func (m *Message) Headers(ring string, add func(k, v string)) {
	add(HeaderRing, ring)
	if m.Kind == KindGap {
		add(HeaderGap, u64(m.Gap.From)+"-"+u64(m.Gap.To))
		add(HeaderGapCause, m.Gap.Cause)
		return
	}
	add(HeaderSeq, u64(m.Seq))
	add(HeaderCodec, m.Codec.String())
	if m.Bad != "" {
		add(HeaderBad, m.Bad)
		return
	}
	add(HeaderTime, m.Wall.UTC().Format(time.RFC3339Nano))
	add(HeaderBoot, u64(uint64(m.Boot)))
	add(HeaderBootID, hexID(m.BootID))
	add(HeaderLevel, m.Level.String())
	add(HeaderName, m.Name)
}

// storedOf reads what a message is from its headers (get returns one by
// name, "" if missing); ok is false for a message of another ring, or one
// itiny did not write.
func storedOf(get func(string) string, ring string) (Stored, bool) {
	if get(HeaderRing) != ring {
		return Stored{}, false
	}
	if g := get(HeaderGap); g != "" {
		a, b, ok := strings.Cut(g, "-")
		from, err1 := strconv.ParseUint(a, 10, 64)
		to, err2 := strconv.ParseUint(b, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return Stored{}, false
		}
		st := Stored{Kind: KindGap}
		st.Gap.From, st.Gap.To, st.Gap.Cause = from, to, get(HeaderGapCause)
		return st, true
	}
	seq, err := strconv.ParseUint(get(HeaderSeq), 10, 64)
	if err != nil {
		return Stored{}, false
	}
	return Stored{Kind: KindRecord, Seq: seq}, true
}

// A Stored is what a sink's scan found of a ring: a record's number, or a
// marker's gap, and where the store keeps it.
type Stored struct {
	Kind Kind
	Seq  uint64   // KindRecord
	Gap  view.Gap // KindGap: From and To
	Pos  uint64   // the store's position: a stream sequence, an offset
}

// A Sink is a stream store that rings migrate to.
type Sink interface {
	// Name describes the sink for reports: "jetstream nats://host:4222".
	Name() string
	// Prepare makes ready the destination of r, creating it if missing,
	// and returns its identity, kept in the checkpoint: a checkpoint
	// position is trusted only against the same destination (a stream
	// deleted and created again starts over).
	Prepare(ctx context.Context, p *Plan, r *RingPlan) (dest string, err error)
	// Publish stores msgs in order and returns once every one is
	// acknowledged, with the position of the last. Messages already
	// stored may be sent again (a retry) and must not be stored twice.
	Publish(ctx context.Context, r *RingPlan, msgs []*Message) (pos uint64, err error)
	// Scan calls fn with each message of r's ring that the destination
	// holds after position from (0: all of them), in order.
	Scan(ctx context.Context, r *RingPlan, from uint64, fn func(Stored)) error
	Close() error
}

// A Pipeliner is a Sink that can have a window on its way to the store
// while the window before is acknowledged, so that neither the store nor
// the reader waits for the other between windows. Publish is Send and
// wait.
type Pipeliner interface {
	Sink
	// Send sends msgs in order and returns a function that waits until
	// every one is acknowledged (sending again what failed) and returns
	// the highest position acknowledged. msgs must stay as they are until
	// it returns.
	Send(ctx context.Context, r *RingPlan, msgs []*Message) (wait func() (pos uint64, err error), err error)
}

// A Checkpointer is a Sink that keeps its own checkpoint in the store,
// committed atomically with each window (Kafka: in the window's
// transaction). Run trusts it over the checkpoint file when it is further
// on: the file is written after the window, so a crash in between leaves
// the file one window behind.
type Checkpointer interface {
	Sink
	// Checkpointed returns the key of the last message and the position
	// of the last window committed for r's ring; ok is false if none.
	Checkpointed(ctx context.Context, r *RingPlan) (done, pos uint64, ok bool, err error)
}
