package ringlog

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/tinyfmt"
	"github.com/itiny/itiny/pack"
)

// A Writer appends records to one ring. It is safe for concurrent use.
// Only one Writer, in any process, may have a ring open.
type Writer struct {
	// mu guards everything below but the atomics, syncMu's work and the
	// fields set once by Open (dir, o, blk, st, d, ring, staging, kick).
	mu      sync.Mutex
	dir     string
	o       Options // as filled by Open
	blk     int64   // the file system's block size: the budget's unit
	st      *stage  // the stage file: lock, high-water mark, staged frames
	staging staging // how records wait for the segment, chosen by Open
	// unmappable: the stage would be mapped, but the file system cannot
	// map files shared (JFFS2): records go straight to the segment.
	unmappable bool
	ring       [16]byte
	rec        Recovery // what Open found

	// The segments.
	d        segDir   // the ring's directory, open, for *at system calls
	segs     []segRef // oldest first; the last one is active
	used     int64    // bytes of all segments, each rounded up to blocks
	deleted  uint64   // segments deleted for the budget
	seg      segFile  // the active segment, open for writing
	segSeq   uint64   // its number
	salt     salt     // of segSeq: every frame's checksum starts from it
	segSize  int64    // its size in bytes
	text     bool     // its frames are text (JSON) frames
	dirty    bool     // it has bytes the writer could not remove: rotate
	maxFrame int      // the largest frame a segment holds
	names    [2]cname // for creating, renaming and deleting segments
	hdrBuf   []byte   // a new segment's header

	// Numbering.
	next    uint64 // the number the next record gets
	hw      uint64 // the high-water mark: no number at or above it was handed out
	base    uint64 // numbers from base to next were handed out without a skip
	hwDirty bool   // hw changed since the stage was last synced
	// flushedTo is next at the last flush of a memory stage (markAhead).
	flushedTo uint64
	// hwSynced is the mark last made durable. No number at or above it is
	// handed out: a power cut may keep any record the page cache held, and
	// the next writer must resume above it (DESIGN.md section 5).
	hwSynced atomic.Uint64
	buf      []byte // the frame being built
	closed   bool

	// What waits for the flusher.
	unsynced   bool      // the active segment has writes not yet synced
	unsyncedAt time.Time // when unsynced became true
	stagedAt   time.Time // when the first staged frame of this fill was put

	// With Options.Pack: the staged records packed so far, as a frame
	// whose header is sealed when it is written, and its first number.
	pk         pack.Encoder
	block      []byte
	blockFirst uint64

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

	// fdatasync count and latency, updated with or without mu held.
	syncs, syncNs, syncMaxNs atomic.Int64
	dirSyncs                 atomic.Int64 // fsyncs of the ring's directory

	wrote        wrote // what the writer gave the kernel, for Stats
	stagedFrames int   // frames in the stage, for counting their headers

	// The flusher goroutine: kick wakes it, stop ends it.
	kick chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
}

// Open opens the ring in dir for appending, creating it if needed, and
// recovers it: it finds the last intact record, seals a segment whose tail
// is damaged, moves acknowledged records left in the stage into the
// segment, and continues the sequence without reusing a number.
func Open(dir string, o Options) (*Writer, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, tinyfmt.Errorf("ringlog: %w", err)
	}
	w := &Writer{dir: dir, o: o, text: o.Codec == codec.JSON, blk: blockSize(dir), kick: make(chan struct{}, 1),
		hdrBuf: make([]byte, 0, maxTextHeader)}
	if err := o.checkBudget(w.blk); err != nil {
		return nil, err
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
		return nil, tinyfmt.Errorf("ringlog: %w", err)
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

// Recovery returns what Open found and repaired.
func (w *Writer) Recovery() Recovery { return w.rec }

// NextSeq returns the number the next record appended gets.
func (w *Writer) NextSeq() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.next
}

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
		return 0, tinyfmt.Errorf("ringlog: stream %s: %w", w.o.Stream, err)
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
		return tinyfmt.Errorf("ringlog: stream %s: seq %d is not above %d, the last used", w.o.Stream, r.Seq, w.next-1)
	}
	r.Stream = w.o.Stream
	b := framePlaceholder(w.buf[:0], w.text)
	b, err := w.o.Codec.Append(b, r)
	w.buf = b
	if err != nil {
		return tinyfmt.Errorf("ringlog: stream %s: %w", w.o.Stream, err)
	}
	if r.Seq > w.next {
		if err := w.skipTo(r.Seq); err != nil {
			return err
		}
	}
	return w.appendFrame(b, r.Seq)
}

// skipTo makes seq the next number, leaving a gap: in a new segment, as
// numbers within a segment are consecutive, with the mark above it and
// the base (numbering unbroken from there) at it, durable before seq is
// used.
func (w *Writer) skipTo(seq uint64) error {
	next := w.next
	w.next = seq
	if err := w.rotate(); err != nil {
		w.next = next
		return err
	}
	w.base, w.flushedTo = seq, seq
	if err := w.st.setBase(w.base); err != nil {
		return err
	}
	if err := w.setMark(max(w.hw, seq+hwStep)); err != nil {
		return err
	}
	return w.syncMark()
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
	if seq >= w.hwSynced.Load() {
		// The flusher has not synced the raised mark yet, or raising it
		// failed: do it now.
		if seq >= w.hw {
			if err := w.setMark(seq + hwStep); err != nil {
				return err
			}
		}
		if err := w.syncMark(); err != nil {
			return err
		}
	}
	grow := len(b) // what the frame adds to the segment, at most
	if w.o.Pack {
		if len(b)-binFrameHeader > pack.MaxRecord {
			return tinyfmt.Errorf("%w: stream %s: %d-byte record, packed records take at most %d", ErrRecordTooLarge, w.o.Stream, len(b)-binFrameHeader, pack.MaxRecord)
		}
		grow += binFrameHeader // a block of its own: a frame header, a tag and a length
	}
	if grow > w.maxFrame {
		return tinyfmt.Errorf("%w: stream %s: %d-byte frame, %d-byte segments", ErrRecordTooLarge, w.o.Stream, len(b), w.o.SegmentSize)
	}
	if !w.seg.valid() || w.dirty || w.segSize+int64(w.stagedBytes())+int64(grow) > w.o.SegmentSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	rec := len(b) - frameOverhead(w.text)
	sealFrame(b, w.text, w.salt, seq)
	if err := w.put(b); err != nil {
		return err
	}
	w.wrote.record += int64(rec)
	w.next = seq + 1
	if w.next+hwStep/2 >= w.hw {
		// Raised half a step early, so that the flusher syncs it before
		// numbers reach the mark on disk. The record is appended either
		// way: a mark not written is raised again by the next Append,
		// and Sync and Close report the failure.
		w.wake()
		w.keepSyncErr(w.setMark(w.next + hwStep))
	}
	return nil
}

// setMark writes hw as the high-water mark into the stage's header, and
// makes it the writer's mark once written: a mark whose write failed
// must never be synced and taken as durable (hwSynced), or numbers above
// the mark on disk would be handed out, and handed out again after a
// power cut.
func (w *Writer) setMark(hw uint64) error {
	if err := w.st.setHW(hw); err != nil {
		return tinyfmt.Errorf("ringlog: stream %s: stage mark: %w", w.o.Stream, err)
	}
	w.hw, w.hwDirty = hw, true
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

// SetFlushEvery changes how soon staged records reach the segment
// (Options.FlushEvery) from now on: a periodic stream stretches it to
// write less.
func (w *Writer) SetFlushEvery(d time.Duration) {
	if d <= 0 {
		d = DefaultFlushEvery
	}
	w.mu.Lock()
	w.o.FlushEvery = d
	w.mu.Unlock()
	w.wake()
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
	Syncs      int64     // fdatasync calls on segments
	SyncTotal  time.Duration
	SyncMax    time.Duration
	// What the writer wrote since Open (docs/DESIGN.md section 30):
	// StoredBytes plus FramingBytes is every byte it put in segments.
	RecordBytes  int64 // the records appended, as their codec encoded them
	StoredBytes  int64 // the records as the segments hold them: packed, or RecordBytes
	FramingBytes int64 // segment bytes that are no record: segment, frame and block headers
	HandedBytes  int64 // bytes given to the kernel: written, or copied into the mapped stage
	SegWrites    int64 // writes to the segments: each costs the file system its metadata
	OtherSyncs   int64 // syncs of the stage's header and of the ring's directory
}

// Stats returns the ring's current figures.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := Stats{Segments: len(w.segs), Bytes: w.used + roundUp(int64(w.o.stageBytes()), w.blk), Next: w.next, Deleted: w.deleted,
		Syncs: w.syncs.Load(), SyncTotal: time.Duration(w.syncNs.Load()), SyncMax: time.Duration(w.syncMaxNs.Load()),
		RecordBytes: w.wrote.record, StoredBytes: w.wrote.stored, FramingBytes: w.wrote.framing,
		HandedBytes: w.wrote.handed + w.st.handed, SegWrites: w.wrote.writes, OtherSyncs: w.st.syncs.Load() + w.dirSyncs.Load()}
	if len(w.segs) > 0 {
		s.Oldest, s.OldestWall = w.segs[0].hdr.First, w.segs[0].hdr.Wall
	}
	return s
}
