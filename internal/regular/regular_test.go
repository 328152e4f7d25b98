package regular

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/internal/testdir"
)

// TestShapes opens every kind of file a reader can meet where it expects a
// regular one. Those that are not are refused at once, by name, never
// read: a FIFO with no writer would block an open without O_NONBLOCK, and
// /dev/zero never ends.
func TestShapes(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	if err := os.WriteFile(path("file"), []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused := func(t *testing.T, name, kind string) {
		t.Helper()
		b, err := ReadFile(path(name), 5)
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), path(name)+": "+kind+", not a regular file") {
			t.Fatalf("ReadFile = %q, %v; want %s refused by name", b, err, kind)
		}
	}
	for _, s := range testdir.Shapes {
		t.Run(s.Name, func(t *testing.T) {
			s.Make(t, path(s.Name))
			refused(t, s.Name, s.Kind)
			// Through a link, as well.
			if err := os.Symlink(s.Name, path(s.Name+"-link")); err != nil {
				t.Fatal(err)
			}
			refused(t, s.Name+"-link", s.Kind)
		})
	}
	l, err := net.Listen("unix", path("sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	refused(t, "sock", "a socket")

	// A link to a regular file is read as that file.
	if err := os.Symlink("file", path("link")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"file", "link"} {
		if b, err := ReadFile(path(name), 5); err != nil || string(b) != "12345" {
			t.Errorf("%s: ReadFile = %q, %v; want the file", name, b, err)
		}
	}
	if err := os.Symlink("nothing", path("dangling")); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path("dangling"), 5); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dangling link: %v, want not exist", err)
	}
	if _, err := ReadFile(path("file"), 4); err == nil || !strings.Contains(err.Error(), path("file")+": more than 4 bytes") {
		t.Errorf("over the limit: %v", err)
	}
}
