package migrate_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/migrate"
	"github.com/itiny/itiny/ringlog"
	"github.com/nats-io/nats.go/jetstream"
)

// TestFollowIntoMappedStream: a one-shot migration made the stream sized
// for the ring, discarding old messages past it; a forwarder (MaxBytes
// -1) then follows into it, five times the ring more. The stream loses
// its limits when the forwarder prepares it: once it kept them, and
// JetStream discarded the 3,705 oldest records (a review found it).
func TestFollowIntoMappedStream(t *testing.T) {
	nc := startNATS(t)
	ctx := context.Background()
	data := testdir.TempDir(t)
	writeRings(t, data, ring{stream: "metrics", n: 1000, budget: 64 << 20})
	ck := filepath.Join(testdir.TempDir(t), "ck")
	s1 := newJS(t, nc, migrate.JetStreamOptions{})
	if _, err := migrate.Run(ctx, plan(t, data), s1, migrate.Options{Checkpoint: ck}); err != nil {
		t.Fatal(err)
	}
	// --follow: a new sink with no size limit of its own.
	s2 := newJS(t, nc, migrate.JetStreamOptions{MaxBytes: -1})
	p := plan(t, data)
	if _, err := migrate.Run(ctx, p, s2, migrate.Options{Checkpoint: ck}); err != nil {
		t.Fatal(err)
	}
	w, err := ringlog.Open(filepath.Join(data, "metrics"), ringlog.Options{Stream: "metrics", Codec: codec.Msgpack, Budget: 64 << 20, SegmentSize: 64 << 10, StageSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1001; i <= 6000; i++ {
		if _, err := w.Append(record("metrics", uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	fctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := migrate.Follow(fctx, p, s2, migrate.FollowOptions{Options: migrate.Options{Checkpoint: ck}}); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	st, _ := js.Stream(ctx, "ITINY_METRICS")
	info, _ := st.Info(ctx)
	if info.State.Msgs != 6000 || info.State.FirstSeq != 1 {
		t.Fatalf("stored %d messages from seq %d, want 6000 from 1", info.State.Msgs, info.State.FirstSeq)
	}
}
