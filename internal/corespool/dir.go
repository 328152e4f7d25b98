package corespool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// The spool directory is used through a descriptor and *at system calls,
// never through its path once opened: the handler runs as root in a
// directory the agent's user may write, and a symbolic link put in place
// of the directory or of one of its files is refused, never followed.

// openDir opens the spool directory of data directory data, making it if
// it is not there. Made by root (the handler), it is given to the data
// directory's owner, so that an agent running as another user can read
// and remove what the handler leaves.
func openDir(data string) (int, error) {
	path := filepath.Join(data, Dir)
	made := false
	if err := syscall.Mkdir(path, 0o750); err == nil {
		made = true
	} else if err != syscall.EEXIST {
		return -1, &os.PathError{Op: "mkdir", Path: path, Err: err}
	}
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if made && os.Geteuid() == 0 {
		var st syscall.Stat_t
		if syscall.Stat(data, &st) == nil {
			syscall.Fchown(fd, int(st.Uid), int(st.Gid))
		}
	}
	return fd, nil
}

// listNames calls fn with each name in the directory fd, read into buf
// from its start: no allocation.
func listNames(fd int, buf []byte, fn func(name []byte)) error {
	if _, err := syscall.Seek(fd, 0, io.SeekStart); err != nil {
		return err
	}
	for {
		n, err := syscall.Getdents(fd, buf)
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		// struct linux_dirent64: d_ino, d_off (8 bytes each), d_reclen
		// (2), d_type (1), d_name, NUL-terminated.
		for b := buf[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:]))
			if reclen < 19 || reclen > len(b) {
				return errors.New("getdents: bad record")
			}
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			fn(name)
			b = b[reclen:]
		}
	}
}

// openAt opens name in the directory fd: a regular file only, never
// through a symbolic link, never blocking on a FIFO.
func openAt(fd int, name string, flag int, perm uint32) (*os.File, error) {
	f, err := syscall.Openat(fd, name, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, perm)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: Dir + "/" + name, Err: err}
	}
	file := os.NewFile(uintptr(f), Dir+"/"+name)
	st, err := file.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = tinyfmt.Errorf("%s: not a regular file", file.Name())
	}
	// A file opened to be written that another name links to may be
	// any file on the file system, hard-linked here by the agent's user
	// for the handler, root, to write: refused.
	if sys, ok := st.Sys().(*syscall.Stat_t); err == nil && ok && flag&(syscall.O_WRONLY|syscall.O_RDWR) != 0 && sys.Nlink != 1 {
		err = tinyfmt.Errorf("%s: %d links to it: not written", file.Name(), sys.Nlink)
	}
	if err != nil {
		file.Close()
		return nil, err
	}
	return file, nil
}

// readAt reads the small file name in the directory fd, at most max
// bytes of it.
func readAt(fd int, name string, max int) ([]byte, error) {
	f, err := openAt(fd, name, syscall.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(max)))
}

// replaceAt replaces the file name in the directory fd with b: written
// to a temporary file, synced and renamed over it.
func replaceAt(fd int, name string, b []byte) error {
	tmp := "." + name + ".tmp"
	syscall.Unlinkat(fd, tmp)
	f, err := openAt(fd, tmp, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	owned(f, fd)
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	return install(fd, f, tmp, name, err, false)
}

// install closes f, written as tmp in the directory fd and synced, and
// renames it name, syncing the directory: unless err, the write's or
// the sync's, or one of these fails, when tmp is removed, or with leave
// left where it is.
func install(fd int, f *os.File, tmp, name string, err error, leave bool) error {
	if err == nil {
		err = syscall.Renameat(fd, tmp, fd, name)
	}
	if err == nil {
		err = syscall.Fsync(fd)
	}
	// Closed after the rename: a crash's temporary file is locked while
	// it is written, and a look at the spool that can take its lock
	// keeps or counts it (adopt).
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if !leave {
			syscall.Unlinkat(fd, tmp)
		}
		return tinyfmt.Errorf("%s/%s: %w", Dir, name, err)
	}
	return nil
}

// owned gives a file root made in the directory fd to the directory's
// owner, so that the agent's user may read it.
func owned(f *os.File, fd int) {
	var st syscall.Stat_t
	if os.Geteuid() == 0 && syscall.Fstat(fd, &st) == nil {
		f.Chown(int(st.Uid), int(st.Gid))
	}
}
