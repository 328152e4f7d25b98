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
//     minidump (package minicore), if any, to the end of the file.
//   - limits: what the agent's configuration allows, which the agent
//     writes and the handler reads (Limits).
//   - state: the handler's per-hour count and the crashes it dropped
//     since the last it kept, under an flock(2) of the directory.
//
// The spool is bounded, outside the rings' budgets, by Limits.Spool
// bytes: a crash that finds it full, or over Limits.PerHour crashes in
// the hour, is counted in the state and the next crash kept says how many
// were dropped before it.
package corespool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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
	ThreadBytes int   // stack kept per thread (minicore.Limits)
	Threads     int   // threads whose stacks are kept
	PerHour     int   // crashes kept an hour
	Size        int64 // a minidump's bytes at most
	Spool       int64 // the spool's bytes at most
}

// limitKeys are Limits' names in the limits file, in order.
var limitKeys = [...]string{"thread_bytes", "threads", "per_hour", "size", "spool"}

// String is the limits file's text: "thread_bytes=65536 threads=16 ...".
func (l Limits) String() string {
	v := [...]int64{int64(l.ThreadBytes), int64(l.Threads), int64(l.PerHour), l.Size, l.Spool}
	var b []byte
	for i, k := range limitKeys {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(append(append(b, k...), '='), v[i], 10)
	}
	return string(append(b, '\n'))
}

// parseLimits parses the limits file; every key must be there.
func parseLimits(s string) (Limits, error) {
	var v [len(limitKeys)]int64
	var seen [len(limitKeys)]bool
	for f := range strings.FieldsSeq(s) {
		k, val, _ := strings.Cut(f, "=")
		i := indexOf(limitKeys[:], k)
		n, err := strconv.ParseInt(val, 10, 64)
		if i < 0 || err != nil || n < 0 {
			return Limits{}, fmt.Errorf("limits: bad %q", f)
		}
		v[i], seen[i] = n, true
	}
	for i, ok := range seen {
		if !ok {
			return Limits{}, fmt.Errorf("limits: no %s", limitKeys[i])
		}
	}
	return Limits{ThreadBytes: int(min(v[0], 1<<30)), Threads: int(min(v[1], 1<<10)), PerHour: int(min(v[2], 1<<20)), Size: v[3], Spool: v[4]}, nil
}

func indexOf(keys []string, k string) int {
	for i, x := range keys {
		if x == k {
			return i
		}
	}
	return -1
}

// HeaderSize is the room a crash's header takes at the head of its file,
// padded with newlines; the minidump starts after it.
const HeaderSize = 1024

// headerMagic is a crash file's first line.
const headerMagic = "itiny-core 1\n"

// A Crash is what a spool file says of one crash: what the kernel gave
// the handler (pid, tid, signal, time, exe), the boot and monotonic time
// it ran at, what package minicore found and kept, and what failed.
type Crash struct {
	Pid, Tid int64
	Signal   int
	Time     int64  // the kernel's time of the dump (%t), Unix seconds
	Exe      string // the kernel's %e, else the core's NT_PRPSINFO
	Boot     string // /proc/sys/kernel/random/boot_id when it ran
	Mono     int64  // CLOCK_MONOTONIC when it ran, nanoseconds
	Threads  int    // threads in the core
	Stacks   int    // threads whose stacks the minidump holds
	Read     int64  // bytes of the core read
	Dropped  int64  // crashes dropped since the last kept, this one not counted
	Error    string // what failed: "" when nothing did
	Size     int64  // the minidump's bytes: the file's past HeaderSize
}

// maxText bounds the header's strings; the header then always fits.
const (
	maxExe   = 64
	maxError = 512
)

// header returns c's header, HeaderSize bytes.
func (c *Crash) header() []byte {
	b := []byte(headerMagic)
	num := func(k string, v int64) { b = strconv.AppendInt(append(b, k+" "...), v, 10); b = append(b, '\n') }
	str := func(k, v string, max int) { b = append(append(append(b, k+" "...), oneLine(v, max)...), '\n') }
	num("pid", c.Pid)
	num("tid", c.Tid)
	num("signal", int64(c.Signal))
	num("time", c.Time)
	str("exe", c.Exe, maxExe)
	str("boot", c.Boot, 36)
	num("mono", c.Mono)
	num("threads", int64(c.Threads))
	num("stacks", int64(c.Stacks))
	num("read", c.Read)
	num("dropped", c.Dropped)
	str("error", c.Error, maxError)
	return append(b, bytes.Repeat([]byte{'\n'}, HeaderSize-len(b))...)
}

// oneLine returns s on one line of valid UTF-8, cut to at most max bytes.
func oneLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	for len(s) > max {
		s = strings.ToValidUTF8(s[:max], "")
	}
	return s
}

// parseHeader parses a crash file's header.
func parseHeader(h []byte) (Crash, error) {
	var c Crash
	rest, ok := bytes.CutPrefix(h, []byte(headerMagic))
	if !ok {
		return c, errors.New("not a crash file: no " + strconv.Quote(strings.TrimSpace(headerMagic)) + " line")
	}
	nums := map[string]*int64{"pid": &c.Pid, "tid": &c.Tid, "time": &c.Time, "mono": &c.Mono, "read": &c.Read, "dropped": &c.Dropped}
	var sig, threads, stacks int64
	nums["signal"], nums["threads"], nums["stacks"] = &sig, &threads, &stacks
	for line := range strings.SplitSeq(string(rest), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch {
		case k == "exe":
			c.Exe = v
		case k == "boot":
			c.Boot = v
		case k == "error":
			c.Error = v
		case nums[k] != nil:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return c, fmt.Errorf("header: %s %q: %v", k, v, err)
			}
			*nums[k] = n
		}
	}
	c.Signal, c.Threads, c.Stacks = int(sig), int(threads), int(stacks)
	return c, nil
}

// readHeader reads a crash file's header from r.
func readHeader(r io.ReaderAt) (Crash, error) {
	var h [HeaderSize]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return Crash{}, fmt.Errorf("header: %w", err)
	}
	return parseHeader(h[:])
}
