package view

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

func checkRing(t *testing.T, dir string) *Health {
	t.Helper()
	in, err := Open([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Check(in.Sources[0])
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestNoteLostToDamage: when damage costs a resume note (a bad sector in
// the first frame of its segment), damage is blamed only for numbers from
// the segment's first; the ~1000 numbers below, which the writer passed
// over, are not called records lost.
func TestNoteLostToDamage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "events")
	o := ringlog.Options{Stream: "events", Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 8 << 10,
		MemoryStage: true, Boot: codec.BootID{1}, BootCount: 1}
	w, err := ringlog.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		w.Append(rec(1, i, "r"))
	}
	w.Flush()
	w.Append(rec(1, 10, "r")) // in memory at the crash
	dir2 := crashCopy(t, dir)
	w.Close()
	if w, err = ringlog.Open(dir2, o); err != nil {
		t.Fatal(err)
	}
	for i := 11; i < 16; i++ {
		w.Append(rec(1, i, "r"))
	}
	w.Close()
	segs, _ := filepath.Glob(filepath.Join(dir2, "seg-*"))
	newest := segs[len(segs)-1]
	b, _ := os.ReadFile(newest)
	b[128+20] ^= 0xff // the note, the newest segment's first frame
	os.WriteFile(newest, b, 0o640)

	r := checkRing(t, dir2)
	if len(r.Gaps) == 0 {
		t.Fatal("no gap")
	}
	for _, g := range r.Gaps {
		if g.Loss == LossLost && g.Lost > 2 {
			t.Errorf("%d records lost exactly (%s); at most 2 were (the one in memory, and the note)", g.Lost, g.Cause)
		}
	}
}

// TestRetiredNotDamage: an oldest segment damaged whole (zeroed: lost
// blocks), nothing ever deleted: its numbers are damage's, not
// retention's, and they count as lost.
func TestRetiredNotDamage(t *testing.T) {
	data := t.TempDir()
	var recs []*codec.Record
	for i := 0; i < 300; i++ {
		recs = append(recs, rec(1, i, "r"))
	}
	writeRing(t, data, "events", codec.Msgpack, recs...)
	segs, _ := filepath.Glob(filepath.Join(data, "events", "seg-*"))
	if len(segs) < 3 {
		t.Fatalf("%d segments", len(segs))
	}
	st, _ := os.Stat(segs[0])
	os.WriteFile(segs[0], make([]byte, st.Size()), 0o640)

	r := checkRing(t, filepath.Join(data, "events"))
	if r.Retired != 0 {
		t.Errorf("retired %d: retention deleted nothing (segment 1 is there, damaged)", r.Retired)
	}
	if r.Lost == 0 && r.Unsure == 0 {
		t.Errorf("records 1-%d lost to damage, reported as no loss", r.FirstSeq-1)
	}
}

// TestBootLossesTwoStreams: two periodic streams crash in boot 1 and
// reopen in boot 2, each with a gap: both gaps count to boot 1, whose
// records they may have cost, whatever order the merge meets them in.
func TestBootLossesTwoStreams(t *testing.T) {
	data := t.TempDir()
	var ws []*ringlog.Writer
	for _, s := range []string{"a", "b"} {
		o := ringlog.Options{Stream: s, Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 8 << 10,
			MemoryStage: true, Boot: codec.BootID{1}, BootCount: 1}
		w, err := ringlog.Open(filepath.Join(data, s), o)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			w.Append(rec(1, i, s))
		}
		w.Flush()
		w.Append(rec(1, 5, s)) // in memory at the crash
		ws = append(ws, w)
	}
	dead := t.TempDir()
	os.CopyFS(dead, os.DirFS(data))
	for _, w := range ws {
		w.Close()
	}
	for i, s := range []string{"a", "b"} {
		o := ringlog.Options{Stream: s, Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 8 << 10,
			MemoryStage: true, Boot: codec.BootID{2}, BootCount: 2,
			Now: func() (time.Time, int64) { return t0, int64(i) }}
		w, err := ringlog.Open(filepath.Join(dead, s), o)
		if err != nil {
			t.Fatal(err)
		}
		w.Append(rec(2, 10, s))
		w.Close()
	}
	in, err := Open([]string{dead})
	if err != nil {
		t.Fatal(err)
	}
	boots, err := ListBoots(in.Sources)
	if err != nil {
		t.Fatal(err)
	}
	if len(boots) != 2 || boots[1].Unsure != 0 || boots[0].Unsure == 0 {
		t.Errorf("boot 2 lost nothing; its losses %+v", boots[len(boots)-1].Losses)
	}
}

// TestRetiredLastListed: a follower finds the last segments it listed
// deleted; the reader learns where their numbers end from the next
// segment, and the gap is retention's, not a restart's.
func TestRetiredLastListed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "events")
	o := ringlog.Options{Stream: "events", Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 8 << 10,
		Boot: codec.BootID{1}, BootCount: 1, FlushEvery: time.Hour}
	w, err := ringlog.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	add := func(n int) {
		for i := 0; i < n; i++ {
			w.Append(rec(1, i, "r"))
		}
		w.Flush()
	}
	for w.Stats().Segments < 4 {
		add(10)
	}
	m := follower(t, dir)
	for n := 0; n < 3; n++ { // the boot, and a first record: segment 1 is read into memory
		if _, err := m.Next(); err != nil {
			t.Fatal(err)
		}
	}
	for w.Stats().Segments < 6 {
		add(10)
	}
	// Retention deletes segments 1-4 (what Writer.reserve does, by hand).
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
	for _, s := range segs[:4] {
		os.Remove(s)
	}
	gaps := 0
	for {
		it, err := m.Next()
		if err != nil {
			break
		}
		if it.Kind == KindGap {
			gaps++
			if it.Gap.Cause != CauseRetention {
				t.Errorf("gap %d-%d: %s (%s), want deleted by retention", it.Gap.From, it.Gap.To, it.Gap.Loss, it.Gap.Cause)
			}
		}
	}
	if gaps == 0 {
		t.Fatal("no gap: retention deleted nothing the follower had not read")
	}
}

// TestForgedNote: a record that looks like a resume note but is not the
// first of its segment (one a client sent) explains nothing: records lost
// to damage before it stay lost.
func TestForgedNote(t *testing.T) {
	data := t.TempDir()
	var recs []*codec.Record
	for i := 0; i < 10; i++ {
		recs = append(recs, rec(1, i, "r"))
	}
	forged := rec(1, 10, ringlog.ResumeName,
		codec.Field{Key: "after", Value: codec.Uint(5)}, codec.Field{Key: "loss", Value: codec.String("none")},
		codec.Field{Key: "lost", Value: codec.Uint(0)}, codec.Field{Key: "cause", Value: codec.String("nothing to see")})
	forged.Source = "ringlog"
	recs = append(recs, forged)
	writeRing(t, data, "events", codec.JSON, recs...)
	segs, _ := filepath.Glob(filepath.Join(data, "events", "seg-*"))
	b, _ := os.ReadFile(segs[0])
	lines := 0
	for i := range b { // corrupt records 6-10: one byte in each line
		if b[i] == '\n' {
			lines++
			if lines >= 6 && lines <= 10 {
				b[i+30] ^= 0x01
			}
		}
	}
	os.WriteFile(segs[0], b, 0o640)
	r := checkRing(t, filepath.Join(data, "events"))
	if len(r.Gaps) == 0 {
		t.Fatal("no gap")
	}
	for _, g := range r.Gaps {
		if g.Loss == LossSkipped {
			t.Errorf("records lost to damage reported as %d numbers skipped (%s)", g.Numbers(), g.Cause)
		}
	}
}
