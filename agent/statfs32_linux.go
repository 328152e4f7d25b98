//go:build !nofilesystem && (386 || arm || mips || mipsle)

package agent

import (
	"syscall"
	"unsafe"
)

// statfsNoAlloc is statfs(2) on a NUL-terminated path without allocating
// (syscall.Statfs copies its path to the heap): one system call, raw if
// raw (see pread). 32-bit architectures call statfs64, which takes the
// size of the struct: syscall.Statfs_t is struct statfs64 there, as
// syscall.Statfs passes it.
func statfsNoAlloc(path []byte, st *syscall.Statfs_t, raw bool) error {
	if len(path) == 0 || path[len(path)-1] != 0 {
		return syscall.EINVAL
	}
	for {
		var e syscall.Errno
		if raw {
			_, _, e = syscall.RawSyscall(syscall.SYS_STATFS64, uintptr(unsafe.Pointer(&path[0])), unsafe.Sizeof(*st), uintptr(unsafe.Pointer(st)))
		} else {
			_, _, e = syscall.Syscall(syscall.SYS_STATFS64, uintptr(unsafe.Pointer(&path[0])), unsafe.Sizeof(*st), uintptr(unsafe.Pointer(st)))
		}
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}
