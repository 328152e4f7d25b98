package migrate_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/migrate"
	"github.com/nats-io/nats.go/jetstream"
)

// TestFollowAfterFoundTail: a crash after a window was stored and before
// its checkpoint; the resume finds that tail stored (Found) and sends
// nothing, past the stream's duplicate window. Follow must not send it
// again: the resume's checkpoint covers what it found (once it did not,
// and 1,100 messages were stored for 1,000 records; a review found it).
func TestFollowAfterFoundTail(t *testing.T) {
	nc := startNATS(t)
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ITINY_METRICS", Subjects: []string{"itiny.*.metrics"}, Duplicates: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	data := testdir.TempDir(t)
	writeRings(t, data, ring{stream: "metrics", n: 1000})
	p := plan(t, data)
	ck := filepath.Join(testdir.TempDir(t), "ck")
	sink := newJS(t, nc, migrate.JetStreamOptions{})
	_, err := migrate.Run(ctx, p, &failAfter{Sink: sink, n: 9}, migrate.Options{Window: 100, Checkpoint: ck})
	if !errors.Is(err, errCrash) {
		t.Fatalf("got %v, want the crash", err)
	}
	time.Sleep(300 * time.Millisecond)
	p = plan(t, data)
	res, err := migrate.Run(ctx, p, sink, migrate.Options{Window: 100, Checkpoint: ck})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Sent != 0 || res[0].Found == 0 {
		t.Fatalf("the resume sent %d and found %d: want nothing sent, the tail found", res[0].Sent, res[0].Found)
	}
	cp, _ := migrate.LoadCheckpoint(ck)
	if sc := cp.Streams["metrics"]; sc.Done != 2000 {
		t.Errorf("checkpoint after the resume: %+v; want done 2000 (record 1000)", *sc)
	}
	fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := migrate.Follow(fctx, p, sink, migrate.FollowOptions{Options: migrate.Options{Window: 100, Checkpoint: ck}}); err != nil {
		t.Fatal(err)
	}
	if got := len(stored(t, nc, "ITINY_METRICS", "itiny.dev1.metrics")); got != 1000 {
		t.Fatalf("%d messages stored, want 1000", got)
	}
}
