package ringlog

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/itiny/itiny/codec"
)

// readOnlyFS hides io.ReaderAt, as a decompressing reader would.
type readOnlyFS struct{ fs.FS }

type readOnlyFile struct{ fs.File }

func (f readOnlyFS) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if _, dir := file.(fs.ReadDirFile); dir {
		return file, nil
	}
	return readOnlyFile{file}, nil
}

// TestReaderFS reads rings copied into an fs.FS, under a directory of it,
// and finds what NewReader finds on disk, damage included.
func TestReaderFS(t *testing.T) {
	for _, name := range []string{"v1-msgpack", "v1-json", "v1-msgpack-damaged", "v1-msgpack-packed"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(goldenDir, name)
			want := goldenTranscript(t, copyRing(t, dir))
			m := fstest.MapFS{}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				m["bundle/rings/"+name+"/"+e.Name()] = &fstest.MapFile{Data: b}
			}
			for _, fsys := range []fs.FS{m, readOnlyFS{m}} {
				r, err := NewReaderFS(fsys, "bundle/rings/"+name)
				if err != nil {
					t.Fatal(err)
				}
				if got := transcript(t, r); !reflect.DeepEqual(got, want) {
					t.Fatalf("%T: transcript differs:\n%s", fsys, firstDiff(got, want))
				}
			}
		})
	}
	if _, err := NewReaderFS(fstest.MapFS{}, "missing"); err == nil {
		t.Fatal("a missing directory read as a ring")
	}
}

func TestSegments(t *testing.T) {
	o := testOptions(codec.Msgpack)
	o.Budget = 1 << 20
	dir := buildRingOpts(t, o, 200)
	r, err := NewReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	segs := r.Segments()
	if len(segs) < 4 {
		t.Fatalf("%d segments", len(segs))
	}
	for i, s := range segs {
		if s.Err != nil || s.Header.Segment != uint64(i+1) || s.Size <= 128 || filepath.Base(s.Path) != filepath.Base(segmentPaths(t, dir)[i]) {
			t.Fatalf("segment %d: %+v", i, s)
		}
	}
}

// AppendSeq keeps numbers, with their gaps, and refuses to go back.
func TestAppendSeq(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	o.Budget = 1 << 20
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{5, 6, 40} {
		r := testRecord(int(seq))
		r.Seq = seq
		if err := w.AppendSeq(r); err != nil {
			t.Fatal(err)
		}
	}
	r := testRecord(1)
	r.Seq = 40
	if err := w.AppendSeq(r); err == nil {
		t.Fatal("a used number was appended again")
	}
	if seq, err := w.Append(testRecord(2)); err != nil || seq != 41 {
		t.Fatalf("Append after AppendSeq: %d, %v", seq, err)
	}
	w.Close()
	if got := readAll(t, dir).seqs; len(got) != 4 || got[0] != 5 || got[2] != 40 || got[3] != 41 {
		t.Fatalf("read %v", got)
	}
}
