//go:build !noprocess

package agent

import (
	"encoding/binary"
	"errors"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// procEvents is a socket on the kernel's process events: the netlink
// proc connector (CONFIG_PROC_EVENTS), which tells every exit on the
// system with its wait status as it happens. Listening takes the initial
// PID and user namespaces and, before Linux 6.6, root or CAP_NET_ADMIN
// (6.6 lets any user listen: "connector/cn_proc: Allow non-root users
// access"): elsewhere the kernel refuses or ignores the request, and the
// process collector polls.
//
// A socket filter in the kernel drops every event but the exits of the
// threads of the processes followed (by their tgid, the pid followed):
// the agent does not wake for other processes, however busy the system. The
// socket's queue is bounded (eventsBuffer): should it overflow, the
// kernel drops events and the next read says ENOBUFS, which is counted,
// and the exits lost read "vanished".
type procEvents struct {
	_    [0]func() // not comparable: no equality function in the binary
	fd   int
	f    *os.File        // fd, for the goroutine that waits in the poller; nil without
	rc   syscall.RawConn // f's
	done chan struct{}   // closed when the goroutine returns

	buf       [512]byte // one message (76 bytes on Linux 6)
	from      syscall.RawSockaddrNetlink
	fromLen   uint32
	filter    [maxFilterPids + 5]syscall.SockFilter
	pids      filterPids // the filter's
	overflows uint64     // ENOBUFS seen, not yet reported
	failed    bool       // a read failed otherwise: the goroutine has stopped
}

// filterPids are the pids whose exits the filter passes, n of them; past
// maxFilterPids, every exit.
type filterPids struct {
	n   int
	pid [maxFilterPids]uint32
}

// The connector's constants (linux/connector.h, linux/cn_proc.h) and the
// offsets in a message: nlmsghdr (16 bytes), cn_msg (20), proc_event
// (what, cpu, timestamp_ns, then the event's data).
const (
	cnIdxProc         = 1 // CN_IDX_PROC, the multicast group too
	cnValProc         = 1
	procCnMcastListen = 1
	procCnMcastIgnore = 2
	procEventNone     = 0 // an acknowledgement of LISTEN
	procEventExit     = 0x80000000

	offAck  = 28 // cn_msg.ack
	offWhat = 36
	offTime = 44
	offPid  = 52 // exit: process_pid; none: the acknowledgement's err
	offTgid = 56
	offCode = 60 // exit: exit_code, the wait status
	exitLen = 64 // through exit_code

	// eventsBuffer is the socket's receive buffer (the kernel doubles
	// it, and counts each message's buffers): dozens of exits, where the
	// filter passes only those of the processes followed.
	eventsBuffer = 32 << 10
	// maxFilterPids bounds the pids the filter compares: a conditional
	// jump's offset is 8 bits. Past it the filter passes every exit, and
	// the collector picks its own.
	maxFilterPids = 250
)

// openProcEvents opens the socket and asks the kernel for its events. It
// fails, saying why, where the kernel does not give them.
func openProcEvents() (*procEvents, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, syscall.NETLINK_CONNECTOR)
	if err != nil {
		return nil, &pathError{"netlink proc connector", err}
	}
	v := &procEvents{fd: fd}
	v.pids.n = -1 // no filter yet
	err = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, eventsBuffer)
	if err == nil {
		err = syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: cnIdxProc})
	}
	if err == nil {
		err = v.control(procCnMcastListen)
	}
	// The kernel answers before the write returns; none comes from
	// another PID namespace. Other listeners' events and answers may
	// come first.
	ne := binary.NativeEndian
	for err == nil {
		var n int
		n, err = v.recv()
		switch {
		case err == syscall.ENOBUFS:
			err = nil
		case err == syscall.EAGAIN:
			err = errors.New("no answer to listen (another PID namespace, or a kernel without CONFIG_PROC_EVENTS?)")
		case err == nil && n >= offPid+4 && ne.Uint32(v.buf[offWhat:]) == procEventNone && ne.Uint32(v.buf[offAck:]) == uint32(os.Getpid())+1:
			if e := ne.Uint32(v.buf[offPid:]); e != 0 {
				err = syscall.Errno(e)
			} else {
				return v, nil // the collector sets the filter at once
			}
		}
	}
	syscall.Close(fd)
	return nil, &pathError{"netlink proc connector", err}
}

// control sends the kernel a PROC_CN_MCAST_* operation, marked with the
// agent's pid for openProcEvents to know its answer from another
// listener's: the kernel answers with the mark plus 1 (and numbers the
// answer itself: not by the request's seq).
func (v *procEvents) control(op uint32) error {
	var m [40]byte
	ne := binary.NativeEndian
	ne.PutUint32(m[0:], uint32(len(m)))           // nlmsg_len
	ne.PutUint16(m[4:], syscall.NLMSG_DONE)       // nlmsg_type
	ne.PutUint32(m[16:], cnIdxProc)               // cb_id.idx
	ne.PutUint32(m[20:], cnValProc)               // cb_id.val
	ne.PutUint32(m[offAck:], uint32(os.Getpid())) // ack
	ne.PutUint16(m[32:], 4)                       // len
	ne.PutUint32(m[36:], op)
	// Unaddressed, a netlink message goes to the kernel.
	_, err := syscall.Write(v.fd, m[:])
	return err
}

// recv reads one message from the kernel without blocking and without
// allocating: syscall.Recvfrom would allocate the sender's address.
func (v *procEvents) recv() (int, error) {
	for {
		v.fromLen = uint32(unsafe.Sizeof(v.from))
		n, _, e := syscall.RawSyscall6(sysRecvfrom, uintptr(v.fd), uintptr(unsafe.Pointer(&v.buf[0])), uintptr(len(v.buf)),
			syscall.MSG_DONTWAIT, uintptr(unsafe.Pointer(&v.from)), uintptr(unsafe.Pointer(&v.fromLen)))
		switch {
		case e == syscall.EINTR:
			continue
		case e != 0:
			return 0, e
		case v.from.Pid != 0:
			continue // not the kernel's: only privileged senders may, still
		}
		return int(n), nil
	}
}

// setPids makes the kernel's filter pass the exits of the threads of
// processes pids only (by tgid), or past maxFilterPids every exit. v.pids is what it passes: a first call has
// n -1.
func (v *procEvents) setPids(pids *filterPids) error {
	if *pids == v.pids {
		return nil
	}
	// what == EXIT, then tgid == one of pids: keep (the last
	// instruction); else drop.
	n, all := pids.n, uint8(0)
	if n > maxFilterPids {
		n, all = 0, 2
	}
	f := v.filter[:n+5]
	f[0], f[1], f[2] = bpfLoad(offWhat), bpfJumpEq(procEventExit, all, uint8(n+1)), bpfLoad(offTgid)
	for i, pid := range pids.pid[:n] {
		f[3+i] = bpfJumpEq(pid, uint8(n-i), 0)
	}
	f[n+3], f[n+4] = bpfRet(0), bpfRet(1<<16)
	prog := syscall.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
	_, _, e := syscall.RawSyscall6(sysSetsockopt, uintptr(v.fd), syscall.SOL_SOCKET, syscall.SO_ATTACH_FILTER,
		uintptr(unsafe.Pointer(&prog)), unsafe.Sizeof(prog), 0)
	if e != 0 {
		return e
	}
	v.pids = *pids
	return nil
}

// release ends the wait of the goroutine reading v, if any, and leaves
// the socket open, with its filter and the exits queued, for another
// collector's: a reload's.
func (v *procEvents) release() {
	if v.f == nil {
		return
	}
	v.f.SetReadDeadline(time.Unix(1, 0)) // the wait returns
	<-v.done
	v.f.SetReadDeadline(time.Time{})
}

// close tells the kernel to stop (kernels before 6.6 count a listener
// until told) and closes the socket, once the goroutine waiting on it, if
// any, has returned.
func (v *procEvents) close() {
	v.control(procCnMcastIgnore)
	if v.f == nil {
		syscall.Close(v.fd)
		return
	}
	v.f.Close() // ends the goroutine's wait; returns once its read has
	<-v.done
}

// Classic BPF (linux/filter.h). The filter reads words in network order,
// the connector writes them in the host's: bpfJumpEq compares with a host
// word.
func bpfLoad(off uint32) syscall.SockFilter {
	return syscall.SockFilter{Code: syscall.BPF_LD | syscall.BPF_W | syscall.BPF_ABS, K: off}
}

func bpfJumpEq(k uint32, jt, jf uint8) syscall.SockFilter {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], k)
	return syscall.SockFilter{Code: syscall.BPF_JMP | syscall.BPF_JEQ | syscall.BPF_K, Jt: jt, Jf: jf, K: binary.BigEndian.Uint32(b[:])}
}

// bpfRet keeps k bytes of the message: 0 drops it.
func bpfRet(k uint32) syscall.SockFilter {
	return syscall.SockFilter{Code: syscall.BPF_RET | syscall.BPF_K, K: k}
}
