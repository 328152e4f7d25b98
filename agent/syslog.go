package agent

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"unicode/utf8"
	"unsafe"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// The syslog listener (off by default) takes the datagrams that
// syslog(3) and logger(1) send to a unix socket such as /dev/log, so that
// components that already log to syslog are captured unchanged. Each
// message becomes a record in the events stream: level from its severity,
// source from its tag, name "syslog", fields facility and msg.
//
// Anyone may send to it (0666, as /dev/log), so it keeps the ingest
// socket's limits: each datagram is accounted to its sender's uid, which
// the kernel attaches (SO_PASSCRED), and spends a token of that uid's
// rate limit before it is parsed (peers.go); what the limit drops is
// counted and reported. It never feeds the rules. One goroutine reads
// into one buffer and parses without allocating (strings are views of
// the buffer), so a flood costs no memory.
type syslogListener struct {
	a    *Agent
	f    *os.File
	fd   int
	path string
	done chan struct{}

	// Owned by serve.
	buf  [maxSyslog]byte
	oob  [64]byte // one SCM_CREDENTIALS message
	iov  syscall.Iovec
	msg  syscall.Msghdr
	n    int
	err  error
	recv func(fd uintptr) bool // made once: a closure per read would allocate
	rec  codec.Record
}

const maxSyslog = 8 << 10

func (a *Agent) listenSyslog(path string) (*syslogListener, error) {
	// Anyone may log, as with /dev/log (sockfile.go).
	fd, err := bindUnix(path, syscall.SOCK_DGRAM, 0o666, -1)
	if err != nil {
		return nil, tinyfmt.Errorf("agent: syslog: %w", err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1); err != nil {
		syscall.Close(fd)
		os.Remove(path)
		return nil, tinyfmt.Errorf("agent: syslog: SO_PASSCRED: %w", err)
	}
	l := &syslogListener{a: a, f: os.NewFile(uintptr(fd), path), fd: fd, path: path, done: make(chan struct{})}
	l.iov.Base = &l.buf[0]
	l.iov.SetLen(len(l.buf))
	l.msg.Iov = &l.iov
	l.msg.Iovlen = 1
	l.msg.Control = &l.oob[0]
	l.recv = func(fd uintptr) bool {
		l.msg.SetControllen(len(l.oob))
		l.msg.Flags = 0
		r, _, errno := syscall.Syscall(sysRecvmsg, fd, uintptr(unsafe.Pointer(&l.msg)), syscall.MSG_DONTWAIT)
		l.n, l.err = int(r), nil
		if errno != 0 {
			l.err = errno
		}
		return errno != syscall.EAGAIN
	}
	rc, err := l.f.SyscallConn()
	if err != nil {
		l.f.Close()
		return nil, err
	}
	go l.serve(rc)
	return l, nil
}

func (l *syslogListener) serve(rc syscall.RawConn) {
	defer close(l.done)
	peers := &l.a.peers
	for {
		if err := rc.Read(l.recv); err != nil {
			return // closed
		}
		if l.err != nil || l.n == 0 {
			continue
		}
		uid := uint32(otherUID)
		if uc := l.cred(); uc != nil {
			uid = uc.Uid
		}
		p := peers.peerOf(uid)
		if !peers.take(p) {
			continue
		}
		err := parseSyslog(l.buf[:l.n], &l.rec)
		if err == nil {
			err = l.a.emit(StreamEvents, &l.rec, p)
		}
		peers.count(p, err == nil)
	}
}

// cred returns the sender's credentials the kernel attached, or nil.
func (l *syslogListener) cred() *syscall.Ucred {
	n := int(l.msg.Controllen)
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&l.oob[0]))
	off := syscall.CmsgLen(0)
	if n < off+syscall.SizeofUcred || h.Level != syscall.SOL_SOCKET || h.Type != syscall.SCM_CREDENTIALS {
		return nil
	}
	return (*syscall.Ucred)(unsafe.Pointer(&l.oob[off]))
}

func (l *syslogListener) close() {
	l.f.Close()
	<-l.done
	os.Remove(l.path)
}

var facilities = [...]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}

// parseSyslog parses an RFC 3164 line, "<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG"
// (the timestamp and host are optional, as local senders vary), or an RFC
// 5424 line, "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG". The sender's
// time is not trusted; the agent stamps its own. The record's strings are
// views of b, valid until b is written again, and bytes of b that are not
// UTF-8 are replaced with '?' in place. The tag is cut to maxSrcLen bytes.
func parseSyslog(b []byte, r *codec.Record) error {
	b = bytes.TrimRight(b, "\n\x00")
	if len(b) < 3 || b[0] != '<' {
		return errors.New("syslog: no <PRI>")
	}
	end := bytes.IndexByte(b[:min(len(b), 5)], '>')
	pri := 0
	for _, c := range b[1:max(end, 1)] {
		if c < '0' || c > '9' {
			end = -1
			break
		}
		pri = pri*10 + int(c-'0')
	}
	if end < 2 || pri > 191 {
		return errors.New("syslog: bad <PRI>")
	}
	b = b[end+1:]
	var tag []byte
	msg := b
	if len(b) > 2 && b[0] == '1' && b[1] == ' ' {
		// RFC 5424: VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
		rest, f, ok := b[2:], []byte(nil), true
		for i := 0; i < 5 && ok; i++ {
			f, rest, ok = bytes.Cut(rest, []byte(" "))
			if i == 2 {
				tag = f
			}
		}
		if ok {
			msg = rest
			if len(msg) > 0 && msg[0] == '-' {
				msg = bytes.TrimPrefix(msg[1:], []byte(" "))
			}
		} else {
			tag = nil
		}
	} else {
		// RFC 3164: skip "Mmm dd hh:mm:ss " when present.
		if len(b) >= 16 && b[3] == ' ' && b[6] == ' ' && b[9] == ':' && b[12] == ':' && b[15] == ' ' {
			b = b[16:]
		}
		if i := bytes.Index(b, []byte(": ")); i > 0 && i < 64 && bytes.IndexByte(b[:i], ' ') < 0 {
			tag, msg = b[:i], b[i+2:]
		} else {
			msg = b
		}
		if j := bytes.IndexByte(tag, '['); j > 0 {
			tag = tag[:j]
		}
	}
	if len(tag) > maxSrcLen {
		tag = tag[:maxSrcLen]
	}
	fields := r.Fields[:0]
	*r = codec.Record{Name: "syslog", Level: codec.Level(pri & 7)}
	if len(tag) == 0 || len(tag) == 1 && tag[0] == '-' {
		r.Source = "syslog"
	} else {
		validUTF8(tag)
		r.Source = view(tag)
	}
	fac := "unknown"
	if pri>>3 < len(facilities) {
		fac = facilities[pri>>3]
	}
	validUTF8(msg)
	r.Fields = append(fields,
		codec.Field{Key: "facility", Value: codec.String(fac)},
		codec.Field{Key: "msg", Value: codec.String(view(msg))})
	return nil
}

// validUTF8 replaces, in place, bytes that are not UTF-8 with '?'. The
// kernel escapes them as \xNN, but a file or a future kernel might not,
// a syslog sender need not, and a record must hold valid UTF-8.
func validUTF8(b []byte) {
	if utf8.Valid(b) {
		return
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			b[i] = '?'
		}
		i += n
	}
}

// view returns b as a string without copying: valid until b is written.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
