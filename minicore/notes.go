package minicore

import (
	"bytes"
	"io"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// Note types (include/uapi/linux/elf.h) of the notes named "CORE".
const (
	ntPrstatus = 1
	ntPrpsinfo = 3
	ntAuxv     = 6
	ntSiginfo  = 0x53494749
	ntFile     = 0x46494c45
)

// maxNoteName bounds a note's name: Linux's are "CORE" and "LINUX".
const maxNoteName = 64

// parsed is how much of a note's desc is read to parse it: NT_PRSTATUS
// is 336 bytes on x86-64, NT_PRPSINFO 136, NT_AUXV some 400.
const parsed = 1024

// copyNotes copies the notes it keeps into the minidump, in order, and
// learns the threads' stack pointers, the pid, the command and the
// signal from them.
func (m *mini) copyNotes() error {
	if err := m.in.skipTo(m.note.off); err != nil {
		return tinyfmt.Errorf("notes: %w", err)
	}
	n := noteState{left: m.note.filesz, room: NoteBytes}
	if m.lim.Size > 0 {
		n.room = min(n.room, m.lim.Size-m.notesOff)
	}
	for n.left >= 12 {
		at := m.in.pos
		if err := m.copyNote(&n); err != nil {
			return tinyfmt.Errorf("note at offset %d: %w", at, err)
		}
	}
	if n.prCut > 0 {
		m.notesCut = tinyfmt.Errorf("%w: %d threads' registers (NT_PRSTATUS) past the %d-byte note budget", ErrNotesCut, n.prCut, n.room)
	}
	return m.in.skipTo(uint64(m.in.pos) + n.left) // padding
}

// noteState is copyNotes' progress through the note segment.
type noteState struct {
	left   uint64 // bytes of the segment not read
	room   int64  // what the notes kept may take
	thread int    // NT_PRSTATUS notes so far: the thread whose notes these are
	// The registers of every thread come first: a thread's other notes
	// are kept only if the NT_PRSTATUS of those still to come fit after
	// them, their number guessed from the bytes left and the most a
	// thread's notes took so far.
	prSize    uint64 // the first NT_PRSTATUS note's bytes
	cur, most uint64 // the core's bytes of this thread's notes; the most of any
	prCut     int    // NT_PRSTATUS notes left out
	head      [12 + maxNoteName]byte
}

// copyNote copies or skips the next note.
func (m *mini) copyNote(n *noteState) error {
	o := m.e.order
	h, err := m.in.read(12)
	if err != nil {
		return err
	}
	copy(n.head[:], h)
	namesz, descsz, typ := uint32(o.get(h, 0, 4)), uint32(o.get(h, 4, 4)), uint32(o.get(h, 8, 4))
	nameLen, descLen := align4(namesz), align4(descsz)
	if namesz > maxNoteName || nameLen+descLen > n.left-12 {
		return tinyfmt.Errorf("%w: %d-byte name and %d-byte desc, %d bytes left in the note segment", ErrBadCore, namesz, descsz, n.left-12)
	}
	size := 12 + nameLen + descLen
	n.left -= size
	name, err := m.in.read(int(nameLen))
	if err != nil {
		return err
	}
	copy(n.head[12:], name)
	core := string(n.head[12:12+namesz]) == "CORE\x00"
	process := core && (typ == ntPrpsinfo || typ == ntAuxv || typ == ntSiginfo || typ == ntFile)
	pr := core && typ == ntPrstatus
	if pr {
		n.thread++
		m.info.Threads++
		n.cur = 0
		if n.prSize == 0 {
			n.prSize = size
		}
	}
	if !process {
		n.cur += size
		n.most = max(n.most, n.cur)
	}
	var reserve int64
	if !pr && n.most > 0 {
		reserve = int64(n.left / n.most * n.prSize)
	}
	if m.notesLen+int64(size)+reserve > n.room || !(pr || process || n.thread <= m.lim.Threads) {
		m.info.Cut++
		if pr {
			n.prCut++
		}
		return m.in.skipTo(uint64(m.in.pos) + descLen)
	}
	out := m.notesOff + m.notesLen + int64(12+nameLen)
	if _, err := m.out.WriteAt(n.head[:12+nameLen], out-int64(12+nameLen)); err != nil {
		return err
	}
	if core && (typ == ntPrstatus || typ == ntPrpsinfo || typ == ntAuxv) {
		d, err := m.in.read(int(min(descLen, parsed)))
		if err != nil {
			return err
		}
		m.parse(typ, d[:min(len(d), int(descsz))], n.thread)
		if _, err := m.out.WriteAt(d, out); err != nil {
			return err
		}
		out += int64(len(d))
		descLen -= uint64(len(d))
	}
	if _, err := m.in.copyTo(&m.out, out, descLen); err != nil {
		return err
	}
	m.notesLen += int64(size)
	m.info.Notes++
	return nil
}

// parse learns from a thread's NT_PRSTATUS or the process's NT_PRPSINFO.
func (m *mini) parse(typ uint32, d []byte, thread int) {
	o := m.e.order
	word := m.e.class / 8
	if typ == ntAuxv {
		s := &m.solib
		for i := 0; i+2*word <= len(d); i += 2 * word {
			switch v := o.get(d, i+word, word); o.get(d, i, word) {
			case atPhdr:
				s.phdr = v
			case atPhent:
				s.phent = v
			case atPhnum:
				s.phnum = v
			case atVdso:
				s.vdso = v
			}
		}
		return
	}
	if typ == ntPrpsinfo {
		pid, fname := 24, 40 // elf_prpsinfo after 4 chars, pr_flag, uid, gid
		if word == 4 {
			pid, fname = 12, 28 // 16-bit uid and gid
		}
		if len(d) >= fname+16 {
			m.info.Pid = int64(int32(o.get(d, pid, 4)))
			name, _, _ := bytes.Cut(d[fname:fname+16], []byte{0})
			m.info.Exe = string(name)
		}
		return
	}
	if thread == 1 && len(d) >= 14 {
		m.info.Signal = int(uint16(o.get(d, 12, 2))) // pr_cursig, after pr_info
	}
	if m.arch == nil || thread > m.lim.Threads || len(d) < m.arch.sp+word {
		return
	}
	if word == 4 {
		m.sps = append(m.sps, o.get(d, m.arch.sp, 4))
	} else {
		m.sps = append(m.sps, o.get(d, m.arch.sp, 8))
	}
}

func align4(n uint32) uint64 { return (uint64(n) + 3) &^ 3 }

// A stream reads the core forward, counting its offset.
type stream struct {
	r   io.Reader
	pos int64
	buf [32 << 10]byte
}

// read reads n bytes, at most len(s.buf), into s.buf and returns them.
func (s *stream) read(n int) ([]byte, error) {
	got, err := io.ReadFull(s.r, s.buf[:n])
	s.pos += int64(got)
	if err != nil {
		return nil, s.fail(err)
	}
	return s.buf[:n], nil
}

// fail is the error for a read that failed at the stream's offset.
func (s *stream) fail(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return tinyfmt.Errorf("%w at offset %d", ErrTruncated, s.pos)
	}
	return tinyfmt.Errorf("reading the core at offset %d: %w", s.pos, err)
}

// skipTo reads and drops what lies before offset off.
func (s *stream) skipTo(off uint64) error {
	if off < uint64(s.pos) {
		return tinyfmt.Errorf("%w: offset %d is behind the stream, at %d", ErrBadCore, off, s.pos)
	}
	for uint64(s.pos) < off {
		if _, err := s.read(int(min(off-uint64(s.pos), uint64(len(s.buf))))); err != nil {
			return err
		}
	}
	return nil
}

// copyTo copies n bytes of the stream to w at offset at, and returns how
// many it copied.
func (s *stream) copyTo(w io.WriterAt, at int64, n uint64) (uint64, error) {
	var done uint64
	for done < n {
		chunk := int(min(n-done, uint64(len(s.buf))))
		got, err := io.ReadFull(s.r, s.buf[:chunk])
		s.pos += int64(got)
		if got > 0 {
			if _, werr := w.WriteAt(s.buf[:got], at+int64(done)); werr != nil {
				return done, werr
			}
			done += uint64(got)
		}
		if err != nil {
			return done, s.fail(err)
		}
	}
	return done, nil
}
