package corespool

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// holdLock takes the spool's lock of data as another handler would, on
// a descriptor of its own, until the returned function is called.
func holdLock(t *testing.T, data string) (release func()) {
	t.Helper()
	fd, err := openDir(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(fd, syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	return func() { syscall.Close(fd) }
}

// marks returns the late markers in data's spool.
func marks(t *testing.T, data string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(data, Dir, latePre+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLate: a handler that cannot take the spool's lock within lockWait
// leaves a marker; the next handler that keeps a crash counts it in its
// dropped and removes it, and one dropped by the per-hour cap leaves it
// for the next kept.
func TestLate(t *testing.T) {
	data := t.TempDir()
	core := seedCore(t)
	lim := testLimits
	lim.PerHour = 1
	release := holdLock(t, data)
	_, err := Capture(data, crash(1, 1e9), bytes.NewReader(core), lim)
	release()
	if !errors.Is(err, ErrDropped) || !strings.Contains(err.Error(), "locked by another process for over 2s") {
		t.Fatalf("Capture with the lock held: %v", err)
	}
	if m := marks(t, data); len(m) != 1 || !strings.Contains(err.Error(), filepath.Base(m[0])) {
		t.Fatalf("markers %v, error %v", m, err)
	}
	name, err := Capture(data, crash(2, 2e9), bytes.NewReader(core), lim)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := take(t, data, name); c.Dropped != 1 || len(marks(t, data)) != 0 {
		t.Errorf("the next crash kept says %d dropped, markers left %v", c.Dropped, marks(t, data))
	}
	// Past the cap: counted in the state, with the marker left in place.
	os.WriteFile(filepath.Join(data, Dir, latePre+"0000000000000001-9"), nil, 0o600)
	if _, err := Capture(data, crash(3, 3e9), bytes.NewReader(core), lim); !errors.Is(err, ErrDropped) {
		t.Fatalf("a crash past the cap: %v", err)
	}
	lim.PerHour = 2
	name, err = Capture(data, crash(4, 4e9), bytes.NewReader(core), lim)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := take(t, data, name); c.Dropped != 2 || len(marks(t, data)) != 0 {
		t.Errorf("the next crash kept says %d dropped, want 2; markers left %v", c.Dropped, marks(t, data))
	}
}

// tmpfs mounts a file system of size bytes on a new directory, or skips
// the test where it cannot (not root, no mount namespace rights).
func tmpfs(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		t.Skipf("mount tmpfs: %v (needs root)", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	return dir
}

// fillTo fills dir's file system until free bytes are left to
// unprivileged users.
func fillTo(t testing.TB, dir string, free int64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * int64(st.Bsize)
	if avail < free {
		t.Fatalf("%d bytes free, want %d", avail, free)
	}
	if err := os.WriteFile(filepath.Join(dir, "filler"), make([]byte, avail-free), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDiskFull, on a real tmpfs: the file system's free room, less what
// is kept for the rings, bounds the minidump; without the least a
// minidump needs, or when the disk fills as it is written (statfs made
// to say there is room), the crash is kept with its header alone, saying
// the disk was full and how much was free.
func TestDiskFull(t *testing.T) {
	const size = 4 << 20
	keep := keepFree(size)
	for _, tc := range []struct {
		name string
		free int64 // left after the limits and the state are written
		lie  bool  // statfs reports 64 MiB free
		err  string
	}{
		{"room", keep + 1<<20, false, ""},
		{"bounded", keep + 24<<10, false, ""},
		{"full", keep + 8<<10, false, "no minidump: the disk was full before the core was read: "},
		{"fills as written", 8 << 10, true, "no minidump: the disk was full as the minidump was written: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tmpfs(t, size)
			lim := Limits{ThreadBytes: 64 << 10, Threads: 4, PerHour: 4, Size: 1 << 20, Spool: 2 << 20}
			// The state's page: taken before the free room is read.
			if _, err := Capture(data, crash(1, 1e9), strings.NewReader(""), lim); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(data, Dir, "core-000000003b9aca00-1"))
			fillTo(t, data, tc.free)
			if tc.lie {
				fstatfs = func(fd int, st *syscall.Statfs_t) error {
					err := syscall.Fstatfs(fd, st)
					st.Bavail = uint64(64<<20) / uint64(st.Bsize)
					return err
				}
				defer func() { fstatfs = syscall.Fstatfs }()
			}
			name, err := Capture(data, crash(noPid, 2e9), bytes.NewReader(seedCore(t)), lim)
			if err != nil {
				t.Fatal(err)
			}
			c, mini := take(t, data, name)
			t.Logf("%d-byte minidump, %d stacks; error %q", c.Size, c.Stacks, c.Error)
			switch {
			case tc.err != "" && (c.Size != 0 || c.Stacks != 0 || !strings.Contains(c.Error, tc.err) || !strings.Contains(c.Error, " bytes free, "+strconv.FormatInt(keep, 10)+" kept free for the rings")):
				t.Errorf("header alone: %d-byte minidump, %d stacks, error %q, want %q", c.Size, c.Stacks, c.Error, tc.err)
			// All four stacks with room, fewer in 24 KiB.
			case tc.err == "" && (c.Size == 0 || HeaderSize+c.Size > tc.free-keep || (c.Stacks == 4) != (tc.name == "room")):
				t.Errorf("%d-byte minidump, %d stacks, in %d bytes of room", c.Size, c.Stacks, tc.free-keep)
			case tc.err == "" && c.Threads != 4 || c.Pid != noPid || c.Signal != 11:
				t.Errorf("header %+v", c)
			case len(mini) != int(c.Size):
				t.Errorf("%d bytes after the header, size %d", len(mini), c.Size)
			}
		})
	}
}
