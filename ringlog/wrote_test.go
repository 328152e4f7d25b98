package ringlog

import (
	"os"
	"testing"

	"github.com/itiny/itiny/codec"
)

// onDisk walks the frames of every segment of dir: the bytes of segment
// headers and frame headers (a text frame's checksum prefix and newline),
// the bytes of the frames' records or blocks, and the frames.
func onDisk(t *testing.T, dir string) (framing, stored int64, frames int) {
	t.Helper()
	for _, path := range segmentPaths(t, dir) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		h, err := parseHeader(b)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		text := h.Codec == codec.JSON
		framing += int64(h.Size)
		for p := b[h.Size:]; len(p) > 0; frames++ {
			f, st := parseFrame(p, text, segSalt(h.Segment), MaxSegmentSize)
			if st != frameOK {
				t.Fatalf("%s: frame at %d: status %d", path, len(b)-len(p), st)
			}
			head := int64(frameOverhead(text))
			framing += head
			stored += int64(f.Len) - head
			p = p[f.Len:]
		}
	}
	return framing, stored, frames
}

// TestWroteCounts appends records by each write path, continuous and
// packed, and checks the writer's counts against the records and the
// files: record bytes are the records' encoded sizes, stored plus framing
// bytes are the segments' sizes, frame by frame, and what the kernel was
// handed is the segments plus what went through the stage.
func TestWroteCounts(t *testing.T) {
	samples := realSamples(t)
	for _, tc := range []struct {
		name   string
		codec  codec.Codec
		stage  int
		sync   SyncPolicy
		memory bool // Options.MemoryStage
		pack   bool
	}{
		{"msgpack/stage", codec.Msgpack, 4 << 10, SyncNone, false, false},
		{"json/stage", codec.JSON, 4 << 10, SyncNone, false, false},
		{"msgpack/write", codec.Msgpack, -1, SyncNone, false, false},
		{"json/always", codec.JSON, 4 << 10, SyncAlways, false, false},
		{"msgpack/memory", codec.Msgpack, 4 << 10, SyncNone, true, false},
		{"packed/memory", codec.Msgpack, 4 << 10, SyncNone, true, true},
		{"packed/stage", codec.Msgpack, 4 << 10, SyncNone, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(tc.codec)
			o.Budget, o.SegmentSize, o.StageSize, o.Sync = 4<<20, 8<<10, tc.stage, tc.sync
			o.MemoryStage, o.Pack = tc.memory, tc.pack
			dir := t.TempDir()
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			var records int64
			for i := range samples {
				r := samples[i]
				if !tc.pack {
					r = *testRecord(i)
				}
				if _, err := w.Append(&r); err != nil {
					t.Fatal(err)
				}
				enc, err := tc.codec.Append(nil, &r) // with the number and stream Append gave it
				if err != nil {
					t.Fatal(err)
				}
				records += int64(len(enc))
				if i%100 == 99 {
					if err := w.Flush(); err != nil { // a block, or a stage, of 100 records
						t.Fatal(err)
					}
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			s := w.Stats()
			framing, stored, frames := onDisk(t, dir)
			if s.Segments < 2 || s.Deleted != 0 {
				t.Fatalf("%d segments, %d deleted: the test wants rotations and every byte kept", s.Segments, s.Deleted)
			}
			if s.RecordBytes != records {
				t.Errorf("record bytes %d, the records encode to %d", s.RecordBytes, records)
			}
			if s.FramingBytes != framing || s.StoredBytes != stored {
				t.Errorf("framing %d and stored %d bytes, the segments hold %d and %d", s.FramingBytes, s.StoredBytes, framing, stored)
			}
			switch {
			case tc.pack && (frames >= len(samples) || s.StoredBytes >= s.RecordBytes):
				t.Errorf("packed: %d frames for %d records, stored %d of %d record bytes", frames, len(samples), s.StoredBytes, s.RecordBytes)
			case !tc.pack && (frames != len(samples) || s.StoredBytes != s.RecordBytes):
				t.Errorf("%d frames for %d records, stored %d of %d record bytes", frames, len(samples), s.StoredBytes, s.RecordBytes)
			}
			if w.wrote.handed != stored+framing {
				t.Errorf("pwrite to the segments %d bytes, they hold %d", w.wrote.handed, stored+framing)
			}
			// The stage: its 128-byte header, written whole when Open
			// resets it and in fields after, and under a mapped stage
			// every frame (each record, packed or not, as a frame).
			staged := int64(0)
			if tc.stage > 0 && !tc.memory && tc.sync != SyncAlways {
				staged = records + int64(len(samples)*frameOverhead(tc.codec == codec.JSON))
			}
			if hdr := w.st.handed - staged; hdr < stageHeaderSize || hdr > 16*stageHeaderSize {
				t.Errorf("stage: %d bytes handed, %d of them frames: %d of header", w.st.handed, staged, hdr)
			}
			if s.HandedBytes != w.wrote.handed+w.st.handed {
				t.Errorf("handed %d, not the segments' %d and the stage's %d", s.HandedBytes, w.wrote.handed, w.st.handed)
			}
			if s.OtherSyncs < 1 {
				t.Errorf("%d syncs of the stage and directory: Close syncs the stage", s.OtherSyncs)
			}
		})
	}
}
