package ringlog

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// The stage file holds frames that are acknowledged but not yet in a
// segment. It is preallocated and mapped shared, so a frame copied into it
// is in the page cache, and survives the death of the process, without a
// system call; the writer moves staged frames to the segment with one
// write per batch. Its header also carries the ring's lock, the sequence
// high-water mark and whether the last writer closed cleanly.
//
// Stage header layout; part of the on-disk format, never change.
const (
	stageName       = "stage"
	stageMagic      = "\x89ITSTG\r\n"
	stageHeaderSize = 128
	stageVersion    = 1

	stageOffRing    = 16
	stageOffCodec   = 32
	stageOffCRC     = 36 // CRC32C of bytes 0..36
	stageOffHW      = 40 // sequence high-water mark, u64
	stageOffHWCRC   = 48 // CRC32C of bytes 40..48
	stageOffPID     = 52 // pid of the last writer, u32, informational
	stageOffState   = 56
	stageOffBoot    = 64 // boot id of the last writer, 16 bytes
	stageOffBase    = 80 // numbers from it to the mark were handed out without a skip, u64
	stageOffBaseCRC = 88 // CRC32C of bytes 80..88

	stateOpen    = 1 // a writer has the ring open
	stateClosed  = 2 // the last writer closed cleanly
	stateOpenMem = 3 // a writer with a memory stage has the ring open: its death loses records
	stateResume  = 4 // a writer is resuming at the mark: if it dies before its note, resume there

	// hwStep is how far ahead of the next sequence number the high-water
	// mark is kept: after a crash that lost records, numbering resumes at
	// the mark, so no number that may have been seen is used again.
	hwStep = 1024

	// maxAhead bounds the flushes' rate markAhead reserves numbers for:
	// four times it is the most it sets the mark above hwStep.
	maxAhead = 1 << 14
)

type stage struct {
	f    *os.File
	mem  []byte // the mapped file; nil when mapping is unsupported
	anon bool   // mem is process memory, not the file (Options.MemoryStage)
	size int    // file size
	n    int    // bytes of staged frames after the header
	hdr  [stageHeaderSize]byte
	// handed counts the bytes written to the file or copied into its
	// mapping (guarded by the writer's mu), syncs its syncs.
	handed int64
	syncs  atomic.Int64
}

// stageInfo is what a stage header says.
type stageInfo struct {
	ring   [16]byte
	codec  uint8
	hw     uint64
	pid    uint32
	state  uint8
	boot   [16]byte
	base   uint64
	valid  bool // static part verified
	hwOK   bool
	baseOK bool
	// err says why a stage file that has bytes is not valid: ErrBadStage,
	// or ErrUnsupported for a newer version. Nil for an empty file.
	err error
}

func parseStageHeader(p []byte) stageInfo {
	var si stageInfo
	le := binary.LittleEndian
	why := ""
	switch {
	case len(p) == 0:
		return si
	case len(p) < stageHeaderSize:
		why = "truncated"
	case string(p[:8]) != stageMagic:
		why = "no magic"
	case le.Uint32(p[stageOffCRC:]) != checksum(p[:stageOffCRC]):
		why = "checksum mismatch"
	case le.Uint16(p[8:]) != stageVersion:
		si.err = tinyfmt.Errorf("%w: stage version %d", ErrUnsupported, le.Uint16(p[8:]))
		return si
	}
	if why != "" {
		si.err = tinyfmt.Errorf("%w: %s", ErrBadStage, why)
		return si
	}
	si.valid = true
	copy(si.ring[:], p[stageOffRing:stageOffRing+16])
	si.codec = p[stageOffCodec]
	if le.Uint32(p[stageOffHWCRC:]) == checksum(p[stageOffHW:stageOffHWCRC]) {
		si.hw, si.hwOK = le.Uint64(p[stageOffHW:]), true
	}
	si.pid = le.Uint32(p[stageOffPID:])
	si.state = p[stageOffState]
	copy(si.boot[:], p[stageOffBoot:stageOffBoot+16])
	if le.Uint32(p[stageOffBaseCRC:]) == checksum(p[stageOffBase:stageOffBaseCRC]) {
		si.base, si.baseOK = le.Uint64(p[stageOffBase:]), true
	}
	return si
}

func buildStageHeader(p []byte, ring [16]byte, c uint8) {
	clear(p[:stageHeaderSize])
	copy(p, stageMagic)
	le := binary.LittleEndian
	le.PutUint16(p[8:], stageVersion)
	le.PutUint16(p[10:], stageHeaderSize)
	copy(p[stageOffRing:], ring[:])
	p[stageOffCodec] = c
	le.PutUint32(p[stageOffCRC:], checksum(p[:stageOffCRC]))
}

// Linux open file description locks: held per open file, not per process,
// so closing another descriptor of the file in the same process (a reader)
// does not release them. The values are the same on every architecture.
const (
	fOFDGetlk = 36
	fOFDSetlk = 37
)

func lockFile(f *os.File) error {
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	err := syscall.FcntlFlock(f.Fd(), fOFDSetlk, &lk)
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) {
		return ErrLocked
	}
	return err
}

// isLocked reports whether some writer holds the lock of f, without
// taking it (taking it, even briefly, could make a starting writer fail).
func isLocked(f *os.File) bool {
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(f.Fd(), fOFDGetlk, &lk); err != nil {
		return false
	}
	return lk.Type != syscall.F_UNLCK
}

// openStage opens or creates the stage file of dir and locks it.
func openStage(path string) (*stage, stageInfo, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, stageInfo{}, err
	}
	if err := lockFile(f); err != nil {
		var hdr [stageHeaderSize]byte
		f.ReadAt(hdr[:], 0)
		f.Close()
		if err == ErrLocked {
			if si := parseStageHeader(hdr[:]); si.valid && si.pid != 0 {
				return nil, stageInfo{}, tinyfmt.Errorf("%w (pid %d): %s", ErrLocked, si.pid, path)
			}
			return nil, stageInfo{}, tinyfmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, stageInfo{}, tinyfmt.Errorf("ringlog: lock %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, stageInfo{}, err
	}
	s := &stage{f: f, size: int(st.Size())}
	n, _ := f.ReadAt(s.hdr[:], 0)
	return s, parseStageHeader(s.hdr[:n]), nil
}

// readStaged returns the frame area of the stage as it is on disk.
func (s *stage) readStaged() ([]byte, error) {
	if s.size <= stageHeaderSize {
		return nil, nil
	}
	buf := make([]byte, s.size-stageHeaderSize)
	n, err := s.f.ReadAt(buf, stageHeaderSize)
	if err == io.EOF {
		err = nil
	}
	return buf[:n], err
}

// reset gives the stage a new header, with the writer's mark and state,
// and a new size, and maps it. Mapping falls back to none (frames are then
// written straight to the segment) where the file system cannot map files
// shared, as JFFS2 cannot.
//
// A crash at any step leaves a stage that tells the truth: the frames go
// first, while the old header still describes the ring as the writer
// before left it (its frames are in the segment by now), and the new
// header replaces the old in one write of less than a page, which a
// SIGKILL does not tear. Truncating the file first, as reset once did,
// left an empty stage if the process died before the header was written:
// the mark was lost and the next writer skipped numbers it need not.
func (s *stage) reset(ring [16]byte, c uint8, size int, mmap bool, hw, base uint64, state uint8, boot [16]byte) error {
	s.unmap()
	size = max(size, stageHeaderSize)
	if s.size > stageHeaderSize {
		if err := s.f.Truncate(stageHeaderSize); err != nil {
			return err
		}
		s.size = stageHeaderSize
		reached("stage-truncated")
	}
	// Allocate every block now: a write to a hole of a mapped file when
	// the disk is full kills the process with SIGBUS.
	if size > stageHeaderSize {
		if err := syscall.Fallocate(int(s.f.Fd()), 0, stageHeaderSize, int64(size-stageHeaderSize)); err != nil {
			err := writeZeros(s.f, stageHeaderSize, size)
			s.handed += int64(size - stageHeaderSize)
			if err != nil {
				return tinyfmt.Errorf("ringlog: allocate stage: %w", err)
			}
		}
	}
	s.size, s.n = size, 0
	reached("stage-allocated")
	buildStageHeader(s.hdr[:], ring, c)
	putHW(s.hdr[:], hw)
	putState(s.hdr[:], state, boot)
	putBase(s.hdr[:], base)
	n, err := s.f.WriteAt(s.hdr[:], 0)
	s.handed += int64(n)
	if err != nil {
		return err
	}
	if mmap && size > stageHeaderSize {
		mem, err := syscall.Mmap(int(s.f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
		if err == nil {
			s.mem = mem
		}
	}
	return nil
}

// zeros is never written: its pages stay the kernel's shared zero page. A
// 64 KiB buffer on the stack grew the calling goroutine's stack to 128 KiB
// for good; on the heap it would be 64 KiB of garbage per stage.
var zeros [4096]byte

// writeZeros writes zeros over bytes from..to of f.
func writeZeros(f *os.File, from, to int) error {
	zero := zeros[:]
	for off := from; off < to; off += len(zero) {
		if _, err := f.WriteAt(zero[:min(len(zero), to-off)], int64(off)); err != nil {
			return err
		}
	}
	return nil
}

func (s *stage) unmap() {
	if s.mem != nil && !s.anon {
		syscall.Munmap(s.mem)
	}
	s.mem, s.anon = nil, false
}

// free returns how many frame bytes still fit.
func (s *stage) free() int {
	if s.mem == nil {
		return 0
	}
	return len(s.mem) - stageHeaderSize - s.n
}

// put copies a frame into the stage; the caller checked free.
func (s *stage) put(frame []byte) {
	copy(s.mem[stageHeaderSize+s.n:], frame)
	s.n += len(frame)
	if !s.anon {
		s.handed += int64(len(frame))
	}
}

func (s *stage) staged() []byte { return s.mem[stageHeaderSize : stageHeaderSize+s.n] }

// setHW records the sequence high-water mark, and setState the writer's
// state, in the header: through the mapping when there is one.
func (s *stage) setHW(hw uint64) error {
	putHW(s.hdr[:], hw)
	return s.writeHeader(stageOffHW, stageOffHWCRC+4)
}

func (s *stage) setState(state uint8, boot [16]byte) error {
	putState(s.hdr[:], state, boot)
	return s.writeHeader(stageOffPID, stageOffBoot+16)
}

// markResume records, before Open changes anything else on disk, that
// the writer resumes numbering at to: the mark, the base and the state
// (stateResume) in one write, so that a crash before the resume note
// leaves the next writer resuming there too. A stage that is not the
// ring's (ok false) holds nothing to keep and gets a new header.
func (s *stage) markResume(ok bool, ring [16]byte, c uint8, size int, to uint64, boot [16]byte) error {
	if !ok {
		return s.reset(ring, c, size, false, to, to, stateResume, boot)
	}
	putHW(s.hdr[:], to)
	putState(s.hdr[:], stateResume, boot)
	putBase(s.hdr[:], to)
	if err := s.writeHeader(stageOffHW, stageOffBaseCRC+4); err != nil {
		return err
	}
	return s.sync()
}

func (s *stage) setBase(base uint64) error {
	putBase(s.hdr[:], base)
	return s.writeHeader(stageOffBase, stageOffBaseCRC+4)
}

func putBase(p []byte, base uint64) {
	le := binary.LittleEndian
	le.PutUint64(p[stageOffBase:], base)
	le.PutUint32(p[stageOffBaseCRC:], checksum(p[stageOffBase:stageOffBaseCRC]))
}

func putHW(p []byte, hw uint64) {
	le := binary.LittleEndian
	le.PutUint64(p[stageOffHW:], hw)
	le.PutUint32(p[stageOffHWCRC:], checksum(p[stageOffHW:stageOffHWCRC]))
}

func putState(p []byte, state uint8, boot [16]byte) {
	binary.LittleEndian.PutUint32(p[stageOffPID:], uint32(os.Getpid()))
	p[stageOffState] = state
	copy(p[stageOffBoot:], boot[:])
}

func (s *stage) writeHeader(from, to int) error {
	if s.mem != nil && !s.anon {
		copy(s.mem[from:to], s.hdr[from:to])
		s.handed += int64(to - from)
		return nil
	}
	n, err := s.f.WriteAt(s.hdr[from:to], int64(from))
	s.handed += int64(n)
	return err
}

func (s *stage) sync() error {
	s.syncs.Add(1)
	return fdatasync(s.f)
}

// syncHeader makes the header durable: through the mapping, only its
// page, not the staged frames after it.
func (s *stage) syncHeader() error {
	s.syncs.Add(1)
	if s.mem != nil && !s.anon {
		return msync(s.mem[:min(len(s.mem), 4096)])
	}
	return fdatasync(s.f)
}

func (s *stage) close() error {
	s.unmap()
	return s.f.Close()
}

func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// msync writes b, a page-aligned part of a shared mapping, to the file and
// waits, as fdatasync would for that range alone.
func msync(b []byte) error {
	for {
		_, _, e := syscall.Syscall(syscall.SYS_MSYNC, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), syscall.MS_SYNC)
		if e != syscall.EINTR {
			if e != 0 {
				return e
			}
			return nil
		}
	}
}
