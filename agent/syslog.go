package agent

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"

	"github.com/itiny/itiny/codec"
)

// The syslog listener (off by default) takes the datagrams that
// syslog(3) and logger(1) send to a unix socket such as /dev/log, so that
// components that already log to syslog are captured unchanged. Each
// message becomes a record in the events stream: level from its severity,
// source from its tag, name "syslog", fields facility and msg.
type syslogListener struct {
	a    *Agent
	f    *os.File
	path string
	wg   sync.WaitGroup
}

const maxSyslog = 8 << 10

func (a *Agent) listenSyslog(path string) (*syslogListener, error) {
	// Anyone may log, as with /dev/log (sockfile.go).
	fd, err := bindUnix(path, syscall.SOCK_DGRAM, 0o666, -1)
	if err != nil {
		return nil, fmt.Errorf("agent: syslog: %w", err)
	}
	l := &syslogListener{a: a, f: os.NewFile(uintptr(fd), path), path: path}
	l.wg.Add(1)
	go l.serve()
	return l, nil
}

func (l *syslogListener) serve() {
	defer l.wg.Done()
	buf := make([]byte, maxSyslog)
	var rec codec.Record
	for {
		n, err := l.f.Read(buf)
		if err != nil {
			return
		}
		if n == 0 {
			continue
		}
		if err := parseSyslog(buf[:n], &rec); err != nil {
			continue
		}
		l.a.Emit(StreamEvents, &rec)
	}
}

func (l *syslogListener) close() {
	l.f.Close()
	l.wg.Wait()
	os.Remove(l.path)
}

var facilities = [...]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}

// parseSyslog parses an RFC 3164 line, "<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG"
// (the timestamp and host are optional, as local senders vary), or an RFC
// 5424 line, "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG". The sender's
// time is not trusted; the agent stamps its own. Invalid UTF-8 is replaced.
func parseSyslog(b []byte, r *codec.Record) error {
	b = bytes.TrimRight(b, "\n\x00")
	if len(b) < 3 || b[0] != '<' {
		return fmt.Errorf("syslog: no <PRI>")
	}
	end := bytes.IndexByte(b[:min(len(b), 5)], '>')
	if end < 2 {
		return fmt.Errorf("syslog: bad <PRI>")
	}
	pri, err := strconv.Atoi(string(b[1:end]))
	if err != nil || pri < 0 || pri > 191 {
		return fmt.Errorf("syslog: bad <PRI>")
	}
	b = b[end+1:]
	tag, msg := "", b
	if len(b) > 2 && b[0] == '1' && b[1] == ' ' {
		// RFC 5424: VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
		f := bytes.SplitN(b[2:], []byte(" "), 6)
		if len(f) == 6 {
			tag = string(f[2])
			msg = f[5]
			if len(msg) > 0 && msg[0] == '-' {
				msg = bytes.TrimPrefix(msg[1:], []byte(" "))
			}
		}
	} else {
		// RFC 3164: skip "Mmm dd hh:mm:ss " when present.
		if len(b) >= 16 && b[3] == ' ' && b[6] == ' ' && b[9] == ':' && b[12] == ':' && b[15] == ' ' {
			b = b[16:]
		}
		if i := bytes.Index(b, []byte(": ")); i > 0 && i < 64 && bytes.IndexByte(b[:i], ' ') < 0 {
			tag, msg = string(b[:i]), b[i+2:]
		} else {
			msg = b
		}
		if j := bytes.IndexByte([]byte(tag), '['); j > 0 {
			tag = tag[:j]
		}
	}
	if tag == "" || tag == "-" {
		tag = "syslog"
	}
	fields := r.Fields[:0]
	*r = codec.Record{Source: string(bytes.ToValidUTF8([]byte(tag), []byte("?"))), Name: "syslog", Level: codec.Level(pri & 7)}
	fac := "unknown"
	if pri>>3 < len(facilities) {
		fac = facilities[pri>>3]
	}
	r.Fields = append(fields,
		codec.Field{Key: "facility", Value: codec.String(fac)},
		codec.Field{Key: "msg", Value: codec.String(string(bytes.ToValidUTF8(msg, []byte("\uFFFD"))))})
	return nil
}
