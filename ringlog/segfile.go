package ringlog

import (
	"os"
	"path/filepath"
	"syscall"
	"unsafe"

	"github.com/itiny/itiny/codec"
)

// The writer holds its segments as bare descriptors and creates, renames
// and deletes them by name relative to the ring's open directory. A
// rotation then allocates nothing: an *os.File costs three allocations,
// each path a string and each directory sync an open. The agent's busiest
// ring rotates about once a second, and that garbage was what made the
// agent collect, and grow, in steady state (docs/DESIGN.md section 21).

// segFile is an open segment file; the zero segFile is none.
type segFile struct {
	fd int
	ok bool
}

func (f segFile) valid() bool { return f.ok }

// writeAt writes all of p at offset off, as os.File.WriteAt does.
func (f segFile) writeAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := syscall.Pwrite(f.fd, p[n:], off+int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, syscall.EIO
		}
		n += m
	}
	return n, nil
}

func (f segFile) truncate(size int64) error {
	return ignoringEINTR(func() error { return syscall.Ftruncate(f.fd, size) })
}

func (f segFile) close() error { return syscall.Close(f.fd) }

func (f segFile) datasync() error {
	return ignoringEINTR(func() error { return syscall.Fdatasync(f.fd) })
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != syscall.EINTR {
			return err
		}
	}
}

// cname is a NUL-terminated file name for the system calls below. Segment
// names are at most 31 bytes with the NUL ("seg-" + 16 digits + ".jsonl"
// + ".tmp").
type cname [40]byte

// set makes n hold the name of segment seq, or name if it is not empty (a
// segment listed at Open keeps the name it was found under), with
// tmpSuffix if tmp. It returns the name without the NUL.
func (n *cname) set(name string, seq uint64, c codec.Codec, tmp bool) []byte {
	b := n[:0]
	if name != "" && len(name) < len(n)-len(tmpSuffix) {
		b = append(b, name...)
	} else {
		b = appendSegName(b, seq, c)
	}
	if tmp {
		b = append(b, tmpSuffix...)
	}
	n[len(b)] = 0
	return b
}

// segDir is a ring's directory, open for the *at system calls.
type segDir struct {
	fd   int
	path string
}

func openSegDir(path string) (segDir, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return segDir{fd: -1}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return segDir{fd: fd, path: path}, nil
}

// pathError names the file of name in d, on an error path only.
func (d segDir) pathError(op string, name []byte, err error) error {
	return &os.PathError{Op: op, Path: filepath.Join(d.path, string(name)), Err: err}
}

// create creates (or truncates) the file n, write-only.
func (d segDir) create(n *cname, name []byte) (segFile, error) {
	return d.open(n, name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC)
}

func (d segDir) open(n *cname, name []byte, flags int) (segFile, error) {
	for {
		fd, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(d.fd), uintptr(unsafe.Pointer(&n[0])),
			uintptr(flags|syscall.O_CLOEXEC), 0o640, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return segFile{}, d.pathError("open", name, e)
		}
		return segFile{fd: int(fd), ok: true}, nil
	}
}

func (d segDir) rename(from, to *cname, fromName, toName []byte) error {
	_, _, e := syscall.Syscall6(sysRenameat, uintptr(d.fd), uintptr(unsafe.Pointer(&from[0])), uintptr(d.fd), uintptr(unsafe.Pointer(&to[0])), 0, 0)
	if e != 0 {
		return &os.LinkError{Op: "rename", Old: filepath.Join(d.path, string(fromName)), New: filepath.Join(d.path, string(toName)), Err: e}
	}
	return nil
}

func (d segDir) remove(n *cname, name []byte) error {
	_, _, e := syscall.Syscall(syscall.SYS_UNLINKAT, uintptr(d.fd), uintptr(unsafe.Pointer(&n[0])), 0)
	if e != 0 {
		return d.pathError("remove", name, e)
	}
	return nil
}

func (d segDir) sync() error {
	return ignoringEINTR(func() error { return syscall.Fsync(d.fd) })
}

func (d segDir) close() error {
	if d.fd < 0 {
		return nil
	}
	return syscall.Close(d.fd)
}
