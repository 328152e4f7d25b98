package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/itiny/itiny/internal/testdir"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Runs that stop anywhere, against kfake (kafka_test.go): resumed from
// the checkpoint file, or from the checkpoint records in the store.

// kfFailAt is a sink that dies before the window numbered at (from 0): as
// a crash would, it leaves nothing of it, or, with abandon set, leaves the
// window and its checkpoint in a transaction never committed, as a process
// killed before its commit would. With at < 0 it never fails.
type kfFailAt struct {
	*Kafka
	at      int
	abandon bool
	n       int
	t       testing.TB
}

var errKfCrash = errors.New("crash")

func (f *kfFailAt) Publish(ctx context.Context, r *RingPlan, msgs []*Message) (uint64, error) {
	if f.n++; f.n-1 != f.at {
		return f.Kafka.Publish(ctx, r, msgs)
	}
	if f.abandon {
		f.abandonWindow(r, msgs)
	}
	return 0, errKfCrash
}

// kfCancelAt cancels a run's context once n records were acknowledged:
// inside a window's transaction, as a signal would.
type kfCancelAt struct {
	n      atomic.Int64
	cancel context.CancelFunc
}

func (h *kfCancelAt) OnProduceRecordUnbuffered(r *kgo.Record, err error) {
	if err == nil && h.n.Add(-1) == 0 {
		h.cancel()
	}
}

// abandonWindow produces msgs, and a checkpoint saying they are done, with
// a producer of the same transactional ID, and drops it uncommitted.
func (f *kfFailAt) abandonWindow(r *RingPlan, msgs []*Message) {
	ctx := context.Background()
	cl, err := kgo.NewClient(append(f.opts, kgo.TransactionalID("itiny-migrate."+f.scope), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		f.t.Fatal(err)
	}
	defer cl.Close() // without ending the transaction
	if err := cl.BeginTransaction(); err != nil {
		f.t.Fatal(err)
	}
	recs, _ := f.records(f.topics[r.Stream], r, msgs)
	ck, _ := json.Marshal(kafkaCheckpoint{Ring: r.RingID(), Topic: f.topics[r.Stream].dest, Done: msgs[len(msgs)-1].Key(), Pos: 1 << 40})
	recs = append(recs, &kgo.Record{Topic: f.CheckpointTopic(), Key: f.checkpointKey(r.Stream), Value: ck})
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		f.t.Fatal(err)
	}
}

// TestKafkaFakeResume: a run that stops anywhere, even inside a window's
// transaction, and runs again with new clients, stores every record exactly
// once. The second run skips what the checkpoint (file, or store) says is
// done, and the tail scan finds nothing more: what was not committed is not
// there.
func TestKafkaFakeResume(t *testing.T) {
	const n, window, at = 1000, 100, 3
	for _, tc := range []struct {
		name     string
		abandon  bool
		cancelAt int64  // records acknowledged
		aborted  [2]int // records of the stream topic aborted in the log: at least, at most
	}{
		{name: "crash between windows"},
		// How much of the window was sent when the context ends depends
		// on how the client batched it: at least the half acknowledged.
		{name: "context canceled mid-window", cancelAt: at*window + window/2, aborted: [2]int{window / 2, window}},
		{name: "transaction abandoned", abandon: true, aborted: [2]int{window, window}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := kfCluster(t)
			data := testdir.TempDir(t)
			kfWrite(t, data, kfRing{stream: "metrics", n: n})
			p := kfPlan(t, data, "dev1")
			ck := filepath.Join(testdir.TempDir(t), "ck")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var opts []kgo.Opt
			f := &kfFailAt{at: at, abandon: tc.abandon, t: t}
			if tc.cancelAt > 0 {
				h := &kfCancelAt{cancel: cancel}
				h.n.Store(tc.cancelAt)
				opts = append(opts, kgo.WithHooks(h))
				f.at = -1
			}
			f.Kafka = kfSink(t, c, KafkaOptions{}, opts...)
			_, err := Run(ctx, p, f, Options{Window: window, Checkpoint: ck})
			if err == nil {
				t.Fatal("the interrupted run succeeded")
			}
			if tc.cancelAt > 0 && !errors.Is(err, context.Canceled) {
				t.Fatalf("run: %v, want it canceled", err)
			}
			f.Close()

			s := kfSink(t, c, KafkaOptions{})
			res := kfRun(t, p, s, ck, window)
			if r := res[0]; r.Skipped != at*window || r.Found != 0 || r.Sent != n-at*window {
				t.Fatalf("resume: %+v, want %d skipped, 0 found, %d sent", r, at*window, n-at*window)
			}
			recs, aborted := kfLog(t, c, "itiny.metrics")
			if len(recs) != n || len(aborted) < tc.aborted[0] || len(aborted) > tc.aborted[1] {
				t.Fatalf("%d records committed, %d aborted; want %d and %d to %d", len(recs), len(aborted), n, tc.aborted[0], tc.aborted[1])
			}
			for i, rec := range recs {
				if id, _ := ParseID(string(rec.Key)); id.Seq != uint64(i+1) {
					t.Fatalf("record %d is %q", i, rec.Key)
				}
			}
			kfVerify(t, p, s)
		})
	}
}

// noCheckpointer hides a sink's Checkpointer: Run has only the file.
type noCheckpointer struct{ Sink }

// TestKafkaFakeCheckpointInStore: with the checkpoint file lost, or left
// behind by a crash after a commit, the checkpoint committed with the
// windows says what is done; without it, only the tail scan would.
func TestKafkaFakeCheckpointInStore(t *testing.T) {
	const n, window = 700, 100
	for _, tc := range []struct {
		name      string
		at        int  // the first run stops before this window; 0: it completes
		keepFirst bool // the file is the one saved after the first window
		hide      bool // the sink is not a Checkpointer
		skipped   uint64
		found     uint64
	}{
		{name: "file lost", skipped: n},
		{name: "file lost, no store checkpoint", hide: true, found: n},
		{name: "file behind", at: 5, keepFirst: true, skipped: 5 * window},
		{name: "file behind, no store checkpoint", at: 5, keepFirst: true, hide: true, skipped: window, found: 4 * window},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := kfCluster(t)
			data := testdir.TempDir(t)
			kfWrite(t, data, kfRing{stream: "state", n: n})
			p := kfPlan(t, data, "dev1")
			ck := filepath.Join(testdir.TempDir(t), "ck")
			first := kfSink(t, c, KafkaOptions{})
			var sink Sink = first
			if tc.at > 0 {
				sink = &kfFailAt{Kafka: first, at: tc.at, t: t}
			}
			_, err := Run(context.Background(), p, sink, Options{Window: window, Checkpoint: ck})
			if (err != nil) != (tc.at > 0) {
				t.Fatalf("first run: %v", err)
			}
			first.Close()
			if tc.keepFirst {
				// The file as it was after the first window.
				cp, err := LoadCheckpoint(ck)
				if err != nil {
					t.Fatal(err)
				}
				cp.Streams["state"].Done, cp.Streams["state"].Pos = 2*window, window
				if err := cp.Save(ck); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Remove(ck); err != nil {
				t.Fatal(err)
			}

			var s Sink = kfSink(t, c, KafkaOptions{})
			if tc.hide {
				s = noCheckpointer{s}
			}
			res := kfRun(t, p, s, ck, window)
			if r := res[0]; r.Skipped != tc.skipped || r.Found != tc.found || r.Sent != n-tc.skipped-tc.found {
				t.Fatalf("second run: %+v, want %d skipped, %d found", r, tc.skipped, tc.found)
			}
			if recs, _ := kfLog(t, c, "itiny.state"); len(recs) != n {
				t.Fatalf("%d records, want %d", len(recs), n)
			}
			kfVerify(t, p, s)
		})
	}
}
