package ringlog

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/pack"
)

// buildRing writes n records to a new ring with no retention and returns
// its directory and the frames of its last segment.
func buildRing(t *testing.T, c codec.Codec, n int) string {
	t.Helper()
	o := testOptions(c)
	o.Budget = 1 << 20
	return buildRingOpts(t, o, n)
}

func buildRingOpts(t *testing.T, o Options, n int) string {
	t.Helper()
	dir := t.TempDir()
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 0, n)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// copyRing copies the files of ring src into a new directory.
func copyRing(t *testing.T, src string) string {
	t.Helper()
	dst := testdir.TempDir(t)
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// segFrames returns the offsets and sequence numbers of a clean
// segment's frames.
type frameAt struct {
	off, end int
	seq      uint64   // the frame's
	seqs     []uint64 // of its records: more than one in a packed block
}

// damageCase is a kind of ring the damage tests build.
type damageCase struct {
	name string
	o    Options
}

func damageCases() []damageCase {
	packed := testOptions(codec.Msgpack)
	packed.Pack = true
	packed.StageSize = 600 // a block of a few records per flush
	return []damageCase{
		{"msgpack", testOptions(codec.Msgpack)},
		{"json", testOptions(codec.JSON)},
		{"msgpack+pack", packed},
	}
}

func segFrames(t *testing.T, path string) (Header, []byte, []frameAt) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	sc := newScanner(path, data, h)
	var fs []frameAt
	for {
		off := sc.off
		f, err := sc.next()
		if err != nil {
			break
		}
		fa := frameAt{off: off, end: sc.off, seq: f.Seq, seqs: []uint64{f.Seq}}
		if f.Packed {
			fa.seqs = blockSeqs(t, f)
		}
		fs = append(fs, fa)
	}
	return h, data, fs
}

// TestTruncateEveryOffset cuts the last segment at every byte offset,
// then reopens the ring, appends, and reads: every record that ends
// before the cut survives, the cut is reported as a torn tail, and the
// new record gets a number never used before.
func TestTruncateEveryOffset(t *testing.T) {
	for _, dc := range damageCases() {
		t.Run(dc.name, func(t *testing.T) {
			o := dc.o
			o.Budget = 1 << 20
			src := buildRingOpts(t, o, 44)
			segs := segmentPaths(t, src)
			last := segs[len(segs)-1]
			h, data, frames := segFrames(t, last)
			if len(frames) < 3 {
				t.Fatalf("last segment has %d frames; want a few", len(frames))
			}
			all := readAll(t, src).seqs
			maxSeq := all[len(all)-1]
			step := 1
			if testing.Short() {
				step = 7
			}
			for cut := 0; cut <= len(data); cut += step {
				dir := copyRing(t, src)
				if err := os.Truncate(filepath.Join(dir, filepath.Base(last)), int64(cut)); err != nil {
					t.Fatal(err)
				}
				// The stage still holds the last records flushed, and Open
				// would rightly restore them (TestStageRestoresLostTail);
				// drop them to see what the segment alone gives.
				if err := os.Truncate(filepath.Join(dir, stageName), stageHeaderSize); err != nil {
					t.Fatal(err)
				}
				w, err := Open(dir, dc.o)
				if err != nil {
					t.Fatalf("cut %d: open: %v", cut, err)
				}
				seq, err := w.Append(testRecord(1000))
				if err != nil {
					t.Fatalf("cut %d: append: %v", cut, err)
				}
				if seq <= maxSeq {
					t.Fatalf("cut %d: new record got seq %d, which was used (max %d)", cut, seq, maxSeq)
				}
				w.Close()
				res := readAll(t, dir)
				want := slices.Clone(all[:len(all)-recordsIn(frames)])
				for _, f := range frames {
					if f.end <= cut {
						want = append(want, f.seqs...)
					}
				}
				if n := w.Recovery().Resume; n != nil {
					// Numbers passed over: the note explaining them comes first.
					if n.Loss != LossExact || n.Lost != seq-2-n.After {
						t.Fatalf("cut %d: resume note %+v after a clean close, want %d records lost exactly", cut, n, seq-2-n.After)
					}
					want = append(want, seq-1)
				}
				want = append(want, seq)
				if !slices.Equal(res.seqs, want) {
					t.Fatalf("cut %d: read %v\nwant %v", cut, tail(res.seqs), tail(want))
				}
				torn := cut > h.Size && !slices.ContainsFunc(frames, func(f frameAt) bool { return f.end == cut })
				switch {
				case cut < h.Size && cut > 0:
					if len(res.damage) != 1 || !errors.Is(res.damage[0].Err, ErrBadSegmentHeader) {
						t.Fatalf("cut %d in header: damage %v", cut, res.damage)
					}
				case torn:
					if len(res.damage) != 1 || !IsTornTail(res.damage[0]) {
						t.Fatalf("cut %d: damage %v, want one torn tail", cut, res.damage)
					}
				case len(res.damage) != 0 && cut != 0:
					t.Fatalf("cut %d at a frame boundary: damage %v", cut, res.damage)
				}
			}
		})
	}
}

func tail(s []uint64) []uint64 { return s[max(0, len(s)-5):] }

func recordsIn(fs []frameAt) int {
	n := 0
	for _, f := range fs {
		n += len(f.seqs)
	}
	return n
}

// blockSeqs returns the sequence numbers of the records in a packed frame.
func blockSeqs(t *testing.T, f frame) []uint64 {
	t.Helper()
	var u pack.Unpacker
	u.Reset(f.Payload, f.Seq)
	var seqs []uint64
	for {
		seq, _, err := u.Next()
		if err == io.EOF {
			return seqs
		}
		if err != nil {
			t.Fatalf("frame %d: %v", f.Seq, err)
		}
		seqs = append(seqs, seq)
	}
}

// allBits makes TestBitFlips flip every bit; make fuzz sets it.
var allBits = flag.Bool("bitflips.all", false, "flip every bit of the segment, not a sample")

// TestBitFlips flips single bits across a sealed segment: only the record
// whose frame holds the bit is lost, and the damage reported covers it.
func TestBitFlips(t *testing.T) {
	for _, dc := range damageCases() {
		t.Run(dc.name, func(t *testing.T) {
			o := dc.o
			o.Budget = 1 << 20
			src := buildRingOpts(t, o, 60)
			seg := segmentPaths(t, src)[0]
			h, data, frames := segFrames(t, seg)
			step := 3
			switch {
			case *allBits:
				step = 1
			case testing.Short():
				step = 29
			}
			dir := testdir.TempDir(t)
			path := filepath.Join(dir, filepath.Base(seg))
			for bit := 0; bit < len(data)*8; bit += step {
				bad := slices.Clone(data)
				bad[bit/8] ^= 1 << (bit % 8)
				if err := os.WriteFile(path, bad, 0o640); err != nil {
					t.Fatal(err)
				}
				res := readAll(t, dir)
				var lost []uint64
				for _, f := range frames {
					for _, seq := range f.seqs {
						if !slices.Contains(res.seqs, seq) {
							lost = append(lost, seq)
						}
					}
				}
				at := bit / 8
				switch {
				case at < h.Size:
					if len(lost) != 0 {
						t.Fatalf("bit %d in header: lost %v", bit, lost)
					}
				default:
					i := slices.IndexFunc(frames, func(f frameAt) bool { return f.off <= at && at < f.end })
					if !slices.Equal(lost, frames[i].seqs) {
						t.Fatalf("bit %d in frame of %v: lost %v", bit, frames[i].seqs, lost)
					}
				}
				if len(res.seqs)+len(lost) != recordsIn(frames) {
					t.Fatalf("bit %d: read %d records + lost %d, segment has %d", bit, len(res.seqs), len(lost), recordsIn(frames))
				}
				covered := slices.ContainsFunc(res.damage, func(d *Damage) bool { return d.Offset <= int64(at) && int64(at) < d.Offset+d.Length })
				if !covered {
					t.Fatalf("bit %d: no damage reported over offset %d: %v", bit, at, res.damage)
				}
			}
		})
	}
}

// TestDamagedRanges overwrites a range inside a segment with zeros or
// garbage: the records it overlaps are lost, all others are read, the
// range is reported with its cause, and a writer opening the ring keeps
// every intact record.
func TestDamagedRanges(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		for _, kind := range []string{"zero", "garbage"} {
			t.Run(c.String()+"/"+kind, func(t *testing.T) {
				src := buildRing(t, c, 60)
				seg := segmentPaths(t, src)[0]
				_, data, frames := segFrames(t, seg)
				// Damage frames 2..4 in part: from inside frame 2 to inside frame 4.
				from, to := frames[2].off+5, frames[4].off+3
				for i := from; i < to; i++ {
					if kind == "zero" {
						data[i] = 0
					} else {
						data[i] = byte(i*7 + 3)
					}
				}
				dir := copyRing(t, src)
				if err := os.WriteFile(filepath.Join(dir, filepath.Base(seg)), data, 0o640); err != nil {
					t.Fatal(err)
				}
				res := readAll(t, dir)
				for i, f := range frames {
					got := slices.Contains(res.seqs, f.seq)
					if want := i < 2 || i > 4; got != want {
						t.Errorf("frame %d (seq %d): read %v, want %v", i, f.seq, got, want)
					}
				}
				if len(res.damage) != 1 {
					t.Fatalf("damage %v, want one range", res.damage)
				}
				d := res.damage[0]
				if d.Offset != int64(frames[2].off) || d.Offset+d.Length != int64(frames[5].off) {
					t.Errorf("damage [%d, %d), want [%d, %d)", d.Offset, d.Offset+d.Length, frames[2].off, frames[5].off)
				}
				if kind == "zero" && (d.Cause() == "" || errors.Is(d.Err, ErrZeroedFrame)) {
					// The range holds the start of frame 2 too, so it is not all zero.
				}
				t.Logf("%s", d)
			})
		}
	}
}

// TestStaleFrames appends valid frames of another segment to a segment's
// tail, as a file's earlier life or a bad copy could leave them: they are
// never read as records, and the writer seals the segment rather than
// append after them.
func TestStaleFrames(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		t.Run(c.String(), func(t *testing.T) {
			src := buildRing(t, c, 60)
			segs := segmentPaths(t, src)
			_, old, oldFrames := segFrames(t, segs[0])
			last := segs[len(segs)-1]
			before := readAll(t, src).seqs
			dir := copyRing(t, src)
			f, err := os.OpenFile(filepath.Join(dir, filepath.Base(last)), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(old[oldFrames[0].off:oldFrames[3].end])
			f.Close()
			res := readAll(t, dir)
			if !slices.Equal(res.seqs, before) {
				t.Fatalf("read %v, want %v", tail(res.seqs), tail(before))
			}
			if len(res.damage) != 1 {
				t.Fatalf("damage %v, want the stale range", res.damage)
			}
			w, err := Open(dir, testOptions(c))
			if err != nil {
				t.Fatal(err)
			}
			if rec := w.Recovery(); !rec.Sealed {
				t.Fatalf("recovery %+v: want the segment sealed", rec)
			}
			seq, err := w.Append(testRecord(99))
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
			res = readAll(t, dir)
			if want := append(slices.Clone(before), seq); !slices.Equal(res.seqs, want) {
				t.Fatalf("after append: read %v, want %v", tail(res.seqs), tail(want))
			}
		})
	}
}

// TestStageRestoresLostTail: records flushed from the stage to a segment
// stay in the stage until overwritten; when the segment loses its tail
// (power loss before writeback, a cut copy), Open restores them from there.
func TestStageRestoresLostTail(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		t.Run(c.String(), func(t *testing.T) {
			// A stage as large as a segment holds all of the last one.
			o := testOptions(c)
			o.Budget, o.StageSize = 1<<20, int(o.SegmentSize)
			src := buildRingOpts(t, o, 60)
			segs := segmentPaths(t, src)
			last := segs[len(segs)-1]
			h, _, frames := segFrames(t, last)
			all := readAll(t, src).seqs
			dir := copyRing(t, src)
			cut := frames[1].end - 3 // inside the second frame
			if err := os.Truncate(filepath.Join(dir, filepath.Base(last)), int64(cut)); err != nil {
				t.Fatal(err)
			}
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			rec := w.Recovery()
			if rec.Replayed != len(frames)-1 || !rec.Sealed {
				t.Fatalf("recovery %+v: want %d records replayed and the torn segment sealed (header %d bytes)", rec, len(frames)-1, h.Size)
			}
			w.Close()
			if res := readAll(t, dir); !slices.Equal(res.seqs, all) {
				t.Fatalf("read %v, want %v", tail(res.seqs), tail(all))
			}
		})
	}
}
