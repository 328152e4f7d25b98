package ringlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testdir"
)

// A numberingDamage is one way the newest segment or the stage can be
// damaged between two writers.
type numberingDamage struct {
	name string
	// boundary: the damage cuts the newest segment at a frame boundary,
	// which no writer can tell from an end; see TestNumbersNeverGoBackwards.
	boundary bool
	refused  bool // Open must refuse the ring with ErrUnsupported
	packed   bool // for packed rings only
	do       func(t *testing.T, dir string)
}

func numberingDamages() []numberingDamage {
	newest := func(t *testing.T, dir string) string {
		p := segmentPaths(t, dir)
		return p[len(p)-1]
	}
	stage := func(dir string) string { return filepath.Join(dir, stageName) }
	lastFrame := func(t *testing.T, dir string) (string, []byte, frameAt) {
		p := newest(t, dir)
		_, data, fs := segFrames(t, p)
		if len(fs) == 0 {
			t.Skip("newest segment holds no frame")
		}
		return p, data, fs[len(fs)-1]
	}
	return []numberingDamage{
		{name: "none", do: func(*testing.T, string) {}},
		{name: "torn tail", do: func(t *testing.T, dir string) {
			p, _, f := lastFrame(t, dir)
			truncate(t, p, int64(f.end-3))
		}},
		{name: "cut at a frame", boundary: true, do: func(t *testing.T, dir string) {
			p, _, f := lastFrame(t, dir)
			truncate(t, p, int64(f.off))
		}},
		{name: "header only", boundary: true, do: func(t *testing.T, dir string) {
			p := newest(t, dir)
			h, _, _ := segFrames(t, p)
			truncate(t, p, int64(h.Size))
		}},
		{name: "zeroed tail", do: func(t *testing.T, dir string) {
			p, data, f := lastFrame(t, dir)
			clear(data[f.off:f.end])
			write(t, p, data)
		}},
		{name: "garbage in a frame", do: func(t *testing.T, dir string) {
			p, data, f := lastFrame(t, dir)
			data[(f.off+f.end)/2] ^= 0xab
			write(t, p, data)
		}},
		{name: "header checksum", do: func(t *testing.T, dir string) {
			p := newest(t, dir)
			data := read(t, p)
			data[100] ^= 1
			write(t, p, data)
		}},
		{name: "header of another ring", do: func(t *testing.T, dir string) {
			rewriteHeader(t, newest(t, dir), func(h *Header) { h.Ring[0] ^= 0xff })
		}},
		{name: "header of a future version", refused: true, do: func(t *testing.T, dir string) {
			p := newest(t, dir)
			data := read(t, p)
			if data[0] == '{' {
				data = bytes.Replace(data, []byte(`"v":1,`), []byte(`"v":2,`), 1)
			} else {
				data[8] = 2
			}
			write(t, p, recrcHeader(t, data))
		}},
		{name: "unknown incompatible flag", refused: true, do: func(t *testing.T, dir string) {
			rewriteHeader(t, newest(t, dir), func(h *Header) { h.Flags |= 1 << 3 })
		}},
		{name: "block that does not unpack", packed: true, do: func(t *testing.T, dir string) {
			// A last entry with bit 7 of its tag set, under a valid checksum:
			// the records before it stand.
			p, data, f := lastFrame(t, dir)
			h, _ := parseHeader(data)
			blk := append(slices.Clone(data[f.off:f.end]), 0x80)
			sealBlock(blk, segSalt(h.Segment), f.seq)
			write(t, p, append(data[:f.off:f.off], blk...))
		}},
		{name: "block bad from its first entry", packed: true, do: func(t *testing.T, dir string) {
			p, data, f := lastFrame(t, dir)
			h, _ := parseHeader(data)
			blk := slices.Clone(data[f.off:f.end])
			blk[binFrameHeader] = 0x80
			sealBlock(blk, segSalt(h.Segment), f.seq)
			write(t, p, append(data[:f.off:f.off], blk...))
		}},
		{name: "stage missing", do: func(t *testing.T, dir string) {
			if err := os.Remove(stage(dir)); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "stage truncated", do: func(t *testing.T, dir string) { truncate(t, stage(dir), 50) }},
		{name: "stage checksum", do: func(t *testing.T, dir string) {
			data := read(t, stage(dir))
			data[20] ^= 1
			write(t, stage(dir), data)
		}},
		{name: "stage of another ring", do: func(t *testing.T, dir string) {
			data := read(t, stage(dir))
			data[stageOffRing] ^= 0xff
			binary.LittleEndian.PutUint32(data[stageOffCRC:], checksum(data[:stageOffCRC]))
			write(t, stage(dir), data)
		}},
		{name: "stage of a future version", refused: true, do: func(t *testing.T, dir string) {
			data := read(t, stage(dir))
			data[8] = 2
			binary.LittleEndian.PutUint32(data[stageOffCRC:], checksum(data[:stageOffCRC]))
			write(t, stage(dir), data)
		}},
	}
}

// TestNumbersNeverGoBackwards is the numbering rule as a property: for
// every kind of ring, every way its last writer ended (a clean close, a
// crash, a crash and a new boot) and every kind of damage to the newest
// segment and the stage, a writer that reopens the ring gives new records
// numbers above every number a reader could have seen, a reader returns
// them, and Recovery reports the damage. A ring written by a newer itiny
// is refused, untouched.
//
// One combination is left out: a cut at a frame boundary after a crash in
// the same boot. Nothing tells such a segment from a complete one, and no
// crash makes one: the page cache keeps every write of the boot, so only
// a person editing the file can.
func TestNumbersNeverGoBackwards(t *testing.T) {
	kinds := damageCases()
	mem := testOptions(codec.Msgpack)
	mem.MemoryStage = true
	memPacked := mem
	memPacked.Pack, memPacked.StageSize = true, 600
	kinds = append(kinds, damageCase{"memory stage", mem}, damageCase{"memory stage+pack", memPacked})
	for _, k := range kinds {
		for _, end := range []string{"close", "crash", "reboot"} {
			for _, dmg := range numberingDamages() {
				if dmg.packed && !k.o.Pack || dmg.boundary && end == "crash" {
					continue
				}
				t.Run(k.name+"/"+end+"/"+dmg.name, func(t *testing.T) {
					checkNumbering(t, k.o, end, dmg)
				})
				if strings.HasPrefix(dmg.name, "stage") {
					continue
				}
				// The same damage without the stage's mark to fall back on.
				do := dmg.do
				dmg.name += ", stage missing"
				dmg.do = func(t *testing.T, dir string) {
					do(t, dir)
					if err := os.Remove(filepath.Join(dir, stageName)); err != nil {
						t.Fatal(err)
					}
				}
				t.Run(k.name+"/"+end+"/"+dmg.name, func(t *testing.T) {
					checkNumbering(t, k.o, end, dmg)
				})
			}
		}
	}
}

func checkNumbering(t *testing.T, o Options, end string, dmg numberingDamage) {
	dir := testdir.TempDir(t)
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	// Enough records for a few segments, flushed in batches so that a
	// packed ring has several blocks; the last batch stays staged.
	var seqs []uint64
	for i := 0; i < 6; i++ {
		seqs = append(seqs, appendN(t, w, i*25, 25)...)
		if i < 5 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	handed := seqs[len(seqs)-1] // the highest number handed out
	if end == "close" {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	} else {
		w.crash()
	}
	seen := readAll(t, dir).seqs // what a reader saw before the damage
	dmg.do(t, dir)
	before := fileContents(t, dir)
	if end == "reboot" {
		o.Boot = codec.BootID{0xb0, 0x08}
	}
	w, err = Open(dir, o)
	if dmg.refused {
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("open: %v, want ErrUnsupported", err)
		}
		if after := fileContents(t, dir); !maps.Equal(before, after) {
			t.Fatal("a refused ring was changed")
		}
		return
	}
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	rec := w.Recovery()
	seq, err := w.Append(testRecord(1000))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	floor := handed
	if len(seen) > 0 {
		floor = max(floor, slices.Max(seen))
	}
	if seq <= floor {
		t.Fatalf("new record numbered %d; numbers up to %d were handed out or seen (recovery %+v)", seq, floor, rec)
	}
	res := readAll(t, dir)
	if len(res.seqs) == 0 || res.seqs[len(res.seqs)-1] != seq {
		t.Fatalf("reader ends at %v, not at the new record %d (damage %v)", tail(res.seqs), seq, res.damage)
	}
	for _, d := range res.damage {
		if errors.Is(d, ErrSeqBackwards) {
			t.Fatalf("reader found numbers going backwards: %v", d)
		}
	}
	if dmg.name != "none" && !rec.Sealed && len(rec.Damage) == 0 && rec.Resume == nil && rec.Replayed == 0 {
		t.Fatalf("damage %q not reported: recovery %+v", dmg.name, rec)
	}
	if n := rec.Resume; n != nil {
		if n.After >= seq || n.Loss > LossPossible || n.Loss != LossNone && n.Lost == 0 {
			t.Fatalf("resume note %+v before record %d", n, seq)
		}
	}
}

func truncate(t *testing.T, path string, n int64) {
	t.Helper()
	if err := os.Truncate(path, n); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

// rewriteHeader changes a segment's header, keeping it valid and its size.
func rewriteHeader(t *testing.T, path string, change func(*Header)) {
	t.Helper()
	data := read(t, path)
	h, err := parseHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	change(&h)
	hb := appendHeader(nil, &h)
	if len(hb) != h.Size {
		t.Fatalf("header grew from %d to %d bytes", h.Size, len(hb))
	}
	if h.Codec != codec.JSON {
		binary.LittleEndian.PutUint32(hb[12:], h.Flags)
		binary.LittleEndian.PutUint32(hb[124:], checksum(hb[:124]))
	}
	write(t, path, append(hb, data[h.Size:]...))
}

// recrcHeader sets the checksum of the header at the start of data.
func recrcHeader(t *testing.T, data []byte) []byte {
	t.Helper()
	if data[0] != '{' {
		binary.LittleEndian.PutUint32(data[124:], checksum(data[:124]))
		return data
	}
	end := bytes.IndexByte(data, '\n')
	at := bytes.LastIndex(data[:end], []byte(`,"hcrc":"`))
	sum := strconv.FormatUint(uint64(checksum(data[:at])), 16)
	for len(sum) < 8 {
		sum = "0" + sum
	}
	copy(data[at+9:], sum)
	return data
}

// fileContents returns the contents of every file in dir.
func fileContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range ents {
		m[e.Name()] = string(read(t, filepath.Join(dir, e.Name())))
	}
	return m
}

// TestMarkSyncedAhead: under every policy, no number is handed out at or
// above the high-water mark last made durable. A power cut may keep any
// record the page cache held, in any order, but never a number the next
// writer could hand out again: it resumes at least at the durable mark.
func TestMarkSyncedAhead(t *testing.T) {
	for _, sync := range []SyncPolicy{SyncNone, SyncInterval, SyncAlways} {
		for _, mem := range []bool{false, true} {
			o := testOptions(codec.Msgpack)
			o.Sync, o.SegmentSize, o.Budget, o.MemoryStage = sync, 1<<20, 8<<20, mem
			o.SyncEvery, o.FlushEvery = time.Hour, time.Hour // no timer helps
			w, err := Open(testdir.TempDir(t), o)
			if err != nil {
				t.Fatal(err)
			}
			r := testRecord(1)
			for i := 0; i < 5*hwStep; i++ {
				seq, err := w.Append(r)
				if err != nil {
					t.Fatal(err)
				}
				if durable := w.hwSynced.Load(); seq >= durable {
					t.Fatalf("%v, memory stage %v: record %d handed out, the durable mark is %d", sync, mem, seq, durable)
				}
			}
			w.Close()
		}
	}
}

// TestStaleSegment puts a segment of another ring into a ring's directory,
// numbered above the ring's own segments (left over, or copied in), with
// record numbers below and above the ring's. The writer neither adopts
// that ring nor numbers below any number read from it; a reader skips it
// whole, once, as ErrStaleSegment, and reads every record of the ring.
func TestStaleSegment(t *testing.T) {
	for _, tc := range []struct {
		name  string
		other int // records in the other ring
	}{
		{"numbered below", 200},
		{"numbered above", 5000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, other := testdir.TempDir(t), testdir.TempDir(t)
			o := testOptions(codec.Msgpack)
			o.SegmentSize, o.Budget = 1<<20, 8<<20
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, w, 0, 3000)
			w.Close()
			mine := readAll(t, dir).seqs

			o2 := o
			o2.SegmentSize = 8 << 10
			w2, err := Open(other, o2)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, w2, 0, tc.other)
			w2.Close()
			theirs := readAll(t, other).seqs
			src := segmentPaths(t, other)
			stale := filepath.Join(dir, filepath.Base(src[len(src)-1])) // above the ring's segment 1
			write(t, stale, read(t, src[len(src)-1]))

			rec, seq := reopenAppend(t, dir, o)
			if len(rec.Damage) != 1 || !errors.Is(rec.Damage[0], ErrStaleSegment) || rec.Damage[0].Segment != stale {
				t.Errorf("recovery damage %v, want %s as another ring's", rec.Damage, stale)
			}
			if top := max(slices.Max(mine), slices.Max(theirs)); seq <= top {
				t.Errorf("new record numbered %d; numbers up to %d were in the directory", seq, top)
			}
			res := readAll(t, dir)
			if len(res.damage) != 1 || !errors.Is(res.damage[0], ErrStaleSegment) || res.damage[0].Segment != stale {
				t.Errorf("reader damage %v, want one ErrStaleSegment for %s", res.damage, stale)
			}
			want := slices.Clone(mine)
			if rec.Resume != nil {
				// Numbers of the other ring above the ring's own were
				// skipped, with a note, as its numbers may have been read.
				want = append(want, seq-1)
				if n := res.notes[seq-1]; n.After != slices.Max(mine) || n.Loss != LossPossible || tc.other < 3000 {
					t.Errorf("note %+v at %d, after %d", n, seq-1, slices.Max(mine))
				}
			}
			if want = append(want, seq); !slices.Equal(res.seqs, want) {
				t.Errorf("read %d records (%v...%v), want the ring's %d and %d", len(res.seqs), res.seqs[:3], tail(res.seqs), len(mine), seq)
			}
		})
	}
}

// TestCleanCloseLoss removes the newest segments of a cleanly closed ring:
// the note counts the missing records exactly when numbering had no skip
// in them, and only bounds them when an earlier resume skipped numbers
// there, which were never records.
func TestCleanCloseLoss(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash bool // a crash with records in memory before the clean close: its writer skips numbers
		loss  Loss
	}{
		{"no skip", false, LossExact},
		{"skipped by an earlier resume", true, LossPossible},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testdir.TempDir(t)
			o := testOptions(codec.Msgpack)
			o.MemoryStage = true
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, w, 0, 50)
			w.Flush()
			kept := readAll(t, dir).seqs
			if tc.crash { // the note starts a new segment
				w.crash()
				if w, err = Open(dir, o); err != nil {
					t.Fatal(err)
				}
				if w.Recovery().SeqJump == 0 {
					t.Fatal("no numbers skipped after a crash with records in memory")
				}
			} else {
				w.mu.Lock()
				w.rotate()
				w.mu.Unlock()
			}
			lost := appendN(t, w, 50, 5) // in the newest segment, removed below
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			segs := segmentPaths(t, dir)
			if err := os.Remove(segs[len(segs)-1]); err != nil {
				t.Fatal(err)
			}
			if w, err = Open(dir, o); err != nil {
				t.Fatal(err)
			}
			n := w.Recovery().Resume
			w.Close()
			missing := lost[len(lost)-1] - kept[len(kept)-1]
			switch {
			case n == nil:
				t.Fatal("no resume note")
			case n.Loss != tc.loss || n.Lost != missing || n.After != kept[len(kept)-1]:
				t.Errorf("note %+v; want %v, %d numbers after %d (%d records lost)", *n, tc.loss, missing, kept[len(kept)-1], len(lost))
			}
			t.Logf("note: %v %d: %s; %s", n.Loss, n.Lost, n.Cause, n.Bound)
		})
	}
}
