package ringlog

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/pack"
)

// seedSegments returns the files of small rings of both codecs.
func seedSegments(f *testing.F) [][]byte {
	var segs [][]byte
	for _, spec := range []string{"msgpack", "json", "msgpack+pack"} {
		dir := f.TempDir()
		o := childOptions(spec, SyncNone, 300)
		o.Budget, o.SegmentSize = 64<<10, 8<<10
		w, err := Open(dir, o)
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

// FuzzReadSegment scans arbitrary bytes as a segment, as the Reader does
// (a damaged header is read with the segment number from the file name):
// the scan ends, never panics, returns frames within the bytes and in
// increasing order, and its damage reports never overlap them or each
// other. It runs in memory, so the fuzzer is not slowed by files.
func FuzzReadSegment(f *testing.F) {
	for _, s := range seedSegments(f) {
		f.Add(s)
		bad := bytes.Clone(s)
		bad[len(bad)/2] ^= 0x10
		f.Add(bad)
		f.Add(s[:len(s)-7])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
			h, err := parseHeader(b)
			if err != nil {
				h = Header{Codec: c, Segment: 1}
			}
			sc := newScanner("fuzz", b, h)
			sc.hdrErr = err
			end := int64(h.Size)
			for n := 0; ; n++ {
				if n > len(b)+10 {
					t.Fatal("scan does not end")
				}
				off := sc.off
				fr, err := sc.next()
				if err == io.EOF {
					break
				}
				var d *Damage
				if errors.As(err, &d) {
					if d.Offset < end || d.Length <= 0 || d.Offset+d.Length > int64(len(b)) {
						t.Fatalf("damage %v overlaps or leaves the bytes (%d, previous end %d)", d, len(b), end)
					}
					end = d.Offset + d.Length
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if int64(off) < end || off+fr.Len > len(b) || fr.Len <= 0 {
					t.Fatalf("frame at %d (%d bytes) overlaps damage or leaves the bytes", off, fr.Len)
				}
				end = int64(off + fr.Len)
				var rec codec.Record
				if !fr.Packed {
					h.Codec.Decode(fr.Payload, &rec) // must not panic
					continue
				}
				var u pack.Unpacker
				u.Reset(fr.Payload, fr.Seq)
				for {
					_, p, err := u.Next()
					if err != nil {
						break
					}
					codec.Msgpack.Decode(p, &rec)
				}
			}
			if err == nil {
				break // the header named the codec
			}
		}
	})
}
