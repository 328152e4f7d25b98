package migrate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStreamOptions configure a JetStream sink.
type JetStreamOptions struct {
	// StreamName makes the JetStream stream's name of an itiny stream:
	// "ITINY_{STREAM}" by default, one stream per itiny stream shared by
	// all instances, each on its own subject. A name with {SCOPE} gives
	// each instance streams of its own.
	StreamName string
	// MaxBytes and MaxAge bound a stream the sink creates. MaxBytes 0
	// maps the ring: room for everything it holds, in the store's
	// encoding, and a quarter more; -1 is no limit (a forwarder's). MaxAge
	// 0: no limit.
	MaxBytes int64
	MaxAge   time.Duration
	Replicas int // of a stream the sink creates; 0 means 1
	// AckTimeout bounds the wait for a window's acknowledgements; a
	// message not acknowledged by then is sent again, up to Retries
	// times (its Msg-Id makes that safe).
	AckTimeout time.Duration
	Retries    int
}

// DefaultStreamName is JetStreamOptions.StreamName's default.
const DefaultStreamName = "ITINY_{STREAM}"

// A JetStream is a sink that publishes to NATS JetStream, on subjects
// itiny.SCOPE.STREAM, with Nats-Msg-Id set to the message's ID.
type JetStream struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	o       JetStreamOptions
	streams map[string]jetstream.Stream // by itiny stream
	subject map[string]string

	mu    sync.Mutex        // guards acked: a window is waited for while the next is sent
	acked map[string]uint64 // by itiny stream: the highest position acknowledged
}

// NewJetStream returns a sink publishing over nc, which it closes on Close.
func NewJetStream(nc *nats.Conn, o JetStreamOptions) (*JetStream, error) {
	if o.StreamName == "" {
		o.StreamName = DefaultStreamName
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 10 * time.Second
	}
	if o.Retries <= 0 {
		o.Retries = 3
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(1<<20))
	if err != nil {
		return nil, err
	}
	return &JetStream{nc: nc, js: js, o: o, streams: map[string]jetstream.Stream{}, subject: map[string]string{}, acked: map[string]uint64{}}, nil
}

// Name implements Sink.
func (s *JetStream) Name() string { return "jetstream " + s.nc.ConnectedUrlRedacted() }

// Close implements Sink.
func (s *JetStream) Close() error {
	s.nc.Close()
	return nil
}

// Subject is where the records of stream go for scope.
func Subject(scope, stream string) string { return "itiny." + scope + "." + stream }

func (s *JetStream) streamName(scope, stream string) string {
	// A JetStream stream's name may not have a dot, an itiny stream's may
	// (a rollup tier: metrics.1h becomes ITINY_METRICS_1H).
	stream = strings.ReplaceAll(stream, ".", "_")
	n := strings.ReplaceAll(s.o.StreamName, "{STREAM}", strings.ToUpper(stream))
	return strings.ReplaceAll(n, "{SCOPE}", scope)
}

// Prepare implements Sink: it creates the JetStream stream if missing.
func (s *JetStream) Prepare(ctx context.Context, p *Plan, r *RingPlan) (string, error) {
	name := s.streamName(p.Scope, r.Stream)
	subj := Subject(p.Scope, r.Stream)
	st, err := s.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		cfg := jetstream.StreamConfig{
			Name:        name,
			Description: "itiny stream " + r.Stream + ", migrated from device rings",
			Subjects:    []string{"itiny.*." + r.Stream},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Discard:     jetstream.DiscardOld,
			MaxBytes:    s.o.MaxBytes,
			MaxAge:      s.o.MaxAge,
			Replicas:    max(s.o.Replicas, 1),
		}
		if strings.Contains(s.o.StreamName, "{SCOPE}") {
			cfg.Subjects = []string{subj}
		}
		if cfg.MaxBytes == 0 {
			cfg.MaxBytes = mappedBytes(r, subj)
		}
		st, err = s.js.CreateStream(ctx, cfg)
	}
	if err != nil {
		return "", fmt.Errorf("jetstream stream %s: %w", name, err)
	}
	info := st.CachedInfo()
	if !takes(info.Config.Subjects, subj) {
		return "", fmt.Errorf("jetstream stream %s exists but does not take subject %s (its subjects: %s)", name, subj, strings.Join(info.Config.Subjects, " "))
	}
	if _, err := s.makeRoom(ctx, st, r, subj, true); err != nil {
		return "", err
	}
	s.streams[r.Stream], s.subject[r.Stream] = st, subj
	return name + "@" + info.Created.UTC().Format(time.RFC3339Nano), nil
}

// ErrNoRoom is wrapped by the error of a store that cannot take a ring's
// history without discarding records it holds, this device's or
// another's: nothing is sent.
var ErrNoRoom = errors.New("the store cannot hold the history")

// makeRoom sees that st can take what r will add to it on subj without
// discarding a record, its own or another instance's: a stream shared by
// every instance (the default) holds all their histories at once. A
// stream the sink created without --max-bytes grows by what r needs; one
// with limits given, or made by someone else, too small is refused with
// what it would need.
//
// With grow false it changes nothing, and says what it would do (Room).
func (s *JetStream) makeRoom(ctx context.Context, st jetstream.Stream, r *RingPlan, subj string, grow bool) (string, error) {
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return "", fmt.Errorf("jetstream stream %s: %w", st.CachedInfo().Config.Name, err)
	}
	cfg := info.Config
	ours := strings.HasPrefix(cfg.Description, "itiny stream ")
	if s.o.MaxBytes < 0 {
		return s.unlimit(ctx, cfg, ours, grow)
	}
	// What r adds: its messages not stored yet on subj (a resume has sent
	// some), at the size the store gives them.
	stored := info.State.Subjects[subj]
	msgs := r.Messages() - min(stored, r.Messages())
	bytes := storeBytes(r, subj)
	if r.Messages() > 0 {
		bytes = bytes / int64(r.Messages()) * int64(msgs)
	}
	roomBytes := cfg.MaxBytes < 0 || cfg.MaxBytes-int64(info.State.Bytes) >= bytes
	roomMsgs := cfg.MaxMsgs < 0 || cfg.MaxMsgs-int64(info.State.Msgs) >= int64(msgs)
	perSubject := cfg.MaxMsgsPerSubject < 0 || cfg.MaxMsgsPerSubject >= int64(r.Messages())
	if roomBytes && roomMsgs && perSubject || cfg.Discard == jetstream.DiscardNew {
		// DiscardNew refuses what does not fit: Publish fails, nothing is lost.
		return fmt.Sprintf("jetstream stream %s has room for %d more messages, about %d bytes", cfg.Name, msgs, bytes), nil
	}
	if ours = ours && s.o.MaxBytes == 0; !ours || !perSubject {
		return "", fmt.Errorf("%w: jetstream stream %s holds %d messages, %d bytes, within max_msgs %d, max_bytes %d, max_msgs_per_subject %d (discard old); "+
			"scope %s's %s needs room for %d more messages, about %d bytes, or older records would be discarded: raise its limits, or give each device streams of its own (--stream-name 'ITINY_{SCOPE}_{STREAM}')",
			ErrNoRoom, cfg.Name, info.State.Msgs, info.State.Bytes, cfg.MaxMsgs, cfg.MaxBytes, cfg.MaxMsgsPerSubject, r.Scope, r.Stream, msgs, bytes)
	}
	// Grown on top of what it may hold already: another instance may be
	// migrating into it now, into room it counted on.
	if !roomBytes {
		cfg.MaxBytes = max(cfg.MaxBytes, int64(info.State.Bytes)) + bytes + bytes/4
	}
	if !roomMsgs {
		cfg.MaxMsgs = max(cfg.MaxMsgs, int64(info.State.Msgs)) + int64(msgs) + int64(msgs)/4
	}
	did := fmt.Sprintf("jetstream stream %s grows from max_bytes %d, max_msgs %d to %d, %d for %d more messages, about %d bytes",
		cfg.Name, info.Config.MaxBytes, info.Config.MaxMsgs, cfg.MaxBytes, cfg.MaxMsgs, msgs, bytes)
	if !grow {
		return did, nil
	}
	if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
		return "", fmt.Errorf("%w: jetstream stream %s holds %d bytes and %s's %s needs about %d more; growing max_bytes from %d to %d was refused: %v",
			ErrNoRoom, cfg.Name, info.State.Bytes, r.Scope, r.Stream, bytes, info.Config.MaxBytes, cfg.MaxBytes, err)
	}
	return did, nil
}

// unlimit sees that a stream a forwarder follows into (MaxBytes -1) has no
// limit that discards old messages: checked once, its room would run out
// as the device forwards, and the oldest records of every device in it
// would go. A stream the sink made, sized for a one-shot run, loses its
// limits; another is refused.
func (s *JetStream) unlimit(ctx context.Context, cfg jetstream.StreamConfig, ours, grow bool) (string, error) {
	if cfg.MaxBytes < 0 && cfg.MaxMsgs < 0 && cfg.MaxMsgsPerSubject < 0 || cfg.Discard == jetstream.DiscardNew {
		return "jetstream stream " + cfg.Name + " has no size limit", nil
	}
	if !ours {
		return "", fmt.Errorf("%w: jetstream stream %s discards its oldest messages past max_bytes %d, max_msgs %d, max_msgs_per_subject %d: "+
			"following into it, the oldest records of every device in it would go as this one forwards; lift those limits (max_age is fine), or give each device streams of its own (--stream-name 'ITINY_{SCOPE}_{STREAM}')",
			ErrNoRoom, cfg.Name, cfg.MaxBytes, cfg.MaxMsgs, cfg.MaxMsgsPerSubject)
	}
	did := fmt.Sprintf("jetstream stream %s loses its limits (max_bytes %d, max_msgs %d) for following", cfg.Name, cfg.MaxBytes, cfg.MaxMsgs)
	if !grow {
		return did, nil
	}
	cfg.MaxBytes, cfg.MaxMsgs, cfg.MaxMsgsPerSubject = -1, -1, -1
	if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
		return "", fmt.Errorf("%w: jetstream stream %s: lifting its size limits for following was refused: %v", ErrNoRoom, cfg.Name, err)
	}
	return did, nil
}

// Room implements RoomChecker: what Prepare would find of the room for r,
// changing nothing.
func (s *JetStream) Room(ctx context.Context, p *Plan, r *RingPlan) (string, error) {
	name, subj := s.streamName(p.Scope, r.Stream), Subject(p.Scope, r.Stream)
	st, err := s.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		size := "max_bytes " + strconv.FormatInt(mappedBytes(r, subj), 10)
		switch {
		case s.o.MaxBytes < 0:
			size = "no size limit"
		case s.o.MaxBytes > 0:
			size = "max_bytes " + strconv.FormatInt(s.o.MaxBytes, 10)
			if s.o.MaxBytes < storeBytes(r, subj) {
				return "", fmt.Errorf("%w: --max-bytes %d, and scope %s's %s needs about %d bytes", ErrNoRoom, s.o.MaxBytes, p.Scope, r.Stream, storeBytes(r, subj))
			}
		}
		return "jetstream stream " + name + " will be made, " + size, nil
	}
	if err != nil {
		return "", fmt.Errorf("jetstream stream %s: %w", name, err)
	}
	if !takes(st.CachedInfo().Config.Subjects, subj) {
		return "", fmt.Errorf("jetstream stream %s exists but does not take subject %s", name, subj)
	}
	return s.makeRoom(ctx, st, r, subj, false)
}

// mappedBytes is the room r's records take in a JetStream file store, and a
// quarter more: per message a 22-byte record header, the subject, the
// headers, the payload and an 8-byte hash.
func mappedBytes(r *RingPlan, subj string) int64 {
	need := storeBytes(r, subj)
	return max(need+need/4, 1<<20)
}

// storeBytes is the room r's records take in a JetStream file store.
func storeBytes(r *RingPlan, subj string) int64 {
	// The headers Message.Headers sets and Nats-Msg-Id, with their
	// encoding: 249 bytes a record measured (TestMappedBytes), rounded up.
	const headers = 256
	per := int64(22 + len(subj) + headers + 8)
	return r.Bytes + int64(r.Messages())*per
}

// takes reports whether one of the subject filters matches subj.
func takes(filters []string, subj string) bool {
	for _, f := range filters {
		if subjectMatch(f, subj) {
			return true
		}
	}
	return false
}

func subjectMatch(filter, subj string) bool {
	ft, st := strings.Split(filter, "."), strings.Split(subj, ".")
	for i, t := range ft {
		if t == ">" {
			return i < len(st)
		}
		if i >= len(st) || (t != "*" && t != st[i]) {
			return false
		}
	}
	return len(ft) == len(st)
}

// Publish implements Sink: every message of the window goes out
// asynchronously; those not acknowledged in time are sent again.
func (s *JetStream) Publish(ctx context.Context, r *RingPlan, msgs []*Message) (uint64, error) {
	wait, err := s.Send(ctx, r, msgs)
	if err != nil {
		return 0, err
	}
	return wait()
}

// Send implements Pipeliner.
func (s *JetStream) Send(ctx context.Context, r *RingPlan, msgs []*Message) (func() (uint64, error), error) {
	subj := s.subject[r.Stream]
	s.mu.Lock()
	base := s.acked[r.Stream] // every message of msgs will be stored after it
	s.mu.Unlock()
	futs, sendErr := s.send(subj, msgs)
	return func() (uint64, error) {
		last, err := s.wait(ctx, r, base, msgs, futs, sendErr)
		if err == nil {
			s.mu.Lock()
			s.acked[r.Stream] = max(s.acked[r.Stream], last)
			s.mu.Unlock()
		}
		return last, err
	}, nil
}

// send publishes msgs asynchronously. The header values of a window share
// one array: a slice per value was a tenth of the client's allocations.
// Messages it could not hand to the client (the connection broke) have no
// future, and the error says why: wait sends them again.
func (s *JetStream) send(subj string, msgs []*Message) ([]jetstream.PubAckFuture, error) {
	futs := make([]jetstream.PubAckFuture, len(msgs))
	vals := make([]string, 0, len(msgs)*(maxHeaders+1))
	var text HeaderText
	text.Reserve(len(msgs))
	for i, m := range msgs {
		nm := &nats.Msg{Subject: subj, Data: m.Payload, Header: make(nats.Header, maxHeaders+1)}
		vals = append(vals, m.ID)
		nm.Header[jetstream.MsgIDHeader] = vals[len(vals)-1:]
		m.Headers(&text, func(k, v string) {
			vals = append(vals, v)
			nm.Header[k] = vals[len(vals)-1:]
		})
		f, err := s.js.PublishMsgAsync(nm)
		if err != nil {
			return futs, fmt.Errorf("publishing %s: %w", m.ID, err)
		}
		futs[i] = f
	}
	return futs, nil
}

// wait waits for the acknowledgements of msgs, sent with futures futs
// after position base, and sends again those not stored, up to
// s.o.Retries times. What to send again is what the store does not hold:
// a message whose acknowledgement was lost (the server restarted, the
// connection broke) may be stored, and its Msg-Id is forgotten once the
// stream's duplicate window has passed, so the store is scanned after
// base first, as a resume scans it.
func (s *JetStream) wait(ctx context.Context, r *RingPlan, base uint64, msgs []*Message, futs []jetstream.PubAckFuture, sendErr error) (uint64, error) {
	subj := s.subject[r.Stream]
	pending := msgs
	var last uint64
	for attempt := 0; ; attempt++ {
		var failed []*Message
		firstErr := sendErr
		timer := time.NewTimer(s.o.AckTimeout)
	wait:
		for i, f := range futs {
			if f == nil { // never handed to the client
				failed = append(failed, pending[i:]...)
				break
			}
			select {
			case ack := <-f.Ok():
				last = max(last, ack.Sequence)
			case err := <-f.Err():
				failed = append(failed, pending[i])
				if firstErr == nil {
					firstErr = err
				}
			case <-timer.C:
				// Everything not acknowledged yet goes again.
				failed = append(failed, pending[i:]...)
				if firstErr == nil {
					firstErr = fmt.Errorf("no acknowledgement in %v", s.o.AckTimeout)
				}
				break wait
			case <-ctx.Done():
				timer.Stop()
				return 0, ctx.Err()
			}
		}
		timer.Stop()
		if len(failed) == 0 {
			return last, nil
		}
		if attempt >= s.o.Retries {
			return 0, fmt.Errorf("%d messages not stored after %d attempts, first %s: %w", len(failed), attempt+1, failed[0].ID, firstErr)
		}
		if !s.nc.IsConnected() {
			if err := s.waitConnected(ctx); err != nil {
				return 0, err
			}
		}
		failed, pos, err := s.unstored(ctx, r, base, failed)
		if err != nil {
			return 0, fmt.Errorf("%d messages not acknowledged, first %s (%v), and the store could not be read to see which it holds: %w", len(failed), failed[0].ID, firstErr, err)
		}
		last = max(last, pos)
		if len(failed) == 0 {
			return last, nil
		}
		pending = failed
		futs, sendErr = s.send(subj, pending)
	}
}

// ackedTo notes that the store holds every message of stream's ring up to
// position pos that it will be asked about (a checkpoint's).
func (s *JetStream) ackedTo(stream string, pos uint64) {
	s.mu.Lock()
	s.acked[stream] = max(s.acked[stream], pos)
	s.mu.Unlock()
}

// unstored returns the messages of failed the store does not hold after
// position base, and the highest position of those it holds. A store
// that is not ready yet after a restart is read again, a few times.
func (s *JetStream) unstored(ctx context.Context, r *RingPlan, base uint64, failed []*Message) ([]*Message, uint64, error) {
	want := make(map[uint64]bool, len(failed))
	for _, m := range failed {
		want[m.Key()] = true
	}
	var err error
	for try := 0; try <= s.o.Retries; try++ {
		if try > 0 {
			select {
			case <-ctx.Done():
				return failed, 0, ctx.Err()
			case <-time.After(time.Duration(try) * 250 * time.Millisecond):
			}
		}
		held := map[uint64]bool{}
		var pos uint64
		err = s.Scan(ctx, r, base, func(st Stored) {
			m := Message{Kind: st.Kind, Seq: st.Seq, Gap: st.Gap}
			if want[m.Key()] {
				held[m.Key()] = true
				pos = max(pos, st.Pos)
			}
		})
		if err == nil {
			left := failed[:0:0]
			for _, m := range failed {
				if !held[m.Key()] {
					left = append(left, m)
				}
			}
			return left, pos, nil
		}
	}
	return failed, 0, err
}

// waitConnected waits for the connection to come back, as long as the
// client keeps reconnecting.
func (s *JetStream) waitConnected(ctx context.Context) error {
	for !s.nc.IsConnected() {
		if s.nc.IsClosed() {
			return fmt.Errorf("connection to %s closed: %v", s.nc.ConnectedUrlRedacted(), s.nc.LastError())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// Scan implements Sink: an ordered consumer reads the headers of the
// stream's messages on the ring's subject after sequence from.
func (s *JetStream) Scan(ctx context.Context, r *RingPlan, from uint64, fn func(Stored)) error {
	st := s.streams[r.Stream]
	if st == nil { // verifying only: find the stream, create nothing
		name := s.streamName(r.Scope, r.Stream)
		var err error
		if st, err = s.js.Stream(ctx, name); err != nil {
			return fmt.Errorf("jetstream stream %s: %w", name, err)
		}
		s.streams[r.Stream], s.subject[r.Stream] = st, Subject(r.Scope, r.Stream)
	}
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{s.subject[r.Stream]},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		HeadersOnly:    true,
	}
	if from > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from+1
	}
	// No consumer for an empty tail: a consumer left on the stream while
	// the windows go out costs the server work for every message (10% of
	// the rate, bench/migrate.sh), so the one made is deleted after.
	si, err := st.Info(ctx)
	if err != nil {
		return err
	}
	if si.State.LastSeq <= from {
		return nil
	}
	cons, err := st.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		st.DeleteConsumer(dctx, cons.CachedInfo().Name)
		cancel()
	}()
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	if info.NumPending == 0 {
		return nil
	}
	ring := r.RingID()
	for {
		batch, err := cons.Fetch(4096, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return err
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			md, err := msg.Metadata()
			if err != nil {
				return err
			}
			h := msg.Headers()
			if stored, ok := storedOf(h.Get(jetstream.MsgIDHeader), h.Get, ring); ok {
				stored.Pos = md.Sequence.Stream
				fn(stored)
			}
			if md.NumPending == 0 {
				return nil
			}
		}
		if err := batch.Error(); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("scan stalled: no message in 5s with %d still pending", info.NumPending)
		}
	}
}
