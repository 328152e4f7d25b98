package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReplace: the file is replaced whole, or on a failure left as it
// was with no temporary file; a symbolic link or a FIFO at the
// temporary file's name is removed, never written through or opened.
func TestReplace(t *testing.T) {
	fail := errors.New("failed half way")
	for _, tc := range []struct {
		name  string
		temp  string
		plant func(t *testing.T, tmp string) // at the temporary file's name
		write func(io.Writer) error
		want  string
		err   error
	}{
		{name: "new name", write: Bytes([]byte("after")), want: "after"},
		{name: "own name", temp: "f.tmp", write: Bytes([]byte("after")), want: "after"},
		{name: "left by a kill", temp: "f.tmp", plant: func(t *testing.T, tmp string) { os.WriteFile(tmp, []byte("stale"), 0o600) }, write: Bytes([]byte("after")), want: "after"},
		{name: "a symbolic link", temp: "f.tmp", plant: func(t *testing.T, tmp string) {
			if err := os.Symlink(filepath.Join(filepath.Dir(tmp), "victim"), tmp); err != nil {
				t.Fatal(err)
			}
		}, write: Bytes([]byte("after")), want: "after"},
		{name: "a FIFO", temp: "f.tmp", plant: func(t *testing.T, tmp string) {
			if err := syscall.Mkfifo(tmp, 0o600); err != nil {
				t.Fatal(err)
			}
		}, write: Bytes([]byte("after")), want: "after"},
		{name: "a failed write", write: func(w io.Writer) error { w.Write([]byte("half")); return fail }, want: "before", err: fail},
		{name: "a failed write, own name", temp: "f.tmp", write: func(w io.Writer) error { w.Write([]byte("half")); return fail }, want: "before", err: fail},
	} {
		for _, sync := range []bool{false, true} {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			os.WriteFile(path, []byte("before"), 0o600)
			if tc.plant != nil {
				tc.plant(t, filepath.Join(dir, tc.temp))
			}
			o := Options{Perm: 0o640, Sync: sync}
			err := Replace(path, o, tc.write)
			if tc.temp != "" {
				err = ReplaceVia(path, tc.temp, o, tc.write)
			}
			b, _ := os.ReadFile(path)
			ents, _ := os.ReadDir(dir)
			if !errors.Is(err, tc.err) || string(b) != tc.want || len(ents) != 1 {
				t.Errorf("%s, sync %v: %v, %q, files %v", tc.name, sync, err, b, ents)
			}
			if fi, err := os.Stat(path); tc.err == nil && (err != nil || fi.Mode().Perm() != 0o640&^umask()) {
				t.Errorf("%s: mode %v, %v", tc.name, fi.Mode(), err)
			}
		}
	}
}

func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}

func ExampleReplace() {
	path := filepath.Join(os.TempDir(), "atomicfile-example")
	err := Replace(path, Options{Perm: 0o644, Sync: true}, Bytes([]byte("whole\n")))
	b, _ := os.ReadFile(path)
	os.Remove(path)
	fmt.Printf("%q %v\n", b, err)
	// Output: "whole\n" <nil>
}

// TestDirect: with Direct, a path that is not a regular file (a user's
// -o /dev/stdout, here a link to /dev/null) is written as it is, not
// replaced; without it, a program's own path is replaced whatever is
// there, a FIFO included, which it never opens.
func TestDirect(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "out")
	if err := os.Symlink("/dev/null", link); err != nil {
		t.Fatal(err)
	}
	if err := Replace(link, Options{Perm: 0o600, Direct: true}, Bytes([]byte("report"))); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v, %v", fi.Mode(), err)
	}
	fifo := filepath.Join(dir, "state")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Replace(fifo, Options{Perm: 0o600}, Bytes([]byte("state"))); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(fifo); err != nil || string(b) != "state" {
		t.Errorf("%q, %v", b, err)
	}
}
