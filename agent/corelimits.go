package agent

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/itiny/itiny/internal/corespool"
	"github.com/itiny/itiny/internal/size"
	"github.com/itiny/itiny/minicore"
)

// The limits of itiny core, the kernel's core_pattern handler, from the
// cores collector's options and the cores stream: here, not with the
// collector, since itiny core uses them in a build without it.

// The cores collector's options' defaults: 64 KiB of stack for each of
// 16 threads, 4 crashes kept an hour.
const (
	coreThreadBytes = 64 << 10
	coreThreads     = 16
	corePerHour     = 4
)

// coreOptions reads the options into limits, the spool's yet unset.
func coreOptions(opts map[string]string) (corespool.Limits, error) {
	lim := corespool.Limits{ThreadBytes: coreThreadBytes, Threads: coreThreads, PerHour: corePerHour}
	if v, ok := opts["thread_bytes"]; ok {
		n, err := size.Parse(strings.TrimSpace(v))
		if err != nil || n > minicore.MaxThreadBytes {
			return lim, fmt.Errorf("option thread_bytes: want a size from 1B to 1MiB, got %q", v)
		}
		lim.ThreadBytes = n
	}
	for _, o := range [...]struct {
		key string
		v   *int64
		lo  int64
		hi  int64
	}{{"threads", &lim.Threads, 0, minicore.MaxThreads}, {"per_hour", &lim.PerHour, 1, 1 << 20}} {
		v, ok := opts[o.key]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < o.lo || n > o.hi {
			return lim, fmt.Errorf("option %s: want %d to %d, got %q", o.key, o.lo, o.hi, v)
		}
		*o.v = n
	}
	return lim, nil
}

// coreLimits completes lim from the cores stream sc: a minidump takes at
// most what its ring holds beside its stage and two segments (the one
// written and one to spare), so that it never evicts its own first
// parts; the spool holds at most the ring's budget.
func coreLimits(lim corespool.Limits, sc *StreamConfig) (corespool.Limits, error) {
	if sc == nil {
		return lim, errors.New("no [stream " + StreamCores + "] to store minidumps in")
	}
	holds := sc.Budget - int64(sc.Buffer) - 2*sc.Segment
	// The minidump's headers: the ELF header and MaxPieces program
	// headers a thread.
	want := lim.Threads*(lim.ThreadBytes+minicore.MaxPieces*56) + minicore.NoteBytes + 64
	lim.Size, lim.Spool = min(want, holds), sc.Budget
	if lim.Size < 64<<10 {
		return lim, fmt.Errorf("[stream %s] budget %s holds no minidump: %d bytes beside its stage and two segments", StreamCores, size.Format(sc.Budget), holds)
	}
	return lim, nil
}

// CoreLimits returns the limits the cores collector of configuration c
// gives itiny core: what itiny core keeps crashes within when no agent
// has written its own yet.
func CoreLimits(c *Config) (corespool.Limits, error) {
	var opts map[string]string
	if sec := c.Collectors["cores"]; sec != nil {
		opts = sec.Options
	}
	lim, err := coreOptions(opts)
	if err != nil {
		return lim, err
	}
	return coreLimits(lim, c.Stream(StreamCores))
}
