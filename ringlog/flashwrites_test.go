package ringlog

import (
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
