package ringlog

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/pack"
)

// The golden rings in ../testdata/golden were written by format version 1
// and must be read the same way by every later version. -golden.create
// writes them where they are missing; never rewrite existing ones.
var createGolden = flag.Bool("golden.create", false, "write missing golden rings and their .want files")

const goldenDir = "../testdata/golden"

// goldenRecords exercises every kind of value.
func goldenRecords() []*codec.Record {
	var rs []*codec.Record
	for i := 0; i < 40; i++ {
		r := testRecord(i)
		r.Level = codec.Level(i % 8)
		r.Fields = append(r.Fields,
			codec.Field{Key: "neg", Value: codec.Int(-int64(i) * 1e12)},
			codec.Field{Key: "big", Value: codec.Uint(math.MaxUint64 - uint64(i))},
			codec.Field{Key: "ok", Value: codec.Bool(i%2 == 0)},
			codec.Field{Key: "raw", Value: codec.Bytes([]byte{0, byte(i), 0xff})},
			codec.Field{Key: "nan", Value: codec.Float(math.NaN())},
			codec.Field{Key: "inf", Value: codec.Float(math.Inf(-1))},
			codec.Field{Key: "msg", Value: codec.String("line \"one\"\nline two é")},
			codec.Field{Key: "list", Value: codec.List(codec.Int(1), codec.String("two"), codec.Map(codec.Field{Key: "k", Value: codec.Float(0.5)}))},
		)
		rs = append(rs, r)
	}
	return rs
}

func writeGolden(t *testing.T, name string, c codec.Codec, damage func(t *testing.T, dir string)) {
	writeGoldenOpts(t, name, testOptions(c), damage)
}

func writeGoldenOpts(t *testing.T, name string, o Options, damage func(t *testing.T, dir string)) {
	writeGoldenRecs(t, name, o, goldenRecords(), func(w *Writer) error { return w.Close() }, damage)
}

// writeGoldenRecs writes recs to a new golden ring, ends the writer with
// end (a Close, or a crash), damages the ring, and writes its transcript.
func writeGoldenRecs(t *testing.T, name string, o Options, recs []*codec.Record, end func(*Writer) error, damage func(t *testing.T, dir string)) {
	dir := filepath.Join(goldenDir, name)
	if _, err := os.Stat(dir); err == nil {
		return
	}
	o.Budget = 1 << 20
	o.Boot = codec.BootID{0x60, 0x1d}
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := end(w); err != nil {
		t.Fatal(err)
	}
	if damage != nil {
		damage(t, dir)
	}
	if err := os.WriteFile(dir+".want", goldenTranscript(t, dir), 0o644); err != nil {
		t.Fatal(err)
	}
}

// goldenTranscript reads a ring and prints every record as a JSON line and
// every damage as a line of its own.
func goldenTranscript(t *testing.T, dir string) []byte {
	r, err := NewReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	return transcript(t, r)
}

func transcript(t *testing.T, r *Reader) []byte {
	var out bytes.Buffer
	var rec codec.Record
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out.Bytes()
		}
		var d *Damage
		if errors.As(err, &d) {
			fmt.Fprintf(&out, "damage %s offset %d length %d: %v\n", filepath.Base(d.Segment), d.Offset, d.Length, d.Err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		b, err := codec.AppendJSON(nil, &rec)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(append(b, '\n'))
	}
}

func TestGolden(t *testing.T) {
	if *createGolden {
		writeGolden(t, "v1-msgpack", codec.Msgpack, nil)
		writeGolden(t, "v1-json", codec.JSON, nil)
		// A flipped byte inside the first segment and a torn tail.
		writeGolden(t, "v1-msgpack-damaged", codec.Msgpack, func(t *testing.T, dir string) {
			segs := segmentPaths(t, dir)
			b, _ := os.ReadFile(segs[0])
			b[len(b)/2] ^= 0x40
			os.WriteFile(segs[0], b, 0o640)
			last := segs[len(segs)-1]
			st, _ := os.Stat(last)
			os.Truncate(last, st.Size()-9)
			os.Truncate(filepath.Join(dir, stageName), stageHeaderSize)
		})
		writePackedGolden(t, "v1-msgpack-packed")
		createMoreGolden(t)
		createPackedV2Golden(t)
		createPackedV3Golden(t)
	}
	for _, name := range goldenRings {
		dir := filepath.Join(goldenDir, name)
		want, err := os.ReadFile(dir + ".want")
		if err != nil {
			t.Fatalf("%v (create with go test -run Golden -golden.create)", err)
		}
		// Read a copy: a reader never writes, but keep the originals safe.
		got := goldenTranscript(t, copyRing(t, dir))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: transcript differs from %s.want:\n%s", name, name, firstDiff(got, want))
		}
	}
}

// writePackedGolden writes the packed blocks of a periodic ring, the
// second block damaged.
func writePackedGolden(t *testing.T, name string) {
	packed := testOptions(codec.Msgpack)
	packed.Pack, packed.MemoryStage, packed.StageSize = true, true, 1500
	writeGoldenOpts(t, name, packed, func(t *testing.T, dir string) {
		seg := segmentPaths(t, dir)[0]
		_, b, frames := segFrames(t, seg)
		b[frames[1].off+30] ^= 0x04
		os.WriteFile(seg, b, 0o640)
	})
}

// goldenRings are the rings TestGolden reads; other tests read them too.
var goldenRings = []string{"v1-msgpack", "v1-json", "v1-msgpack-damaged", "v1-msgpack-packed",
	"v1-msgpack-packed-refs", "v1-msgpack-stage-only", "v1-json-stage-only", "v1-msgpack-bad-stage",
	"v1-msgpack-unknown-flag", "v1-json-future-version", "pack2-msgpack", "pack2-msgpack-refs",
	"pack3-msgpack", "pack3-msgpack-refs"}

// createPackedV2Golden writes the golden rings of version 2 blocks added
// on 2026-12-04 (issue 15), as those of version 1 were written: every
// kind of value with the second block damaged, and records alike but for
// their numbers. They are named pack2-*, not v1-*: the segments are of
// format version 1, and tools that read every v1-* ring expect a fixed
// set. (Writers write version 3 blocks since 2026-12-04: the pack2-*
// rings are kept as they were written then.)
func createPackedV2Golden(t *testing.T) {
	createPackedGolden(t, "pack2", 500)
}

// createPackedV3Golden writes the same rings of version 3 blocks, added
// on 2026-12-04 (issue 15).
func createPackedV3Golden(t *testing.T) {
	createPackedGolden(t, "pack3", 420)
}

// createPackedGolden writes prefix-msgpack and prefix-msgpack-refs, the
// second in blocks of about 15 records: a stage of stage bytes.
func createPackedGolden(t *testing.T, prefix string, stage int) {
	writePackedGolden(t, prefix+"-msgpack")
	var alike []*codec.Record
	for i := 0; i < 60; i++ {
		alike = append(alike, testRecord(i))
	}
	packed := testOptions(codec.Msgpack)
	packed.Pack, packed.MemoryStage, packed.StageSize = true, true, stage
	writeGoldenRecs(t, prefix+"-msgpack-refs", packed, alike, func(w *Writer) error { return w.Close() }, nil)
}

// createMoreGolden writes the golden rings added on 2026-12-03 (issue 11):
// packed blocks of reference entries with predictions, records that
// exist only in the stage, a damaged stage header, and segments a reader
// of version 1 must refuse.
func createMoreGolden(t *testing.T) {
	// Records alike but for their numbers: the packer writes references.
	var alike []*codec.Record
	for i := 0; i < 60; i++ {
		alike = append(alike, testRecord(i))
	}
	closeW := func(w *Writer) error { return w.Close() }
	packed := testOptions(codec.Msgpack)
	packed.Pack, packed.MemoryStage, packed.StageSize = true, true, 700 // blocks of about 15
	writeGoldenRecs(t, "v1-msgpack-packed-refs", packed, alike, closeW, nil)
	// The writer dies with the last records in the mapped stage only.
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		var staged int
		writeGoldenRecs(t, "v1-"+c.String()+"-stage-only", testOptions(c), alike[:30], func(w *Writer) error {
			if err := w.Flush(); err != nil {
				return err
			}
			for _, r := range alike[30:35] {
				if _, err := w.Append(r); err != nil {
					return err
				}
				staged++
			}
			w.crash()
			return nil
		}, nil)
	}
	// Records in the stage, and its header's checksum broken.
	writeGoldenRecs(t, "v1-msgpack-bad-stage", testOptions(codec.Msgpack), alike[:30], func(w *Writer) error {
		w.Flush()
		for _, r := range alike[30:35] {
			w.Append(r)
		}
		w.crash()
		return nil
	}, func(t *testing.T, dir string) {
		p := filepath.Join(dir, stageName)
		b := read(t, p)
		b[20] ^= 1
		write(t, p, b)
	})
	// A newer itiny's segments: an incompatible flag this version lacks,
	// and a format version 2 header.
	writeGoldenRecs(t, "v1-msgpack-unknown-flag", testOptions(codec.Msgpack), alike, closeW, func(t *testing.T, dir string) {
		rewriteHeader(t, segmentPaths(t, dir)[1], func(h *Header) { h.Flags |= 1 << 3 })
	})
	writeGoldenRecs(t, "v1-json-future-version", testOptions(codec.JSON), alike, closeW, func(t *testing.T, dir string) {
		p := segmentPaths(t, dir)[1]
		write(t, p, recrcHeader(t, bytes.Replace(read(t, p), []byte(`"v":1,`), []byte(`"v":2,`), 1)))
	})
}

// TestGoldenPackedRefs: the packed golden rings hold records stored by
// reference (version 1) or as instances of shapes (versions 2 and 3), not
// literals only: their blocks are a small part of the bytes of the
// records they unpack to, which literals cannot be.
func TestGoldenPackedRefs(t *testing.T) {
	for _, tc := range []struct {
		ring    string
		version byte // of the blocks
		part    int  // the blocks are at most 1/part of the records
	}{
		{"v1-msgpack-packed-refs", 0, 2},
		{"pack2-msgpack-refs", pack.Version2, 4},
		{"pack3-msgpack-refs", pack.Version3, 5},
	} {
		var packed, records, blocks int
		for _, seg := range segmentPaths(t, filepath.Join(goldenDir, tc.ring)) {
			packed, records, blocks = sumBlocks(t, seg, tc.version, packed, records, blocks)
		}
		if blocks < 2 || packed*tc.part > records {
			t.Errorf("%s: %d blocks of %d bytes for %d bytes of records: not packed by reference", tc.ring, blocks, packed, records)
		}
	}
}

func sumBlocks(t *testing.T, seg string, version byte, packed, records, blocks int) (int, int, int) {
	_, data, frames := segFrames(t, seg)
	for _, f := range frames {
		blocks++
		blk := data[f.off+binFrameHeader : f.end]
		if version == 0 && blk[0]&0x80 != 0 || version != 0 && blk[0] != version {
			t.Fatalf("%s: a block of version %#x", seg, blk[0])
		}
		packed += len(blk)
		var u pack.Unpacker
		u.Reset(blk, f.seq)
		for {
			_, rec, err := u.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			records += len(rec)
		}
	}
	return packed, records, blocks
}

func firstDiff(a, b []byte) string {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y []byte
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if !bytes.Equal(x, y) {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, x, y)
		}
	}
	return ""
}
