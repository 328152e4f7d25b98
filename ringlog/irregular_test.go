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
// and kind; Snapshot refuses the ring, naming it; a writer opens the ring
// as before, passing over an older segment.
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
