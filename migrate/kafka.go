package migrate

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
)

// KafkaOptions configure a Kafka sink.
type KafkaOptions struct {
	// TopicPrefix names the topics: PREFIX+STREAM for each itiny stream,
	// shared by all instances (each record carries its scope), and
	// PREFIX+"checkpoints" for the sink's checkpoints. Default "itiny.".
	TopicPrefix string
	// MaxBytes and MaxAge bound a topic the sink creates (retention.bytes
	// and retention.ms); MaxBytes -1 is no limit. MaxBytes 0 maps the ring: room for everything it
	// holds, as Kafka stores it, and a quarter more. MaxAge 0: no limit.
	// Kafka counts retention.ms from each record's timestamp, the record's
	// original wall time: records older than MaxAge would be deleted on
	// arrival, so Prepare refuses a topic that would do that.
	MaxBytes int64
	MaxAge   time.Duration
	// AckTimeout bounds the delivery of a window's records; a window not
	// delivered by then is aborted and sent again, up to Retries times.
	AckTimeout time.Duration
	Retries    int
}

// DefaultTopicPrefix is KafkaOptions.TopicPrefix's default.
const DefaultTopicPrefix = "itiny."

// A Kafka is a sink that produces to Kafka: one topic of one partition per
// itiny stream, each message one record whose key is the message's ID and
// whose timestamp is the record's original wall time.
//
// Each window is one transaction, with the producer's transactional ID
// "itiny-migrate.SCOPE": the window's records and a checkpoint record, keyed
// SCOPE.STREAM, in the compacted topic PREFIX+"checkpoints", are committed
// together or not at all. One ID per scope, not per stream: rings move one
// after the other, and a second itiny-migrate of the same instance, which
// could only duplicate, fences the first. A run that dies mid-transaction
// leaves nothing visible: the next run's producer, same ID, fences it and
// has it aborted before anything is read (Prepare). Readers read committed
// records only, so the store's checkpoint is exact, and the tail scan after
// it finds nothing (Checkpointer).
//
// Positions are Kafka's "next offset": Publish returns the last record's
// offset plus one, and Scan(from) reads from offset from on, so that 0
// reads everything and what a position names is never read again after it.
type Kafka struct {
	name   string
	opts   []kgo.Opt // connection options: seeds, TLS, SASL, timeouts
	o      KafkaOptions
	admin  *kgo.Client
	adm    *kadm.Client
	prod   *kgo.Client // transactional, made by the first Prepare: its ID holds the scope
	scope  string
	txnTTL time.Duration
	topics map[string]*kafkaTopic // by itiny stream
}

type kafkaTopic struct {
	name     string
	dest     string    // name@id, as Prepare returns it
	lastWall time.Time // of the last record sent: a gap marker's timestamp
}

// NewKafka returns a sink for the brokers at seeds, with opts for the
// connection (TLS, SASL, timeouts). It does not connect: Ping does.
func NewKafka(seeds []string, opts []kgo.Opt, o KafkaOptions) (*Kafka, error) {
	if len(seeds) == 0 {
		return nil, errors.New("kafka: no seed broker")
	}
	if o.TopicPrefix == "" {
		o.TopicPrefix = DefaultTopicPrefix
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 10 * time.Second
	}
	if o.Retries <= 0 {
		o.Retries = 3
	}
	// Clipped: each client appends options of its own.
	opts = slices.Clip(append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.ClientID("itiny-migrate")}, opts...))
	admin, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka %s: %w", strings.Join(seeds, ","), err)
	}
	return &Kafka{
		name: "kafka " + strings.Join(seeds, ","), opts: opts, o: o,
		admin: admin, adm: kadm.NewClient(admin),
		// Long enough for a window delivered at the last moment, short
		// enough that an abandoned transaction does not hold back other
		// instances' readers for long.
		txnTTL: max(3*o.AckTimeout, 30*time.Second),
		topics: map[string]*kafkaTopic{},
	}, nil
}

// Name implements Sink.
func (s *Kafka) Name() string { return s.name }

// Close implements Sink.
func (s *Kafka) Close() error {
	if s.prod != nil {
		s.prod.Close()
	}
	s.admin.Close()
	return nil
}

// ErrKafkaAuthRefused is in the chain of a Ping error when the broker
// refused the SASL credentials: trying again cannot help.
var ErrKafkaAuthRefused = errors.New("kafka: SASL credentials refused")

type kafkaAuthRefused struct{ error }

func (e kafkaAuthRefused) Is(target error) bool { return target == ErrKafkaAuthRefused }
func (e kafkaAuthRefused) Unwrap() error        { return e.error }

func (s *Kafka) sasl() bool {
	ms, _ := s.admin.OptValue(kgo.SASL).([]sasl.Mechanism)
	return len(ms) > 0
}

// Ping asks the brokers for their metadata, which needs a connection and,
// with SASL, accepted credentials.
func (s *Kafka) Ping(ctx context.Context) error {
	_, err := s.adm.BrokerMetadata(ctx)
	if err == nil {
		return nil
	}
	var eof *kgo.ErrFirstReadEOF
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.UnsupportedSaslMechanism), errors.Is(err, kerr.IllegalSaslState):
		return kafkaAuthRefused{err}
	case errors.As(err, &eof):
		// kgo's own diagnosis: TLS on one side only, or SASL missing.
	case errors.Is(err, io.EOF) && s.sasl():
		// Some brokers (kfake, old Kafka) hang up on bad credentials.
		return kafkaAuthRefused{fmt.Errorf("connection closed during SASL authentication: %w", err)}
	}
	return err
}

// CheckpointTopic is where the sink keeps its checkpoints.
func (s *Kafka) CheckpointTopic() string { return s.o.TopicPrefix + "checkpoints" }

// Topic is the topic of an itiny stream.
func (s *Kafka) Topic(stream string) string { return s.o.TopicPrefix + stream }

// Prepare implements Sink: it creates the stream's topic and the checkpoint
// topic if missing, and, the first time, starts the transactional producer
// of p's scope, which aborts whatever an earlier run left uncommitted.
func (s *Kafka) Prepare(ctx context.Context, p *Plan, r *RingPlan) (string, error) {
	topic := s.Topic(r.Stream)
	if topic == s.CheckpointTopic() {
		return "", fmt.Errorf("stream %q: its topic %s would be the checkpoint topic (use another topic prefix)", r.Stream, topic)
	}
	if err := s.startProducer(ctx, p.Scope); err != nil {
		return "", err
	}
	if _, err := s.ensureTopic(ctx, s.CheckpointTopic(), map[string]*string{
		"cleanup.policy": kadm.StringPtr("compact"),
	}); err != nil {
		return "", err
	}
	maxBytes := s.o.MaxBytes
	if maxBytes == 0 {
		maxBytes = kafkaMappedBytes(r, p.Scope)
	}
	maxAge := int64(-1)
	if s.o.MaxAge > 0 {
		maxAge = s.o.MaxAge.Milliseconds()
	}
	id, err := s.ensureTopic(ctx, topic, map[string]*string{
		"retention.bytes": kadm.StringPtr(strconv.FormatInt(maxBytes, 10)),
		"retention.ms":    kadm.StringPtr(strconv.FormatInt(maxAge, 10)),
		// The original wall time is the timestamp: not the broker's.
		"message.timestamp.type": kadm.StringPtr("CreateTime"),
	})
	if err != nil {
		return "", err
	}
	if err := s.checkRetention(ctx, topic, r); err != nil {
		return "", err
	}
	t := &kafkaTopic{name: topic, dest: topic + "@" + hex.EncodeToString(id[:])}
	s.topics[r.Stream] = t
	if err := s.makeRoom(ctx, topic, p, r); err != nil {
		return "", err
	}
	return t.dest, nil
}

// startProducer makes the transactional producer of scope and has it
// registered with the coordinator at once: that fences a producer of an
// earlier run and settles its transactions, so that what is read after
// Prepare stays as read.
func (s *Kafka) startProducer(ctx context.Context, scope string) error {
	if s.prod != nil {
		if scope != s.scope {
			return fmt.Errorf("kafka sink of scope %q asked for scope %q: one scope per sink", s.scope, scope)
		}
		return nil
	}
	txid := "itiny-migrate." + scope
	prod, err := kgo.NewClient(append(s.opts,
		kgo.TransactionalID(txid),
		kgo.TransactionTimeout(s.txnTTL),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		// Not RecordDeliveryTimeout: it counts from the record's timestamp,
		// here the original wall time; Publish bounds a window instead.
	)...)
	if err != nil {
		return fmt.Errorf("kafka producer %s: %w", txid, err)
	}
	if _, _, err := prod.ProducerID(ctx); err != nil {
		prod.Close()
		return fmt.Errorf("kafka producer %s: starting its transactions: %w", txid, err)
	}
	s.prod, s.scope = prod, scope
	return nil
}

// ensureTopic creates topic with one partition and configs if missing, and
// returns its ID. An existing topic must have exactly one partition: order
// and positions are per partition.
func (s *Kafka) ensureTopic(ctx context.Context, topic string, configs map[string]*string) (kadm.TopicID, error) {
	for range 2 {
		td, err := s.adm.ListTopics(uncached(ctx), topic)
		if err != nil {
			return kadm.TopicID{}, fmt.Errorf("kafka topic %s: %w", topic, err)
		}
		d, ok := td[topic]
		if ok && d.Err == nil {
			if n := len(d.Partitions); n != 1 {
				return kadm.TopicID{}, fmt.Errorf("kafka topic %s exists with %d partitions: it must have one (records stay in ring order only within a partition)", topic, n)
			}
			return d.ID, nil
		}
		if ok && !errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
			return kadm.TopicID{}, fmt.Errorf("kafka topic %s: %w", topic, d.Err)
		}
		resp, err := s.adm.CreateTopic(ctx, 1, -1, configs, topic)
		switch {
		case err == nil:
			return resp.ID, nil
		case errors.Is(err, kerr.TopicAlreadyExists):
			continue // created meanwhile: look again
		default:
			if resp.ErrMessage != "" {
				err = fmt.Errorf("%w: %s", err, resp.ErrMessage)
			}
			return kadm.TopicID{}, fmt.Errorf("creating kafka topic %s: %w", topic, err)
		}
	}
	return kadm.TopicID{}, fmt.Errorf("kafka topic %s: created, then not found", topic)
}

// uncached has kadm ask the brokers for metadata: its cache would remember
// a topic as missing for seconds after it is created. (Asking for the
// authorized operations is the way kadm offers to bypass it.)
func uncached(ctx context.Context) context.Context { return kadm.WithAuthorizedOps(ctx) }

// kafkaCheckpoint is the value of a checkpoint record.
type kafkaCheckpoint struct {
	Ring  string `json:"ring"`
	Topic string `json:"topic"` // the topic's name@id: a topic made again starts over
	Done  uint64 `json:"done"`  // Message.Key of the window's last message
	Pos   uint64 `json:"pos"`   // its offset plus one
}

func (s *Kafka) checkpointKey(stream string) []byte { return []byte(s.scope + "." + stream) }

// Publish implements Sink: the window and its checkpoint are one
// transaction. A window that fails before its commit is aborted and sent
// again, at most Retries times; a failed commit is not retried, as it may
// have been done: the next run reads what was.
func (s *Kafka) Publish(ctx context.Context, r *RingPlan, msgs []*Message) (uint64, error) {
	t := s.topics[r.Stream]
	if t == nil {
		return 0, errors.New("publish before Prepare")
	}
	if len(msgs) == 0 {
		return 0, errors.New("publish of no message")
	}
	pause := 250 * time.Millisecond
	for attempt := 0; ; attempt++ {
		pos, retry, err := s.transact(ctx, t, r, msgs)
		if err == nil {
			return pos, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if !retry || attempt >= s.o.Retries {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// transact sends msgs and their checkpoint in one transaction; retry says
// whether it was aborted for sure and may be tried again.
func (s *Kafka) transact(ctx context.Context, t *kafkaTopic, r *RingPlan, msgs []*Message) (pos uint64, retry bool, err error) {
	if err := s.prod.BeginTransaction(); err != nil {
		return 0, false, fmt.Errorf("kafka transaction: %w", err)
	}
	recs, lastWall := s.records(t, r, msgs)
	pctx, cancel := context.WithTimeout(ctx, s.o.AckTimeout)
	defer cancel()
	if err := s.prod.ProduceSync(pctx, recs...).FirstErr(); err != nil {
		return 0, s.abort(err), s.fenced(fmt.Errorf("producing to %s, the window from %s: %w", t.name, msgs[0].ID, err))
	}
	last := recs[len(recs)-1].Offset
	ck, _ := json.Marshal(kafkaCheckpoint{Ring: r.RingID(), Topic: t.dest, Done: msgs[len(msgs)-1].Key(), Pos: uint64(last) + 1})
	rec := &kgo.Record{Topic: s.CheckpointTopic(), Key: s.checkpointKey(r.Stream), Value: ck}
	if err := s.prod.ProduceSync(pctx, rec).FirstErr(); err != nil {
		return 0, s.abort(err), s.fenced(fmt.Errorf("producing the checkpoint to %s: %w", s.CheckpointTopic(), err))
	}
	if err := s.prod.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return 0, false, s.fenced(fmt.Errorf("committing the window from %s to %s (it may be committed: the next run finds out): %w", msgs[0].ID, t.name, err))
	}
	t.lastWall = lastWall
	return uint64(last) + 1, false, nil
}

// fenced says who stopped a producer that another took over from.
func (s *Kafka) fenced(err error) error {
	if errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) {
		return fmt.Errorf("another itiny-migrate of scope %s took over (transactional id itiny-migrate.%s): %w", s.scope, s.scope, err)
	}
	return err
}

// abort ends the open transaction, undone; it reports whether it was, and
// the failure that caused it may be retried. One left open is aborted by
// the next producer of the scope, or by the broker after its timeout.
func (s *Kafka) abort(cause error) bool {
	ctx, cancel := context.WithTimeout(context.Background(), s.o.AckTimeout)
	defer cancel()
	if err := s.prod.AbortBufferedRecords(ctx); err != nil {
		return false
	}
	if err := s.prod.EndTransaction(ctx, kgo.TryAbort); err != nil {
		return false
	}
	return !errors.Is(cause, context.Canceled) && !errors.Is(cause, kgo.ErrClientClosed) &&
		!errors.Is(cause, kerr.ProducerFenced) && !errors.Is(cause, kerr.InvalidProducerEpoch) &&
		!errors.Is(cause, kerr.TransactionalIDAuthorizationFailed) && !errors.Is(cause, kerr.TopicAuthorizationFailed) &&
		!errors.Is(cause, kerr.ClusterAuthorizationFailed) && !errors.Is(cause, kerr.SaslAuthenticationFailed)
}

// records makes the Kafka records of msgs. A record's timestamp is its
// original wall time, in milliseconds. A gap marker, or a record that did
// not decode, has none: it takes the wall time of the record sent before
// it, else of the record after it in the window, else 1 ms after the Unix
// epoch. Never the time of migration: Kafka's retention counts from the
// timestamp, and a marker must not outlive, nor die before, its neighbours.
func (s *Kafka) records(t *kafkaTopic, r *RingPlan, msgs []*Message) ([]*kgo.Record, time.Time) {
	recs := make([]*kgo.Record, len(msgs))
	prev := t.lastWall
	var text HeaderText
	text.Reserve(len(msgs))
	for i, m := range msgs {
		rec := &kgo.Record{Topic: t.name, Key: []byte(m.ID), Value: m.Payload, Headers: make([]kgo.RecordHeader, 0, maxHeaders+1)}
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: HeaderScope, Value: []byte(s.scope)})
		m.Headers(&text, func(k, v string) { rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)}) })
		wall := m.Wall
		if !validStamp(wall) {
			wall = prev
			for j := i + 1; !validStamp(wall) && j < len(msgs); j++ {
				wall = msgs[j].Wall
			}
			if !validStamp(wall) {
				wall = time.UnixMilli(1)
			}
		} else {
			prev = wall
		}
		rec.Timestamp = wall
		recs[i] = rec
	}
	return recs, prev
}

// validStamp: Kafka timestamps are milliseconds since the epoch, and
// negative ones mean none.
func validStamp(t time.Time) bool { return t.UnixMilli() > 0 }

// Checkpointed implements Checkpointer: the last checkpoint committed for
// r's stream and scope, if it is of r's ring and of the topic as it is now.
func (s *Kafka) Checkpointed(ctx context.Context, r *RingPlan) (done, pos uint64, ok bool, err error) {
	t := s.topics[r.Stream]
	if t == nil {
		return 0, 0, false, errors.New("checkpoint read before Prepare")
	}
	key := string(s.checkpointKey(r.Stream))
	var last []byte
	// The topic is compacted: about one record per instance and stream.
	err = s.read(ctx, s.CheckpointTopic(), 0, func(rec *kgo.Record) {
		if string(rec.Key) == key {
			last = rec.Value
		}
	})
	if err != nil || last == nil {
		return 0, 0, false, err
	}
	var ck kafkaCheckpoint
	if err := json.Unmarshal(last, &ck); err != nil {
		return 0, 0, false, fmt.Errorf("checkpoint %s in %s: %w", key, s.CheckpointTopic(), err)
	}
	if ck.Ring != r.RingID() || ck.Topic != t.dest {
		return 0, 0, false, nil
	}
	return ck.Done, ck.Pos, true, nil
}

// Scan implements Sink: it reads the stream's topic from offset from to the
// end it has when the scan starts, committed records only, and calls fn
// with each message of r's ring and of the scope Prepare was given (the
// topic is shared by all instances). A Stored's Pos is its offset plus one.
func (s *Kafka) Scan(ctx context.Context, r *RingPlan, from uint64, fn func(Stored)) error {
	topic := s.Topic(r.Stream) // verifying only, it need not be prepared
	ring := r.RingID()
	return s.read(ctx, topic, int64(from), func(rec *kgo.Record) {
		get := func(k string) string {
			for _, h := range rec.Headers {
				if h.Key == k {
					return string(h.Value)
				}
			}
			return ""
		}
		if get(HeaderScope) != r.Scope {
			return
		}
		if st, ok := storedOf(string(rec.Key), get, ring); ok {
			st.Pos = uint64(rec.Offset) + 1
			fn(st)
		}
	})
}

// read calls fn with each committed data record of partition 0 of topic,
// from offset from up to the high watermark read first.
//
// A read-committed fetch stops at the last stable offset, so the end to
// wait for is the high watermark: every record below it is then decided,
// committed or aborted, and no transaction settled before the read began is
// missed. Control records are kept: they are how the reader knows it got to
// the end when the log ends in a commit marker, or in an aborted batch,
// whose abort marker then lies at or past the end.
func (s *Kafka) read(ctx context.Context, topic string, from int64, fn func(*kgo.Record)) error {
	ends, err := s.adm.ListEndOffsets(uncached(ctx), topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("kafka topic %s: %w", topic, err)
	}
	lo, ok := ends.Lookup(topic, 0)
	if !ok {
		return fmt.Errorf("kafka topic %s: no partition 0", topic)
	}
	end := lo.Offset
	if end <= from {
		return nil
	}
	cl, err := kgo.NewClient(append(s.opts,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(from)}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return fmt.Errorf("kafka topic %s: %w", topic, err)
	}
	defer cl.Close()
	// An open transaction of another instance holds the readable end
	// back at most until the broker aborts it.
	stall := s.txnTTL + s.o.AckTimeout
	at := from
	for {
		pctx, cancel := context.WithTimeout(ctx, stall)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return err
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) {
			if ferr == nil {
				ferr = err
			}
		})
		if errors.Is(ferr, context.DeadlineExceeded) {
			return fmt.Errorf("reading kafka topic %s: stalled at offset %d of %d for %v (a transaction left open?)", topic, at, end, stall)
		}
		if ferr != nil {
			return fmt.Errorf("reading kafka topic %s at offset %d: %w", topic, at, ferr)
		}
		done := false
		fs.EachRecord(func(rec *kgo.Record) {
			if done {
				return
			}
			at = rec.Offset + 1
			if rec.Offset < end && !rec.Attrs.IsControl() {
				fn(rec)
			}
			done = rec.Offset >= end-1
		})
		if done {
			return nil
		}
	}
}
