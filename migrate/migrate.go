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
	"unsafe"

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

// keyThrough returns the number a checkpoint's key k reaches: a record's
// own, or the last of a marker's gap.
func keyThrough(k uint64) uint64 { return k / 2 }

// Header names, shared by the sinks. A message's ring and number are in
// its ID (ParseID), not in headers of their own: fewer headers made
// JetStream take 1.2x more messages a second (docs/BENCHMARKS.md section 6). Values are decimal numbers, RFC 3339
// times in UTC with nanoseconds, hexadecimal ids and syslog level names.
const (
	HeaderTime     = "Itiny-Time"      // the record's wall time: the store stamps its own
	HeaderBoot     = "Itiny-Boot"      // the agent's boot counter
	HeaderBootID   = "Itiny-Boot-Id"   // the boot's id (32 hex digits)
	HeaderLevel    = "Itiny-Level"     // syslog level name
	HeaderName     = "Itiny-Name"      // the record's name
	HeaderCodec    = "Itiny-Codec"     // msgpack or json: the payload's encoding
	HeaderGap      = "Itiny-Gap"       // on a marker: FROM-TO, the numbers missing
	HeaderGapCause = "Itiny-Gap-Cause" // on a marker: why they are missing
	HeaderGapLoss  = "Itiny-Gap-Loss"  // on a marker: skipped, lost or possibly lost
	HeaderGapLost  = "Itiny-Gap-Lost"  // on a marker: records lost, exactly or at most
	HeaderBad      = "Itiny-Undecoded" // on a record that did not decode: why
	// HeaderScope names the instance on Kafka records: topics are shared
	// by all instances, and unlike a NATS subject a topic does not say.
	HeaderScope = "Itiny-Scope"
)

// maxHeaders is the most headers Message.Headers gives.
const maxHeaders = 6

// Headers calls add with each header of m, in a fixed order. The values
// are made by t, which may be shared by the messages of a window.
func (m *Message) Headers(t *HeaderText, add func(k, v string)) {
	if m.Kind == KindGap {
		add(HeaderGap, u64(m.Gap.From)+"-"+u64(m.Gap.To))
		add(HeaderGapCause, ascii(m.Gap.Cause))
		add(HeaderGapLoss, string(m.Gap.Loss))
		add(HeaderGapLost, u64(m.Gap.Lost))
		return
	}
	add(HeaderCodec, m.Codec.String())
	if m.Bad != "" {
		add(HeaderBad, ascii(m.Bad))
		return
	}
	add(HeaderTime, t.time(m.Wall))
	if m.Boot != t.boot || m.BootID != t.bootID || t.boots == "" {
		t.boot, t.bootID = m.Boot, m.BootID
		t.boots, t.bootIDs = u64(uint64(m.Boot)), hexID(m.BootID)
	}
	add(HeaderBoot, t.boots)
	add(HeaderBootID, t.bootIDs)
	add(HeaderLevel, m.Level.String())
	add(HeaderName, ascii(m.Name))
}

// ascii returns s with every byte outside printable ASCII as '?': header
// values are ASCII (docs/FORMAT.md section 10), and a record's name or a
// note's cause comes from whoever wrote the record.
func ascii(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] < 0x20 || b[j] > 0x7e {
					b[j] = '?'
				}
			}
			return string(b)
		}
	}
	return s
}

// A HeaderText makes the header values of a run of messages: it keeps the
// strings of the last boot, which consecutive records share, and formats
// times into one buffer that it grows a window at a time, instead of a
// string each (headers were a fifth of the client's work, BENCHMARKS 6).
// The zero HeaderText is ready to use.
type HeaderText struct {
	boot    uint32
	bootID  codec.BootID
	boots   string
	bootIDs string
	buf     []byte // of times; never written again once a string refers to it
}

// Reserve makes room for the times of n more messages in one allocation.
func (t *HeaderText) Reserve(n int) {
	const timeLen = len("2006-01-02T15:04:05.999999999Z")
	if cap(t.buf)-len(t.buf) < n*timeLen {
		t.buf = make([]byte, 0, n*timeLen)
	}
}

func (t *HeaderText) time(w time.Time) string {
	start := len(t.buf)
	t.buf = w.UTC().AppendFormat(t.buf, time.RFC3339Nano)
	return unsafe.String(&t.buf[start], len(t.buf)-start)
}

// An ID is a message's identity, SCOPE.RING.STREAM.SEQ for a record and
// SCOPE.RING.STREAM.gap.FROM-TO for a gap marker (docs/FORMAT.md section
// 10), parsed.
type ID struct {
	Scope, Ring, Stream string
	Kind                Kind
	Seq                 uint64 // KindRecord
	From, To            uint64 // KindGap
}

// ParseID parses a message's ID; ok is false if it is not one itiny
// writes. A scope has no dot and a ring is 32 hex digits, so the stream's
// name, which may hold dots, is what lies between them and the number.
func ParseID(s string) (id ID, ok bool) {
	scope, rest, ok := strings.Cut(s, ".")
	if !ok || ValidScope(scope) != nil || len(rest) < 33 || rest[32] != '.' || !lowerHex(rest[:32]) {
		return ID{}, false
	}
	id.Scope, id.Ring, rest = scope, rest[:32], rest[33:]
	dot := strings.LastIndexByte(rest, '.')
	if dot <= 0 {
		return ID{}, false
	}
	id.Stream, rest = rest[:dot], rest[dot+1:]
	if from, to, gap := strings.Cut(rest, "-"); gap {
		stream, ok := strings.CutSuffix(id.Stream, ".gap")
		f, ok1 := number(from)
		t, ok2 := number(to)
		if !ok || !codec.ValidStream(stream) || !ok1 || !ok2 || f > t {
			return ID{}, false
		}
		id.Stream, id.Kind, id.From, id.To = stream, KindGap, f, t
		return id, true
	}
	seq, ok := number(rest)
	if !ok || !codec.ValidStream(id.Stream) {
		return ID{}, false
	}
	id.Seq = seq
	return id, true
}

// number parses a record number as itiny writes one: decimal, at least 1,
// without leading zeros.
func number(s string) (uint64, bool) {
	if s == "" || s[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// storedOf reads what a message is from its ID and headers (get returns
// one by name, "" if missing); ok is false for a message of another ring,
// or one itiny did not write.
func storedOf(msgID string, get func(string) string, ring string) (Stored, bool) {
	id, ok := ParseID(msgID)
	if !ok || id.Ring != ring {
		return Stored{}, false
	}
	if id.Kind == KindGap {
		st := Stored{Kind: KindGap}
		st.Gap.From, st.Gap.To, st.Gap.Cause = id.From, id.To, get(HeaderGapCause)
		st.Gap.Loss = view.Loss(get(HeaderGapLoss))
		st.Gap.Lost, _ = strconv.ParseUint(get(HeaderGapLost), 10, 64)
		return st, true
	}
	return Stored{Kind: KindRecord, Seq: id.Seq}, true
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

// A RoomChecker is a Sink that can say, changing nothing, whether the
// destination of a ring can take it without discarding records (what
// Prepare would find, or do to make room), for a dry run.
type RoomChecker interface {
	Room(ctx context.Context, p *Plan, r *RingPlan) (string, error)
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
