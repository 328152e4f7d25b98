package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/ringlog"
)

// irregularRing writes 200 records to a ring of five segments and returns
// its directory and its files, the stage first and then the segments,
// with the number of records each holds.
func irregularRing(t *testing.T) (dir string, files []string, held map[string]int) {
	dir = filepath.Join(t.TempDir(), "metrics")
	w, err := ringlog.Open(dir, ringlog.Options{Stream: "metrics", Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 200; i++ {
		if _, err := w.Append(ringtest.Record("metrics", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := ringlog.NewReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	held = map[string]int{}
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		held[e.Segment]++
	}
	files = []string{filepath.Join(dir, "stage")}
	for _, s := range r.Segments() {
		files = append(files, s.Path)
	}
	if len(files) < 5 {
		t.Fatalf("%d segments, want at least 4", len(files)-1)
	}
	return dir, files, held
}

// TestIrregularFiles puts a FIFO, a directory, a link to /dev/zero and a
// device node where the stage or a segment of a ring should be, and runs
// every mode on it. None blocks or reads without end; the file is named
// with what it is on standard error in every mode, the records of every
// other file are read, and verify reports it and exits 1.
func TestIrregularFiles(t *testing.T) {
	testdir.EachPlace(t, func(t *testing.T, shape testdir.Shape, place testdir.Place) {
		dir, files, held := irregularRing(t)
		victim := place.Of(files)
		shape.Make(t, victim)
		want := 200 - held[victim]
		said := victim + ": " + shape.Kind + ", not a regular file"

		r := testbin.Run(t, nil, binary, "verify", dir)
		if r.Code != 1 || !strings.Contains(r.Stdout, "not-regular") || !strings.Contains(r.Stdout, said) || !strings.Contains(r.Stdout, "CORRUPT") {
			t.Errorf("verify: exit %d, want 1 and the file reported\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
		r = testbin.Run(t, nil, binary, "-o", "json", dir)
		if r.Code != 0 || strings.Count(r.Stdout, "\n") != want || !strings.Contains(r.Stderr, said) {
			t.Errorf("-o json: exit %d, %d records, want %d and the file named on stderr\n%s", r.Code, strings.Count(r.Stdout, "\n"), want, r.Stderr)
		}
		for _, args := range [][]string{{}, {"stats"}, {"boots"}, {"salvage", "--json", "-"}, {"report", "-o", filepath.Join(t.TempDir(), "r.html")}} {
			r := testbin.Run(t, nil, binary, append(args, dir)...)
			if r.Code != 0 || !strings.Contains(r.Stderr, said) {
				t.Errorf("%v: exit %d, want 0 and the file named on stderr\n%s", args, r.Code, r.Stderr)
			}
		}
	})
}

// TestIrregularPaths gives itiny-read a FIFO or a link to /dev/zero as a
// segment or a bundle on the command line: every mode refuses it by name
// and exits 1, at once.
func TestIrregularPaths(t *testing.T) {
	for _, shape := range testdir.Shapes {
		if shape.Name == "dir" {
			continue // a directory is a data directory or a ring: TestUsageErrors
		}
		for _, name := range []string{"seg-0000000000000001.mpk", "bundle.tar.gz"} {
			t.Run(shape.Name+"/"+name, func(t *testing.T) {
				p := filepath.Join(t.TempDir(), name)
				shape.Make(t, p)
				for _, mode := range [][]string{{}, {"verify"}, {"stats"}, {"boots"}, {"salvage", "--json", "-"}, {"report", "-o", "-"}} {
					r := testbin.Run(t, nil, binary, append(mode, p)...)
					if r.Code != 1 || !strings.Contains(r.Stderr, p+": "+shape.Kind+", not a regular file") {
						t.Errorf("%v: exit %d, want 1 and the file refused\n%s", mode, r.Code, r.Stderr)
					}
				}
			})
		}
	}
}
