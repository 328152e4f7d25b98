package minicore

import (
	"bytes"
	"fmt"
	"io"
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
// is 336 bytes on x86-64, NT_PRPSINFO 136.
const parsed = 512

// copyNotes copies the notes it keeps into the minidump, in order, and
// learns the threads' stack pointers, the pid, the command and the
// signal from them.
func (m *mini) copyNotes() error {
	if err := m.in.skipTo(m.note.off); err != nil {
		return fmt.Errorf("notes: %w", err)
	}
	o := m.e.order
	left := m.note.filesz
	var head [12 + maxNoteName]byte
	thread := 0 // NT_PRSTATUS notes so far: the thread whose notes these are
	room := int64(NoteBytes)
	if m.lim.Size > 0 {
		room = min(room, m.lim.Size-m.notesOff)
	}
	for left >= 12 {
		at := m.in.pos
		h, err := m.in.read(12)
		if err != nil {
			return fmt.Errorf("note at offset %d: %w", at, err)
		}
		copy(head[:], h)
		namesz, descsz, typ := o.Uint32(h), o.Uint32(h[4:]), o.Uint32(h[8:])
		nameLen, descLen := align4(namesz), align4(descsz)
		if namesz > maxNoteName || nameLen+descLen > left-12 {
			return fmt.Errorf("%w: note at offset %d: %d-byte name and %d-byte desc, %d bytes left in the note segment", ErrBadCore, at, namesz, descsz, left-12)
		}
		size := 12 + nameLen + descLen
		left -= size
		name, err := m.in.read(int(nameLen))
		if err != nil {
			return fmt.Errorf("note at offset %d: %w", at, err)
		}
		copy(head[12:], name)
		core := bytes.Equal(head[12:12+namesz], []byte("CORE\x00"))
		process := core && (typ == ntPrpsinfo || typ == ntAuxv || typ == ntSiginfo || typ == ntFile)
		if core && typ == ntPrstatus {
			thread++
			m.info.Threads++
		}
		keep := m.notesLen+int64(size) <= room &&
			(core && typ == ntPrstatus || process || thread <= m.lim.Threads)
		if !keep {
			m.info.Cut++
			if err := m.in.skipTo(uint64(m.in.pos) + descLen); err != nil {
				return fmt.Errorf("note at offset %d: %w", at, err)
			}
			continue
		}
		out := m.notesOff + m.notesLen
		if _, err := m.out.WriteAt(head[:12+nameLen], out); err != nil {
			return fmt.Errorf("minicore: writing the minidump: %w", err)
		}
		done := uint64(0)
		if core && (typ == ntPrstatus || typ == ntPrpsinfo) {
			d, err := m.in.read(int(min(descLen, parsed)))
			if err != nil {
				return fmt.Errorf("note at offset %d: %w", at, err)
			}
			m.parse(typ, d[:min(len(d), int(descsz))], thread)
			if _, err := m.out.WriteAt(d, out+int64(12+nameLen)); err != nil {
				return fmt.Errorf("minicore: writing the minidump: %w", err)
			}
			done = uint64(len(d))
		}
		if _, err := m.in.copyTo(&m.out, out+int64(12+nameLen+done), descLen-done); err != nil {
			return fmt.Errorf("note at offset %d: %w", at, err)
		}
		m.notesLen += int64(size)
		m.info.Notes++
	}
	return m.in.skipTo(uint64(m.in.pos) + left) // padding
}

// parse learns from a thread's NT_PRSTATUS or the process's NT_PRPSINFO.
func (m *mini) parse(typ uint32, d []byte, thread int) {
	o := m.e.order
	word := m.e.class / 8
	if typ == ntPrpsinfo {
		pid, fname := 24, 40 // elf_prpsinfo after 4 chars, pr_flag, uid, gid
		if word == 4 {
			pid, fname = 12, 28 // 16-bit uid and gid
		}
		if len(d) >= fname+16 {
			m.info.Pid = int64(int32(o.Uint32(d[pid:])))
			name, _, _ := bytes.Cut(d[fname:fname+16], []byte{0})
			m.info.Exe = string(name)
		}
		return
	}
	if thread == 1 && len(d) >= 14 {
		m.info.Signal = int(o.Uint16(d[12:])) // pr_cursig, after pr_info
	}
	if m.arch == nil || thread > m.lim.Threads || len(d) < m.arch.sp+word {
		return
	}
	if word == 4 {
		m.sps = append(m.sps, uint64(o.Uint32(d[m.arch.sp:])))
	} else {
		m.sps = append(m.sps, o.Uint64(d[m.arch.sp:]))
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
		return fmt.Errorf("%w at offset %d", ErrTruncated, s.pos)
	}
	return fmt.Errorf("reading the core at offset %d: %w", s.pos, err)
}

// skipTo reads and drops what lies before offset off.
func (s *stream) skipTo(off uint64) error {
	if off < uint64(s.pos) {
		return fmt.Errorf("%w: offset %d is behind the stream, at %d", ErrBadCore, off, s.pos)
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
				return done, fmt.Errorf("minicore: writing the minidump: %w", werr)
			}
			done += uint64(got)
		}
		if err != nil {
			return done, s.fail(err)
		}
	}
	return done, nil
}
