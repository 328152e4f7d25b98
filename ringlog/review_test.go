package ringlog

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

// Regression tests for defects found in review.

func padRecord(i, pad int) *codec.Record {
	r := testRecord(i)
	r.Fields = append(r.Fields, codec.Field{Key: "pad", Value: codec.String(strings.Repeat("x", pad))})
	return r
}

// TestRotateFailure: when a new segment cannot be created, Append fails,
// later appends retry the rotation rather than stage records for a
// segment that does not exist, and every acknowledged record is kept with
// segment numbers that have no holes.
func TestRotateFailure(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	var acked []uint64
	for i := 0; int(o.SegmentSize)-int(w.segSize)-w.st.n >= 900; i++ {
		s, err := w.Append(padRecord(i, 50))
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, s)
	}
	block := filepath.Join(dir, segName(w.segSeq+1, o.Codec)+tmpSuffix)
	os.Mkdir(block, 0o755) // the new segment's file cannot be created
	if _, err := w.Append(padRecord(1000, 1500)); err == nil {
		t.Fatal("append needing a rotation succeeded with the segment blocked")
	}
	if _, err := w.Append(padRecord(2000, 50)); err == nil {
		t.Fatal("append after a failed rotation succeeded without a segment")
	}
	os.Remove(block)
	for i := 0; i < 3; i++ {
		s, err := w.Append(padRecord(3000+i, 50))
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, s)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	res := readAll(t, dir)
	if !slices.Equal(res.seqs, acked) || len(res.damage) != 0 {
		t.Fatalf("read %v (damage %v), acknowledged %v", tail(res.seqs), res.damage, tail(acked))
	}
	for i, p := range segmentPaths(t, dir) {
		if want := segName(uint64(i+1), o.Codec); filepath.Base(p) != want {
			t.Fatalf("segment %d is %s, want %s", i, filepath.Base(p), want)
		}
	}
}

// TestCodecChangeReplay: records staged before a crash are replayed into a
// ring reopened with the other codec, transcoded.
func TestCodecChangeReplay(t *testing.T) {
	for _, pair := range [][2]codec.Codec{{codec.Msgpack, codec.JSON}, {codec.JSON, codec.Msgpack}} {
		t.Run(pair[0].String()+"-to-"+pair[1].String(), func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(pair[0])
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			seqs := appendN(t, w, 0, 5)
			if w.st.n == 0 {
				t.Fatal("nothing staged")
			}
			w.crash()
			o.Codec = pair[1]
			if w, err = Open(dir, o); err != nil {
				t.Fatal(err)
			}
			if rec := w.Recovery(); rec.Replayed != 5 {
				t.Fatalf("recovery %+v", rec)
			}
			w.Close()
			res := readAll(t, dir) // decodes every record
			if !slices.Equal(res.seqs, seqs) || len(res.damage) != 0 || !slices.Equal(res.ids, []int64{0, 1, 2, 3, 4}) {
				t.Fatalf("read %v ids %v damage %v", res.seqs, res.ids, res.damage)
			}
		})
	}
}

// TestSyncWaitsForFlusher: Sync returns only once segments the flusher
// took to sync in the background are synced.
func TestSyncWaitsForFlusher(t *testing.T) {
	for iter := 0; iter < 100; iter++ {
		o := testOptions(codec.Msgpack)
		o.StageSize = -1
		w, err := Open(t.TempDir(), o)
		if err != nil {
			t.Fatal(err)
		}
		base := w.syncs.Load()
		for seg, i := w.segSeq, 0; w.segSeq == seg; i++ {
			if _, err := w.Append(padRecord(i, 50)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		// The sealed segment and the active one: at least two syncs.
		if got := w.syncs.Load() - base; got < 2 {
			t.Fatalf("run %d: Sync returned after %d fdatasyncs", iter, got)
		}
		w.Close()
	}
}

// TestPeriodicFlushIsNotSyncInterval: a memory stage with a long flush
// interval is not written by a short sync interval.
func TestPeriodicFlushIsNotSyncInterval(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	o.MemoryStage, o.FlushEvery, o.Sync, o.SyncEvery = true, time.Hour, SyncInterval, 20*time.Millisecond
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 0, 3)
	time.Sleep(150 * time.Millisecond)
	if got := readAll(t, dir).seqs; len(got) != 0 {
		t.Fatalf("%d records on disk before the flush interval", len(got))
	}
	w.Close()
	if got := readAll(t, dir).seqs; len(got) != 3 {
		t.Fatalf("%d records after Close, want 3", len(got))
	}
}

// TestConcurrentStatsClose: Stats may run while Close flushes (run with
// -race).
func TestConcurrentStatsClose(t *testing.T) {
	w, err := Open(t.TempDir(), testOptions(codec.Msgpack))
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 0, 50)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 1000; i++ {
			w.Stats()
		}
	}()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

// A follower that read part of a write the writer then cut off and wrote
// again reads the new frame, not the stale bytes: bytes after the last
// whole frame are read again on every refresh.
func TestFollowerRereadsCutTail(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	o.StageSize = -1 // each record straight to the segment
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	appendN(t, w, 0, 3)
	r, err := NewReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	// A partial write the writer failed on: 40 bytes of another frame.
	seg := segmentPaths(t, dir)[0]
	st, _ := os.Stat(seg)
	junk := sealFrame(append(framePlaceholder(nil, false), bytes.Repeat([]byte{0xab}, 64)...), false, segSalt(1), 4)
	f, err := os.OpenFile(seg, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(junk[:40], st.Size())
	f.Close()
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("at a write in progress: %v, want io.EOF", err)
	}
	// The writer cuts it off and writes the real record 4 there.
	os.Truncate(seg, st.Size())
	appendN(t, w, 3, 1)
	e, err := r.Next()
	if err != nil || e.Seq != 4 {
		t.Fatalf("after the rewrite: seq %d, %v; want record 4", e.Seq, err)
	}
	var rec codec.Record
	if err := e.Decode(&rec); err != nil {
		t.Fatal(err)
	}
}
