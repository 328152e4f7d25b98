//go:build riscv64 || loong64

package ringlog

import "syscall"

// sysRenameat is renameat2(2) with no flags (the fifth argument): these
// architectures have no renameat.
const sysRenameat = syscall.SYS_RENAMEAT2
