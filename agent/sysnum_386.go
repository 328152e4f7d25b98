package agent

// On 386 the syscall package reaches the socket calls through
// socketcall(2) only; Linux 4.3 (2015) added direct calls, with these
// numbers (arch/x86/entry/syscalls/syscall_32.tbl). An older kernel
// answers them ENOSYS: the socket, syslog and process events are then
// off, with that error in the log.
const (
	sysAccept4    = 364
	sysGetsockopt = 365
	sysSetsockopt = 366
	sysRecvfrom   = 371
	sysRecvmsg    = 372
)
