// Package corespool hands core dumps from itiny core, the kernel's
// core_pattern pipe handler, over to the agent, the one writer of the
// rings (docs/DESIGN.md section 7). The handler is another process, run
// by the kernel as the crashing process dies, when the agent may be down
// or not yet started: it writes each crash's minidump to a spool
// directory in the data directory, and the agent stores what it finds
// there in its rings at its next sample, removing a file only once its
// records are in.
//
// The spool directory, Dir in the data directory, holds:
//
//   - core-MONO-PID: one crash, written to .core-PID.tmp and renamed
//     into place once whole: a text header of HeaderSize bytes, then the
//     minidump (package minicore), if any, to the end of the file. The
//     header's last ProgressSize bytes are the agent's: what it has
//     stored of the crash (Progress), so that an agent stopped partway
//     resumes at the next part instead of storing the parts again.
//   - limits: what the agent's configuration allows, which the agent
//     writes and the handler reads (Limits).
//   - state: the handler's per-hour count and the crashes it dropped
//     since the last it kept, under an flock(2) of the directory.
//   - .late-MONO-PID: a crash whose handler could not take that lock,
//     which the next handler counts as dropped.
//
// The spool is bounded, outside the rings' budgets, by Limits.Spool
// bytes: a crash that finds it full, or over Limits.PerHour crashes in
// the hour, is counted in the state and the next crash kept says how many
// were dropped before it.
package corespool

import (
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// Dir is the spool's directory in the data directory.
const Dir = "core-spool"

// Names in the spool directory.
const (
	limitsFile = "limits"
	stateFile  = "state"
	entryPre   = "core-"
	tmpPre     = ".core-"
)

// Limits bound what the handler keeps: each minidump, the crashes kept an
// hour, and the spool.
type Limits struct {
	ThreadBytes int64 // stack kept per thread (minicore.Limits)
	Threads     int64 // threads whose stacks are kept
	PerHour     int64 // crashes kept an hour
	Size        int64 // a minidump's bytes at most
	Spool       int64 // the spool's bytes at most
}

func (l *Limits) fields() []field {
	return []field{{key: "thread_bytes", n: &l.ThreadBytes}, {key: "threads", n: &l.Threads}, {key: "per_hour", n: &l.PerHour},
		{key: "size", n: &l.Size}, {key: "spool", n: &l.Spool}}
}

// String is the limits file's text: "thread_bytes 65536", a line a limit.
func (l Limits) String() string { return string(appendFields(nil, l.fields())) }

// A field is one line of a spool file, "key value": a number, or a
// string kept on one line.
type field struct {
	key string
	n   *int64
	s   *string
	_   [0]func() // not comparable: no equality function linked
}

// maxString bounds a field's string: a header then always fits.
const maxString = 400

func appendFields(b []byte, fs []field) []byte {
	for _, f := range fs {
		b = append(append(b, f.key...), ' ')
		if f.n != nil {
			b = strconv.AppendInt(b, *f.n, 10)
		} else {
			b = appendLine(b, *f.s)
		}
		b = append(b, '\n')
	}
	return b
}

// appendLine appends s, valid UTF-8, control characters made '?', cut to
// maxString bytes.
func appendLine(b []byte, s string) []byte {
	s = strings.ToValidUTF8(s, "?")
	for len(s) > maxString {
		s = strings.ToValidUTF8(s[:maxString], "")
	}
	for _, c := range []byte(s) {
		if c < ' ' || c == 0x7f {
			c = '?'
		}
		b = append(b, c)
	}
	return b
}

// parseFields sets the fields text has lines for; other lines are
// skipped, a number that does not parse is an error.
func parseFields(text string, fs []field) error {
	for text != "" {
		var line, k, v string
		line, text, _ = strings.Cut(text, "\n")
		k, v, _ = strings.Cut(line, " ")
		for _, f := range fs {
			switch {
			case f.key != k:
			case f.s != nil:
				*f.s = v
			default:
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return tinyfmt.Errorf("%s %q: not a number", k, v)
				}
				*f.n = n
			}
		}
	}
	return nil
}

// HeaderSize is the room a crash's header takes at the head of its file,
// padded with newlines; the minidump starts after it. Its last
// ProgressSize bytes, within one 512-byte sector, hold the Progress.
const (
	HeaderSize   = 2048
	ProgressSize = 128
	progressOff  = HeaderSize - ProgressSize
)

// headerMagic is a crash file's first line.
const headerMagic = "itiny-core 1\n"

// A Crash is what a spool file says of one crash: what the kernel gave
// the handler (pid, tid, signal, time, exe), the boot and monotonic time
// it ran at, what package minicore found and kept, and what failed.
type Crash struct {
	Pid, Tid int64
	Signal   int64
	Time     int64     // the kernel's time of the dump (%t), Unix seconds
	Exe      string    // the kernel's %e, else the core's NT_PRPSINFO
	Boot     string    // /proc/sys/kernel/random/boot_id when it ran
	Mono     int64     // CLOCK_MONOTONIC when it ran, nanoseconds
	Threads  int64     // threads in the core
	Stacks   int64     // threads whose stacks the minidump holds
	Read     int64     // bytes of the core read
	Dropped  int64     // crashes dropped since the last kept, this one not counted
	Error    string    // what failed: "" when nothing did
	Size     int64     // the minidump's bytes: the file's past HeaderSize
	Stored   Progress  // what the agent has stored of it
	_        [0]func() // not comparable: no equality function linked
}

// Progress is what the agent has stored of a crash: its parts of Part
// bytes, Parts of them, the first's sequence number and the CRC-32C of
// the minidump up to the last's end; Told once its event is written.
type Progress struct {
	Part, Parts int64
	First       int64
	Sum         int64
	Told        int64 // 1: told
}

func (p *Progress) fields() []field {
	return []field{{key: "part", n: &p.Part}, {key: "parts", n: &p.Parts}, {key: "first", n: &p.First}, {key: "sum", n: &p.Sum}, {key: "told", n: &p.Told}}
}

func (c *Crash) fields() []field {
	return []field{{key: "pid", n: &c.Pid}, {key: "tid", n: &c.Tid}, {key: "signal", n: &c.Signal}, {key: "time", n: &c.Time},
		{key: "exe", s: &c.Exe}, {key: "boot", s: &c.Boot}, {key: "mono", n: &c.Mono}, {key: "threads", n: &c.Threads},
		{key: "stacks", n: &c.Stacks}, {key: "read", n: &c.Read}, {key: "dropped", n: &c.Dropped}, {key: "error", s: &c.Error}}
}

// header returns c's header, HeaderSize bytes, its progress none: its
// fields, three strings of at most maxString bytes, end before
// progressOff (TestHeaderBound).
func (c *Crash) header() []byte {
	b := appendFields([]byte(headerMagic), c.fields())
	for len(b) < HeaderSize {
		b = append(b, '\n')
	}
	return b
}

// progress returns p's lines, ProgressSize bytes.
func (p *Progress) progress() []byte {
	b := appendFields(make([]byte, 0, ProgressSize), p.fields())
	for len(b) < ProgressSize {
		b = append(b, '\n')
	}
	return b
}

// parseHeader parses a crash file's header.
func parseHeader(h []byte) (Crash, error) {
	var c Crash
	rest, ok := strings.CutPrefix(string(h), headerMagic)
	if !ok {
		return c, errors.New("not a crash file: no " + strconv.Quote(strings.TrimSpace(headerMagic)) + " line")
	}
	if err := parseFields(rest, c.fields()); err != nil {
		return c, tinyfmt.Errorf("header: %w", err)
	}
	// A progress that does not parse (a write torn by a power cut) is
	// none: the parts are stored again, never a part skipped.
	if parseFields(string(h[progressOff:]), c.Stored.fields()) != nil {
		c.Stored = Progress{}
	}
	return c, nil
}

// readHeader reads a crash file's header from r.
func readHeader(r io.ReaderAt) (Crash, error) {
	var h [HeaderSize]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return Crash{}, tinyfmt.Errorf("header: %w", err)
	}
	return parseHeader(h[:])
}
