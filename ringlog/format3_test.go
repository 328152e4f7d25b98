package ringlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/itiny/itiny/pack"
)

// TestFormatSpecPacked2 unpacks version 2 blocks with an unpacker written
// from docs/FORMAT.md section 3.5 alone (specUnpack23): the packed golden
// rings of version 2, and a block of the agent's real samples (derived
// templates, signs learnt, repeated header numbers, decimal floats).
func TestFormatSpecPacked2(t *testing.T) {
	checkSpecRings(t, map[string]int{"pack2-msgpack": 36, "pack2-msgpack-refs": 60}, "pack2-msgpack")
	checkSpecSamples(t, pack.Version2, 0)
}

// TestFormatSpecPacked3 does the same for version 3 blocks and sections
// 3.5 and 3.6, with the real samples in one block and in blocks of 25
// records: the start of a block, when every probability is young, is
// where a reader most easily goes wrong.
func TestFormatSpecPacked3(t *testing.T) {
	checkSpecRings(t, map[string]int{"pack3-msgpack": 33, "pack3-msgpack-refs": 60}, "pack3-msgpack")
	checkSpecSamples(t, pack.Version3, 0)
	checkSpecSamples(t, pack.Version3, 25)
	// Str bodies at the edges (found by a review): a plain literal that
	// ends in a fixstr header (a body of no bytes: nothing follows), a
	// derived template's new str ending in a UTF-8 continuation byte
	// (0xa9, a fixstr header's value), a str that holds one.
	for name, recs := range map[string][][]byte{
		"literal ending in a header": {{0x92, 0x01, 0xa5}, {0x92, 0x01, 0xa5}},
		"derived, UTF-8": {{0x82, 0xa1, 'n', 0xa4, 'a', 'b', 'c', 'd', 0xa1, 'v', 0x01},
			{0x82, 0xa1, 'n', 0xa5, 'c', 'a', 'f', 0xc3, 0xa9, 0xa1, 'v', 0x02}},
		"header bytes in a body": {{0x82, 0xa3, 0xa2, 0xb0, 0xa1, 0xa3, 0xa2, 0xb0, 0xa2, 0xa1, 'v', 0x01}},
	} {
		var e pack.Encoder
		var blk []byte
		var err error
		for i, r := range recs {
			if blk, err = e.Append(blk, r, uint64(i+1)); err != nil {
				t.Fatal(err)
			}
		}
		if n := checkSpecBlock(t, name, blk, 1, nil); n != len(recs) {
			t.Fatalf("%s: %d records", name, n)
		}
	}
}

// checkSpecBlock unpacks blk with package pack and with specUnpack, and
// checks that every record comes out byte for byte the same, and, if
// want is set, as want holds it. It returns the count of records.
func checkSpecBlock(t *testing.T, name string, blk []byte, first uint64, want map[uint64][]byte) int {
	t.Helper()
	var u pack.Unpacker
	u.Reset(blk, first)
	got := specUnpack23(t, blk, first)
	n := 0
	for {
		seq, rec, err := u.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got[seq], rec) || want != nil && !bytes.Equal(rec, want[seq]) {
			t.Fatalf("%s: seq %d:\nspec %x\npack %x", name, seq, got[seq], rec)
		}
		n++
	}
	if n != len(got) {
		t.Fatalf("%s: %d records by the spec, %d by pack", name, len(got), n)
	}
	return n
}

// checkSpecRings checks the blocks of golden rings, each of which must
// give its count of records; those of the ring named golden must be the
// records of the unpacked golden ring v1-msgpack.
func checkSpecRings(t *testing.T, counts map[string]int, golden string) {
	want := map[uint64][]byte{}
	for _, p := range segmentPaths(t, filepath.Join(goldenDir, "v1-msgpack")) {
		_, data, frames := segFrames(t, p)
		for _, f := range frames {
			want[f.seq] = data[f.off+binFrameHeader : f.end]
		}
	}
	for ring, wantN := range counts {
		n := 0
		for _, p := range segmentPaths(t, filepath.Join(goldenDir, ring)) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			h, err := parseHeader(data)
			if err != nil {
				t.Fatal(err)
			}
			sc := newScanner(p, data, h)
			for {
				f, err := sc.next()
				var d *Damage
				if errors.As(err, &d) {
					continue // the damaged block
				}
				if err != nil {
					break
				}
				var w map[uint64][]byte
				if ring == golden {
					w = want
				}
				n += checkSpecBlock(t, ring, f.Payload, f.Seq, w)
			}
		}
		if n != wantN {
			t.Fatalf("%s: %d records, want %d", ring, n, wantN)
		}
	}
}

// checkSpecSamples checks blocks of the given version of the agent's
// real samples, of size records each (0: all in one).
func checkSpecSamples(t *testing.T, version byte, size int) {
	b, err := os.ReadFile("../pack/testdata/metrics.records")
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		recs = append(recs, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	if size == 0 {
		size = len(recs)
	}
	total := 0
	for from := 0; from < len(recs); from += size {
		e := pack.Encoder{Version: version}
		var blk []byte
		for i, r := range recs[from:min(from+size, len(recs))] {
			if blk, err = e.Append(blk, r, uint64(from+i+1)); err != nil {
				t.Fatal(err)
			}
		}
		if blk[0] != version {
			t.Fatalf("a block of version %#x", blk[0])
		}
		total += checkSpecBlock(t, "metrics.records", blk, uint64(from+1), nil)
	}
	if total != 744 {
		t.Fatalf("%d records", total)
	}
}
