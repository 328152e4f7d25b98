package ringlog

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/itiny/itiny/codec"
)

// seedSegments returns the files of small rings of both codecs.
func seedSegments(f *testing.F) [][]byte {
	var segs [][]byte
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		dir := f.TempDir()
		w, err := Open(dir, testOptions(c))
		if err != nil {
			f.Fatal(err)
		}
		for i := 0; i < 6; i++ {
			w.Append(testRecord(i))
		}
		w.Close()
		for _, p := range segmentPaths(f, dir) {
			b, _ := os.ReadFile(p)
			segs = append(segs, b)
		}
	}
	return segs
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range seedSegments(f) {
		f.Add(s[:min(len(s), maxTextHeader)])
	}
	f.Add([]byte(textMagic + `1,"flags":0,"codec":"json","stream":"x","ring":"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b)
		if err != nil {
			if !errors.Is(err, ErrBadSegmentHeader) {
				t.Fatalf("error %v is not ErrBadSegmentHeader", err)
			}
			return
		}
		if h.Size <= 0 || h.Size > len(b) || !codec.ValidStream(h.Stream) {
			t.Fatalf("accepted header %+v of %d bytes", h, len(b))
		}
	})
}

// FuzzReadSegment feeds arbitrary bytes to the reader as a ring's only
// segment: it ends, never panics, returns records in increasing order from
// frames that lie within the file, and its damage reports never overlap.
func FuzzReadSegment(f *testing.F) {
	for _, s := range seedSegments(f) {
		f.Add(s)
		bad := bytes.Clone(s)
		bad[len(bad)/2] ^= 0x10
		f.Add(bad)
		f.Add(s[:len(s)-7])
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, name := range []string{"seg-0000000000000001.mpk", "seg-0000000000000001.jsonl"} {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, b, 0o640); err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(dir)
			if err != nil {
				t.Fatal(err)
			}
			var last uint64
			var end int64
			for n := 0; ; n++ {
				if n > len(b)+10 {
					t.Fatal("reader does not end")
				}
				e, err := r.Next()
				if err == io.EOF {
					break
				}
				var d *Damage
				if errors.As(err, &d) {
					if d.Offset < end || d.Length <= 0 || d.Offset+d.Length > int64(len(b)) {
						t.Fatalf("damage %v overlaps or leaves the file (%d bytes, previous end %d)", d, len(b), end)
					}
					end = d.Offset + d.Length
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if n > 0 && e.Seq <= last && last != 0 {
					t.Fatalf("seq %d after %d", e.Seq, last)
				}
				if e.Offset < end || e.Offset+int64(len(e.Payload)) > int64(len(b)) {
					t.Fatalf("frame at %d (%d bytes) overlaps damage or leaves the file", e.Offset, len(e.Payload))
				}
				end = e.Offset + int64(len(e.Payload))
				last = e.Seq
				var rec codec.Record
				e.Decode(&rec) // must not panic; may fail on a valid frame of garbage
			}
			os.Remove(path)
		}
	})
}
