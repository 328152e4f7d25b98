// Package view reads the rings of an itiny instance as one chronological
// view: what itiny-read shows a field engineer.
//
// Inputs are resolved by Open: a data directory (every subdirectory that
// holds a ring), a ring directory, one segment file, or a support bundle
// (.tar, .tar.gz, .tgz, read into memory). A Merger reads the rings
// together, ordered by boot, then monotonic time, then sequence number, and
// marks boots, clock steps, unclean shutdowns, gaps in the numbering and
// damage on the way; a Filter selects records.
package view

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/itiny/itiny/bundle"
	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/ringlog"
)

// A Source is one ring to read.
type Source struct {
	Stream string // the stream's name: its directory's name
	Where  string // for people: a path, or bundle!ring
	Live   bool   // a directory on this machine, which a writer may append to
	fsys   fs.FS  // nil: Where is a directory of the OS
	dir    string // in fsys
	// opened is the reader Open made to learn the stream's name, handed
	// out by the first Reader so that the headers are not read again.
	opened *ringlog.Reader
	bundle *bundle.Bundle // the bundle read into memory it is in, if any
}

// Reader opens a reader of the source's ring.
func (s *Source) Reader() (*ringlog.Reader, error) {
	if r := s.opened; r != nil {
		s.opened = nil
		return r, nil
	}
	if s.fsys == nil {
		return ringlog.NewReader(s.Where)
	}
	return ringlog.NewReaderFS(s.fsys, s.dir)
}

// An Input is what Open found: the rings, and problems met on the way
// that did not stop it (a bundle's changed files).
type Input struct {
	Sources  []*Source
	Problems []string
	Bundles  []*bundle.Bundle
}

// OpenOptions are the options of OpenWith.
type OpenOptions struct {
	// BundleMemory bounds the resident memory that reading bundles may
	// take (bundle.ForMemory; the bundles of one Open together); 0 is
	// bundle.DefaultMemory. A bundle over the limits is an error that
	// wraps bundle.ErrLimit and names the file that went over.
	BundleMemory int64
}

// Open resolves paths to rings, as OpenWith does with the default options.
func Open(paths []string) (*Input, error) { return OpenWith(paths, OpenOptions{}) }

// OpenWith resolves paths to rings. Two rings of one stream (two copies of
// a data directory) are both kept, under distinct Where.
//
// Opening a bundle sets the Go runtime's soft memory limit
// (runtime/debug.SetMemoryLimit) to keep the process within
// o.BundleMemory, unless a lower limit is set: the garbage collector
// then runs before the heap grows past it.
func OpenWith(paths []string, o OpenOptions) (*Input, error) {
	if o.BundleMemory <= 0 {
		o.BundleMemory = bundle.DefaultMemory
	}
	in := &Input{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		switch {
		case st.IsDir() && isRing(os.DirFS(p), "."):
			in.Sources = append(in.Sources, &Source{Stream: filepath.Base(filepath.Clean(p)), Where: p, Live: true})
		case st.IsDir():
			ents, err := os.ReadDir(p)
			if err != nil {
				return nil, err
			}
			n := 0
			for _, e := range ents {
				sub := filepath.Join(p, e.Name())
				if e.IsDir() && isRing(os.DirFS(sub), ".") {
					in.Sources = append(in.Sources, &Source{Stream: e.Name(), Where: sub, Live: true})
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("%s: no ring in it (a ring directory holds seg-*.mpk or seg-*.jsonl files)", p)
			}
		case isBundleName(p):
			if err := in.openBundle(p, o.BundleMemory); err != nil {
				return nil, err
			}
		case strings.HasPrefix(filepath.Base(p), "seg-"):
			// One segment file, alone: read it as a ring of one.
			data, err := regular.ReadFile(p, ringlog.MaxSegmentSize)
			if err != nil {
				return nil, err
			}
			m := bundle.FS(map[string][]byte{filepath.Base(p): data})
			in.Sources = append(in.Sources, &Source{Stream: streamOfSegment(p), Where: p, fsys: m, dir: "."})
		default:
			return nil, fmt.Errorf("%s: not a data directory, ring, segment file (seg-*) or bundle (.tar, .tar.gz, .tgz)", p)
		}
	}
	// The stream is the one the segment headers name; the directory's
	// name is only a guess for a ring whose headers are all damaged.
	for _, src := range in.Sources {
		if r, err := src.Reader(); err == nil {
			packed, segs := false, r.Segments()
			for _, seg := range segs {
				if seg.Err == nil {
					src.Stream = seg.Header.Stream
					packed = packed || seg.Header.Flags&ringlog.FlagPacked != 0
				}
			}
			if packed && src.bundle != nil {
				if err := src.bundle.Hold(PackedRingCost, src.Where+" (a packed ring's reader)"); err != nil {
					return nil, err
				}
			}
			src.opened = r
			in.Problems = append(in.Problems, src.irregular(segs)...)
		}
	}
	sort.SliceStable(in.Sources, func(i, j int) bool { return in.Sources[i].Stream < in.Sources[j].Stream })
	return in, nil
}

// irregular says which of the ring's files are not regular files (a FIFO,
// a directory, a device): the readers never open them, and report them as
// damage where the records would be; this says so before any record.
func (s *Source) irregular(segs []ringlog.SegmentInfo) []string {
	var probs []string
	for _, seg := range segs {
		if errors.Is(seg.Err, ringlog.ErrNotRegular) {
			probs = append(probs, seg.Err.Error()+": its records are not read")
		}
	}
	fsys, stage := s.fsys, path.Join(s.dir, "stage")
	if fsys == nil {
		fsys, stage = os.DirFS(s.Where), "stage"
	}
	if st, err := fs.Stat(fsys, stage); err == nil {
		if err := regular.Check(filepath.Join(s.Where, "stage"), st.Mode()); err != nil {
			probs = append(probs, err.Error()+": the records only it holds are not read")
		}
	}
	return probs
}

// PackedRingCost is what a reader of a packed ring may hold beyond its
// files, counted against a bundle's limits: the window of records its
// blocks refer back to, 32 of up to 64 KiB, twice over before it is
// compacted (pack.Unpacker).
const PackedRingCost = 2*32*64<<10 + 64<<10

// nonGo is the resident memory of a reader that the Go runtime does not
// manage: the program's text and data, about 6 MiB for itiny-migrate.
const nonGo = 16 << 20

func (in *Input) openBundle(p string, mem int64) error {
	f, err := regular.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if lim := mem - nonGo; lim < debug.SetMemoryLimit(-1) {
		debug.SetMemoryLimit(lim)
	}
	lim := bundle.ForMemory(mem)
	for _, b := range in.Bundles {
		lim.MaxHeld -= b.Held() // the bundles before share the memory
	}
	b, err := bundle.Read(f, lim)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	for _, prob := range b.Problems {
		in.Problems = append(in.Problems, p+": "+prob)
	}
	rings := b.Rings()
	if len(rings) == 0 {
		return fmt.Errorf("%s: no ring in the bundle", p)
	}
	for _, r := range rings {
		in.Sources = append(in.Sources, &Source{Stream: path.Base(r), Where: p + "!" + r, fsys: b, dir: r, bundle: b})
	}
	in.Bundles = append(in.Bundles, b)
	return nil
}

func isBundleName(p string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	return false
}

// isRing reports whether dir of fsys holds a segment file.
func isRing(fsys fs.FS, dir string) bool {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "seg-") && (strings.HasSuffix(e.Name(), ".mpk") || strings.HasSuffix(e.Name(), ".jsonl")) {
			return true
		}
	}
	return false
}

// streamOfSegment names a lone segment's stream from its directory, as
// rings are laid out (DATA/STREAM/seg-*).
func streamOfSegment(p string) string {
	d := filepath.Base(filepath.Dir(filepath.Clean(p)))
	if d == "." || d == "/" {
		return "segment"
	}
	return d
}

// Frozen returns a source that reads a copy of s's ring taken now, in
// memory (ringlog.Snapshot), so that two passes over it read the same
// records however a writer appends, rotates and deletes meanwhile. A source
// that is not a live directory is already fixed and is returned as it is.
func (s *Source) Frozen() (*Source, error) {
	if !s.Live {
		return s, nil
	}
	files, err := ringlog.Snapshot(s.Where)
	if err != nil {
		return nil, err
	}
	m := make(map[string][]byte, len(files))
	for _, f := range files {
		m[f.Name] = f.Data
	}
	return &Source{Stream: s.Stream, Where: s.Where, fsys: bundle.FS(m), dir: "."}, nil
}
