package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/view"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// These tests run against kfake, franz-go's in-process fake broker (on
// 127.0.0.1 only), not a real Kafka: hence "Fake" in their names.

func kfCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func kfSink(t testing.TB, c *kfake.Cluster, o KafkaOptions, opts ...kgo.Opt) *Kafka {
	t.Helper()
	s, err := NewKafka(c.ListenAddrs(), opts, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var kfBase = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// kfWall is record i's wall time: milliseconds and a nanosecond part that
// a Kafka timestamp cannot hold, but the Itiny-Time header does.
func kfWall(i uint64) time.Time {
	return kfBase.Add(time.Duration(i)*time.Second + time.Duration(i%1000)*time.Millisecond + 7)
}

type kfRing struct {
	stream string
	codec  codec.Codec
	n      int      // records numbered 1..n
	seqs   []uint64 // then these numbers
	budget int64
}

func kfWrite(t testing.TB, data string, rings ...kfRing) {
	t.Helper()
	for _, rg := range rings {
		o := ringlog.Options{Stream: rg.stream, Codec: rg.codec, Budget: 1 << 20, SegmentSize: 64 << 10, StageSize: -1}
		if o.Codec == 0 {
			o.Codec = codec.Msgpack
		}
		if rg.budget > 0 {
			o.Budget = rg.budget
		}
		w, err := ringlog.Open(filepath.Join(data, rg.stream), o)
		if err != nil {
			t.Fatal(err)
		}
		rec := func(i uint64) *codec.Record {
			return &codec.Record{
				Stream: rg.stream, BootCount: 2, Boot: codec.BootID{9, 8, 7}, Wall: kfWall(i), Mono: int64(i) * 1e9,
				Source: "test", Level: codec.Level(i % 8), Name: "kafka." + rg.stream,
				Fields: codec.Fields{{Key: "i", Value: codec.Uint(i)}, {Key: "pad", Value: codec.String("text to make the records longer")}},
			}
		}
		for i := 1; i <= rg.n; i++ {
			if _, err := w.Append(rec(uint64(i))); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range rg.seqs {
			r := rec(s)
			r.Seq = s
			if err := w.AppendSeq(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func kfPlan(t testing.TB, data, scope string) *Plan {
	t.Helper()
	in, err := view.Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(in, scope)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func kfRingOf(t testing.TB, p *Plan, stream string) *RingPlan {
	t.Helper()
	for _, r := range p.Rings {
		if r.Stream == stream {
			return r
		}
	}
	t.Fatalf("no ring of stream %s", stream)
	return nil
}

func kfRun(t testing.TB, p *Plan, s Sink, ck string, window int) []RingResult {
	t.Helper()
	res, err := Run(context.Background(), p, s, Options{Window: window, Checkpoint: ck})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func kfVerify(t testing.TB, p *Plan, s Sink) []RingCheck {
	t.Helper()
	checks, err := Verify(context.Background(), p, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !c.OK || c.Earlier != 0 || c.Later != 0 || c.OtherMarkers != 0 {
			t.Errorf("verify %s: %+v", c.Stream, c)
		}
	}
	return checks
}

// kfLog reads partition 0 of topic with a client of its own, uncommitted
// records and transaction markers included, and sorts the data records by
// their transactions' outcomes: an oracle independent of the sink's reader.
func kfLog(t testing.TB, c *kfake.Cluster, topic string) (committed, aborted []*kgo.Record) {
	t.Helper()
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.KeepControlRecords(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	open := map[int64][]*kgo.Record{} // by producer ID
	for at := int64(0); at < end.Offset; {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := fs.Err0(); err != nil {
			t.Fatalf("reading %s at %d of %d: %v", topic, at, end.Offset, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			at = r.Offset + 1
			switch {
			case r.Offset >= end.Offset:
			case r.Attrs.IsControl():
				var k kmsg.ControlRecordKey
				if err := k.ReadFrom(r.Key); err != nil {
					t.Fatal(err)
				}
				if k.Type == kmsg.ControlRecordKeyTypeCommit {
					committed = append(committed, open[r.ProducerID]...)
				} else {
					aborted = append(aborted, open[r.ProducerID]...)
				}
				delete(open, r.ProducerID)
			case r.Attrs.IsTransactional():
				open[r.ProducerID] = append(open[r.ProducerID], r)
			default:
				committed = append(committed, r)
			}
		})
	}
	for pid, rs := range open {
		t.Errorf("%s: %d records of producer %d in a transaction still open", topic, len(rs), pid)
	}
	return committed, aborted
}

func kfHeader(r *kgo.Record, k string) string {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

// TestKafkaFakeMigrate: every record lands once, in order, in a topic of
// one partition per stream, with its ID as key, its original wall time as
// timestamp and its identity in headers; each window's checkpoint is in
// the checkpoint topic.
func TestKafkaFakeMigrate(t *testing.T) {
	c := kfCluster(t)
	data := testdir.TempDir(t)
	kfWrite(t, data, kfRing{stream: "metrics", n: 1500}, kfRing{stream: "events", codec: codec.JSON, n: 40})
	p := kfPlan(t, data, "dev1")
	s := kfSink(t, c, KafkaOptions{})
	ck := filepath.Join(testdir.TempDir(t), "ck")
	res := kfRun(t, p, s, ck, 128)
	for i, r := range p.Rings {
		if res[i].Sent != r.Messages() || res[i].Skipped != 0 || res[i].Found != 0 {
			t.Errorf("%s: %+v, want %d sent", r.Stream, res[i], r.Messages())
		}
	}
	kfVerify(t, p, s)

	ctx := context.Background()
	adm := kadm.NewClient(s.admin)
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"itiny.metrics", "itiny.events", "itiny.checkpoints"} {
		if n := len(topics[name].Partitions); n != 1 {
			t.Errorf("topic %s: %d partitions, want 1", name, n)
		}
	}
	configs, err := adm.DescribeTopicConfigs(ctx, "itiny.metrics", "itiny.checkpoints")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"itiny.metrics/retention.ms":           "-1",
		"itiny.metrics/retention.bytes":        strconv.FormatInt(kafkaMappedBytes(kfRingOf(t, p, "metrics"), "dev1"), 10),
		"itiny.metrics/message.timestamp.type": "CreateTime",
		"itiny.checkpoints/cleanup.policy":     "compact",
	}
	for _, rc := range configs {
		for _, cf := range rc.Configs {
			if w, ok := want[rc.Name+"/"+cf.Key]; ok {
				if cf.Value == nil || *cf.Value != w {
					t.Errorf("%s %s = %v, want %s", rc.Name, cf.Key, cf.Value, w)
				}
				delete(want, rc.Name+"/"+cf.Key)
			}
		}
	}
	if len(want) != 0 {
		t.Errorf("configs not found: %v", want)
	}

	for _, r := range p.Rings {
		recs, aborted := kfLog(t, c, "itiny."+r.Stream)
		if uint64(len(recs)) != r.Records || len(aborted) != 0 {
			t.Fatalf("%s: %d records committed, %d aborted, want %d and 0", r.Stream, len(recs), len(aborted), r.Records)
		}
		for i, rec := range recs {
			seq := uint64(i + 1)
			wall := kfWall(seq)
			if got, want := string(rec.Key), fmt.Sprintf("dev1.%s.%s.%d", r.RingID(), r.Stream, seq); got != want {
				t.Fatalf("%s offset %d: key %q, want %q", r.Stream, rec.Offset, got, want)
			}
			// A transaction's commit marker takes an offset after it.
			if rec.Partition != 0 || i > 0 && rec.Offset <= recs[i-1].Offset {
				t.Fatalf("%s: record %d at %d/%d", r.Stream, seq, rec.Partition, rec.Offset)
			}
			if !rec.Timestamp.Equal(wall.Truncate(time.Millisecond)) {
				t.Fatalf("%s %d: timestamp %v, want the wall time %v", r.Stream, seq, rec.Timestamp, wall)
			}
			hs := map[string]string{
				HeaderScope: "dev1",
				HeaderTime:  wall.Format(time.RFC3339Nano), HeaderBoot: "2", HeaderLevel: codec.Level(seq % 8).String(),
				HeaderName: "kafka." + r.Stream, HeaderCodec: r.Codec.String(),
			}
			if want := fmt.Sprintf("dev1.%s.%s.%d", r.RingID(), r.Stream, seq); string(rec.Key) != want {
				t.Fatalf("%s %d: key %q, want %q", r.Stream, seq, rec.Key, want)
			}
			for k, v := range hs {
				if got := kfHeader(rec, k); got != v {
					t.Fatalf("%s %d: header %s = %q, want %q", r.Stream, seq, k, got, v)
				}
			}
			var dec codec.Record
			if err := r.Codec.Decode(rec.Value, &dec); err != nil || dec.Seq != seq || !dec.Wall.Equal(wall) {
				t.Fatalf("%s %d: payload decodes to seq %d wall %v (%v)", r.Stream, seq, dec.Seq, dec.Wall, err)
			}
		}
	}

	// One checkpoint per window, the last one naming the last record.
	cks, _ := kfLog(t, c, "itiny.checkpoints")
	if len(cks) != 12+1 { // ceil(1500/128) windows, then 1
		t.Errorf("%d checkpoint records, want 13", len(cks))
	}
	for _, r := range p.Rings {
		recs, _ := kfLog(t, c, "itiny."+r.Stream)
		want := uint64(recs[len(recs)-1].Offset) + 1
		done, pos, ok, err := s.Checkpointed(ctx, r)
		if err != nil || !ok || done != 2*r.Last || pos != want {
			t.Errorf("%s: checkpointed %d %d %v %v, want key %d pos %d", r.Stream, done, pos, ok, err, 2*r.Last, want)
		}
		// A scan after a record's position starts with the next record,
		// and gives each its own offset plus one.
		for _, k := range []int{0, 1, len(recs) / 2, len(recs)} {
			from := uint64(0)
			if k > 0 {
				from = uint64(recs[k-1].Offset) + 1
			}
			var got []Stored
			if err := s.Scan(ctx, r, from, func(st Stored) { got = append(got, st) }); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(recs)-k {
				t.Fatalf("%s: scan from %d: %d messages, want %d", r.Stream, from, len(got), len(recs)-k)
			}
			for i, st := range got {
				if rec := recs[k+i]; st.Kind != KindRecord || st.Seq != uint64(k+i+1) || st.Pos != uint64(rec.Offset)+1 {
					t.Fatalf("%s: scan from %d: %+v, want seq %d pos %d", r.Stream, from, st, k+i+1, rec.Offset+1)
				}
			}
		}
	}
	var last kafkaCheckpoint
	lr := p.Rings[len(p.Rings)-1]
	if err := json.Unmarshal(cks[len(cks)-1].Value, &last); err != nil || string(cks[len(cks)-1].Key) != "dev1."+lr.Stream || last.Done != 2*lr.Last || last.Ring != lr.RingID() {
		t.Errorf("last checkpoint %s = %s (%v)", cks[len(cks)-1].Key, cks[len(cks)-1].Value, err)
	}
}

// TestKafkaFakeGapMarkers: numbers a ring lacks travel as marker records,
// keyed by the gap, stamped with a neighbouring record's wall time.
func TestKafkaFakeGapMarkers(t *testing.T) {
	c := kfCluster(t)
	data := testdir.TempDir(t)
	// A small budget deletes the oldest segments; numbers resumed above a
	// high-water mark leave a hole.
	kfWrite(t, data, kfRing{stream: "events", n: 3000, budget: 256 << 10, seqs: []uint64{3500, 3501, 3502}})
	p := kfPlan(t, data, "dev1")
	r := p.Rings[0]
	if len(r.Gaps) != 2 || r.Gaps[0].From != 1 || r.First <= 1 || r.Gaps[1].From != 3001 || r.Gaps[1].To != 3499 {
		t.Fatalf("plan gaps %+v", r.Gaps)
	}
	s := kfSink(t, c, KafkaOptions{})
	kfRun(t, p, s, filepath.Join(testdir.TempDir(t), "ck"), 500)
	checks := kfVerify(t, p, s)
	if checks[0].StoredMarks != 2 {
		t.Errorf("verify found %d markers, want 2", checks[0].StoredMarks)
	}
	recs, _ := kfLog(t, c, "itiny.events")
	if uint64(len(recs)) != r.Messages() {
		t.Fatalf("%d records, want %d", len(recs), r.Messages())
	}
	type marker struct {
		key, gap, cause string
		stamp           int64 // ms
	}
	var got []marker
	for _, rec := range recs {
		if g := kfHeader(rec, HeaderGap); g != "" {
			got = append(got, marker{string(rec.Key), g, kfHeader(rec, HeaderGapCause), rec.Timestamp.UnixMilli()})
		}
	}
	prefix := "dev1." + r.RingID() + ".events.gap."
	want := []marker{
		// Nothing sent before the first: the record after it.
		{prefix + fmt.Sprintf("1-%d", r.First-1), fmt.Sprintf("1-%d", r.First-1), CauseRetention, kfWall(r.First).UnixMilli()},
		{prefix + "3001-3499", "3001-3499", r.Gaps[1].Cause, kfWall(3000).UnixMilli()},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("markers\n%v\nwant\n%v", got, want)
	}
	if recs[0].Offset != 0 || kfHeader(recs[0], HeaderGap) == "" {
		t.Errorf("the retention marker is not first")
	}
}

// TestKafkaFakeScopes: instances share the stream topics; each one's
// migration and verification sees its own records only, even of the same
// ring (a copy migrated under two names).
func TestKafkaFakeScopes(t *testing.T) {
	c := kfCluster(t)
	data := testdir.TempDir(t)
	kfWrite(t, data, kfRing{stream: "events", n: 300})
	var plans []*Plan
	var sinks []*Kafka
	for _, scope := range []string{"dev1", "dev2"} {
		p := kfPlan(t, data, scope)
		s := kfSink(t, c, KafkaOptions{})
		if res := kfRun(t, p, s, filepath.Join(testdir.TempDir(t), "ck"), 64); res[0].Sent != 300 || res[0].Found != 0 {
			t.Fatalf("%s: %+v", scope, res[0])
		}
		plans, sinks = append(plans, p), append(sinks, s)
	}
	for i, p := range plans {
		if checks := kfVerify(t, p, sinks[i]); checks[0].Duplicates != 0 || checks[0].Stored != 300 {
			t.Errorf("%s: %+v", p.Scope, checks[0])
		}
	}
	recs, _ := kfLog(t, c, "itiny.events")
	scopes := map[string]int{}
	for _, r := range recs {
		scopes[kfHeader(r, HeaderScope)]++
	}
	if len(recs) != 600 || scopes["dev1"] != 300 || scopes["dev2"] != 300 {
		t.Fatalf("%d records in the shared topic, by scope %v; want 300 of each", len(recs), scopes)
	}
}

// TestKafkaFakePrepareRefuses: destinations the sink cannot use as it must
// are refused before anything is sent, saying why.
func TestKafkaFakePrepareRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream string
		seed   []string // topics that exist with 3 partitions
		o      KafkaOptions
		want   string
	}{
		{name: "partitions", stream: "events", seed: []string{"itiny.events"}, want: "itiny.events exists with 3 partitions"},
		{name: "max age", stream: "events", o: KafkaOptions{MaxAge: time.Hour}, want: "would be deleted on arrival"},
		{name: "checkpoint topic", stream: "checkpoints", want: "would be the checkpoint topic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []kfake.Opt
			if tc.seed != nil {
				opts = append(opts, kfake.SeedTopics(3, tc.seed...))
			}
			c := kfCluster(t, opts...)
			data := testdir.TempDir(t)
			kfWrite(t, data, kfRing{stream: tc.stream, n: 10})
			p := kfPlan(t, data, "dev1")
			s := kfSink(t, c, tc.o)
			_, err := Run(context.Background(), p, s, Options{Checkpoint: filepath.Join(testdir.TempDir(t), "ck")})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if tc.seed == nil {
				if recs, _ := kfLog(t, c, "itiny."+tc.stream); len(recs) != 0 {
					t.Fatalf("%d records sent", len(recs))
				}
			}
		})
	}
}

// TestKafkaFakeConnection: an unreachable broker and refused credentials
// fail Ping, each with its cause; accepted SCRAM credentials migrate.
func TestKafkaFakeConnection(t *testing.T) {
	ctx := context.Background()
	t.Run("unreachable", func(t *testing.T) {
		c := kfCluster(t)
		addrs := c.ListenAddrs()
		c.Close()
		s, err := NewKafka(addrs, []kgo.Opt{kgo.DialTimeout(time.Second), kgo.RequestRetries(1)}, KafkaOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err = s.Ping(pctx)
		if !errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, ErrKafkaAuthRefused) {
			t.Fatalf("ping of a closed port: %v", err)
		}
	})
	c := kfCluster(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "itiny", "secret"), kfake.Superuser("PLAIN", "plain", "secret"))
	for _, tc := range []struct {
		name string
		opts []kgo.Opt
		want string // refused, missing or ok
	}{
		{"plain refused", []kgo.Opt{kgo.SASL(plain.Auth{User: "plain", Pass: "wrong"}.AsMechanism())}, "refused"},
		{"scram refused", []kgo.Opt{kgo.SASL(scram.Auth{User: "itiny", Pass: "wrong"}.AsSha256Mechanism())}, "refused"},
		{"no credentials", nil, "missing"},
		{"scram accepted", []kgo.Opt{kgo.SASL(scram.Auth{User: "itiny", Pass: "secret"}.AsSha256Mechanism())}, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := kfSink(t, c, KafkaOptions{}, append(tc.opts, kgo.RequestRetries(1))...)
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			err := s.Ping(pctx)
			var eof *kgo.ErrFirstReadEOF
			switch tc.want {
			case "refused":
				// kfake hangs up where Kafka answers SASL_AUTHENTICATION_FAILED.
				if !errors.Is(err, ErrKafkaAuthRefused) {
					t.Fatalf("ping with a wrong password: %v, want the credentials refused", err)
				}
				return
			case "missing":
				if errors.Is(err, ErrKafkaAuthRefused) || !errors.As(err, &eof) {
					t.Fatalf("ping without credentials: %v, want kgo's diagnosis, not refused credentials", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			data := testdir.TempDir(t)
			kfWrite(t, data, kfRing{stream: "state", n: 20})
			p := kfPlan(t, data, "dev1")
			kfRun(t, p, s, filepath.Join(testdir.TempDir(t), "ck"), 8)
			kfVerify(t, p, s)
		})
	}
}
