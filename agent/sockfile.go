package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// The agent's unix sockets (the ingest socket, the syslog socket) are
// files in directories others may share. Creating one must neither
// destroy another file nor let anyone in before its mode is set:
//
//   - Only a stale socket, one nothing is bound to (left by an agent that
//     died), is replaced. Any other file at the path, or a socket
//     something listens on, fails the start and says why: socket = boot
//     once deleted the boot counter.
//   - The socket is never wider than its mode, not even for an instant:
//     the mode is set on the socket before bind (fchmod on an unbound
//     socket sets the inode that bind copies, less the umask), then set
//     exactly, to add what the umask removed. chmod after bind alone
//     left a window in which, under umask 000, an unprivileged user
//     connected and stored records. Changing the umask around bind would
//     close it too, but the umask is the process's: another goroutine
//     creating a file meanwhile (a ring's segment) would get it.

// maxSocketPath is the longest path bind takes (sun_path less its NUL).
const maxSocketPath = 107

// socketBound, set only by tests, is called between bind and chmod.
var socketBound func(path string)

// bindUnix creates a unix socket of type typ at path, with mode and, if
// gid >= 0, that group, replacing only a stale socket. It returns the
// bound descriptor.
func bindUnix(path string, typ int, mode os.FileMode, gid int) (int, error) {
	if len(path) > maxSocketPath {
		return -1, tinyfmt.Errorf("socket path %s is %d bytes, over the %d a unix socket takes", path, len(path), maxSocketPath)
	}
	if err := removeStale(path, typ); err != nil {
		return -1, err
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, typ|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, tinyfmt.Errorf("socket: %w", err)
	}
	if err := syscall.Fchmod(fd, uint32(mode.Perm())); err != nil {
		syscall.Close(fd)
		return -1, tinyfmt.Errorf("socket %s: set mode before bind: %w", path, err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(fd)
		return -1, tinyfmt.Errorf("bind %s: %w", path, err)
	}
	if socketBound != nil {
		socketBound(path)
	}
	err = os.Chmod(path, mode.Perm())
	if err == nil && gid >= 0 {
		err = os.Chown(path, -1, gid)
	}
	if err != nil {
		syscall.Close(fd)
		os.Remove(path) // the socket just made
		return -1, err
	}
	return fd, nil
}

// removeStale removes the file at path if it is a socket nothing is bound
// to, and refuses any other file.
func removeStale(path string, typ int) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeSocket == 0 {
		return tinyfmt.Errorf("%s is %s, not a socket: not replacing it", path, regular.Kind(st.Mode()))
	}
	switch err := probe(path, typ); {
	case err == nil:
		return tinyfmt.Errorf("another process is listening on %s", path)
	case errors.Is(err, syscall.ENOENT):
		return nil // removed meanwhile
	case !errors.Is(err, syscall.ECONNREFUSED):
		// EPROTOTYPE: a live socket of another type.
		return tinyfmt.Errorf("socket %s: %w: not replacing it", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// probe connects to a socket path with a socket of type typ: nil means
// something is bound to it; ECONNREFUSED, nothing.
func probe(path string, typ int) error {
	fd, err := syscall.Socket(syscall.AF_UNIX, typ|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	return syscall.Connect(fd, &syscall.SockaddrUnix{Name: path})
}

// socketGroup resolves socket_group, or returns -1 when it is not set.
// The socket is useless to the group if it cannot search the directory
// the socket is in: the data directory is 0750 and the agent's. So the
// agent gives the data directory, which it owns, that group with search
// permission only (the group cannot list it, nor enter the rings, which
// stay 0750 and the agent's); of any other directory it only warns.
func (a *Agent) socketGroup(path string) (int, error) {
	g := a.cfg.SocketGroup
	if g == "" {
		return -1, nil
	}
	gid, err := lookupGroup(g)
	if err != nil {
		return -1, tinyfmt.Errorf("socket_group: %w", err)
	}
	data := filepath.Clean(a.cfg.Data)
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		var st syscall.Stat_t
		if err := syscall.Stat(dir, &st); err == nil && !searchable(&st, gid) {
			if dir != data {
				a.log.Printf("socket_group %s: directory %s (mode %04o) does not let the group reach %s", g, dir, st.Mode&0o7777, path)
			} else if err := groupSearch(dir, &st, gid); err != nil {
				a.log.Printf("socket_group %s: %v: the group cannot reach %s", g, err, path)
			} else {
				a.log.Printf("socket_group %s: data directory %s: the group may now search it, to reach %s", g, dir, path)
			}
		}
		if dir == "/" || dir == "." {
			return gid, nil
		}
	}
}

// searchable reports whether members of group gid, other than the owner,
// may search the directory st describes.
func searchable(st *syscall.Stat_t, gid int) bool {
	if int(st.Gid) == gid {
		return st.Mode&0o010 != 0
	}
	return st.Mode&0o001 != 0
}

// groupSearch gives dir group gid with search permission only.
func groupSearch(dir string, st *syscall.Stat_t, gid int) error {
	if err := os.Chown(dir, -1, gid); err != nil {
		return err
	}
	if err := syscall.Chmod(dir, st.Mode&0o7707|0o010); err != nil {
		return &os.PathError{Op: "chmod", Path: dir, Err: err}
	}
	return nil
}

// lookupGroup returns the gid of a group given by number or by name in
// /etc/group. (os/user does this too, at a cost in firmware bytes.)
func lookupGroup(g string) (int, error) {
	if gid, err := strconv.Atoi(g); err == nil {
		return gid, nil
	}
	b, err := regular.ReadFile("/etc/group", 4<<20)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		// name:password:gid:members
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[0] == g {
			return strconv.Atoi(f[2])
		}
	}
	return 0, tinyfmt.Errorf("no group %q in /etc/group", g)
}
