package ringlog

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/testdir"
)

// irregularRing writes a closed ring of several segments and returns its
// directory, its files (the stage, then the segments, oldest first) and
// the numbers each file's records have, as a Reader finds them.
func irregularRing(t *testing.T) (dir string, files []string, held map[string][]uint64) {
	dir = testdir.TempDir(t)
	w, err := Open(dir, testOptions(codec.Msgpack))
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 1, 150)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	held = map[string][]uint64{}
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		held[e.Segment] = append(held[e.Segment], e.Seq)
	}
	files = []string{filepath.Join(dir, stageName)}
	for _, s := range r.Segments() {
		files = append(files, s.Path)
	}
	if len(files) < 5 {
		t.Fatalf("%d segments, want at least 4", len(files)-1)
	}
	return dir, files, held
}

// wantIrregular checks what a Reader returned when victim is not a regular
// file: every record of the other files, and one Damage naming victim and
// what it is.
func wantIrregular(t *testing.T, r *Reader, victim, kind string, files []string, held map[string][]uint64) {
	t.Helper()
	var want, got []uint64
	for _, f := range files {
		if f != victim {
			want = append(want, held[f]...)
		}
	}
	var damage []*Damage
	for n := 0; ; n++ {
		if n > 1e6 {
			t.Fatal("the reader does not end")
		}
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		var d *Damage
		if errors.As(err, &d) {
			damage = append(damage, d)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Seq)
	}
	if !slices.Equal(got, want) {
		t.Errorf("read %d records, want the %d of the other files", len(got), len(want))
	}
	if len(damage) != 1 || damage[0].Segment != victim || !errors.Is(damage[0], ErrNotRegular) ||
		!strings.Contains(damage[0].Error(), victim+": "+kind+", not a regular file") {
		t.Errorf("damage %v, want one naming %s as %s", damage, victim, kind)
	}
}

// TestIrregularFiles puts a FIFO, a directory, a link to /dev/zero and a
// device node where the stage or a segment should be. A Reader never
// opens it: it reads every other file and reports this one, once, by name
// and kind; Snapshot refuses the ring, naming it, and Release a stage of
// that kind; a writer opens the ring as before, passing over an older
// segment.
func TestIrregularFiles(t *testing.T) {
	testdir.EachPlace(t, func(t *testing.T, shape testdir.Shape, place testdir.Place) {
		dir, files, held := irregularRing(t)
		victim := place.Of(files)
		shape.Make(t, victim)
		r, err := NewReader(dir)
		if err != nil {
			t.Fatal(err)
		}
		wantIrregular(t, r, victim, shape.Kind, files, held)
		if _, err := Snapshot(dir); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), victim) {
			t.Errorf("Snapshot: %v, want %s refused", err, victim)
		}
		if _, err := Release(dir, 0); place.Name == "stage" && !errors.Is(err, ErrNotRegular) {
			t.Errorf("Release: %v, want the stage refused", err)
		}
		if place.Name == "stage" || place.Name == "newest" {
			// The agent's (issue 12, section 2): its stage, and the name
			// of its next segment, taken.
			return
		}
		w, err := Open(dir, testOptions(codec.Msgpack))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		appendN(t, w, 151, 10)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestIrregularFilesFS: the same, in an fs.FS (a bundle, or an fs.FS of a
// directory of the OS, whose Open would block on a FIFO).
func TestIrregularFilesFS(t *testing.T) {
	for _, mode := range []fs.FileMode{fs.ModeNamedPipe, fs.ModeDir, fs.ModeDevice | fs.ModeCharDevice, fs.ModeDevice, fs.ModeSocket} {
		for _, place := range testdir.Places {
			_, files, held := irregularRing(t)
			// The ring in the FS, with the FS's paths.
			m := fstest.MapFS{}
			fsFiles := make([]string, len(files))
			fsHeld := map[string][]uint64{}
			for j, f := range files {
				fsFiles[j] = "ring/" + filepath.Base(f)
				fsHeld[fsFiles[j]] = held[f]
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				m[fsFiles[j]] = &fstest.MapFile{Data: b}
			}
			victim := place.Of(fsFiles)
			m[victim] = &fstest.MapFile{Mode: mode}
			r, err := NewReaderFS(m, "ring")
			if err != nil {
				t.Fatal(err)
			}
			wantIrregular(t, r, victim, regular.Kind(mode), fsFiles, fsHeld)
		}
	}
}

// FuzzShapes reads a golden ring in an fs.FS whose files the fuzzer turns
// into FIFOs, directories, devices or sockets, or cuts short, and to which
// it adds entries of names it chooses (segment names among them, and
// paths below them that make them directories). The Reader ends, reports
// every entry with a segment's name that is not a regular file exactly
// once, and the stage at most once, as ErrNotRegular; it reads no record
// from them, and returns records in increasing order.
func FuzzShapes(f *testing.F) {
	rings := []string{"v1-msgpack", "v1-json", "v1-msgpack-packed"}
	f.Add(uint8(0), []byte{0, 1, 0}, "")
	f.Add(uint8(1), []byte{2, 0, 3, 5}, "seg-0000000000000009.jsonl/x")
	f.Add(uint8(2), []byte{200, 4, 1}, "seg-0000000000000004.mpk\nstage")
	modes := []fs.FileMode{0, fs.ModeNamedPipe, fs.ModeDir, fs.ModeDevice | fs.ModeCharDevice, fs.ModeDevice, fs.ModeSocket}
	f.Fuzz(func(t *testing.T, ring uint8, shapes []byte, extra string) {
		dir := filepath.Join(goldenDir, rings[int(ring)%len(rings)])
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := fstest.MapFS{}
		for i, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			var shape byte
			if i < len(shapes) {
				shape = shapes[i]
			}
			if shape >= 192 {
				b = b[:len(b)/2]
			}
			m["r/"+e.Name()] = &fstest.MapFile{Data: b, Mode: modes[int(shape)%len(modes)]}
		}
		for _, name := range strings.Split(extra, "\n") {
			if p := "r/" + name; name != "" && fs.ValidPath(p) && m[p] == nil {
				m[p] = &fstest.MapFile{Mode: modes[len(name)%len(modes)]}
			}
		}
		want := map[string]bool{} // segments that are not regular files
		if list, err := fs.ReadDir(m, "r"); err == nil {
			for _, e := range list {
				if isSegmentName(e.Name()) && !e.Type().IsRegular() {
					want["r/"+e.Name()] = true
				}
			}
		}
		r, err := NewReaderFS(m, "r")
		if err != nil {
			return
		}
		got := map[string]int{}
		var last uint64
		for n := 0; ; n++ {
			if n > 1e6 {
				t.Fatal("the reader does not end")
			}
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			var d *Damage
			if errors.As(err, &d) && errors.Is(d, ErrNotRegular) {
				got[d.Segment]++
				continue
			}
			if err != nil {
				continue
			}
			if want[e.Segment] || e.Seq <= last {
				t.Fatalf("record %d from %s, after %d", e.Seq, e.Segment, last)
			}
			last = e.Seq
		}
		for s := range want {
			if got[s] != 1 {
				t.Errorf("%s: reported %d times, want once", s, got[s])
			}
		}
		for s, n := range got {
			if !want[s] && (s != "r/stage" || n > 1) {
				t.Errorf("%s: reported %d times", s, n)
			}
		}
	})
}
