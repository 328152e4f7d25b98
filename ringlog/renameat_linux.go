//go:build !riscv64 && !loong64

package ringlog

import "syscall"

// sysRenameat is renameat(2); its fifth argument, 0, is ignored.
const sysRenameat = syscall.SYS_RENAMEAT
