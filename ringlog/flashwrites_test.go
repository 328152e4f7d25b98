package ringlog

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

// TestMarkAheadAtFlushes checks that a memory stage raises its high-water
// mark at flushes only, once it has seen the rate of a flush, so that the
// mark's writes and syncs meet the segment's (markAhead): 700 records a
// flush would have raised it in Append every 512 records. The numbers
// stay below the durable mark throughout.
func TestMarkAheadAtFlushes(t *testing.T) {
	for _, pack := range []bool{false, true} {
		o := testOptions(codec.Msgpack)
		o.MemoryStage, o.Pack = true, pack
		o.StageSize, o.SegmentSize, o.Budget = 64<<10, 256<<10, 4<<20
		w, err := Open(t.TempDir(), o)
		if err != nil {
			t.Fatal(err)
		}
		raisedInAppend := 0
		for round := range 12 {
			for i := range 700 {
				hw, writes := w.hw, w.wrote.writes
				if _, err := w.Append(testRecord(round*700 + i)); err != nil {
					t.Fatal(err)
				}
				if w.next > w.hwSynced.Load() {
					t.Fatalf("pack %v: number %d handed out above the durable mark %d", pack, w.next-1, w.hwSynced.Load())
				}
				// A full buffer flushes in Append: a raise there is at a flush.
				if w.hw != hw && w.wrote.writes == writes && round > 0 {
					raisedInAppend++
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := w.Sync(); err != nil { // what the flusher does after a flush
				t.Fatal(err)
			}
		}
		// The first round has no rate to go by: its records raise the
		// mark in Append, as before.
		if raisedInAppend != 0 {
			t.Errorf("pack %v: the mark was raised between flushes %d times after the first round, at a steady rate", pack, raisedInAppend)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSyncAfterFlush checks that the flusher syncs the segment after a
// flush of a memory stage when flushes are writebackAge or more apart,
// and not when they are closer (syncFlushes).
func TestSyncAfterFlush(t *testing.T) {
	for _, tc := range []struct {
		every time.Duration
		want  bool
	}{{writebackAge, true}, {time.Hour, true}, {writebackAge - time.Second, false}} {
		o := testOptions(codec.Msgpack)
		o.MemoryStage, o.FlushEvery = true, tc.every
		w, err := Open(t.TempDir(), o)
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, w, 0, 10)
		before := w.Stats().Syncs
		w.mu.Lock()
		w.stagedAt = w.stagedAt.Add(-tc.every) // due now
		w.mu.Unlock()
		w.wake()
		deadline := time.Now().Add(time.Minute)
		for {
			w.mu.Lock()
			staged := w.hasStaged()
			w.mu.Unlock()
			if !staged {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("flush every %v: the flusher did not flush", tc.every)
			}
			time.Sleep(time.Millisecond)
		}
		w.syncMu.Lock() // the flusher's syncs after the flush are done
		got := w.Stats().Syncs > before
		w.syncMu.Unlock()
		if got != tc.want {
			t.Errorf("flush every %v: segment synced after the flush: %v, want %v", tc.every, got, tc.want)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFlushSyncKeepsSegmentOpen checks that the segment the flusher syncs
// outside mu after a flush is one a rotation cannot close meanwhile: it
// is still marked unsynced, so a rotation hands it to the flusher
// (sealed) instead of closing its descriptor, which the next file opened
// in the process would get. Under sync = interval a flush can come with
// the interval's sync of the segment, in the same pass: the segment is
// then synced once, not again outside mu.
func TestFlushSyncKeepsSegmentOpen(t *testing.T) {
	for _, sync := range []SyncPolicy{SyncNone, SyncInterval} {
		o := testOptions(codec.Msgpack)
		o.MemoryStage, o.FlushEvery = true, writebackAge
		o.Sync, o.SyncEvery = sync, time.Hour
		w, err := Open(t.TempDir(), o)
		if err != nil {
			t.Fatal(err)
		}
		// A record larger than the stage goes straight to the segment: a
		// write left unsynced, whose interval is then due.
		big := testRecord(0)
		big.Fields = append(big.Fields, codec.Field{Key: "blob", Value: codec.String(string(make([]byte, o.StageSize)))})
		if _, err := w.Append(big); err != nil {
			t.Fatal(err)
		}
		appendN(t, w, 1, 10)
		seen := make(chan bool, 1)
		crashPoint = func(step string) {
			if step == "flush-sync" {
				w.mu.Lock()
				seen <- w.unsynced
				w.mu.Unlock()
			}
		}
		w.mu.Lock()
		w.stagedAt = w.stagedAt.Add(-o.FlushEvery)
		w.unsyncedAt = w.unsyncedAt.Add(-o.SyncEvery)
		before := w.syncs.Load()
		w.mu.Unlock()
		w.wake()
		for staged := true; staged; {
			w.mu.Lock()
			staged = w.hasStaged()
			w.mu.Unlock()
			time.Sleep(time.Millisecond)
		}
		w.syncMu.Lock() // the flusher's pass is over
		syncs := w.syncs.Load() - before
		w.syncMu.Unlock()
		crashPoint = nil
		select {
		case open := <-seen:
			if !open {
				t.Errorf("sync %v: the flusher syncs outside mu a segment already synced, which a rotation closes meanwhile", sync)
			}
		default:
		}
		if syncs != 1 {
			t.Errorf("sync %v: the flush's pass synced the segment %d times, want 1", sync, syncs)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMarkWriteFails checks that a high-water mark whose write to the
// stage failed is never taken as durable: the writer would hand out
// numbers above the mark on disk, which the next writer, after a power
// cut, would hand out again. The stage's file is swapped for a read-only
// descriptor of it: writes fail, syncs succeed.
func TestMarkWriteFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		mem  bool // a memory stage: the flush raises the mark (markAhead)
	}{{"flush", true}, {"append", false}} {
		o := testOptions(codec.Msgpack)
		o.Budget = 1 << 20
		if tc.mem {
			o.MemoryStage, o.StageSize = true, 64<<10
		} else {
			o.StageSize = -1 // no stage: Append raises the mark
		}
		dir := t.TempDir()
		w, err := Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		ro, err := os.Open(filepath.Join(dir, stageName))
		if err != nil {
			t.Fatal(err)
		}
		w.mu.Lock()
		rw := w.st.f
		w.st.f = ro
		w.mu.Unlock()
		failed := 0
		for i := range 1200 {
			if _, err := w.Append(testRecord(i)); err != nil {
				failed++
			}
		}
		if w.Flush() != nil {
			failed++
		}
		if w.Sync() != nil {
			failed++
		}
		if failed == 0 {
			t.Errorf("%s: the mark's failed writes were not reported", tc.name)
		}
		var hdr [stageHeaderSize]byte
		if _, err := rw.ReadAt(hdr[:], 0); err != nil {
			t.Fatal(err)
		}
		si := parseStageHeader(hdr[:])
		if got := w.hwSynced.Load(); !si.hwOK || got > si.hw {
			t.Errorf("%s: the writer takes %d as the durable mark; the stage holds %d (valid %v)", tc.name, got, si.hw, si.hwOK)
		}
		if w.NextSeq() > si.hw {
			t.Errorf("%s: number %d handed out at or above the mark on disk, %d", tc.name, w.NextSeq()-1, si.hw)
		}
		w.mu.Lock()
		w.st.f = rw
		w.mu.Unlock()
		ro.Close()
		w.Close()
	}
}
