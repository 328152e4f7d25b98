package agent

import (
	"errors"
	"strconv"
	"strings"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/corespool"
	"github.com/itiny/itiny/internal/size"
	"github.com/itiny/itiny/internal/tinyfmt"
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
			return lim, tinyfmt.Errorf("option thread_bytes: want a size from 1B to 1MiB, got %q", v)
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
			return lim, tinyfmt.Errorf("option %s: want %d to %d, got %q", o.key, o.lo, o.hi, v)
		}
		*o.v = n
	}
	return lim, nil
}

// coreLimits completes lim from the cores stream sc: a minidump takes at
// most what its ring holds beside its stage and two segments (the one
// written and one to spare), less the parts' framing, so that it never
// evicts its own first parts; the spool holds at most the ring's budget.
// The stream must be MessagePack: a minidump is bytes, which JSON would
// store as base64, a third larger than the bound.
func coreLimits(lim corespool.Limits, sc *StreamConfig) (corespool.Limits, error) {
	if sc == nil {
		return lim, errors.New("no [stream " + StreamCores + "] to store minidumps in")
	}
	if sc.Codec != codec.Msgpack {
		return lim, tinyfmt.Errorf("[stream %s] codec %s: minidumps are stored as bytes, which only msgpack keeps as they are", StreamCores, sc.Codec)
	}
	segments := (sc.Budget - int64(sc.Buffer) - 2*sc.Segment) / sc.Segment
	holds := max(segments, 0) * 4 * int64(corePart(sc))
	want := minicore.MaxSize(int(lim.Threads), int(lim.ThreadBytes))
	lim.Size, lim.Spool = min(want, holds), sc.Budget
	if lim.Size < 64<<10 {
		return lim, tinyfmt.Errorf("[stream %s] budget %s holds no minidump: %d bytes in parts beside its stage and two segments", StreamCores, size.Format(sc.Budget), holds)
	}
	return lim, nil
}

// corePartFraming bounds the bytes a process.core record takes in a
// segment beside its data: its frame, envelope and other fields
// (TestCorePartFraming measures them).
const corePartFraming = 256

// segmentHeader is a MessagePack segment's header (docs/FORMAT.md).
const segmentHeader = 128

// corePart is the data a process.core record of the cores stream sc
// carries: catalog.CorePart, or less, so that four parts fill a segment
// beside its header, wasting none of the ring.
func corePart(sc *StreamConfig) int {
	return int(min(catalog.CorePart, (sc.Segment-segmentHeader)/4-corePartFraming))
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
