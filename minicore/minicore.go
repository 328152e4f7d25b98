// Package minicore makes a minidump of a Linux ELF core dump as the core
// streams by: a valid ELF core that gdb reads as it reads the whole one
// (gdb EXE CORE; bt; info threads), holding the core's notes and, for
// each of its first threads, the memory around its stack pointer.
//
// The contract:
//
//   - Write reads the core from an io.Reader once, forward, never
//     seeking: a core_pattern pipe. It relies on the order the kernel
//     writes a core in (fs/binfmt_elf.c): the ELF header, the program
//     headers, the PT_NOTE segment, then the PT_LOAD segments by
//     increasing offset. The notes come before the memory, so the stack
//     pointers are known when the stacks go by. A core whose notes follow
//     its memory (gdb's gcore writes them last) gives a minidump of the
//     notes alone, and ErrNotesLast.
//   - It keeps every note in the core's order (NT_PRSTATUS of every
//     thread, NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE, NT_FPREGSET and
//     the other register sets) up to NoteBytes; past Limits.Threads
//     threads, only their NT_PRSTATUS (their registers) and the notes of
//     the process. A note that does not fit is left out, not cut, and
//     the NT_PRSTATUS of the threads still to come are kept room for
//     first: the big register sets (NT_X86_XSTATE) give way. Registers
//     left out still are said in the error (ErrNotesCut).
//   - For each of the first Limits.Threads threads (the kernel writes the
//     thread that crashed first) it keeps Limits.ThreadBytes of memory
//     from RedZone bytes below the stack pointer upwards, where the
//     callers' frames are, within the PT_LOAD segment that holds it (or
//     the first above it) and those that follow it without a gap, in
//     at most MaxPieces segments of its own; stacks that would take the
//     minidump past Limits.Size are cut from the top, then left out.
//   - Given the process's memory (Limits.Mem: /proc/PID/mem, the process
//     alive until its dump ends), it keeps the dynamic linker's list of
//     the loaded objects, which gdb needs to load the shared libraries
//     and unwind a crash inside one (abort, assert): the executable's
//     program headers and .dynamic, r_debug, each link_map node and its
//     name, and the vDSO, in aligned 1 KiB pieces, at most
//     MaxSolibPages of them; without it a crash in a library shows no
//     backtrace. What could not be read is said in the error.
//   - Supported: ELF64 and ELF32, either byte order; stacks for x86-64,
//     AArch64, RISC-V 64, i386 and 32-bit ARM (armv7). A core of another
//     machine gives a minidump of its notes, and ErrMachine.
//   - Memory is bounded whatever the input: 32 bytes for each program
//     header (e_phnum is at most 65,534: 2 MiB; a process at the kernel's
//     default vm.max_map_count of 65,530 has as many segments), a 32 KiB
//     copy buffer and the stack windows' table. Nothing is sized by a
//     length the input gives but e_phnum. A core that is not one,
//     truncated, or with sizes past its segments returns an error naming
//     the offset.
//
// The minidump is written through an io.WriterAt: its headers are
// written last, once Write knows what it kept, so that the file is a
// valid core whatever stopped the stream. Write stops reading after the
// last byte it keeps; the caller drains the rest (a kernel's dump must
// see its pipe read to the end).
package minicore

import (
	"errors"
	"io"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// Limits bound what Write keeps of a core.
type Limits struct {
	// ThreadBytes is the stack kept per thread, at most MaxThreadBytes.
	ThreadBytes int
	// Threads is how many threads' stacks are kept, at most MaxThreads:
	// the first in the core, the thread that crashed first.
	Threads int
	// Size bounds the minidump, 0 is no bound but the others: notes that
	// would pass it are left out, stacks cut from the top, then left
	// out. The headers take 64 bytes and 56 for each of
	// 1+4*Threads+MaxSolibPages program headers, whatever Size says.
	Size int64
	// Mem, if not nil, reads the process's memory at its addresses
	// (/proc/PID/mem while the kernel dumps it): the dynamic linker's
	// list of the loaded objects is kept from it, at most MaxSolibPages
	// pages, before the stacks.
	Mem io.ReaderAt
}

// Hard bounds on Limits, and what they take.
const (
	MaxThreads     = 64
	MaxThreadBytes = 1 << 20
	// NoteBytes bounds the notes kept: a thread's take 3.6 KiB on x86-64
	// (NT_PRSTATUS, NT_FPREGSET, NT_X86_XSTATE), NT_FILE 50 to 100 bytes
	// a mapped file.
	NoteBytes = 128 << 10
	// MaxPieces bounds the segments one thread's stack window may span.
	MaxPieces = 4
	// RedZone is the memory kept below a stack pointer: the x86-64 ABI
	// lets a leaf function use 128 bytes there.
	RedZone = 256
)

// MaxSize is the most Write writes when Limits.Size is 0 and Threads
// and ThreadBytes are threads and threadBytes: the headers (a 64-bit
// core's, the larger), the notes, the shared libraries' list and the
// stacks. A store sized for it holds any minidump of those limits.
func MaxSize(threads, threadBytes int) int64 {
	headers := 64 + 56*int64(1+MaxPieces*threads+MaxSolibPages)
	return headers + NoteBytes + 15 + MaxSolibPages*pageSize + int64(threads)*int64(threadBytes)
}

// Info says what Write found in a core and what it kept.
type Info struct {
	Class   int    // 32 or 64
	Machine uint16 // e_machine: 62 x86-64, 183 AArch64, 40 ARM...
	Pid     int64  // the process's, from NT_PRPSINFO
	Exe     string // NT_PRPSINFO's pr_fname: the command's first 15 bytes
	Signal  int    // the first thread's pr_cursig
	Threads int    // NT_PRSTATUS notes in the core
	Stacks  int    // threads whose stack memory is kept
	Notes   int    // notes kept
	Cut     int    // notes left out
	Size    int64  // the minidump's bytes; 0 when nothing valid was written
	Read    int64  // the core's bytes read
}

// Errors for cores Write cannot make a whole minidump of; the error
// returned wraps one of them and says where.
var (
	ErrNotCore   = errors.New("not an ELF core")
	ErrBadCore   = errors.New("malformed core")
	ErrTruncated = errors.New("core truncated")
	// ErrNotesLast: the notes follow the memory; the minidump holds the
	// notes and no stacks.
	ErrNotesLast = errors.New("notes after the memory (gdb's gcore writes them so, the kernel never): no stacks kept")
	// ErrNotesCut: some threads' registers did not fit in NoteBytes or
	// Limits.Size.
	ErrNotesCut = errors.New("notes cut")
	// ErrMachine: no stack pointer is known for the core's machine; the
	// minidump holds the notes and no stacks.
	ErrMachine = errors.New("machine not supported: no stacks kept")
)

// Write reads an ELF core from src and writes its minidump to dst from
// offset 0. On error, Info.Size says whether dst holds a valid minidump
// (of what was read before the error), and the error says what is
// missing.
func Write(dst io.WriterAt, src io.Reader, lim Limits) (Info, error) {
	m := &mini{in: stream{r: src}, out: extent{w: dst}, lim: lim}
	m.lim.Threads = min(max(lim.Threads, 0), MaxThreads)
	m.lim.ThreadBytes = min(max(lim.ThreadBytes, 0), MaxThreadBytes)
	err := m.run()
	m.info.Read = m.in.pos
	return m.info, err
}

// A mini is one minidump being made.
type mini struct {
	in   stream
	out  extent
	lim  Limits
	info Info
	e    elfFile
	arch *arch // nil: unknown machine
	note load  // the PT_NOTE segment
	// loads are the PT_LOAD segments that hold data.
	loads []load
	// notesLast: a segment with data comes before the notes.
	notesLast bool
	sps       []uint64 // the first threads' stack pointers
	pieces    []piece
	notesOff  int64 // where the notes go in dst
	notesLen  int64
	solib     solibs
	notesCut  error // NT_PRSTATUS notes left out
}

// An extent is the minidump's file, and how far it was written: a note
// cut short by the stream's end is left in it, past the note segment.
type extent struct {
	w   io.WriterAt
	end int64
}

func (e *extent) WriteAt(b []byte, off int64) (int, error) {
	n, err := e.w.WriteAt(b, off)
	e.end = max(e.end, off+int64(n))
	if err != nil {
		err = tinyfmt.Errorf("minicore: writing the minidump: %w", err)
	}
	return n, err
}

// A load is a segment: its data's offset and size in the core, its
// address and flags.
type load struct {
	off, vaddr, filesz uint64
	flags              uint32
}

// A piece is part of a stack window: size bytes at vaddr, at off in the
// core, at outOff in the minidump.
type piece struct {
	off, vaddr, size uint64
	flags            uint32
	outOff           int64
}

func (m *mini) run() error {
	if err := m.readHeader(); err != nil {
		return err
	}
	if err := m.readPhdrs(); err != nil {
		return err
	}
	// The program headers of the minidump go after the ELF header: room
	// for the note's and every piece's, the notes after them.
	m.notesOff = int64(m.e.ehsize) + int64(m.e.phentsize)*int64(1+MaxPieces*m.lim.Threads+MaxSolibPages)
	if err := m.copyNotes(); err != nil {
		if m.notesLen > 0 {
			return m.finish(err) // the notes that came are kept
		}
		return err
	}
	if m.notesLen == 0 {
		return tinyfmt.Errorf("%w: no notes in a %d-byte note segment", ErrBadCore, m.note.filesz)
	}
	solibErr := m.readSolibs()
	var why error
	switch {
	case m.info.Threads == 0:
		why = tinyfmt.Errorf("%w: no NT_PRSTATUS note: no thread's registers", ErrBadCore)
	case m.notesLast:
		why = ErrNotesLast
	case m.arch == nil:
		why = tinyfmt.Errorf("%w (e_machine %d, ELF%d)", ErrMachine, m.e.machine, m.e.class)
	default:
		m.plan()
		why = m.copyStacks()
	}
	end := align16(m.notesOff + m.notesLen)
	if k := len(m.pieces) - 1; k >= 0 {
		end = m.pieces[k].outOff + int64(m.pieces[k].size)
	}
	if err := m.writeSolibs(end); err != nil {
		return m.finish(err)
	}
	for _, e := range [...]error{m.notesCut, solibErr} {
		if e != nil && why != nil {
			why = tinyfmt.Errorf("%w; %w", why, e)
		} else if e != nil {
			why = e
		}
	}
	return m.finish(why)
}

// finish writes the ELF header and the program headers for what was
// kept, making dst a valid core, and returns why, the reason it may lack
// something.
func (m *mini) finish(why error) error {
	b := m.e.appendHeader(nil, 1+len(m.pieces))
	b = m.e.appendPhdr(b, ptNote, 0, m.notesOff, 0, uint64(m.notesLen), 0, 4)
	for _, p := range m.pieces {
		b = m.e.appendPhdr(b, ptLoad, p.flags, p.outOff, p.vaddr, p.size, p.size, 1)
	}
	if _, err := m.out.WriteAt(b, 0); err != nil {
		return err
	}
	m.info.Size = m.out.end
	return why
}

// plan picks the stack windows: for each thread, ThreadBytes from RedZone
// below its stack pointer, cut to the segment that holds it and those
// contiguous above, and to what Size leaves; then merged where threads' windows meet,
// in the order of the core's offsets.
func (m *mini) plan() {
	left := int64(-1) // no bound
	if m.lim.Size > 0 {
		left = max(m.lim.Size-align16(m.notesOff+m.notesLen)-int64(m.solib.n*pageSize), 0)
	}
	var ps []piece
	for _, sp := range m.sps {
		lo := sp - min(sp, RedZone)
		hi := lo + uint64(m.lim.ThreadBytes)
		if hi < lo {
			hi = ^uint64(0)
		}
		// The segment that holds the stack pointer, or the first above it
		// (a stack overflowed into its guard page), then the segments
		// that follow it in memory without a gap: never another
		// mapping's, which a gap (a guard page, dumped empty) divides.
		first := -1
		for i, l := range m.loads {
			if l.vaddr+l.filesz > sp && (l.vaddr <= sp || first < 0 || l.vaddr < m.loads[first].vaddr) {
				first = i
				if l.vaddr <= sp {
					break
				}
			}
		}
		n, kept := 0, false
		for i := first; i >= 0 && i < len(m.loads) && n < MaxPieces && left != 0; i++ {
			l := m.loads[i]
			if i > first && l.vaddr != m.loads[i-1].vaddr+m.loads[i-1].filesz {
				break
			}
			a, b := max(lo, l.vaddr), min(hi, l.vaddr+l.filesz)
			if a >= b {
				break
			}
			if left > 0 && b-a > uint64(left) {
				b = a + uint64(left)
			}
			ps = append(ps, piece{off: l.off + (a - l.vaddr), vaddr: a, size: b - a, flags: l.flags})
			if left > 0 {
				left -= int64(b - a)
			}
			n, kept = n+1, true
		}
		if kept {
			m.info.Stacks++
		}
	}
	// Merge what overlaps in the core (two stack pointers in one stack),
	// then order by offset: the stream goes forward only.
	for i := 1; i < len(ps); i++ { // at most 4*MaxThreads: no sort package
		for j := i; j > 0 && ps[j].off < ps[j-1].off; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
	var out []piece
	for _, p := range ps {
		if k := len(out) - 1; k >= 0 && p.off <= out[k].off+out[k].size && p.vaddr-out[k].vaddr == p.off-out[k].off {
			out[k].size = max(out[k].size, p.off+p.size-out[k].off)
			continue
		}
		if k := len(out) - 1; k >= 0 && p.off < out[k].off+out[k].size {
			// Segments overlapping in the file (not the kernel's): the
			// part already passed is left out.
			cut := out[k].off + out[k].size - p.off
			if cut >= p.size {
				continue
			}
			p.off, p.vaddr, p.size = p.off+cut, p.vaddr+cut, p.size-cut
		}
		out = append(out, p)
	}
	m.pieces = out
}

func align16(n int64) int64 { return (n + 15) &^ 15 }

// copyStacks copies the pieces from the stream into the minidump after
// the notes. A stream that ends early leaves the pieces cut to what came.
func (m *mini) copyStacks() error {
	out := align16(m.notesOff + m.notesLen)
	for i := range m.pieces {
		p := &m.pieces[i]
		p.outOff = out
		if err := m.in.skipTo(p.off); err != nil {
			m.pieces = m.pieces[:i]
			return tinyfmt.Errorf("stack at %#x: %w", p.vaddr, err)
		}
		n, err := m.in.copyTo(&m.out, out, p.size)
		if err != nil {
			p.size = n
			m.pieces = m.pieces[:i+1]
			if n == 0 {
				m.pieces = m.pieces[:i]
			}
			return tinyfmt.Errorf("stack at %#x: %w", p.vaddr, err)
		}
		out += int64(p.size)
	}
	return nil
}
