package main

import (
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/internal/clock"
	"github.com/itiny/itiny/internal/corespool"
	"github.com/itiny/itiny/internal/datadir"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// coreUsage is how the kernel runs itiny core: kernel.core_pattern set to
// "|/usr/bin/itiny core %P %I %s %t %e" (a --data DIR before the
// specifiers for another data directory).
const coreUsage = "core [--data DIR] PID TID SIGNAL TIME EXE"

// coreCmd is the kernel's core_pattern pipe handler. It reads the core
// from standard input and leaves its minidump in the data directory's
// spool, for the agent to store at its next sample (internal/corespool).
// It never fails the kernel's dump: whatever goes wrong, it reads its
// input to the end and exits 0, and says what failed in the crash it
// keeps, or, when it could keep none, in the kernel log (/dev/kmsg), where
// dmesg and the kmsg collector see it. A crash over the per-hour cap or
// with the spool full is counted, and the next one kept says how many.
func coreCmd(fs *flags, args []string) error {
	data := fs.String("data", datadir.Default(), "the agent's data directory ($"+datadir.Env+", else "+datadir.Fallback+"): its core-spool takes the crash")
	c := corespool.Crash{Mono: clock.Mono(), Boot: "unknown"}
	err := parse(fs, args)
	if errors.Is(err, errHelp) {
		return err
	}
	var bad []string // what the pattern gave wrong: kept with the crash
	if err != nil || fs.NArg() < 5 {
		bad = append(bad, "arguments "+strconv.Quote(strings.Join(args, " "))+", want "+coreUsage[len("core "):]+" (core_pattern's %P %I %s %t %e)")
	}
	// %P %I %s %t, then %e, which older kernels split at its spaces.
	for i, n := range [...]*int64{&c.Pid, &c.Tid, &c.Signal, &c.Time} {
		if i < fs.NArg() {
			if *n, err = strconv.ParseInt(fs.Arg(i), 10, 64); err != nil {
				bad = append(bad, strconv.Quote(fs.Arg(i))+" is not a number")
			}
		}
	}
	if fs.NArg() > 4 {
		c.Exe = strings.Join(fs.Args()[4:], " ")
	}
	if len(bad) > 0 {
		c.Error = "itiny core: " + strings.Join(bad, "; ")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		c.Boot = strings.TrimSpace(string(b))
	}
	err = keep(*data, c)
	drain(os.Stdin)
	if err != nil && !errors.Is(err, corespool.ErrDropped) {
		msg := tinyfmt.Sprintf("itiny core: crash of %s (pid %d, signal %d) not kept: %v", c.Exe, c.Pid, c.Signal, err)
		tinyfmt.Fprintln(os.Stderr, msg)
		kernelLog(msg)
	}
	return nil
}

// keep keeps the crash whose core is on standard input; a panic, which
// the fuzzed parser should never raise, is an error like another: the
// kernel's dump still has its input read.
func keep(data string, c corespool.Crash) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	def, err := defaultCoreLimits()
	if err == nil {
		_, err = corespool.Capture(data, c, os.Stdin, def)
	}
	return err
}

// defaultCoreLimits are the default configuration's: what the handler
// keeps crashes within before an agent has written its own.
func defaultCoreLimits() (corespool.Limits, error) {
	cfg, err := agent.LoadConfig("")
	if err != nil {
		return corespool.Limits{}, err
	}
	return agent.CoreLimits(cfg)
}

// drain reads r to its end: the kernel's dump writes the whole core to
// the pipe, and the dying process is not reaped until it has.
func drain(r io.Reader) {
	buf := make([]byte, 64<<10)
	for {
		if _, err := r.Read(buf); err != nil {
			return
		}
	}
}

// kernelLog writes msg to the kernel log, at err level of the user
// facility; where it cannot, nothing is said.
func kernelLog(msg string) {
	fd, err := syscall.Open("/dev/kmsg", syscall.O_WRONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return
	}
	syscall.Write(fd, []byte("<11>"+msg+"\n"))
	syscall.Close(fd)
}

// panicError describes a recovered panic: a runtime error or a message,
// the values a panic in this module carries.
func panicError(r any) error {
	switch r := r.(type) {
	case error:
		return tinyfmt.Errorf("panic: %w", r)
	case string:
		return errors.New("panic: " + r)
	}
	return errors.New("panic of a value that is neither an error nor a string")
}
