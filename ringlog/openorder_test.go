package ringlog

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testdir"
)

// TestStagedRecordsUnderStaleSegment: a writer dies with acknowledged
// records in its mapped stage (salted for the ring's newest segment)
// while another ring's segment, numbered above the ring's, is in the
// directory. A reader read the staged records; Open replays them, and
// never reuses their numbers.
func TestStagedRecordsUnderStaleSegment(t *testing.T) {
	for _, tc := range []struct {
		name  string
		other int // records of the other ring
	}{
		{"other ring's numbers above", 300},
		{"other ring's segment empty", 0},
	} {
		t.Run(tc.name, func(t *testing.T) { staleAboveStaged(t, tc.other) })
	}
}

func staleAboveStaged(t *testing.T, others int) {
	dir, other := testdir.TempDir(t), testdir.TempDir(t)
	o := testOptions(codec.Msgpack)
	o.SegmentSize, o.Budget = 1<<20, 8<<20
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	acked := appendN(t, w, 0, 5)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	acked = append(acked, appendN(t, w, 5, 10)...) // in the stage only
	w.crash()

	o2 := testOptions(codec.Msgpack)
	w2, err := Open(other, o2)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w2, 0, others) // 300: several 8 KiB segments, the last numbered above 1
	w2.Close()
	src := segmentPaths(t, other)
	stale := filepath.Join(dir, filepath.Base(src[len(src)-1]))
	if others == 0 { // a fresh segment of another ring, numbered 2
		stale = filepath.Join(dir, segName(2, codec.Msgpack))
	}
	write(t, stale, read(t, src[len(src)-1]))
	if others == 0 {
		rewriteHeader(t, stale, func(h *Header) { h.Segment = 2 })
	}

	if r, err := NewReader(dir); err == nil {
		for _, s := range r.Segments() {
			t.Logf("seg %s %+v err %v", s.Path, s.Header.Segment, s.Err)
		}
	}
	before := readAll(t, dir)
	for _, a := range acked {
		if _, ok := slices.BinarySearch(before.seqs, a); !ok {
			t.Fatalf("before Open: acknowledged %d not read (%v)", a, before.seqs)
		}
	}

	rec, seq := reopenAppend(t, dir, o)
	t.Logf("recovery: replayed %d, jump %d, resume %+v, damage %v", rec.Replayed, rec.SeqJump, rec.Resume, rec.Damage)
	if seq <= slices.Max(before.seqs) {
		t.Errorf("new record numbered %d; a reader had read up to %d before Open", seq, slices.Max(before.seqs))
	}
	after := readAll(t, dir)
	for _, a := range acked {
		if _, ok := slices.BinarySearch(after.seqs, a); !ok {
			t.Errorf("after Open: acknowledged record %d lost (read %v)", a, after.seqs)
		}
	}
	for _, d := range after.damage {
		if !errors.Is(d, ErrStaleSegment) {
			t.Errorf("damage %v", d)
		}
	}
}

// TestCrashAfterNoteRaisesBase: Open resumes with a note (a writer with
// records in memory was killed), and is itself killed once the note's
// segment has its name, before the stage's final header. The stage
// already says numbering is unbroken only from the note (markResume), so
// after a clean close and the loss of the newest segment, the skipped
// numbers are not counted as records lost exactly.
func TestCrashAfterNoteRaisesBase(t *testing.T) {
	for _, crashInOpen := range []bool{false, true} {
		name := "control"
		if crashInOpen {
			name = "killed at segment-renamed"
		}
		t.Run(name, func(t *testing.T) {
			dir := testdir.TempDir(t)
			args := []string{dir, "msgpack+mem", SyncNone.String(), "0"}
			runUntilKilled(t, args, 50)
			if crashInOpen {
				if !killedInOpen(t, args, "segment-renamed") {
					t.Skip("Open did not resume: no note written")
				}
			}
			o := childOptions("msgpack+mem", SyncNone, 0)
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, w, 0, 5)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			res := readAll(t, dir)
			if len(res.notes) != 1 {
				t.Fatalf("notes %v, want one", res.notes)
			}
			var noteSeq uint64
			var note Resume
			for s, n := range res.notes {
				noteSeq, note = s, n
			}
			// The newest segment, which begins with the note, is lost.
			segs := segmentPaths(t, dir)
			newest := segs[len(segs)-1]
			r, _ := NewReader(dir)
			for _, s := range r.Segments() {
				if s.Path == newest && s.Header.First != noteSeq {
					t.Fatalf("newest segment starts at %d, not at the note %d", s.Header.First, noteSeq)
				}
			}
			if err := os.Remove(newest); err != nil {
				t.Fatal(err)
			}
			w, err = Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			n := w.Recovery().Resume
			w.Close()
			if n == nil {
				t.Fatal("no resume note")
			}
			t.Logf("note before: %+v at %d; after losing its segment: %+v", note, noteSeq, *n)
			// Of the numbers missing now, note.After+1 .. noteSeq-1 were
			// skipped: never records.
			if n.Loss == LossExact && n.Lost > res.seqs[len(res.seqs)-1]-noteSeq+1 {
				t.Errorf("%d records lost exactly, but only %d of the missing numbers were records (%d numbers were skipped by the earlier resume)",
					n.Lost, res.seqs[len(res.seqs)-1]-noteSeq+1, noteSeq-note.After-1)
			}
		})
	}
}

// TestCrashAfterSealingRotation: the newest segment's tail is corrupt
// (not torn), so records a reader has read are gone, and Open resumes
// above the mark. Killed after it has made a new segment for the staged
// records, before the note, it leaves the damage behind the new newest
// segment, where the next Open does not look: the stage's state
// (stateResume, written first) still makes that Open resume above the
// numbers a reader has read.
func TestCrashAfterSealingRotation(t *testing.T) {
	for _, crashInOpen := range []bool{false, true} {
		name := "control"
		if crashInOpen {
			name = "killed at replayed"
		}
		t.Run(name, func(t *testing.T) {
			dir := testdir.TempDir(t)
			args := []string{dir, "msgpack", SyncInterval.String(), "-1"}
			o := childOptions("msgpack", SyncInterval, -1)
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, w, 0, 200)
			w.crash()
			seen := readAll(t, dir).seqs
			top := seen[len(seen)-1]
			segs := segmentPaths(t, dir)
			newest := segs[len(segs)-1]
			data := read(t, newest)
			for i := len(data) - 300; i < len(data); i++ {
				data[i] = 0xaa // corruption, not a torn tail
			}
			write(t, newest, data)
			if crashInOpen {
				if !killedInOpen(t, args, "replayed") {
					t.Fatal("Open never reached replayed")
				}
			}
			rec, seq := reopenAppend(t, dir, o)
			t.Logf("recovery: sealed %v, jump %d, resume %+v", rec.Sealed, rec.SeqJump, rec.Resume)
			if seq <= top {
				t.Errorf("new record numbered %d; a reader read up to %d before the damage", seq, top)
			}
		})
	}
}

// TestStaleSegmentBelowNumbers: a writer numbers above every number in a
// stale segment (FORMAT section 5), wherever the segment is numbered.
func TestStaleSegmentBelowNumbers(t *testing.T) {
	dir, other := testdir.TempDir(t), testdir.TempDir(t)
	o := testOptions(codec.Msgpack)
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 0, 100) // segments 1.. of 8 KiB
	w.Close()
	o2 := testOptions(codec.Msgpack)
	o2.SegmentSize = 1 << 20
	o2.Budget = 4 << 20
	w2, err := Open(other, o2)
	if err != nil {
		t.Fatal(err)
	}
	theirs := appendN(t, w2, 0, 2000) // all in its segment 1
	w2.Close()
	mine := segmentPaths(t, dir)
	// The ring's segment 1 is replaced by the other ring's segment 1.
	write(t, mine[0], read(t, segmentPaths(t, other)[0]))
	_, seq := reopenAppend(t, dir, o)
	if top := theirs[len(theirs)-1]; seq <= top {
		t.Errorf("new record numbered %d; the stale segment holds numbers up to %d (FORMAT 5: above every number in it)", seq, top)
	}
}

// TestExactLossWidenedByStale: after a clean close, the newest segment is
// lost (its records are lost exactly), and another ring's segment with
// higher numbers is in the directory. The writer numbers above the other
// ring's numbers, and its note then says "possible" for the whole gap:
// "lost" would claim every number was one of this ring's records.
func TestExactLossWidenedByStale(t *testing.T) {
	dir, other := testdir.TempDir(t), testdir.TempDir(t)
	o := testOptions(codec.Msgpack)
	o.SegmentSize, o.Budget = 1<<20, 8<<20
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 0, 50)
	w.mu.Lock()
	w.rotate()
	w.mu.Unlock()
	lost := appendN(t, w, 50, 5)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	segs := segmentPaths(t, dir)
	if err := os.Remove(segs[len(segs)-1]); err != nil {
		t.Fatal(err)
	}
	w2, err := Open(other, testOptions(codec.Msgpack))
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w2, 0, 300)
	w2.Close()
	src := segmentPaths(t, other)
	write(t, filepath.Join(dir, filepath.Base(src[len(src)-1])), read(t, src[len(src)-1]))

	r, seq := reopenAppend(t, dir, o)
	n := r.Resume
	res := readAll(t, dir)
	note, ok := res.notes[seq-1]
	if n == nil || !ok {
		t.Fatalf("no resume note (recovery %+v)", n)
	}
	gap := seq - 1 - note.After - 1
	t.Logf("note %+v at %d: gap of %d numbers, %d records lost", note, seq-1, gap, len(lost))
	if note.Loss == LossExact && note.Lost != gap {
		t.Errorf("note says %q (every number a record) for %d numbers, but counts %d records", note.Loss, gap, note.Lost)
	}
}

// TestCrashInOpenWithStaleAbove: TestStaleSegment's "numbered above"
// case, with the Open that finds the other ring's segment killed once a
// new segment has its name: the next Open still numbers above the other
// ring's numbers.
func TestCrashInOpenWithStaleAbove(t *testing.T) {
	dir, other := testdir.TempDir(t), testdir.TempDir(t)
	args := []string{dir, "msgpack", SyncNone.String(), "0"}
	o := childOptions("msgpack", SyncNone, 0)
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	mine := appendN(t, w, 0, 50)
	w.Close()
	w2, err := Open(other, o)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w2, 0, 1000)
	w2.Close()
	theirs := readAll(t, other).seqs
	src := segmentPaths(t, other)
	write(t, filepath.Join(dir, filepath.Base(src[len(src)-1])), read(t, src[len(src)-1]))

	if !killedInOpen(t, args, "segment-renamed") {
		t.Fatal("Open never reached segment-renamed")
	}
	_, seq := reopenAppend(t, dir, o)
	if top := max(mine[len(mine)-1], theirs[len(theirs)-1]); seq <= top {
		t.Errorf("new record numbered %d; the other ring's segment, which the writer counts as possibly read, holds numbers up to %d", seq, top)
	}
}

// TestAppendSeqGapRaisesBase: AppendSeq (itiny-read salvage) skipping
// numbers raises the stage's base, so after a clean close and the loss of
// the newest segment, the skipped numbers are not counted as records
// lost exactly.
func TestAppendSeqGapRaisesBase(t *testing.T) {
	dir := testdir.TempDir(t)
	o := testOptions(codec.Msgpack)
	o.SegmentSize, o.Budget = 1<<20, 8<<20
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []uint64{1, 2, 3, 4, 5, 100, 101, 102} { // as salvage copies a ring with a gap
		if s == 100 {
			w.mu.Lock()
			w.rotate()
			w.mu.Unlock()
		}
		r := testRecord(int(s))
		r.Seq = s
		if err := w.AppendSeq(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	segs := segmentPaths(t, dir)
	if err := os.Remove(segs[len(segs)-1]); err != nil { // 100-102
		t.Fatal(err)
	}
	if w, err = Open(dir, o); err != nil {
		t.Fatal(err)
	}
	n := w.Recovery().Resume
	w.Close()
	if n == nil {
		t.Fatal("no resume note")
	}
	t.Logf("note %+v", *n)
	if n.Loss == LossExact && n.Lost != 3 {
		t.Errorf("%d records lost exactly; 3 were records, numbers 6-99 were never used", n.Lost)
	}
}
