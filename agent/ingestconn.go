package agent

import (
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
)

// The ingest socket's connections. One goroutine serves them all: an
// epoll instance holds the listening socket and every connection, and
// sits in the Go runtime's poller, so the goroutine parks until one is
// ready and a timer exists only while connections do. Each ready
// connection has one message read, handled and acknowledged per round,
// so a busy one cannot keep others waiting for more than a round. A
// connection is a fixed slot; connecting, sending and closing allocate
// nothing.
//
// Fair share: at most maxConns connections. When all are taken, a user
// (SO_PEERCRED uid) with fewer than the user holding the most takes the
// longest-idle connection of that user, which is told so and closed;
// any other newcomer is refused with the reason. A connection that sends
// nothing for the idle timeout is closed, and one whose acknowledgements
// are not read (the socket's send buffer is full) is dropped.

type conn struct {
	fd   int   // -1: a free slot
	gen  int32 // tells a slot's connections apart in epoll events
	peer *peer
	last int64 // clock.Mono of the accept or the last message
}

// idleNotice starts what a connection closed for being idle is told;
// Client makes the connection again when it reads it.
const idleNotice = "idle for "

// Reasons with their limits, made once.
var (
	tooMany = "too many connections (" + strconv.Itoa(maxConns) + " open, "
	ofMax   = " of " + strconv.Itoa(maxConns) + ")"
)

// The epoll event data of the listening socket and of the eventfd that
// close writes to stop serve.
const (
	listenerSlot = -1
	wakeSlot     = -2
)

// serveIngest starts serving the listening socket lfd.
func (a *Agent) serveIngest(path string, lfd int) (*ingest, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, &os.SyscallError{Syscall: "epoll_create1", Err: err}
	}
	r, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		syscall.Close(epfd)
		return nil, &os.SyscallError{Syscall: "eventfd2", Err: errno}
	}
	syscall.SetNonblock(epfd, true) // so that the runtime's poller takes it
	in := &ingest{a: a, path: path, lfd: lfd, epfd: epfd, wake: int(r), idle: a.opts.SocketIdle,
		done: make(chan struct{}), ack: make([]byte, 0, 2*ackSize), arena: codec.NewArena(arenaValues)}
	if in.idle <= 0 {
		in.idle = defaultIdle
	}
	in.idleFor = in.idle.String() + ": connection closed"
	for i := range in.conns {
		in.conns[i].fd = -1
	}
	in.wait = func(fd uintptr) bool {
		in.nev, in.everr = syscall.EpollWait(int(fd), in.events[:], 0)
		return in.nev > 0 || in.everr != nil && in.everr != syscall.EINTR
	}
	err = in.ctl(syscall.EPOLL_CTL_ADD, lfd, listenerSlot, 0)
	if err == nil {
		err = in.ctl(syscall.EPOLL_CTL_ADD, in.wake, wakeSlot, 0)
	}
	var rc syscall.RawConn
	if err == nil {
		in.ep = os.NewFile(uintptr(epfd), "ingest epoll")
		rc, err = in.ep.SyscallConn()
	}
	if err != nil {
		syscall.Close(in.wake)
		if in.ep != nil {
			in.ep.Close()
		} else {
			syscall.Close(epfd)
		}
		return nil, err
	}
	go in.serve(rc)
	return in, nil
}

// ctl adds, changes or removes fd in the epoll instance, its events
// tagged with its slot and generation. Only serve calls it once serving,
// and serve closes the epoll instance when it returns.
func (in *ingest) ctl(op, fd, slot int, gen int32) error {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(slot), Pad: gen}
	if in.paused && slot == listenerSlot {
		ev.Events = 0
	}
	if err := syscall.EpollCtl(in.epfd, op, fd, &ev); err != nil {
		return &os.SyscallError{Syscall: "epoll_ctl", Err: err}
	}
	return nil
}

func (in *ingest) serve(rc syscall.RawConn) {
	defer func() {
		in.closeAll()
		in.ep.Close()
		syscall.Close(in.wake)
		close(in.done)
	}()
	for {
		err := rc.Read(in.wait)
		now := clock.Mono()
		if err != nil {
			if !os.IsTimeout(err) {
				return
			}
			in.expire(now)
			continue
		}
		if in.everr != nil {
			continue // EINTR
		}
		for _, ev := range in.events[:in.nev] {
			switch ev.Fd {
			case wakeSlot:
				return // close
			case listenerSlot:
				in.accept(now)
				continue
			}
			c := &in.conns[ev.Fd]
			if c.fd >= 0 && c.gen == ev.Pad {
				in.read(c, ev.Events, now)
			}
		}
		if in.deadline == 0 {
			in.arm(now)
		}
	}
}

// accept takes the connections waiting on the listening socket.
func (in *ingest) accept(now int64) {
	for {
		r, _, errno := syscall.Syscall6(sysAccept4, uintptr(in.lfd), 0, 0, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0, 0)
		switch errno {
		case 0:
		case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM:
			// No descriptor for it: the listener rests until a
			// connection closes or the idle check runs, rather than spin.
			in.paused = true
			in.ctl(syscall.EPOLL_CTL_MOD, in.lfd, listenerSlot, 0)
			in.deadline = -1
			in.arm(now)
			return
		default:
			return // EAGAIN: no more; or a connection that died waiting
		}
		fd := int(r)
		uid := uint32(otherUID)
		n := uint32(unsafe.Sizeof(in.cred))
		if _, _, e := syscall.Syscall6(sysGetsockopt, uintptr(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED,
			uintptr(unsafe.Pointer(&in.cred)), uintptr(unsafe.Pointer(&n)), 0); e == 0 {
			uid = in.cred.Uid
		}
		in.admit(fd, uid, now)
	}
}

// admit gives connection fd of uid a slot, or refuses it (see the fair
// share above).
func (in *ingest) admit(fd int, uid uint32, now int64) {
	free, victim, most := -1, -1, 0
	mine := 0
	counts := func(u uint32) int {
		n := 0
		for i := range in.conns {
			if in.conns[i].fd >= 0 && in.conns[i].peer.uid == u {
				n++
			}
		}
		return n
	}
	for i := range in.conns {
		c := &in.conns[i]
		if c.fd < 0 {
			if free < 0 {
				free = i
			}
			continue
		}
		if c.peer.uid == uid {
			mine++
		}
	}
	if free < 0 {
		// The longest-idle connection of the user holding the most.
		for i := range in.conns {
			c := &in.conns[i]
			n := counts(c.peer.uid)
			if n > most || n == most && c.last < in.conns[victim].last {
				victim, most = i, n
			}
		}
		if mine+1 >= most {
			in.fail(tooMany)
			in.ack = strconv.AppendInt(in.ack, int64(mine), 10)
			in.add(" of them yours)")
			in.refuse(fd)
			return
		}
		v := &in.conns[victim]
		in.fail("connection closed: another user needed it (uid ")
		in.ack = strconv.AppendUint(in.ack, uint64(v.peer.uid), 10)
		in.add(" held ")
		in.ack = strconv.AppendInt(in.ack, int64(most), 10)
		in.add(ofMax)
		in.notify(v)
		free = victim
	}
	c := &in.conns[free]
	c.fd, c.last, c.peer = fd, now, in.a.peers.connect(uid)
	if err := in.ctl(syscall.EPOLL_CTL_ADD, fd, free, c.gen); err != nil {
		in.drop(c)
	}
}

// refuse tells a connection why it is not served and closes it.
func (in *ingest) refuse(fd int) {
	syscall.Write(fd, in.ack)
	syscall.Close(fd)
}

// notify tells a served connection why it is closed and closes it.
func (in *ingest) notify(c *conn) {
	syscall.Write(c.fd, in.ack)
	in.drop(c)
}

// drop closes a connection (which takes it out of epoll) and frees its
// slot.
func (in *ingest) drop(c *conn) {
	syscall.Close(c.fd)
	in.a.peers.disconnect(c.peer)
	c.fd, c.peer = -1, nil
	c.gen++
	if in.paused {
		in.paused = false
		in.ctl(syscall.EPOLL_CTL_MOD, in.lfd, listenerSlot, 0)
	}
}

// read reads, handles and acknowledges one message of c.
func (in *ingest) read(c *conn, events uint32, now int64) {
	if max := in.a.live.Load().MaxRecord; len(in.buf) != max+1 {
		in.buf = make([]byte, max+1) // one more: a full read means too large
	}
	n, err := syscall.Read(c.fd, in.buf)
	switch {
	case err == syscall.EAGAIN:
		return
	case err != nil, n == 0 && events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0:
		in.drop(c) // closed by the client (or an empty message just before)
		return
	}
	c.last = now
	if _, err := syscall.Write(c.fd, in.handle(in.buf[:n], n == len(in.buf), c.peer)); err != nil {
		in.drop(c) // gone, or its acknowledgements are not read
	}
}

// arm sets the idle check for the connection idle longest, if any.
func (in *ingest) arm(now int64) {
	next := int64(0)
	for i := range in.conns {
		if c := &in.conns[i]; c.fd >= 0 && (next == 0 || c.last+int64(in.idle) < next) {
			next = c.last + int64(in.idle)
		}
	}
	if in.paused && (next == 0 || now+int64(100*time.Millisecond) < next) {
		next = now + int64(100*time.Millisecond)
	}
	if next == in.deadline {
		return
	}
	in.deadline = next
	if next == 0 {
		in.ep.SetReadDeadline(time.Time{})
		return
	}
	in.ep.SetReadDeadline(time.Now().Add(time.Duration(next - now)))
}

// expire closes the connections idle for the idle timeout, and lets the
// listener take connections again if it rested.
func (in *ingest) expire(now int64) {
	for i := range in.conns {
		if c := &in.conns[i]; c.fd >= 0 && now-c.last >= int64(in.idle) {
			in.fail(idleNotice)
			in.add(in.idleFor)
			in.notify(c)
		}
	}
	if in.paused {
		in.paused = false
		in.ctl(syscall.EPOLL_CTL_MOD, in.lfd, listenerSlot, 0)
	}
	in.deadline = -1 // passed: arm sets or clears it, whatever it finds
	in.arm(now)
}

func (in *ingest) closeAll() {
	for i := range in.conns {
		if c := &in.conns[i]; c.fd >= 0 {
			in.drop(c)
		}
	}
}
