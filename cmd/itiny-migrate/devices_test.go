package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/internal/testdir"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestManyDevicesEmbedded and TestManyDevicesStandalone migrate three
// devices into one store with the default layout, one JetStream stream
// per itiny stream shared by every device, and then verify each: none
// evicts another's history (the shared stream was once sized for one
// ring, and the second device's run discarded most of the first's).
func TestManyDevicesEmbedded(t *testing.T)   { manyDevices(t, embedded(t, nil)) }
func TestManyDevicesStandalone(t *testing.T) { manyDevices(t, standalone(t)) }

func manyDevices(t *testing.T, url string) {
	const n = 6000 // about 2 MB a device in the store: more than the 1 MiB floor and a quarter
	devices := []string{"devA", "devB", "devC"}
	data := map[string]string{}
	tmp := testdir.TempDir(t)
	for _, d := range devices {
		data[d] = testdir.TempDir(t)
		writeRing(t, data[d], "metrics", n, 16<<20)
		r := migrateCmd(t, nil, "--to", url, "--scope", d, "--checkpoint", filepath.Join(tmp, d), data[d])
		if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("metrics    sent %d", n)) {
			t.Fatalf("%s: exit %d\n%s\n%s", d, r.code, r.stdout, r.stderr)
		}
	}
	for _, d := range devices {
		r := migrateCmd(t, nil, "--to", url, "--scope", d, "--verify-only", data[d])
		if r.code != 0 || !strings.Contains(r.stdout, "metrics    ok") {
			t.Errorf("%s after the others: exit %d\n%s\n%s", d, r.code, r.stdout, r.stderr)
		}
	}
	js := connectJS(t, url)
	st, err := js.Stream(context.Background(), "ITINY_METRICS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(len(devices)*n) || info.State.FirstSeq != 1 || info.Config.MaxBytes < int64(info.State.Bytes) {
		t.Errorf("ITINY_METRICS holds %d messages from %d, %d bytes, max_bytes %d; want %d from 1", info.State.Msgs, info.State.FirstSeq,
			info.State.Bytes, info.Config.MaxBytes, len(devices)*n)
	}
	t.Logf("ITINY_METRICS: %d messages, %d bytes, max_bytes %d", info.State.Msgs, info.State.Bytes, info.Config.MaxBytes)
}

// TestNoRoomRefusedBeforeSending gives the store limits that cannot hold
// a device's history, as --max-bytes, and as a shared stream made by
// someone else: the run refuses before it sends anything (exit 6),
// saying what is needed, and a device already there keeps its records.
func TestNoRoomRefusedBeforeSending(t *testing.T) {
	url := embedded(t, nil)
	tmp := testdir.TempDir(t)
	a, b := testdir.TempDir(t), testdir.TempDir(t)
	writeRing(t, a, "metrics", 3000, 16<<20)
	writeRing(t, a, "state", 100, 1<<20)
	writeRing(t, b, "metrics", 3000, 16<<20)
	r := migrateCmd(t, nil, "--to", url, "--scope", "small", "--checkpoint", filepath.Join(tmp, "small"), "--max-bytes", "64KiB", a)
	if r.code != 6 || !strings.Contains(r.stderr, "the store cannot hold the history") || !strings.Contains(r.stderr, "needs room for 3000 more messages") {
		t.Fatalf("--max-bytes 64KiB: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	js := connectJS(t, url)
	ctx := context.Background()
	for _, name := range []string{"ITINY_METRICS", "ITINY_STATE"} {
		if st, err := js.Stream(ctx, name); err == nil {
			if info, _ := st.Info(ctx); info.State.Msgs != 0 {
				t.Errorf("%s holds %d messages after the refusal", name, info.State.Msgs)
			}
		}
	}
	// Someone else's shared stream, too small for a second device.
	js.DeleteStream(ctx, "ITINY_METRICS")
	js.DeleteStream(ctx, "ITINY_STATE")
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ITINY_METRICS", Subjects: []string{"itiny.*.metrics"}, MaxBytes: 2 << 20}); err != nil {
		t.Fatal(err)
	}
	if r := migrateCmd(t, nil, "--to", url, "--scope", "devA", "--checkpoint", filepath.Join(tmp, "a"), a); r.code != 0 {
		t.Fatalf("devA: exit %d\n%s", r.code, r.stderr)
	}
	// A dry run says so first, changing nothing.
	r = migrateCmd(t, nil, "--to", url, "--scope", "devB", "--checkpoint", filepath.Join(tmp, "b"), "--dry-run", b)
	if r.code != 6 || !strings.Contains(r.stdout, "metrics    room: the store cannot hold the history: jetstream stream ITINY_METRICS holds 3000 messages") {
		t.Fatalf("devB's dry run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = migrateCmd(t, nil, "--to", url, "--scope", "devB", "--checkpoint", filepath.Join(tmp, "b"), b)
	if r.code != 6 || !strings.Contains(r.stderr, "jetstream stream ITINY_METRICS holds 3000 messages") {
		t.Fatalf("devB into a full stream: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := migrateCmd(t, nil, "--to", url, "--scope", "devA", "--verify-only", a); r.code != 0 {
		t.Errorf("devA after devB was refused: exit %d\n%s", r.code, r.stdout)
	}
}

// TestManyDevicesKafkaFake is TestManyDevices on Kafka's path (kfake,
// franz-go's in-process fake broker, on 127.0.0.1): three devices into
// the shared topic itiny.metrics, made with a retention.bytes for less
// than one ring, the broker's retention then applied, and each device
// verified.
func TestManyDevicesKafkaFake(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	url := "kafka://" + c.ListenAddrs()[0]
	// The topic as a first device's run once made it: retention.bytes for
	// one ring (here less: the fake broker's batches are compressed).
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, 1, map[string]*string{"retention.bytes": kadm.StringPtr("100000"), "retention.ms": kadm.StringPtr("-1")}, "itiny.metrics"); err != nil {
		t.Fatal(err)
	}
	const n = 6000
	devices := []string{"devA", "devB", "devC"}
	data := map[string]string{}
	tmp := testdir.TempDir(t)
	for _, d := range devices {
		data[d] = testdir.TempDir(t)
		writeRing(t, data[d], "metrics", n, 16<<20)
		r := migrateCmd(t, nil, "--to", url, "--scope", d, "--checkpoint", filepath.Join(tmp, d), data[d])
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", d, r.code, r.stdout, r.stderr)
		}
	}
	c.ApplyRetention() // what a broker does every few minutes
	for _, d := range devices {
		r := migrateCmd(t, nil, "--to", url, "--scope", d, "--verify-only", data[d])
		if r.code != 0 || !strings.Contains(r.stdout, "metrics    ok") {
			t.Errorf("%s after the others and retention: exit %d\n%s\n%s", d, r.code, r.stdout, r.stderr)
		}
	}
}

// TestFollowRefusesDiscardingStream: a forwarder does not follow into a
// stream someone else made with a size limit that discards old messages
// (as it forwards, every device's oldest records would go): exit 6 at
// once, nothing sent, the message naming the limit.
func TestFollowRefusesDiscardingStream(t *testing.T) {
	url := embedded(t, nil)
	js := connectJS(t, url)
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "ITINY_METRICS", Subjects: []string{"itiny.*.metrics"}, MaxBytes: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	data := testdir.TempDir(t)
	writeRing(t, data, "metrics", 100, 1<<20)
	r := migrateCmd(t, nil, "--to", url, "--scope", "d", "--checkpoint", filepath.Join(testdir.TempDir(t), "ck"), "--follow", data)
	if r.code != 6 || !strings.Contains(r.stderr, "jetstream stream ITINY_METRICS discards its oldest messages past max_bytes 67108864") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := count(t, js, "ITINY_METRICS"); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}
