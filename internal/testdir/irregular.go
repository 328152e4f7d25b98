package testdir

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// A Shape is a kind of file that is not a regular file, which readers meet
// where a ring's file should be.
type Shape struct {
	Name string // for test names
	Kind string // as readers name it: "a FIFO"
	make func(path string) error
}

// Shapes are the files readers must refuse: a FIFO (which blocks a plain
// open), a directory, a symbolic link to /dev/zero (which never ends) and,
// where the test may make one, a device node (a copy of /dev/null).
var Shapes = []Shape{
	{"fifo", "a FIFO", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
	{"dir", "a directory", func(p string) error { return os.Mkdir(p, 0o700) }},
	{"zero", "a character device", func(p string) error { return os.Symlink("/dev/zero", p) }},
	{"node", "a character device", func(p string) error { return syscall.Mknod(p, syscall.S_IFCHR|0o600, 1<<8|3) }},
}

// Make replaces the file at path, if any, with one of shape s. It skips the
// test if the system does not let it (a device node needs CAP_MKNOD).
func (s Shape) Make(t testing.TB, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := s.make(path); errors.Is(err, syscall.EPERM) {
		t.Skipf("%s: %v", s.Name, err)
	} else if err != nil {
		t.Fatal(err)
	}
}

// A Place is where among a ring's files, the stage first and then the
// segments oldest first, a test puts a file of a Shape.
type Place struct {
	Name string
	i    int
}

// Places are the stage and the oldest, a middle and the newest segment
// of a ring of at least four segments.
var Places = []Place{{"stage", 0}, {"oldest", 1}, {"middle", 3}, {"newest", -1}}

// Of returns the file at p among files.
func (p Place) Of(files []string) string { return files[(p.i+len(files))%len(files)] }

// EachPlace runs f as a subtest for every shape at every place.
func EachPlace(t *testing.T, f func(t *testing.T, s Shape, p Place)) {
	for _, s := range Shapes {
		for _, p := range Places {
			t.Run(s.Name+"/"+p.Name, func(t *testing.T) { f(t, s, p) })
		}
	}
}
