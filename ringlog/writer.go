package ringlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
	"github.com/itiny/itiny/pack"
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
	return fmt.Sprintf("SyncPolicy(%d)", p)
}

// ParseSyncPolicy returns the policy named "none", "interval" or "always".
func ParseSyncPolicy(s string) (SyncPolicy, error) {
	for i, n := range syncNames {
		if s == n {
			return SyncPolicy(i), nil
		}
	}
	return 0, fmt.Errorf("ringlog: unknown sync policy %q (want none, interval or always)", s)
}

// Defaults.
const (
	DefaultStageSize  = 64 << 10
	DefaultFlushEvery = time.Second
	DefaultSyncEvery  = time.Second
	minSegmentSize    = 4 << 10
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
	// block of package pack, in segments marked FlagPacked: periodic
	// samples shrink about tenfold. Damage to such a frame costs its whole
	// block. MessagePack only; records are limited to pack.MaxRecord.
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

// A Writer appends records to one ring. It is safe for concurrent use.
// Only one Writer, in any process, may have a ring open.
type Writer struct {
	mu   sync.Mutex
	dir  string
	o    Options
	text bool
	blk  int64
	st   *stage

	ring     [16]byte
	segs     []segRef // oldest first; the last one is active
	used     int64    // blocks of all segments, in bytes
	d        segDir
	seg      segFile
	names    [2]cname // for creating, renaming and deleting segments
	hdrBuf   []byte   // a new segment's header
	segSeq   uint64
	salt     salt // of segSeq
	segSize  int64
	dirty    bool // active segment has bytes we could not remove: rotate
	maxFrame int

	next       uint64
	hw         uint64
	buf        []byte
	unsynced   bool
	unsyncedAt time.Time // when unsynced became true
	stagedAt   time.Time // when the first staged frame of this fill was put
	hwDirty    bool
	closed     bool
	deleted    uint64 // segments deleted for the budget

	// sealed holds segments rotated away from with unsynced data. The
	// flusher syncs and closes them without holding mu, so a rotation
	// does not make Append wait for the disk.
	sealed   []sealedSeg
	spare    []sealedSeg // sealed's other buffer: the two alternate
	dirDirty bool        // the directory changed; the flusher syncs it (not SyncAlways)
	// syncMu is held by whoever syncs sealed segments, the directory or
	// the stage's mark outside mu (the flusher), so that Sync can wait for
	// syncs already under way. Lock order: mu, then syncMu.
	syncMu  sync.Mutex
	syncErr atomic.Pointer[error] // the first failed background sync, for Sync and Close
	kick    chan struct{}

	// fdatasync latency, updated with or without mu held.
	syncs, syncNs, syncMaxNs atomic.Int64

	// With Options.Pack: the staged records packed so far, as a frame
	// whose header is sealed when it is written, and its first number.
	pk         pack.Packer
	block      []byte
	blockFirst uint64

	rec  Recovery
	stop chan struct{}
	wg   sync.WaitGroup
}

// datasync syncs f and records how long it took.
func (w *Writer) datasync(f segFile) error {
	start := time.Now()
	err := f.datasync()
	d := int64(time.Since(start))
	w.syncs.Add(1)
	w.syncNs.Add(d)
	for m := w.syncMaxNs.Load(); d > m && !w.syncMaxNs.CompareAndSwap(m, d); m = w.syncMaxNs.Load() {
	}
	return err
}

func (o *Options) fill() error {
	if !codec.ValidStream(o.Stream) {
		return fmt.Errorf("ringlog: invalid stream name %q: want 1-%d bytes of [a-z0-9_.-]", o.Stream, codec.MaxStreamLen)
	}
	if o.Codec != codec.Msgpack && o.Codec != codec.JSON {
		return fmt.Errorf("ringlog: stream %s: unknown codec %d", o.Stream, o.Codec)
	}
	if o.Pack && o.Codec != codec.Msgpack {
		return fmt.Errorf("ringlog: stream %s: packing needs the msgpack codec", o.Stream)
	}
	if o.SegmentSize < minSegmentSize || o.SegmentSize > MaxSegmentSize {
		return fmt.Errorf("ringlog: stream %s: segment size %d out of range [%d, %d]", o.Stream, o.SegmentSize, minSegmentSize, MaxSegmentSize)
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
		return fmt.Errorf("ringlog: stream %s: unknown sync policy %d", o.Stream, o.Sync)
	}
	if o.Now == nil {
		o.Now = func() (time.Time, int64) { return time.Now(), clock.Mono() }
	}
	return nil
}

// stageBytes is the stage file's size.
func (o *Options) stageBytes() int {
	if o.StageSize < 0 || o.MemoryStage {
		return stageHeaderSize
	}
	return stageHeaderSize + o.StageSize
}

func roundUp(n, blk int64) int64 { return (n + blk - 1) / blk * blk }

// Open opens the ring in dir for appending, creating it if needed, and
// recovers it: it finds the last intact record, seals a segment whose tail
// is damaged, moves acknowledged records left in the stage into the
// segment, and continues the sequence without reusing a number.
func Open(dir string, o Options) (*Writer, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("ringlog: %w", err)
	}
	w := &Writer{dir: dir, o: o, text: o.Codec == codec.JSON, blk: blockSize(dir), kick: make(chan struct{}, 1),
		hdrBuf: make([]byte, 0, maxTextHeader)}
	if need := roundUp(int64(o.stageBytes()), w.blk) + 2*roundUp(o.SegmentSize, w.blk); o.Budget < need {
		return nil, fmt.Errorf("ringlog: stream %s: budget %d bytes is below the %d a stage and two %d-byte segments take", o.Stream, o.Budget, need, o.SegmentSize)
	}
	w.maxFrame = int(o.SegmentSize) - binHeaderSize
	if w.text {
		w.maxFrame = int(o.SegmentSize) - maxTextHeader
	}
	st, si, err := openStage(filepath.Join(dir, stageName))
	if err != nil {
		return nil, err
	}
	w.st = st
	if w.d, err = openSegDir(dir); err != nil {
		st.close()
		return nil, fmt.Errorf("ringlog: %w", err)
	}
	if err := w.recover(si); err != nil {
		st.close()
		if st.size == 0 && errors.Is(err, ErrUnsupported) {
			os.Remove(filepath.Join(dir, stageName)) // made by openStage: a refused ring stays as it was
		}
		if w.seg.valid() {
			w.seg.close()
		}
		for _, s := range w.sealed {
			s.f.close()
		}
		w.d.close()
		return nil, err
	}
	w.stop = make(chan struct{})
	w.wg.Add(1)
	go w.flusher()
	return w, nil
}

func blockSize(dir string) int64 {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil || fs.Bsize <= 0 {
		return 4096
	}
	return int64(fs.Bsize)
}

// Recovery returns what Open found and repaired.
func (w *Writer) Recovery() Recovery { return w.rec }

// Dir returns the ring's directory.
func (w *Writer) Dir() string { return w.dir }

// Append sets r.Seq to the ring's next sequence number and r.Stream to the
// ring's stream, encodes r and appends it. When Append returns nil the
// record survives the death of the process, and under SyncAlways a power
// cut too. On error nothing was appended and no number was used.
func (w *Writer) Append(r *codec.Record) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	seq := w.next
	r.Seq, r.Stream = seq, w.o.Stream
	b := framePlaceholder(w.buf[:0], w.text)
	b, err := w.o.Codec.Append(b, r)
	w.buf = b
	if err != nil {
		return 0, fmt.Errorf("ringlog: stream %s: %w", w.o.Stream, err)
	}
	if err := w.appendFrame(b, seq); err != nil {
		return 0, err
	}
	return seq, nil
}

// AppendSeq appends r keeping its sequence number, which must be above
// every number the ring has used: for copying records into a new ring
// (salvage, migration) with their numbers, gaps and all.
func (w *Writer) AppendSeq(r *codec.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if r.Seq < w.next {
		return fmt.Errorf("ringlog: stream %s: seq %d is not above %d, the last used", w.o.Stream, r.Seq, w.next-1)
	}
	r.Stream = w.o.Stream
	b := framePlaceholder(w.buf[:0], w.text)
	b, err := w.o.Codec.Append(b, r)
	w.buf = b
	if err != nil {
		return fmt.Errorf("ringlog: stream %s: %w", w.o.Stream, err)
	}
	return w.appendFrame(b, r.Seq)
}

// appendPayload appends an already encoded record with a given number.
func (w *Writer) appendPayload(p []byte, seq uint64) error {
	b := framePlaceholder(w.buf[:0], w.text)
	b = append(b, p...)
	w.buf = b
	return w.appendFrame(b, seq)
}

// appendFrame seals and stores the frame in b, rotating first if it does
// not fit in the active segment.
func (w *Writer) appendFrame(b []byte, seq uint64) error {
	grow := len(b) // what the frame adds to the segment, at most
	if w.o.Pack {
		if len(b)-binFrameHeader > pack.MaxRecord {
			return fmt.Errorf("%w: stream %s: %d-byte record, packed records take at most %d", ErrRecordTooLarge, w.o.Stream, len(b)-binFrameHeader, pack.MaxRecord)
		}
		grow += binFrameHeader // a block of its own: a frame header, a tag and a length
	}
	if grow > w.maxFrame {
		return fmt.Errorf("%w: stream %s: %d-byte frame, %d-byte segments", ErrRecordTooLarge, w.o.Stream, len(b), w.o.SegmentSize)
	}
	if !w.seg.valid() || w.dirty || w.segSize+int64(w.stagedBytes())+int64(grow) > w.o.SegmentSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	sealFrame(b, w.text, w.salt, seq)
	if err := w.put(b); err != nil {
		return err
	}
	w.next = seq + 1
	if w.next >= w.hw {
		w.hw = w.next + hwStep
		w.hwDirty = true
		return w.st.setHW(w.hw)
	}
	return nil
}

// put stores a sealed frame: in the stage when it fits, else straight
// into the segment.
func (w *Writer) put(f []byte) error {
	switch {
	case w.packMem():
		// The block is the stage: it holds up to StageSize bytes.
		if len(w.block) > 0 && len(w.block)+len(f)+binFrameHeader > w.o.StageSize {
			if err := w.flushStage(); err != nil {
				return err
			}
		}
		if len(w.block) == 0 {
			w.stagedAt = time.Now()
			w.wake()
		}
		return w.packStaged(f)
	case w.st.mem != nil && w.o.Sync != SyncAlways && len(f) <= len(w.st.mem)-stageHeaderSize:
		if len(f) > w.st.free() {
			if err := w.flushStage(); err != nil {
				return err
			}
		}
		if w.st.n == 0 {
			w.stagedAt = time.Now()
			w.wake()
		}
		at := w.st.n
		w.st.put(f)
		if w.o.Pack {
			// Packed as well as staged: the stage file keeps the frames
			// a crash would otherwise lose.
			if err := w.packStaged(f); err != nil {
				w.st.n = at
				return err
			}
		}
		return nil
	}
	if err := w.flushStage(); err != nil {
		return err
	}
	if w.o.Pack {
		if err := w.packStaged(f); err != nil {
			return err
		}
		f = sealBlock(w.block, w.salt, w.blockFirst)
		w.block = w.block[:0]
	}
	before := w.segSize
	if err := w.writeSeg(f); err != nil {
		return err
	}
	if w.o.Sync == SyncAlways {
		if err := w.syncSeg(); err != nil {
			// Not acknowledged, so not kept: cut the frame off again, or
			// stop appending to this segment if even that fails.
			if w.seg.truncate(before) == nil {
				w.used -= roundUp(w.segSize, w.blk) - roundUp(before, w.blk)
				w.segSize = before
				w.segs[len(w.segs)-1].size = before
			} else {
				w.dirty = true
			}
			return err
		}
	}
	return nil
}

// packMem reports whether staged records are kept only as the packed
// block in memory (a packed ring with a memory stage).
func (w *Writer) packMem() bool {
	return w.o.Pack && w.o.MemoryStage && w.o.StageSize > 0 && w.o.Sync != SyncAlways
}

// packStaged adds the record of sealed frame f to the block.
func (w *Writer) packStaged(f []byte) error {
	seq := binary.LittleEndian.Uint64(f[8:])
	if len(w.block) == 0 {
		w.pk.Reset()
		w.block = framePlaceholder(w.block, false)
		w.blockFirst = seq
	}
	b, err := w.pk.Append(w.block, f[binFrameHeader:], seq)
	if err != nil {
		if w.pk.Len() == 0 {
			w.block = w.block[:0]
		}
		return fmt.Errorf("ringlog: stream %s: %w", w.o.Stream, err)
	}
	w.block = b
	return nil
}

// stagedBytes is what a flush of the stage would add to the segment.
func (w *Writer) stagedBytes() int {
	if w.o.Pack {
		return len(w.block)
	}
	return w.st.n
}

// hasStaged reports whether records wait for a flush.
func (w *Writer) hasStaged() bool { return w.st.n > 0 || len(w.block) > 0 }

// flushStage writes the staged frames to the active segment.
func (w *Writer) flushStage() error {
	if !w.hasStaged() {
		return nil
	}
	var p []byte
	if w.o.Pack {
		p = sealBlock(w.block, w.salt, w.blockFirst)
	} else {
		p = w.st.staged()
	}
	if err := w.writeSeg(p); err != nil {
		return err
	}
	w.st.n = 0
	w.block = w.block[:0]
	return nil
}

// writeSeg appends p to the active segment, deleting old segments first
// if the budget requires. A failed write is cut off again, so that no
// partial frame stays; if even that fails, the segment is not appended to
// again.
func (w *Writer) writeSeg(p []byte) error {
	old := roundUp(w.segSize, w.blk)
	grow := roundUp(w.segSize+int64(len(p)), w.blk) - old
	if err := w.reserve(grow); err != nil {
		return err
	}
	n, err := w.seg.writeAt(p, w.segSize)
	if err != nil {
		if n > 0 && w.seg.truncate(w.segSize) != nil {
			w.dirty = true
		}
		return fmt.Errorf("ringlog: stream %s: write %s: %w", w.o.Stream, w.segPath(&w.segs[len(w.segs)-1]), err)
	}
	w.segSize += int64(n)
	w.segs[len(w.segs)-1].size = w.segSize
	w.used += roundUp(w.segSize, w.blk) - old
	w.markUnsynced()
	return nil
}

// reserve deletes the oldest segments until grow more bytes fit in the
// budget. The active segment is never deleted; Open checked that the
// budget holds the stage and two full segments.
func (w *Writer) reserve(grow int64) error {
	stage := roundUp(int64(w.o.stageBytes()), w.blk)
	for w.used+grow+stage > w.o.Budget {
		if len(w.segs) <= 1 {
			return fmt.Errorf("ringlog: stream %s: budget %d exceeded with one segment", w.o.Stream, w.o.Budget)
		}
		old := w.segs[0]
		name := w.names[0].set(old.name, old.hdr.Segment, old.hdr.Codec, false)
		if err := w.d.remove(&w.names[0], name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("ringlog: retention: %w", err)
		}
		// Moved down, not resliced, so that appends reuse the array.
		w.segs = w.segs[:copy(w.segs, w.segs[1:])]
		w.used -= roundUp(old.size, w.blk)
		w.deleted++
		if err := w.dirChanged(); err != nil {
			return fmt.Errorf("ringlog: retention: %w", err)
		}
	}
	return nil
}

// markUnsynced notes data in the active segment not yet synced; the first
// such write starts the SyncInterval clock.
func (w *Writer) markUnsynced() {
	if !w.unsynced {
		w.unsynced, w.unsyncedAt = true, time.Now()
		if w.o.Sync == SyncInterval {
			w.wake()
		}
	}
}

// dirChanged makes a change to the directory (a segment created or
// deleted) durable: at once under SyncAlways, else by the flusher, within
// the policy's loss window. Until then a power cut may undo the change,
// never reorder it: a journaling file system commits an unlink and a later
// create in order, so the budget holds on disk either way.
func (w *Writer) dirChanged() error {
	if w.o.Sync == SyncAlways {
		return w.d.sync()
	}
	w.dirDirty = true
	w.wake()
	return nil
}

// rotate seals the active segment and starts a new one whose first record
// will be w.next.
func (w *Writer) rotate() error {
	if w.seg.valid() {
		if err := w.flushStage(); err != nil {
			return err
		}
		if w.unsynced {
			w.sealed = append(w.sealed, sealedSeg{w.seg, w.segSeq})
			w.unsynced = false
			w.wake()
		} else {
			w.seg.close()
		}
		w.seg = segFile{}
	}
	// Nothing below changes the writer until the new segment exists: if
	// creating it fails, w.seg stays invalid and the next Append tries again
	// with the same number, so frames are never staged for a segment that
	// does not exist and segment numbers have no holes.
	wall, mono := w.o.Now()
	segSeq := w.segSeq + 1
	h := Header{Codec: w.o.Codec, Stream: w.o.Stream, Ring: w.ring, Segment: segSeq, First: w.next, Boot: w.o.Boot, Wall: wall, Mono: mono}
	if w.o.Pack {
		h.Flags = FlagPacked
	}
	hb := appendHeader(w.hdrBuf[:0], &h)
	w.hdrBuf = hb
	if err := w.reserve(roundUp(int64(len(hb)), w.blk)); err != nil {
		return err
	}
	// The segment appears under its name only once its header is written,
	// so a reader never finds it without one.
	tmp := w.names[0].set("", segSeq, w.o.Codec, true)
	name := w.names[1].set("", segSeq, w.o.Codec, false)
	f, err := w.d.create(&w.names[0], tmp)
	if err != nil {
		return fmt.Errorf("ringlog: new segment: %w", err)
	}
	if _, err = f.writeAt(hb, 0); err != nil {
		err = w.d.pathError("write", tmp, err)
	}
	if err == nil && w.o.Sync == SyncAlways {
		if err = f.datasync(); err != nil {
			err = w.d.pathError("sync", tmp, err)
		}
	}
	renamed := false
	if err == nil {
		err = w.d.rename(&w.names[0], &w.names[1], tmp, name)
		renamed = err == nil
	}
	if err == nil {
		err = w.dirChanged()
	}
	if err != nil {
		f.close()
		if renamed { // a failed directory sync: the segment is under its name
			w.d.remove(&w.names[1], name)
		} else {
			w.d.remove(&w.names[0], tmp)
		}
		return fmt.Errorf("ringlog: new segment: %w", err)
	}
	w.seg, w.segSize, w.dirty = f, int64(len(hb)), false
	w.segSeq, w.salt = segSeq, segSalt(segSeq)
	if w.o.Sync != SyncAlways {
		w.markUnsynced() // the header
	}
	w.text = w.o.Codec == codec.JSON
	w.segs = append(w.segs, segRef{hdr: h, size: w.segSize}) // named by its number
	w.used += roundUp(w.segSize, w.blk)
	return nil
}

func (w *Writer) syncSeg() error {
	if w.hwDirty {
		if err := w.st.sync(); err != nil {
			return fmt.Errorf("ringlog: stream %s: sync stage: %w", w.o.Stream, err)
		}
		w.hwDirty = false
	}
	if !w.unsynced || !w.seg.valid() {
		return nil
	}
	if err := w.datasync(w.seg); err != nil {
		return fmt.Errorf("ringlog: stream %s: sync: %w", w.o.Stream, err)
	}
	w.unsynced = false
	return nil
}

// Flush writes staged records to the segment, where readers see them.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return w.flushStage()
}

// Sync flushes staged records and makes everything appended durable.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.flushStage(); err != nil {
		return err
	}
	w.syncMu.Lock() // wait for the flusher's syncs under way
	defer w.syncMu.Unlock()
	if err := w.syncPending(w.takePending()); err != nil {
		return err
	}
	if err := w.takeSyncErr(); err != nil {
		return err
	}
	return w.syncSeg()
}

// pending is what the flusher syncs outside mu.
type pending struct {
	sealed []sealedSeg
	dir    bool
	hw     bool
}

// takePending hands the sync work queued by rotations to the caller.
// Called with mu and syncMu held: the work taken the time before has been
// done, so its buffer takes the next rotations.
func (w *Writer) takePending() pending {
	p := pending{sealed: w.sealed, dir: w.dirDirty, hw: w.hwDirty && len(w.sealed) > 0}
	w.sealed, w.spare, w.dirDirty = w.spare[:0], w.sealed, false
	if p.hw {
		w.hwDirty = false
	}
	return p
}

// syncPending syncs the stage's mark (before the records it covers), the
// sealed segments, then the directory. Called with syncMu held.
func (w *Writer) syncPending(p pending) error {
	var errs []error
	if p.hw {
		if err := w.st.sync(); err != nil {
			errs = append(errs, fmt.Errorf("ringlog: stream %s: sync stage: %w", w.o.Stream, err))
		}
	}
	if err := w.syncSealed(p.sealed); err != nil {
		errs = append(errs, err)
	}
	if p.dir {
		if err := w.d.sync(); err != nil {
			errs = append(errs, fmt.Errorf("ringlog: stream %s: sync directory: %w", w.o.Stream, err))
		}
	}
	return errors.Join(errs...)
}

// keepSyncErr remembers the first background sync error.
func (w *Writer) keepSyncErr(err error) {
	if err != nil {
		e := err // only an error is moved to the heap, not every call's nil
		w.syncErr.CompareAndSwap(nil, &e)
	}
}

func (w *Writer) takeSyncErr() error {
	if p := w.syncErr.Swap(nil); p != nil {
		return *p
	}
	return nil
}

type sealedSeg struct {
	f   segFile
	seq uint64 // of the segment, in the writer's codec
}

// syncSealed syncs and closes sealed segments and returns the first error.
func (w *Writer) syncSealed(ss []sealedSeg) error {
	var first error
	for _, s := range ss {
		err := w.datasync(s.f)
		s.f.close()
		if err != nil && first == nil {
			first = fmt.Errorf("ringlog: stream %s: sync %s: %w", w.o.Stream, w.pathOf(s.seq, w.o.Codec), err)
		}
	}
	return first
}

// segPath is the path of segment s, for errors.
func (w *Writer) segPath(s *segRef) string {
	if s.path != "" {
		return s.path
	}
	return w.pathOf(s.hdr.Segment, s.hdr.Codec)
}

// pathOf is the path of segment seq written in codec c, for errors.
func (w *Writer) pathOf(seq uint64, c codec.Codec) string {
	return filepath.Join(w.dir, segName(seq, c))
}

func (w *Writer) flusher() {
	defer w.wg.Done()
	// The flusher sleeps while there is nothing to do: an idle ring costs
	// no wake-ups. The first record staged after idle, and under
	// SyncInterval the first write left unsynced, wake it (w.kick); it
	// then flushes staged records FlushEvery after the first of them, and
	// syncs SyncEvery after the first unsynced write. A periodic stream
	// with a short sync interval thus still writes only every FlushEvery.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-w.stop:
			timer.Stop()
			return
		case <-timer.C:
		case <-w.kick:
		}
		w.mu.Lock()
		var next time.Time
		if !w.closed {
			now := time.Now()
			if w.hasStaged() {
				due := w.stagedAt.Add(w.o.FlushEvery)
				// An error here (a full disk) leaves the frames staged;
				// the next Append that needs the room reports it.
				if now.Before(due) || w.flushStage() != nil {
					next = due
					if !now.Before(due) {
						next = now.Add(w.o.FlushEvery)
					}
				}
			}
			if w.o.Sync == SyncInterval && w.unsynced {
				due := w.unsyncedAt.Add(w.o.SyncEvery)
				if now.Before(due) {
					next = earliest(next, due)
				} else {
					w.keepSyncErr(w.syncSeg())
				}
			}
		}
		w.syncMu.Lock()
		p := w.takePending()
		w.mu.Unlock()
		w.keepSyncErr(w.syncPending(p))
		w.syncMu.Unlock()
		if !next.IsZero() {
			timer.Reset(time.Until(next))
		}
	}
}

// earliest returns the earlier of two times, ignoring a zero one.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// wake tells the flusher there is work; it never blocks.
func (w *Writer) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Close flushes and syncs everything, marks the ring cleanly closed and
// releases it.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	w.wg.Wait() // the flusher is gone; mu guards against Stats
	w.mu.Lock()
	defer w.mu.Unlock()
	// Every step is tried whatever failed before, so that an old
	// background error does not cost the records still staged.
	errs := []error{w.takeSyncErr()}
	w.syncMu.Lock()
	errs = append(errs, w.syncPending(w.takePending()))
	w.syncMu.Unlock()
	ferr := w.flushStage()
	var serr error
	if ferr == nil {
		serr = w.syncSeg()
	}
	errs = append(errs, ferr, serr)
	if ferr == nil && serr == nil {
		// Every number below next is used: the next writer need skip none.
		w.hw = w.next
		err := w.st.setHW(w.hw)
		if err == nil {
			err = w.st.setState(stateClosed, w.o.Boot)
		}
		if err == nil {
			err = w.st.sync()
		}
		errs = append(errs, err)
	}
	if w.seg.valid() {
		errs = append(errs, w.seg.close())
	}
	errs = append(errs, w.d.close(), w.st.close())
	return errors.Join(errs...)
}

// Stats describe a writer's ring.
type Stats struct {
	Segments   int
	Bytes      int64     // bytes on disk, as counted against the budget
	Next       uint64    // the sequence number the next record gets
	Oldest     uint64    // first record of the oldest segment: how far back retention reaches
	OldestWall time.Time // when the oldest segment was created, by the (untrusted) wall clock
	Deleted    uint64    // segments deleted to keep the budget
	Syncs      int64     // fdatasync calls
	SyncTotal  time.Duration
	SyncMax    time.Duration
}

// Stats returns the ring's current figures.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := Stats{Segments: len(w.segs), Bytes: w.used + roundUp(int64(w.o.stageBytes()), w.blk), Next: w.next, Deleted: w.deleted,
		Syncs: w.syncs.Load(), SyncTotal: time.Duration(w.syncNs.Load()), SyncMax: time.Duration(w.syncMaxNs.Load())}
	if len(w.segs) > 0 {
		s.Oldest, s.OldestWall = w.segs[0].hdr.First, w.segs[0].hdr.Wall
	}
	return s
}
