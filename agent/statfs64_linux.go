//go:build !nofilesystem && (amd64 || arm64 || loong64 || mips64 || mips64le || ppc64 || ppc64le || riscv64 || s390x)

package agent

import (
	"syscall"
	"unsafe"
)

// statfsNoAlloc is statfs(2) on a NUL-terminated path without allocating
// (syscall.Statfs copies its path to the heap): one system call, raw if
// raw (see pread). 64-bit architectures have statfs itself.
func statfsNoAlloc(path []byte, st *syscall.Statfs_t, raw bool) error {
	if len(path) == 0 || path[len(path)-1] != 0 {
		return syscall.EINVAL
	}
	for {
		var e syscall.Errno
		if raw {
			_, _, e = syscall.RawSyscall(syscall.SYS_STATFS, uintptr(unsafe.Pointer(&path[0])), uintptr(unsafe.Pointer(st)), 0)
		} else {
			_, _, e = syscall.Syscall(syscall.SYS_STATFS, uintptr(unsafe.Pointer(&path[0])), uintptr(unsafe.Pointer(st)), 0)
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
