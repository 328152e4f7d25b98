package migrate

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// The limits of a Kafka topic against the ring it will hold: retention
// that would delete records on arrival, and room for every instance's
// history in a shared topic.

// checkRetention refuses a topic that would delete r's oldest records on
// arrival: Kafka counts retention.ms from the record's timestamp, here the
// record's original wall time.
func (s *Kafka) checkRetention(ctx context.Context, topic string, r *RingPlan) error {
	if r.Oldest.IsZero() {
		return nil
	}
	cfg, err := s.topicConfig(ctx, topic)
	if err != nil {
		return err
	}
	if cfg["message.timestamp.type"] == "LogAppendTime" {
		return nil // retention counts from arrival
	}
	ms, err := strconv.ParseInt(cfg["retention.ms"], 10, 64)
	if err != nil || ms <= 0 {
		return nil
	}
	if keep := time.Duration(ms) * time.Millisecond; time.Since(r.Oldest) > keep {
		return fmt.Errorf("kafka topic %s keeps records for %v (retention.ms) from their timestamp, the original wall time, and the ring's oldest record is from %s: it would be deleted on arrival (give a longer --max-age, or -1 to the existing topic)",
			topic, keep, r.Oldest.UTC().Format(time.RFC3339))
	}
	return nil
}

// topicConfig returns topic's configuration, key by value; a key without
// a value is left out.
func (s *Kafka) topicConfig(ctx context.Context, topic string) (map[string]string, error) {
	rcs, err := s.adm.DescribeTopicConfigs(ctx, topic)
	var rc kadm.ResourceConfig
	if err == nil {
		rc, err = rcs.On(topic, nil)
	}
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return nil, fmt.Errorf("kafka topic %s: reading its configuration: %w", topic, err)
	}
	cfg := map[string]string{}
	for _, c := range rc.Configs {
		if c.Value != nil {
			cfg[c.Key] = *c.Value
		}
	}
	return cfg, nil
}

// kafkaMappedBytes is the room r's messages take in a Kafka log, and a
// quarter more: per record the key (its ID), the headers and about 20 bytes
// of framing; uncompressed, so that compression only adds room.
func kafkaMappedBytes(r *RingPlan, scope string) int64 {
	need := kafkaStoreBytes(r, scope)
	return max(need+need/4, 1<<20)
}

// kafkaStoreBytes is the room r's messages take in a Kafka log.
func kafkaStoreBytes(r *RingPlan, scope string) int64 {
	const headers = 300 // Message.Headers' names and values, with their lengths
	id := len(scope) + 1 + 32 + 1 + len(r.Stream) + 1 + 20
	per := int64(20 + id + headers + len(HeaderScope) + len(scope) + 2)
	return r.Bytes + int64(r.Messages())*per
}

// makeRoom sees that topic can take what r will add to it without
// deleting a record, its own or another instance's: the topic of a
// stream, one partition, holds every instance's history, and Kafka
// deletes the oldest segments past retention.bytes. A topic the sink
// made without --max-bytes grows by what r needs (what the store's
// checkpoint says is stored already left out); with a limit given, too
// small is refused with what it would need.
func (s *Kafka) makeRoom(ctx context.Context, topic string, p *Plan, r *RingPlan) error {
	cfg, err := s.topicConfig(ctx, topic)
	if err != nil {
		return err
	}
	limit, err := strconv.ParseInt(cfg["retention.bytes"], 10, 64)
	if err != nil || limit < 0 {
		return nil
	}
	if s.o.MaxBytes < 0 {
		// Following: a limit would delete every device's oldest records as
		// this one forwards. The itiny.* topics are the sink's own.
		return s.setRetention(ctx, topic, limit, -1, fmt.Sprintf("following into it needs no retention.bytes (it has %d)", limit))
	}
	dirs, err := s.adm.DescribeAllLogDirs(ctx, kadm.TopicsSet{topic: {0: {}}})
	if err != nil {
		return fmt.Errorf("kafka topic %s: reading its size: %w", topic, err)
	}
	var size int64
	for _, d := range dirs {
		if pd, ok := d.LookupPartition(topic, 0); ok {
			size = max(size, pd.Size)
		}
	}
	need := kafkaStoreBytes(r, p.Scope)
	if done, _, ok, err := s.Checkpointed(ctx, r); err == nil && ok && r.Last > r.First {
		// Sent by an earlier run: the share of the ring's numbers done.
		through := keyThrough(done)
		sent := min(through, r.Last) - min(through, r.First-1)
		need -= need / int64(r.Last-r.First+1) * int64(sent)
	}
	if limit-size >= need {
		return nil
	}
	if s.o.MaxBytes > 0 {
		return fmt.Errorf("%w: kafka topic %s holds %d bytes within retention.bytes %d; scope %s's %s needs about %d more, or older records would be deleted: raise it, or leave --max-bytes out",
			ErrNoRoom, topic, size, limit, p.Scope, r.Stream, need)
	}
	// Grown on top of its limit: another instance may be migrating into
	// room it counted on.
	grown := max(limit, size) + need + need/4
	return s.setRetention(ctx, topic, limit, grown, fmt.Sprintf("it holds %d bytes and %s's %s needs about %d more", size, p.Scope, r.Stream, need))
}

// setRetention sets topic's retention.bytes from limit to v; why says
// what for, in the error of a refusal.
func (s *Kafka) setRetention(ctx context.Context, topic string, limit, v int64, why string) error {
	resp, err := s.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.bytes", Value: kadm.StringPtr(strconv.FormatInt(v, 10))}}, topic)
	if err == nil {
		for _, r := range resp {
			if r.Err != nil {
				err = r.Err
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%w: kafka topic %s: %s; setting retention.bytes from %d to %d was refused: %v", ErrNoRoom, topic, why, limit, v, err)
	}
	return nil
}
