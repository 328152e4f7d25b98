package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/natstest"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/migrate"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/view"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startNATS runs a NATS server with JetStream in the test, on 127.0.0.1
// only, and returns a client connection to it.
func startNATS(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(natstest.Start(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// ring describes a ring to write: n records from seq 1, or records at the
// given numbers (AppendSeq), for stream.
type ring struct {
	stream string
	n      int
	seqs   []uint64
	budget int64
}

var base = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

func record(stream string, i uint64) *codec.Record {
	return &codec.Record{
		Stream: stream, BootCount: 3, Boot: codec.BootID{1, 2, 3}, Wall: base.Add(time.Duration(i) * time.Second),
		Mono: int64(i) * 1e9, Source: "test", Level: codec.Level(i % 8), Name: "sample." + stream,
		Fields: codec.Fields{{Key: "i", Value: codec.Uint(i)}, {Key: "note", Value: codec.String("some text to make it longer")}},
	}
}

func writeRings(t testing.TB, data string, rings ...ring) {
	t.Helper()
	for _, rg := range rings {
		o := ringlog.Options{Stream: rg.stream, Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 64 << 10, StageSize: -1}
		if rg.budget > 0 {
			o.Budget = rg.budget
		}
		w, err := ringlog.Open(filepath.Join(data, rg.stream), o)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= rg.n; i++ {
			if _, err := w.Append(record(rg.stream, uint64(i))); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range rg.seqs {
			r := record(rg.stream, s)
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

func plan(t testing.TB, data string) *migrate.Plan {
	t.Helper()
	in, err := view.Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	p, err := migrate.NewPlan(in, "dev1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newJS(t testing.TB, nc *nats.Conn, o migrate.JetStreamOptions) *migrate.JetStream {
	t.Helper()
	nc2, err := nats.Connect(nc.ConnectedUrl())
	if err != nil {
		t.Fatal(err)
	}
	s, err := migrate.NewJetStream(nc2, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// migrateOnce writes rings, plans them as scope dev1 and migrates them
// into a fresh server's JetStream.
func migrateOnce(t testing.TB, rings ...ring) (*nats.Conn, *migrate.Plan, *migrate.JetStream) {
	t.Helper()
	nc := startNATS(t)
	data := testdir.TempDir(t)
	writeRings(t, data, rings...)
	p := plan(t, data)
	sink := newJS(t, nc, migrate.JetStreamOptions{})
	if _, err := migrate.Run(context.Background(), p, sink, migrate.Options{Checkpoint: filepath.Join(testdir.TempDir(t), "ck")}); err != nil {
		t.Fatal(err)
	}
	return nc, p, sink
}

// stored reads every message of subject in stream name, in order.
func stored(t testing.TB, nc *nats.Conn, name, subject string) []jsMsg {
	t.Helper()
	js, _ := jetstream.New(nc)
	var out []jsMsg
	for _, m := range natstest.Messages(t, js, name) {
		if m.Subject == subject {
			out = append(out, jsMsg{m})
		}
	}
	return out
}

// jsMsg adapts a RawStreamMsg to what the tests read of a message.
type jsMsg struct{ *jetstream.RawStreamMsg }

func (m jsMsg) Headers() nats.Header { return m.Header }
func (m jsMsg) Data() []byte         { return m.RawStreamMsg.Data }

func TestJetStreamMigrate(t *testing.T) {
	nc := startNATS(t)
	data := testdir.TempDir(t)
	writeRings(t, data, ring{stream: "metrics", n: 1500}, ring{stream: "events", n: 40})
	p := plan(t, data)
	ck := filepath.Join(testdir.TempDir(t), "ck")
	sink := newJS(t, nc, migrate.JetStreamOptions{})
	ctx := context.Background()
	res, err := migrate.Run(ctx, p, sink, migrate.Options{Window: 128, Checkpoint: ck})
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]uint64{}
	for _, r := range res {
		sent[r.Stream] = r.Sent
	}
	if sent["metrics"] != 1500 || sent["events"] != 40 {
		t.Fatalf("sent %v", sent)
	}
	checks, err := migrate.Verify(ctx, p, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !c.OK {
			t.Errorf("%+v", c)
		}
	}

	// The scans leave no consumer behind: one costs the server work for
	// every message published.
	js, _ := jetstream.New(nc)
	st, _ := js.Stream(ctx, "ITINY_METRICS")
	if info, err := st.Info(ctx); err != nil || info.State.Consumers != 0 {
		t.Fatalf("consumers left on the stream: %v %v", info.State.Consumers, err)
	}

	// Every record once, in order, with its identity, time and payload.
	msgs := stored(t, nc, "ITINY_METRICS", "itiny.dev1.metrics")
	if len(msgs) != 1500 {
		t.Fatalf("%d messages on itiny.dev1.metrics, want 1500", len(msgs))
	}
	ringID := p.Rings[1].RingID() // sorted by stream: events, metrics
	for i, m := range msgs {
		seq := uint64(i + 1)
		h := m.Headers()
		want := fmt.Sprintf("dev1.%s.metrics.%d", ringID, seq)
		if got := h.Get(jetstream.MsgIDHeader); got != want {
			t.Fatalf("message %d: Msg-Id %q, want %q", i, got, want)
		}
		if got, want := h.Get(migrate.HeaderTime), base.Add(time.Duration(seq)*time.Second).Format(time.RFC3339Nano); got != want {
			t.Fatalf("message %d: time %s, want %s", i, got, want)
		}
		if h.Get(migrate.HeaderBoot) != "3" || h.Get(migrate.HeaderLevel) != codec.Level(seq%8).String() || h.Get(migrate.HeaderCodec) != "msgpack" ||
			h.Get(migrate.HeaderName) != "sample.metrics" || h.Get(migrate.HeaderBootID) != "01020300000000000000000000000000" {
			t.Fatalf("message %d: headers %v", i, h)
		}
		var rec codec.Record
		if err := codec.Msgpack.Decode(m.Data(), &rec); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if rec.Seq != seq || !rec.Fields[0].Value.Equal(codec.Uint(seq)) {
			t.Fatalf("message %d: payload is record %d %v", i, rec.Seq, rec.Fields)
		}
	}

	// Run again: everything is below the checkpoint; nothing is sent.
	res, err = migrate.Run(ctx, p, sink, migrate.Options{Window: 128, Checkpoint: ck})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Sent != 0 || r.Skipped == 0 {
			t.Errorf("second run: %+v", r)
		}
	}
}

// failAfter is a sink that stops, as a crash would, after publishing n
// windows and having them acknowledged, before the checkpoint of the last.
type failAfter struct {
	migrate.Sink
	n int
}

var errCrash = errors.New("crash")

func (f *failAfter) Publish(ctx context.Context, r *migrate.RingPlan, msgs []*migrate.Message) (uint64, error) {
	pos, err := f.Sink.Publish(ctx, r, msgs)
	if f.n--; f.n < 0 {
		return 0, errCrash
	}
	return pos, err
}

// failAfterSent is failAfter for the pipelined path: the crash comes
// while waiting for window n+1, with window n+2 already sent.
type failAfterSent struct {
	*migrate.JetStream
	n int
}

func (f *failAfterSent) Send(ctx context.Context, r *migrate.RingPlan, msgs []*migrate.Message) (func() (uint64, error), error) {
	wait, err := f.JetStream.Send(ctx, r, msgs)
	return func() (uint64, error) {
		pos, err := wait()
		if f.n--; f.n < 0 {
			return 0, errCrash
		}
		return pos, err
	}, err
}

// TestJetStreamResumeAfterDuplicateWindow: windows stored but never
// checkpointed are found by the tail scan, though the store's duplicate
// window has passed: the store ends up with each record exactly once.
// One window at a time (a sink that only publishes), and with a window on
// its way while the one before is acknowledged (JetStream's own).
func TestJetStreamResumeAfterDuplicateWindow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash func(*migrate.JetStream) migrate.Sink
		found uint64 // stored after the 3 windows checkpointed
	}{
		{"one-window", func(s *migrate.JetStream) migrate.Sink { return &failAfter{Sink: s, n: 3} }, 100},
		{"pipelined", func(s *migrate.JetStream) migrate.Sink { return &failAfterSent{JetStream: s, n: 3} }, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := startNATS(t)
			js, _ := jetstream.New(nc)
			ctx := context.Background()
			// A duplicate window far shorter than the outage.
			if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ITINY_METRICS", Subjects: []string{"itiny.*.metrics"}, Duplicates: 100 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			data := testdir.TempDir(t)
			writeRings(t, data, ring{stream: "metrics", n: 1000})
			p := plan(t, data)
			ck := filepath.Join(testdir.TempDir(t), "ck")
			sink := newJS(t, nc, migrate.JetStreamOptions{})
			_, err := migrate.Run(ctx, p, tc.crash(sink), migrate.Options{Window: 100, Checkpoint: ck})
			if !errors.Is(err, errCrash) {
				t.Fatalf("got %v, want the crash", err)
			}
			time.Sleep(300 * time.Millisecond) // past the duplicate window
			res, err := migrate.Run(ctx, p, sink, migrate.Options{Window: 100, Checkpoint: ck})
			if err != nil {
				t.Fatal(err)
			}
			// 3 windows checkpointed; the rest of what was sent found.
			if r := res[0]; r.Skipped != 300 || r.Found != tc.found || r.Sent != 700-tc.found {
				t.Fatalf("resume: %+v, want 300 skipped, %d found, %d sent", r, tc.found, 700-tc.found)
			}
			if got := len(stored(t, nc, "ITINY_METRICS", "itiny.dev1.metrics")); got != 1000 {
				t.Fatalf("%d messages stored, want 1000", got)
			}
			checks, err := migrate.Verify(ctx, p, sink, nil)
			if err != nil || !checks[0].OK {
				t.Fatalf("verify: %v %+v", err, checks)
			}
		})
	}
}

// TestJetStreamGapMarkers: numbers a ring lacks (deleted by retention,
// skipped after a crash) travel as markers with their cause.
func TestJetStreamGapMarkers(t *testing.T) {
	nc := startNATS(t)
	data := testdir.TempDir(t)
	// A small budget deletes the oldest segments; numbers resumed above a
	// high-water mark leave a hole.
	writeRings(t, data, ring{stream: "events", n: 3000, budget: 256 << 10, seqs: []uint64{3500, 3501, 3502}})
	p := plan(t, data)
	r := p.Rings[0]
	if len(r.Gaps) != 2 || r.Gaps[0].Cause != migrate.CauseRetention || r.Gaps[0].From != 1 || r.Gaps[1].From != 3001 || r.Gaps[1].To != 3499 {
		t.Fatalf("plan gaps %+v", r.Gaps)
	}
	sink := newJS(t, nc, migrate.JetStreamOptions{})
	ctx := context.Background()
	if _, err := migrate.Run(ctx, p, sink, migrate.Options{Checkpoint: filepath.Join(testdir.TempDir(t), "ck")}); err != nil {
		t.Fatal(err)
	}
	var markers []string
	for _, m := range stored(t, nc, "ITINY_EVENTS", "itiny.dev1.events") {
		if g := m.Headers().Get(migrate.HeaderGap); g != "" {
			markers = append(markers, g+" "+m.Headers().Get(migrate.HeaderGapCause))
			if g == fmt.Sprintf("1-%d", r.First-1) && m.Headers().Get(migrate.HeaderGapLoss) != string(view.LossPossible) {
				t.Errorf("retention marker %s says %q: numbers skipped among deleted records make it at most", g, m.Headers().Get(migrate.HeaderGapLoss))
			}
		}
	}
	want := []string{fmt.Sprintf("1-%d retention", r.First-1), "3001-3499 " + r.Gaps[1].Cause}
	if fmt.Sprint(markers) != fmt.Sprint(want) {
		t.Fatalf("markers %q, want %q", markers, want)
	}
	checks, err := migrate.Verify(ctx, p, sink, nil)
	if err != nil || !checks[0].OK || checks[0].StoredMarks != 2 {
		t.Fatalf("verify: %v %+v", err, checks)
	}
}

// TestVerifyFindsLoss: records missing from the store (deleted there) make
// Verify fail, and say how many.
func TestVerifyFindsLoss(t *testing.T) {
	nc, p, sink := migrateOnce(t, ring{stream: "state", n: 50})
	ctx := context.Background()
	js, _ := jetstream.New(nc)
	st, _ := js.Stream(ctx, "ITINY_STATE")
	for _, seq := range []uint64{7, 8, 50} {
		if err := st.DeleteMsg(ctx, seq); err != nil {
			t.Fatal(err)
		}
	}
	checks, err := migrate.Verify(ctx, p, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := checks[0]; c.OK || c.Missing != 3 || c.Stored != 47 || c.StoredLast != 49 {
		t.Fatalf("verify after deleting 3: %+v", c)
	}
}

// TestVerifyBehind: a ring written since its migration, numbers resumed
// above a hole, is behind given the checkpoint (its newer records and
// the hole's marker never acknowledged); right after a migration (no
// checkpoint given) the same is a mismatch, and so is a hole the store
// has below its newest record.
func TestVerifyBehind(t *testing.T) {
	nc := startNATS(t)
	data := testdir.TempDir(t)
	writeRings(t, data, ring{stream: "events", n: 3000})
	sink := newJS(t, nc, migrate.JetStreamOptions{})
	ck := filepath.Join(testdir.TempDir(t), "ck")
	ctx := context.Background()
	if _, err := migrate.Run(ctx, plan(t, data), sink, migrate.Options{Checkpoint: ck}); err != nil {
		t.Fatal(err)
	}
	writeRings(t, data, ring{stream: "events", seqs: []uint64{3500, 3501, 3502}})
	p := plan(t, data)
	cp, err := migrate.LoadCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	checks, err := migrate.Verify(ctx, p, sink, cp)
	if c := checks[0]; err != nil || c.OK || !c.Behind || c.Newer != 3 || c.StoredLast != 3000 || c.Why != "" {
		t.Fatalf("ring written since: %v %+v", err, c)
	}
	checks, _ = migrate.Verify(ctx, p, sink, nil)
	if c := checks[0]; c.OK || c.Behind {
		t.Fatalf("the same right after a migration: %+v", c)
	}
	js, _ := jetstream.New(nc)
	st, _ := js.Stream(ctx, "ITINY_EVENTS")
	if err := st.DeleteMsg(ctx, 7); err != nil {
		t.Fatal(err)
	}
	checks, _ = migrate.Verify(ctx, p, sink, cp)
	if c := checks[0]; c.OK || c.Behind || c.Missing != 4 {
		t.Fatalf("a hole below the store's newest: %+v", c)
	}
}

// TestDamagedRingConverted: a damaged ring (the golden one) moves with a
// marker where the damage cost a record, and payloads re-encoded as JSON
// on request.
func TestDamagedRingConverted(t *testing.T) {
	nc := startNATS(t)
	in, err := view.Open([]string{"../testdata/golden/v1-msgpack-damaged"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := migrate.NewPlan(in, "dev1")
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rings[0]
	if r.Records != 38 || r.First != 1 || r.Last != 39 || fmt.Sprint(r.Gaps) != "[{13 13 lost 1 damage }]" {
		t.Fatalf("plan: %d records %d..%d, gaps %v", r.Records, r.First, r.Last, r.Gaps)
	}
	sink := newJS(t, nc, migrate.JetStreamOptions{})
	ctx := context.Background()
	if _, err := migrate.Run(ctx, p, sink, migrate.Options{Checkpoint: filepath.Join(testdir.TempDir(t), "ck"), Convert: codec.JSON}); err != nil {
		t.Fatal(err)
	}
	msgs := stored(t, nc, "ITINY_METRICS", "itiny.dev1.metrics")
	if len(msgs) != 39 {
		t.Fatalf("%d messages, want 38 records and a marker", len(msgs))
	}
	for i, m := range msgs {
		h := m.Headers()
		if i == 12 {
			if h.Get(migrate.HeaderGap) != "13-13" || h.Get(migrate.HeaderGapCause) != "damage" || len(m.Data()) != 0 {
				t.Fatalf("message 12: %v %q", h, m.Data())
			}
			continue
		}
		var rec codec.Record
		if h.Get(migrate.HeaderCodec) != "json" || codec.JSON.Decode(m.Data(), &rec) != nil || !strings.HasSuffix(h.Get(jetstream.MsgIDHeader), "."+strconv.FormatUint(rec.Seq, 10)) {
			t.Fatalf("message %d: %v %s", i, h, m.Data())
		}
	}
	checks, err := migrate.Verify(ctx, p, sink, nil)
	if err != nil || !checks[0].OK {
		t.Fatalf("verify: %v %+v", err, checks)
	}
}

// TestMappedBytes: a stream migrate creates holds the ring's records with
// room to spare, but not wildly more than they take.
func TestMappedBytes(t *testing.T) {
	nc, p, _ := migrateOnce(t, ring{stream: "metrics", n: 5000})
	ctx := context.Background()
	js, _ := jetstream.New(nc)
	st, _ := js.Stream(ctx, "ITINY_METRICS")
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	used, limit := int64(info.State.Bytes), info.Config.MaxBytes
	t.Logf("%d messages take %d bytes (%d of payload, %.0f a message besides); max_bytes %d",
		info.State.Msgs, used, p.Rings[0].Bytes, float64(used-p.Rings[0].Bytes)/float64(info.State.Msgs), limit)
	if info.State.Msgs != 5000 || limit < used*5/4 || limit > used*3/2 {
		t.Fatalf("%d messages in %d bytes, max_bytes %d: want 1.25-1.5 times the use", info.State.Msgs, used, limit)
	}
}

// TestGapMarkerLoss: a marker says what its numbers were. A periodic ring
// whose writer died before its first flush starts with a gap its resume
// note bounds; the marker carries that bound, comes once, and verifies.
func TestGapMarkerLoss(t *testing.T) {
	nc := startNATS(t)
	data := t.TempDir()
	dir := filepath.Join(data, "metrics")
	o := ringlog.Options{Stream: "metrics", Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 64 << 10,
		MemoryStage: true, Boot: codec.BootID{1, 2, 3}, BootCount: 3}
	w, err := ringlog.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 3; i++ {
		w.Append(record("metrics", i)) // in memory only
	}
	ringtest.Kill(t, w, dir)
	if w, err = ringlog.Open(dir, o); err != nil {
		t.Fatal(err)
	}
	for i := uint64(4); i <= 5; i++ {
		w.Append(record("metrics", i))
	}
	w.Close()

	p := plan(t, data)
	r := p.Rings[0]
	if len(r.Gaps) != 1 || r.Gaps[0].From != 1 || r.Gaps[0].Loss != view.LossPossible {
		t.Fatalf("plan gaps %+v", r.Gaps)
	}
	sink := newJS(t, nc, migrate.JetStreamOptions{})
	ctx := context.Background()
	if _, err := migrate.Run(ctx, p, sink, migrate.Options{Checkpoint: filepath.Join(t.TempDir(), "ck")}); err != nil {
		t.Fatal(err)
	}
	var markers []string
	for _, m := range stored(t, nc, "ITINY_METRICS", "itiny.dev1.metrics") {
		if h := m.Headers(); h.Get(migrate.HeaderGap) != "" {
			markers = append(markers, h.Get(migrate.HeaderGap)+" "+h.Get(migrate.HeaderGapLoss)+" "+h.Get(migrate.HeaderGapLost))
		}
	}
	want := fmt.Sprintf("[1-%d possibly lost %d]", r.Gaps[0].To, r.Gaps[0].Lost)
	if fmt.Sprint(markers) != want {
		t.Fatalf("markers %q, want %s", markers, want)
	}
	checks, err := migrate.Verify(ctx, p, sink, nil)
	if err != nil || !checks[0].OK || checks[0].StoredMarks != 1 {
		t.Fatalf("verify: %v %+v", err, checks)
	}
}

// TestJetStreamDottedStream: a stream whose name has a dot, as a rollup
// tier's does (metrics.1h), goes to a JetStream stream of its own, whose
// name may not have one, on a subject of its own, apart from its base's.
func TestJetStreamDottedStream(t *testing.T) {
	nc := startNATS(t)
	data := testdir.TempDir(t)
	writeRings(t, data, ring{stream: "metrics", n: 30}, ring{stream: "metrics.1h", n: 20})
	p := plan(t, data)
	sink := newJS(t, nc, migrate.JetStreamOptions{})
	ctx := context.Background()
	if _, err := migrate.Run(ctx, p, sink, migrate.Options{Window: 8, Checkpoint: filepath.Join(testdir.TempDir(t), "ck")}); err != nil {
		t.Fatal(err)
	}
	checks, err := migrate.Verify(ctx, p, sink, nil)
	if err != nil || len(checks) != 2 {
		t.Fatalf("%d checks: %v", len(checks), err)
	}
	for _, c := range checks {
		if !c.OK {
			t.Errorf("%+v", c)
		}
	}
	if n := len(stored(t, nc, "ITINY_METRICS_1H", "itiny.dev1.metrics.1h")); n != 20 {
		t.Errorf("%d messages on itiny.dev1.metrics.1h, want 20", n)
	}
	if n := len(stored(t, nc, "ITINY_METRICS", "itiny.dev1.metrics")); n != 30 {
		t.Errorf("%d messages on itiny.dev1.metrics, want 30", n)
	}
}
