//go:build !386

package agent

import "syscall"

// The socket calls the agent makes directly, without the syscall
// package's wrappers (which allocate): their numbers, and on 386 those of
// the direct calls Linux 4.3 added beside socketcall(2) (sysnum_386.go).
const (
	sysAccept4    = syscall.SYS_ACCEPT4
	sysGetsockopt = syscall.SYS_GETSOCKOPT
	sysSetsockopt = syscall.SYS_SETSOCKOPT
	sysRecvfrom   = syscall.SYS_RECVFROM
	sysRecvmsg    = syscall.SYS_RECVMSG
)
