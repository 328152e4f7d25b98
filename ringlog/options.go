package ringlog

import (
	"syscall"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// A SyncPolicy says when the writer makes records durable against power
// loss with fdatasync. Every policy survives the death of the process: an
// appended record is in the page cache before Append returns.
type SyncPolicy uint8

const (
	// SyncNone syncs a segment after rotating away from it (in the
	// background) and on Close; a power cut loses what the kernel had not
	// yet written back (ext4: up to ~30 s).
	SyncNone SyncPolicy = iota
	// SyncInterval syncs every Options.SyncEvery (group commit); a power
	// cut loses at most that long of records.
	SyncInterval
	// SyncAlways syncs each record before Append returns; a power cut
	// loses nothing that was acknowledged.
	SyncAlways
)

var syncNames = [...]string{"none", "interval", "always"}

func (p SyncPolicy) String() string {
	if int(p) < len(syncNames) {
		return syncNames[p]
	}
	return tinyfmt.Sprintf("SyncPolicy(%d)", uint8(p))
}

// ParseSyncPolicy returns the policy named "none", "interval" or "always".
func ParseSyncPolicy(s string) (SyncPolicy, error) {
	for i, n := range syncNames {
		if s == n {
			return SyncPolicy(i), nil
		}
	}
	return 0, tinyfmt.Errorf("ringlog: unknown sync policy %q (want none, interval or always)", s)
}

// Defaults.
const (
	DefaultStageSize  = 64 << 10
	DefaultFlushEvery = time.Second
	DefaultSyncEvery  = time.Second
	// MinSegmentSize is the smallest SegmentSize; MaxSegmentSize the
	// largest.
	MinSegmentSize = 4 << 10
)

// Options configure a Writer.
type Options struct {
	Stream string      // the stream's name; also checked against the ring
	Codec  codec.Codec // encoding of new segments
	// Budget caps the ring's bytes on disk: its segment files and stage,
	// each counted in whole file-system blocks. It is never exceeded;
	// the oldest segments are deleted to make room. It must hold the
	// stage and two segments.
	Budget      int64
	SegmentSize int64 // largest segment file, header included
	// StageSize is the size of the mapped stage file; 0 means
	// DefaultStageSize (at most SegmentSize), negative means no stage:
	// each record is then written to its segment with one write call.
	StageSize int
	// MemoryStage keeps staged records in the process's memory instead of
	// a mapped file: they reach the segment only every FlushEvery or when
	// the stage is full, sparing flash, and are lost if the process dies
	// (the agent's "periodic" mode). Close and Sync still flush them.
	MemoryStage bool
	// Pack writes the records of each stage flush as one frame holding a
	// version 3 block of package pack, in segments marked FlagPacked,
	// FlagPacked2 and FlagPacked3: periodic samples shrink about
	// thirtyfold. Damage to
	// such a frame costs its whole block. MessagePack only; records are
	// limited to pack.MaxRecord.
	Pack       bool
	Sync       SyncPolicy
	SyncEvery  time.Duration // for SyncInterval; 0 means DefaultSyncEvery
	FlushEvery time.Duration // how soon staged records reach the segment, and readers; 0 means DefaultFlushEvery
	Boot       codec.BootID  // this boot's id, recorded in segment headers
	BootCount  uint32        // the boot counter, for the records the writer writes itself (Resume)
	// Now returns the wall and monotonic clocks for segment headers;
	// nil means time.Now and the system's monotonic clock.
	Now func() (wall time.Time, mono int64)
}

func (o *Options) fill() error {
	if !codec.ValidStream(o.Stream) {
		return tinyfmt.Errorf("ringlog: invalid stream name %q: want 1-%d bytes of [a-z0-9_.-]", o.Stream, codec.MaxStreamLen)
	}
	if o.Codec != codec.Msgpack && o.Codec != codec.JSON {
		return tinyfmt.Errorf("ringlog: stream %s: unknown codec %d", o.Stream, uint8(o.Codec))
	}
	if o.Pack && o.Codec != codec.Msgpack {
		return tinyfmt.Errorf("ringlog: stream %s: packing needs the msgpack codec", o.Stream)
	}
	if o.SegmentSize < MinSegmentSize || o.SegmentSize > MaxSegmentSize {
		return tinyfmt.Errorf("ringlog: stream %s: segment size %d out of range [%d, %d]", o.Stream, o.SegmentSize, MinSegmentSize, MaxSegmentSize)
	}
	if o.StageSize == 0 {
		o.StageSize = int(min(DefaultStageSize, o.SegmentSize))
	}
	if o.SyncEvery <= 0 {
		o.SyncEvery = DefaultSyncEvery
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = DefaultFlushEvery
	}
	if o.Sync > SyncAlways {
		return tinyfmt.Errorf("ringlog: stream %s: unknown sync policy %d", o.Stream, uint8(o.Sync))
	}
	if o.Now == nil {
		o.Now = func() (time.Time, int64) { return time.Now(), clock.Mono() }
	}
	return nil
}

// checkBudget reports whether the budget holds the stage and two
// segments on a file system of blk-byte blocks.
func (o *Options) checkBudget(blk int64) error {
	if need := roundUp(int64(o.stageBytes()), blk) + 2*roundUp(o.SegmentSize, blk); o.Budget < need {
		return tinyfmt.Errorf("ringlog: stream %s: budget %d bytes is below the %d a stage and two %d-byte segments take", o.Stream, o.Budget, need, o.SegmentSize)
	}
	return nil
}

// Check reports what Open would refuse in o, on a file system of 4 KiB
// blocks (Open checks the budget with the blocks of the ring's own): for
// a configuration checked before any ring is opened.
func (o Options) Check() error {
	if err := o.fill(); err != nil {
		return err
	}
	return o.checkBudget(4096)
}

// stageBytes is the stage file's size.
func (o *Options) stageBytes() int {
	if o.StageSize < 0 || o.MemoryStage {
		return stageHeaderSize
	}
	return stageHeaderSize + o.StageSize
}

func roundUp(n, blk int64) int64 { return (n + blk - 1) / blk * blk }

func blockSize(dir string) int64 {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil || fs.Bsize <= 0 {
		return 4096
	}
	return int64(fs.Bsize)
}

// segFlags returns the header flags of the segments o writes.
func (o *Options) segFlags() uint32 {
	if o.Pack {
		return packedFlags
	}
	return 0
}
