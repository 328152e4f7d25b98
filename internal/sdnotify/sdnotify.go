// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)) without libsystemd: a service started with
// Type=notify finds a datagram socket's path in $NOTIFY_SOCKET (a
// leading @ names Linux's abstract namespace) and sends it newline-
// separated assignments: READY=1 once it serves, RELOADING=1 with
// MONOTONIC_USEC= while it reloads, STOPPING=1 when it shuts down,
// STATUS= a line for `systemctl status`, and WATCHDOG=1 at least every
// $WATCHDOG_USEC when the unit sets WatchdogSec=, so that systemd
// restarts a service that stops sending it.
//
// Outside systemd (no $NOTIFY_SOCKET) every call does nothing. A message
// the manager cannot take is dropped: notifying never blocks or fails
// the service.
package sdnotify

import (
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/itiny/itiny/internal/clock"
)

// A Notifier sends notifications to the service manager. The zero value,
// and a nil one, send nothing.
type Notifier struct {
	fd       int
	addr     syscall.SockaddrUnix
	watchdog time.Duration
	buf      []byte
}

// New returns the Notifier $NOTIFY_SOCKET names, or nil when it names
// none, or a socket that cannot be made. The variables stay set (unsetting
// them cost the agent 1.8 KB): a process the service starts must not be
// given them, or it could notify in the service's name. The agent's
// only ones, snapshot commands, get an environment of their own, which
// may not name these.
func New() *Notifier {
	path := os.Getenv("NOTIFY_SOCKET")
	wd := watchdogInterval(os.Getenv("WATCHDOG_USEC"), os.Getenv("WATCHDOG_PID"), os.Getpid())
	if path == "" || path[0] != '/' && path[0] != '@' {
		return nil
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	return &Notifier{fd: fd, addr: syscall.SockaddrUnix{Name: path}, watchdog: wd}
}

// watchdogInterval returns the watchdog's timeout from WATCHDOG_USEC, or
// 0 when there is none or it is meant for another process (WATCHDOG_PID).
func watchdogInterval(usec, pid string, self int) time.Duration {
	us, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || us == 0 {
		return 0
	}
	if pid != "" && pid != strconv.Itoa(self) {
		return 0
	}
	return time.Duration(us) * time.Microsecond
}

// Watchdog returns the watchdog's timeout, 0 when the unit sets none: a
// service sends WATCHDOG=1 at least every half of it.
func (n *Notifier) Watchdog() time.Duration {
	if n == nil {
		return 0
	}
	return n.watchdog
}

// Ready says the service serves, with a status line.
func (n *Notifier) Ready(status string) { n.send("READY=1\nSTATUS=", status) }

// Reloading says the service is reloading its configuration; Ready
// says it is done.
func (n *Notifier) Reloading() {
	if n == nil {
		return
	}
	n.send("RELOADING=1\nMONOTONIC_USEC=", strconv.FormatInt(clock.Mono()/1e3, 10))
}

// Stopping says the service is shutting down, with a status line.
func (n *Notifier) Stopping(status string) { n.send("STOPPING=1\nSTATUS=", status) }

// Status sets the status line.
func (n *Notifier) Status(status string) { n.send("STATUS=", status) }

// Alive sends WATCHDOG=1, when the unit has a watchdog.
func (n *Notifier) Alive() {
	if n.Watchdog() > 0 {
		n.send("WATCHDOG=1", "")
	}
}

// send sends a message of head and value, value's newlines made spaces
// (a status is one line).
func (n *Notifier) send(head, value string) {
	if n == nil {
		return
	}
	b := append(n.buf[:0], head...)
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	n.buf = b
	syscall.Sendto(n.fd, b, syscall.MSG_NOSIGNAL, &n.addr)
}

// Close closes the Notifier's socket.
func (n *Notifier) Close() {
	if n != nil {
		syscall.Close(n.fd)
	}
}
