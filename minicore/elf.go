package minicore

import "github.com/itiny/itiny/internal/tinyfmt"

// The ELF structures Write reads and writes, by hand: debug/elf would
// add a quarter of a megabyte to the agent, for a few dozen fields.

const (
	etCore   = 4
	ptLoad   = 1
	ptNote   = 4
	pnXnum   = 0xffff // e_phnum's escape to a count in section 0
	maxLoads = pnXnum - 1
)

// order is a core's byte order, true for big-endian: a concrete type,
// not encoding/binary's interface, whose methods for both orders the
// agent would link.
type order bool

// get returns the n-byte integer at offset off of b. Not inlined, nor
// put: a copy at each of the few dozen fields read and written, with its
// bounds checks, is kilobytes.
//
//go:noinline
func (o order) get(b []byte, off, n int) uint64 {
	b = b[off : off+n]
	var v uint64
	for i := range n {
		if o {
			v = v<<8 | uint64(b[i])
		} else {
			v |= uint64(b[i]) << (8 * i)
		}
	}
	return v
}

// put appends v as an n-byte integer.
//
//go:noinline
func (o order) put(b []byte, v uint64, n int) []byte {
	for i := range n {
		shift := 8 * i
		if o {
			shift = 8 * (n - 1 - i)
		}
		b = append(b, byte(v>>shift))
	}
	return b
}

// elfFile is what Write keeps of a core's ELF header.
type elfFile struct {
	ident     [16]byte
	class     int // 32 or 64
	order     order
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
	var h [64]byte
	b, err := m.in.read(52) // an ELF32 header; ELF64's is 12 more
	if err != nil {
		return tinyfmt.Errorf("%w: %d-byte input", ErrNotCore, m.in.pos)
	}
	copy(h[:], b)
	e := &m.e
	// The minidump's ident is the core's class, byte order and ABI,
	// with the current version and no padding.
	copy(e.ident[:], h[:6])
	e.ident[6], e.ident[7], e.ident[8] = 1, h[7], h[8]
	e.order = h[5] == 2
	e.class, e.ehsize, e.phentsize = 32, 52, 32
	if h[4] == 2 {
		e.class, e.ehsize, e.phentsize = 64, 64, 56
	}
	if t := e.order.get(h[:], 16, 2); string(h[:4]) != "\x7fELF" || h[4]-1 > 1 || h[5]-1 > 1 || t != etCore {
		return tinyfmt.Errorf("%w: e_ident % x, e_type %d: want 7f 45 4c 46 (\\x7fELF), class 1 or 2, data 1 or 2; type ET_CORE (4)", ErrNotCore, h[:6], t)
	}
	if e.class == 64 {
		more, err := m.in.read(12)
		if err != nil {
			return tinyfmt.Errorf("ELF header: %w", err)
		}
		copy(h[52:], more)
	}
	// e_phoff, e_flags, and e_phentsize, e_phnum, e_shentsize.
	x := [2][3]int{{28, 36, 42}, {32, 48, 54}}[e.class/64]
	e.machine = uint16(e.order.get(h[:], 18, 2))
	e.phoff = e.order.get(h[:], x[0], e.class/8)
	e.flags = uint32(e.order.get(h[:], x[1], 4))
	phentsize, phnum := e.order.get(h[:], x[2], 2), e.order.get(h[:], x[2]+2, 2)
	e.shentsize = uint16(e.order.get(h[:], x[2]+4, 2))
	if phentsize != uint64(e.phentsize) || phnum == 0 || phnum == pnXnum || e.phoff < uint64(e.ehsize) {
		return tinyfmt.Errorf("%w: e_phoff %d, e_phentsize %d, e_phnum %d: want %d-byte program headers after the ELF header, 1 to %d of them (PN_XNUM, their count at the core's end, is not read)",
			ErrBadCore, e.phoff, phentsize, phnum, e.phentsize, maxLoads)
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
		return tinyfmt.Errorf("program headers: %w", err)
	}
	o := e.order
	// Sized once by e_phnum, a 16-bit count: at most 2 MiB, never grown.
	m.loads = make([]load, 0, e.phnum)
	notes := 0
	var first uint64 = ^uint64(0) // the lowest offset of a segment's data
	for i := 0; i < e.phnum; i++ {
		b, err := m.in.read(e.phentsize)
		if err != nil {
			return tinyfmt.Errorf("program header %d of %d: %w", i, e.phnum, err)
		}
		// The minidump keeps data only: its segments' p_memsz is their
		// p_filesz, and the core's is not read.
		var typ uint32
		var l load
		if e.class == 32 {
			typ, l.off, l.vaddr = uint32(o.get(b, 0, 4)), o.get(b, 4, 4), o.get(b, 8, 4)
			l.filesz, l.flags = o.get(b, 16, 4), uint32(o.get(b, 24, 4))
		} else {
			typ, l.flags, l.off, l.vaddr = uint32(o.get(b, 0, 4)), uint32(o.get(b, 4, 4)), o.get(b, 8, 8), o.get(b, 16, 8)
			l.filesz = o.get(b, 32, 8)
		}
		if l.off+l.filesz < l.off || typ == ptLoad && l.vaddr+l.filesz < l.vaddr {
			return tinyfmt.Errorf("%w: program header %d: offset %#x, address %#x and size %#x wrap around", ErrBadCore, i, l.off, l.vaddr, l.filesz)
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
		return tinyfmt.Errorf("%w: no PT_NOTE segment", ErrBadCore)
	case m.note.off < end:
		return tinyfmt.Errorf("%w: notes at offset %d, before the program headers end (%d)", ErrBadCore, m.note.off, end)
	}
	m.notesLast = first < m.note.off
	return nil
}

// appendHeader appends the minidump's ELF header, for phnum program
// headers right after it.
func (e *elfFile) appendHeader(b []byte, phnum int) []byte {
	word := e.class / 8 // e_entry, e_phoff and e_shoff
	b = append(b, e.ident[:]...)
	for _, f := range [...]struct {
		v uint64
		n int
	}{
		{etCore, 2}, {uint64(e.machine), 2}, {1, 4}, // e_type, e_machine, e_version
		{0, word}, {uint64(e.ehsize), word}, {0, word}, // e_entry, e_phoff, e_shoff
		{uint64(e.flags), 4}, {uint64(e.ehsize), 2}, {uint64(e.phentsize), 2}, {uint64(phnum), 2},
		{uint64(e.shentsize), 2}, {0, 2}, {0, 2}, // e_shentsize, e_shnum, e_shstrndx
	} {
		b = e.order.put(b, f.v, f.n)
	}
	return b
}

// appendPhdr appends a program header.
func (e *elfFile) appendPhdr(b []byte, typ, flags uint32, off int64, vaddr, filesz, memsz, align uint64) []byte {
	o := e.order
	if e.class == 32 {
		for _, v := range [...]uint64{uint64(typ), uint64(off), vaddr, 0, filesz, memsz, uint64(flags), align} {
			b = o.put(b, v, 4)
		}
		return b
	}
	b = o.put(o.put(b, uint64(typ), 4), uint64(flags), 4)
	for _, v := range [...]uint64{uint64(off), vaddr, 0, filesz, memsz, align} {
		b = o.put(b, v, 8)
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
