package minicore

import (
	"encoding/binary"
	"fmt"
)

// The ELF structures Write reads and writes, by hand: debug/elf would
// add a quarter of a megabyte to the agent, for a few dozen fields.

const (
	etCore   = 4
	ptLoad   = 1
	ptNote   = 4
	pnXnum   = 0xffff // e_phnum's escape to a count in section 0
	maxLoads = pnXnum - 1
)

// byteOrder reads and appends in the core's byte order.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// elfFile is what Write keeps of a core's ELF header.
type elfFile struct {
	ident     [16]byte
	class     int // 32 or 64
	order     byteOrder
	machine   uint16
	flags     uint32
	phoff     uint64
	phnum     int
	ehsize    int
	phentsize int
	shentsize uint16
}

// readHeader reads and checks the ELF header.
func (m *mini) readHeader() error {
	b, err := m.in.read(52) // an ELF32 header; ELF64's is 12 more
	if err != nil {
		return fmt.Errorf("%w: %d-byte input", ErrNotCore, m.in.pos)
	}
	e := &m.e
	// The minidump's ident is the core's class, byte order and ABI,
	// with the current version and no padding.
	copy(e.ident[:], b[:6])
	e.ident[6], e.ident[7], e.ident[8] = 1, b[7], b[8]
	if string(b[:4]) != "\x7fELF" {
		return fmt.Errorf("%w: no ELF magic at offset 0", ErrNotCore)
	}
	switch b[4] {
	case 1:
		e.class, e.ehsize, e.phentsize = 32, 52, 32
	case 2:
		e.class, e.ehsize, e.phentsize = 64, 64, 56
	default:
		return fmt.Errorf("%w: ELF class %d at offset 4", ErrNotCore, b[4])
	}
	switch b[5] {
	case 1:
		e.order = binary.LittleEndian
	case 2:
		e.order = binary.BigEndian
	default:
		return fmt.Errorf("%w: ELF data encoding %d at offset 5", ErrNotCore, b[5])
	}
	o := e.order
	if t := o.Uint16(b[16:]); t != etCore {
		return fmt.Errorf("%w: ELF type %d, not ET_CORE (4)", ErrNotCore, t)
	}
	e.machine = o.Uint16(b[18:])
	var phentsize, phnum uint16
	if e.class == 32 {
		e.phoff = uint64(o.Uint32(b[28:]))
		e.flags = o.Uint32(b[36:])
		phentsize, phnum, e.shentsize = o.Uint16(b[42:]), o.Uint16(b[44:]), o.Uint16(b[46:])
	} else {
		more, err := m.in.read(12)
		if err != nil {
			return fmt.Errorf("%w: ELF header: %v", ErrTruncated, err)
		}
		h := append(b[:52:52], more...)
		e.phoff = o.Uint64(h[32:])
		e.flags = o.Uint32(h[48:])
		phentsize, phnum, e.shentsize = o.Uint16(h[54:]), o.Uint16(h[56:]), o.Uint16(h[58:])
	}
	switch {
	case int(phentsize) != e.phentsize:
		return fmt.Errorf("%w: e_phentsize %d, ELF%d's is %d", ErrBadCore, phentsize, e.class, e.phentsize)
	case phnum == 0:
		return fmt.Errorf("%w: no program headers", ErrBadCore)
	case phnum == pnXnum:
		return fmt.Errorf("%w: more than %d program headers (PN_XNUM): their count is at the end of the core", ErrBadCore, maxLoads)
	case e.phoff < uint64(e.ehsize):
		return fmt.Errorf("%w: program headers at offset %d, within the ELF header", ErrBadCore, e.phoff)
	}
	e.phnum = int(phnum)
	for i := range arches {
		if a := &arches[i]; a.machine == e.machine && a.class == e.class {
			m.arch = a
		}
	}
	m.info.Class, m.info.Machine = e.class, e.machine
	return nil
}

// readPhdrs reads the program headers: the PT_NOTE segment and the
// PT_LOAD segments that hold data.
func (m *mini) readPhdrs() error {
	e := &m.e
	if err := m.in.skipTo(e.phoff); err != nil {
		return fmt.Errorf("program headers: %w", err)
	}
	o := e.order
	// Sized once by e_phnum, a 16-bit count: at most 2 MiB, never grown.
	m.loads = make([]load, 0, e.phnum)
	notes := 0
	var first uint64 = ^uint64(0) // the lowest offset of a segment's data
	for i := 0; i < e.phnum; i++ {
		b, err := m.in.read(e.phentsize)
		if err != nil {
			return fmt.Errorf("program header %d of %d: %w", i, e.phnum, err)
		}
		// The minidump keeps data only: its segments' p_memsz is their
		// p_filesz, and the core's is not read.
		var typ uint32
		var l load
		if e.class == 32 {
			typ, l.off, l.vaddr = o.Uint32(b), uint64(o.Uint32(b[4:])), uint64(o.Uint32(b[8:]))
			l.filesz, l.flags = uint64(o.Uint32(b[16:])), o.Uint32(b[24:])
		} else {
			typ, l.flags, l.off, l.vaddr = o.Uint32(b), o.Uint32(b[4:]), o.Uint64(b[8:]), o.Uint64(b[16:])
			l.filesz = o.Uint64(b[32:])
		}
		if l.off+l.filesz < l.off || typ == ptLoad && l.vaddr+l.filesz < l.vaddr {
			return fmt.Errorf("%w: program header %d: offset %#x, address %#x and size %#x wrap around", ErrBadCore, i, l.off, l.vaddr, l.filesz)
		}
		switch {
		case typ == ptNote && notes == 0:
			m.note = l
			notes++
		case typ == ptNote:
			notes++ // the kernel writes one; others are left out
		case typ == ptLoad && l.filesz > 0:
			m.loads = append(m.loads, l)
			first = min(first, l.off)
		}
	}
	end := e.phoff + uint64(e.phnum*e.phentsize)
	switch {
	case notes == 0:
		return fmt.Errorf("%w: no PT_NOTE segment", ErrBadCore)
	case m.note.off < end:
		return fmt.Errorf("%w: notes at offset %d, before the program headers end (%d)", ErrBadCore, m.note.off, end)
	}
	m.notesLast = first < m.note.off
	return nil
}

// appendHeader appends the minidump's ELF header, for phnum program
// headers right after it.
func (e *elfFile) appendHeader(b []byte, phnum int) []byte {
	o := e.order
	b = append(b, e.ident[:]...)
	b = o.AppendUint16(b, etCore)
	b = o.AppendUint16(b, e.machine)
	b = o.AppendUint32(b, 1) // e_version
	if e.class == 32 {
		b = o.AppendUint32(b, 0)                // e_entry
		b = o.AppendUint32(b, uint32(e.ehsize)) // e_phoff
		b = o.AppendUint32(b, 0)                // e_shoff
	} else {
		b = o.AppendUint64(b, 0)
		b = o.AppendUint64(b, uint64(e.ehsize))
		b = o.AppendUint64(b, 0)
	}
	b = o.AppendUint32(b, e.flags)
	b = o.AppendUint16(b, uint16(e.ehsize))
	b = o.AppendUint16(b, uint16(e.phentsize))
	b = o.AppendUint16(b, uint16(phnum))
	b = o.AppendUint16(b, e.shentsize)
	b = o.AppendUint16(b, 0) // e_shnum
	return o.AppendUint16(b, 0)
}

// appendPhdr appends a program header.
func (e *elfFile) appendPhdr(b []byte, typ, flags uint32, off int64, vaddr, filesz, memsz, align uint64) []byte {
	o := e.order
	if e.class == 32 {
		for _, v := range [...]uint32{typ, uint32(off), uint32(vaddr), 0, uint32(filesz), uint32(memsz), flags, uint32(align)} {
			b = o.AppendUint32(b, v)
		}
		return b
	}
	b = o.AppendUint32(b, typ)
	b = o.AppendUint32(b, flags)
	for _, v := range [...]uint64{uint64(off), vaddr, 0, filesz, memsz, align} {
		b = o.AppendUint64(b, v)
	}
	return b
}

// An arch says where a thread's stack pointer is in its NT_PRSTATUS: in
// pr_reg, after the common part (elf_prstatus_common: 112 bytes on
// 64-bit machines, 72 on 32-bit ones).
type arch struct {
	machine uint16
	class   int
	sp      int // the stack pointer's offset in the note's desc
}

var arches = [...]arch{
	{62, 64, 112 + 19*8},  // EM_X86_64: user_regs_struct's rsp
	{183, 64, 112 + 31*8}, // EM_AARCH64: regs[31] then sp
	{243, 64, 112 + 2*8},  // EM_RISCV: pc, ra, sp
	{3, 32, 72 + 15*4},    // EM_386: esp
	{40, 32, 72 + 13*4},   // EM_ARM: r13
}
