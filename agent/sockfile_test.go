package agent

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestBindUnixReplacesOnlyStale: a socket is bound where nothing is, or
// in place of a stale socket; any other file, and a live socket, is left
// as it was and the error says what is there.
func TestBindUnixReplacesOnlyStale(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		typ  int
		make func(path string) (cleanup func())
		want string // "" for success
	}{
		{"nothing", syscall.SOCK_SEQPACKET, nil, ""},
		{"stale", syscall.SOCK_SEQPACKET, func(p string) func() { syscall.Close(bound(t, p, syscall.SOCK_SEQPACKET)); return nil }, ""},
		{"stale-other-type", syscall.SOCK_DGRAM, func(p string) func() { syscall.Close(bound(t, p, syscall.SOCK_STREAM)); return nil }, ""},
		{"live", syscall.SOCK_SEQPACKET, func(p string) func() {
			fd := bound(t, p, syscall.SOCK_SEQPACKET)
			syscall.Listen(fd, 1)
			return func() { syscall.Close(fd) }
		}, "another process is listening on"},
		{"live-datagram", syscall.SOCK_DGRAM, func(p string) func() {
			fd := bound(t, p, syscall.SOCK_DGRAM)
			return func() { syscall.Close(fd) }
		}, "another process is listening on"},
		{"live-other-type", syscall.SOCK_SEQPACKET, func(p string) func() {
			fd := bound(t, p, syscall.SOCK_STREAM)
			syscall.Listen(fd, 1)
			return func() { syscall.Close(fd) }
		}, "protocol wrong type for socket: not replacing it"},
		{"regular", syscall.SOCK_SEQPACKET, func(p string) func() { os.WriteFile(p, []byte("1 0123\n"), 0o640); return nil }, "is a regular file, not a socket: not replacing it"},
		{"fifo", syscall.SOCK_DGRAM, func(p string) func() { syscall.Mkfifo(p, 0o640); return nil }, "is a FIFO, not a socket"},
		{"directory", syscall.SOCK_SEQPACKET, func(p string) func() { os.Mkdir(p, 0o750); return nil }, "is a directory, not a socket"},
		{"symlink", syscall.SOCK_SEQPACKET, func(p string) func() { os.Symlink("/etc/passwd", p); return nil }, "is a symbolic link, not a socket"},
	} {
		path := filepath.Join(dir, tc.name)
		if tc.make != nil {
			if cleanup := tc.make(path); cleanup != nil {
				defer cleanup()
			}
		}
		before, _ := os.Lstat(path)
		fd, err := bindUnix(path, tc.typ, 0o660, -1)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			syscall.Close(fd)
			if st, err := os.Lstat(path); err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o660 {
				t.Errorf("%s: after bind: %v %v", tc.name, st.Mode(), err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if after, _ := os.Lstat(path); !os.SameFile(before, after) || before.Mode() != after.Mode() {
			t.Errorf("%s: the file at the path was changed", tc.name)
		}
	}
	if _, err := bindUnix("/"+strings.Repeat("x", 107), syscall.SOCK_SEQPACKET, 0o660, -1); err == nil || !strings.Contains(err.Error(), "over the 107 a unix socket takes") {
		t.Errorf("a path too long for a socket: %v", err)
	}
}

// bound returns a socket of type typ bound to path.
func bound(t *testing.T, path string, typ int) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_UNIX, typ|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	return fd
}

// TestBindUnixMode: from the moment bind creates it, the socket is never
// wider than its mode, whatever the umask (the seam runs between bind
// and the chmod that sets the mode exactly); then it has its mode.
func TestBindUnixMode(t *testing.T) {
	dir := t.TempDir()
	defer func() { socketBound = nil }()
	for _, tc := range []struct {
		umask int
		mode  os.FileMode
	}{{0, 0o600}, {0, 0o660}, {0o022, 0o660}, {0o077, 0o666}, {0o002, 0o620}} {
		var atBind os.FileMode
		socketBound = func(path string) {
			st, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			atBind = st.Mode().Perm()
		}
		old := syscall.Umask(tc.umask)
		path := filepath.Join(dir, "s")
		fd, err := bindUnix(path, syscall.SOCK_SEQPACKET, tc.mode, -1)
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		syscall.Close(fd)
		st, _ := os.Lstat(path)
		if atBind&^tc.mode != 0 || st.Mode().Perm() != tc.mode {
			t.Errorf("umask %03o, mode %04o: %04o at bind, %04o after", tc.umask, tc.mode, atBind, st.Mode().Perm())
		}
		os.Remove(path)
	}
}

// TestSocketGroup: with socket_group, the socket has the group, and the
// data directory, 0750 and the agent's, becomes searchable by the group
// (search only: 0710), so that members reach the socket.
func TestSocketGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a file a group the agent is not in needs root")
	}
	const gid = 4242
	cfg := testConfig(t, "socket_group = 4242\n")
	cfg.Socket = "itiny.sock"
	os.Chmod(cfg.Data, 0o750)
	a, err := New(cfg, Options{Log: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, f := range []struct {
		path string
		mode uint32
	}{{cfg.Data, 0o710}, {filepath.Join(cfg.Data, "itiny.sock"), 0o660}} {
		var st syscall.Stat_t
		if err := syscall.Stat(f.path, &st); err != nil {
			t.Fatal(err)
		}
		if st.Gid != gid || st.Mode&0o7777 != f.mode {
			t.Errorf("%s: group %d, mode %04o; want %d, %04o", f.path, st.Gid, st.Mode&0o7777, gid, f.mode)
		}
	}
}
