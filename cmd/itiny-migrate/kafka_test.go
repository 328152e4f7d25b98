package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/migrate"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKafkaFakeSIGKILL kills itiny-migrate with SIGKILL at random moments
// while it migrates into kfake, franz-go's in-process fake broker (on
// 127.0.0.1; not a real Kafka, hence "Fake"), until a run finishes, and
// then reads each topic, committed records only, with a client of its
// own: every record exactly once, with its key.
func TestKafkaFakeSIGKILL(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := writeKillRings(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	stored := func() uint64 { // records and transaction markers: enough to time a kill
		// WithAuthorizedOps: kadm would remember the topic as missing for
		// seconds after it is created.
		ends, err := adm.ListEndOffsets(kadm.WithAuthorizedOps(context.Background()), "itiny.metrics")
		if err != nil {
			return 0
		}
		o, _ := ends.Lookup("itiny.metrics", 0)
		return uint64(max(o.Offset, 0))
	}
	killUntilDone(t, "kafka://"+c.ListenAddrs()[0], data, stored)

	for stream, n := range killRings {
		ring, first := ringFacts(t, data, stream)
		seen, markers := map[uint64]bool{}, 0
		readCommitted(t, c.ListenAddrs(), "itiny."+stream, func(rec *kgo.Record) {
			h := map[string]string{}
			for _, kv := range rec.Headers {
				h[kv.Key] = string(kv.Value)
			}
			if h[migrate.HeaderGap] != "" {
				markers++
				return
			}
			id, _ := migrate.ParseID(string(rec.Key))
			seq := id.Seq
			if seen[seq] {
				t.Fatalf("%s: record %d stored twice", stream, seq)
			}
			seen[seq] = true
			if want := fmt.Sprintf("dev-7.%s.%s.%d", ring, stream, seq); string(rec.Key) != want {
				t.Fatalf("%s: key %s, want %s", stream, rec.Key, want)
			}
		})
		if exp := n - int(first) + 1; len(seen) != exp || (first > 1) != (markers == 1) || markers > 1 {
			t.Errorf("%s: %d records, %d markers; want %d records from %d", stream, len(seen), markers, exp, first)
		}
		t.Logf("%s: %d records exactly once (from %d), %d markers", stream, len(seen), first, markers)
	}
}

// readCommitted calls fn with every committed record of partition 0 of
// topic, up to its last stable offset now. The transaction markers come
// too, not passed to fn, so that the last offset read is known to be the
// end: the log may end in a marker, and aborted records are left out.
func readCommitted(t *testing.T, seeds []string, topic string, fn func(*kgo.Record)) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, ok := ends.Lookup(topic, 0)
	if !ok || end.Err != nil {
		t.Fatalf("end of %s: %v %v", topic, ok, end.Err)
	}
	for at := int64(0); at < end.Offset; {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := fs.Err0(); err != nil {
			t.Fatalf("reading %s at %d of %d: %v", topic, at, end.Offset, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			at = r.Offset + 1
			if r.Offset < end.Offset && !r.Attrs.IsControl() {
				fn(r)
			}
		})
	}
}

// TestKafkaFakeLostAcknowledgements is TestStoreRestartNoDuplicates on
// Kafka's path: 20 runs into kfake, each with a produce request and a
// transaction's commit that the broker applies and then answers with
// REQUEST_TIMED_OUT, as a broker that restarts or a network that breaks
// after the write would, at random windows. Every trial ends with the
// ring's records in the topic exactly once (a run whose commit was lost
// stops, exit 3, and its rerun finds what was committed).
func TestKafkaFakeLostAcknowledgements(t *testing.T) {
	if testing.Short() {
		t.Skip("20 migrations")
	}
	const records, trials = 5000, 20
	data := testdir.TempDir(t)
	writeRing(t, data, "metrics", records, 16<<20)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 4))
	reruns := 0
	for trial := range trials {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			t.Fatal(err)
		}
		var produces, commits atomic.Int64
		lostProduce, lostCommit := int64(1+rng.IntN(8)), int64(1+rng.IntN(8))
		c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "itiny.metrics", Err: kerr.RequestTimedOut, Count: -1,
			When: func(kmsg.Request) bool { return produces.Add(1) == lostProduce }})
		c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.EndTxn}, Err: kerr.RequestTimedOut, Count: -1,
			When: func(kmsg.Request) bool { return commits.Add(1) == lostCommit }})
		url := "kafka://" + c.ListenAddrs()[0]
		ck := filepath.Join(testdir.TempDir(t), "ck")
		args := []string{"--to", url, "--scope", "dev-k", "--checkpoint", ck, "--window", "500", "--timeout", "2s", data}
		runs := 0
		for r := migrateCmd(t, nil, args...); r.code != 0; r = migrateCmd(t, nil, args...) {
			reruns++
			if runs++; r.code != 3 || runs > 3 {
				c.Close()
				t.Fatalf("trial %d: exit %d\n%s\n%s", trial, r.code, r.stdout, r.stderr)
			}
		}
		seen := map[uint64]int{}
		readCommitted(t, c.ListenAddrs(), "itiny.metrics", func(rec *kgo.Record) {
			id, _ := migrate.ParseID(string(rec.Key))
			seen[id.Seq]++
		})
		c.Close()
		for seq, n := range seen {
			if n > 1 {
				t.Errorf("trial %d: record %d stored %d times", trial, seq, n)
			}
		}
		if len(seen) != records {
			t.Errorf("trial %d: %d records stored, want %d", trial, len(seen), records)
		}
		if produces.Load() < lostProduce || commits.Load() < lostCommit {
			t.Errorf("trial %d: the lost answers did not come (%d produces, %d commits)", trial, produces.Load(), commits.Load())
		}
	}
	t.Logf("%d trials, %d runs stopped by a lost answer and run again, 0 duplicates", trials, reruns)
}
