package ringlog

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"
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
