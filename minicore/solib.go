package minicore

import (
	"errors"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// The dynamic linker's list of the loaded objects, which gdb reads to
// load the shared libraries' symbols and unwind through them (a crash
// in abort, assert, or a libc fault): the executable's program headers
// and .dynamic, whose DT_DEBUG entry points at r_debug in ld.so's data,
// whose r_map heads the list of link_map nodes and their names. The
// nodes may lie below r_debug in address, so a stream read forward
// cannot follow them: they are read from Limits.Mem, the process's
// memory, while the kernel still dumps it.

// Bounds on what is kept of the list: aligned 1 KiB pieces (pages,
// here), so that gdb reads any field of a node whole, and the
// neighbours it may read beside one.
const (
	pageSize = 1024
	// MaxSolibPages bounds the pieces kept: 48 KiB.
	MaxSolibPages = 48
	maxNodes      = 256
	maxName       = 512 // gdb's SO_NAME_MAX_PATH_SIZE
)

// Auxiliary vector types (include/uapi/linux/auxvec.h) and ELF's.
const (
	atPhdr    = 3
	atPhent   = 4
	atPhnum   = 5
	atVdso    = 33 // AT_SYSINFO_EHDR
	maxVdso   = 16 // 16 KiB: 8 on x86-64
	ptDynamic = 2
	ptPhdr    = 6
	dtDebug   = 21
	maxPhnum  = 128
	maxDyn    = 512 // .dynamic entries read
)

// errSolibCut is wrapped by the error for a list not kept whole.
var errSolibCut = errors.New("shared libraries' list cut")

// solibs is the pages of memory kept for the list.
type solibs struct {
	addr  [MaxSolibPages]uint64
	data  []byte // n pages, in the order read
	n     int
	nodes int
	// auxv: where the executable's program headers are, and the vDSO.
	phdr, phent, phnum, vdso uint64
}

// page returns the kept page at address a, reading it first.
func (m *mini) page(a uint64) ([]byte, error) {
	s := &m.solib
	a &^= pageSize - 1
	for i := range s.n {
		if s.addr[i] == a {
			return s.data[i*pageSize : (i+1)*pageSize], nil
		}
	}
	if s.n == MaxSolibPages {
		return nil, tinyfmt.Errorf("%w: %d pages kept", errSolibCut, MaxSolibPages)
	}
	if s.data == nil {
		s.data = make([]byte, MaxSolibPages*pageSize)
	}
	b := s.data[s.n*pageSize : (s.n+1)*pageSize]
	if _, err := m.lim.Mem.ReadAt(b, int64(a)); err != nil {
		return nil, tinyfmt.Errorf("%w: reading %#x: %v", errSolibCut, a, err)
	}
	s.addr[s.n] = a
	s.n++
	return b, nil
}

// word returns the n-byte integer at a, which n divides.
func (m *mini) word(a uint64, n int) (uint64, error) {
	p, err := m.page(a)
	if err != nil {
		return 0, err
	}
	off := int(a & (pageSize - 1))
	return m.e.order.get(p, off, n), nil
}

// readSolibs reads the pages that hold the dynamic linker's list. It
// keeps what it read until something failed, and says what.
func (m *mini) readSolibs() error {
	s := &m.solib
	w := m.e.class / 8
	vaddrAt := uint64(2 * w) // p_vaddr's offset in a program header
	if m.lim.Mem != nil && s.vdso != 0 {
		if err := m.keepVdso(); err != nil {
			return err
		}
	}
	if m.lim.Mem == nil || s.phdr == 0 || s.phent < vaddrAt+uint64(w) || s.phnum > maxPhnum {
		return nil
	}
	var bias, dyn uint64
	var hasPhdr bool
	for i := range s.phnum {
		a := s.phdr + i*s.phent
		typ, err := m.word(a, 4)
		if err != nil {
			return err
		}
		vaddr, err := m.word(a+vaddrAt, w)
		if err != nil {
			return err
		}
		switch typ {
		case ptPhdr:
			bias, hasPhdr = s.phdr-vaddr, true
		case ptDynamic:
			dyn = vaddr
		}
	}
	if dyn == 0 || !hasPhdr {
		return nil // linked statically: no list
	}
	dyn += bias
	var rdebug uint64
	for i := range uint64(maxDyn) {
		tag, err := m.word(dyn+i*uint64(2*w), w)
		if err != nil {
			return err
		}
		if tag == 0 {
			break
		}
		if tag == dtDebug {
			if rdebug, err = m.word(dyn+i*uint64(2*w)+uint64(w), w); err != nil {
				return err
			}
		}
	}
	if rdebug == 0 {
		return tinyfmt.Errorf("%w: DT_DEBUG is 0 (the dynamic linker had not started)", errSolibCut)
	}
	// r_debug: r_version, r_map, r_brk, r_state, r_ldbase.
	node, err := m.word(rdebug+uint64(w), w)
	if err != nil {
		return err
	}
	for ; node != 0; s.nodes++ {
		if s.nodes == maxNodes {
			return tinyfmt.Errorf("%w: %d objects kept", errSolibCut, maxNodes)
		}
		// link_map: l_addr, l_name, l_ld, l_next, l_prev.
		name, err := m.word(node+uint64(w), w)
		if err != nil {
			return err
		}
		if name != 0 {
			if err := m.keepString(name); err != nil {
				return err
			}
		}
		if _, err := m.word(node+uint64(4*w), w); err != nil { // l_prev
			return err
		}
		if node, err = m.word(node+uint64(3*w), w); err != nil {
			return err
		}
	}
	return nil
}

// keepVdso keeps the vDSO's image, which gdb loads as an object from
// the memory it reads (the signal trampoline's unwinding is in it):
// from its ELF header to its loadable segment's end, at most maxVdso
// pages.
func (m *mini) keepVdso() error {
	s := &m.solib
	w := uint64(m.e.class / 8)
	phoff, err := m.word(s.vdso+24+w, int(w)) // e_phoff, after e_entry
	if err != nil {
		return err
	}
	phnum, err := m.word(s.vdso+24+3*w+6, 2) // e_phnum, after e_flags, e_ehsize, e_phentsize
	if err != nil {
		return err
	}
	var end uint64
	for i := range min(phnum, maxPhnum) {
		a := s.vdso + phoff + i*[2]uint64{32, 56}[w/8]
		if typ, err := m.word(a, 4); err != nil || typ != ptLoad {
			continue
		}
		off, err := m.word(a+[2]uint64{4, 8}[w/8], int(w)) // p_offset
		if err != nil {
			return err
		}
		size, err := m.word(a+[2]uint64{16, 32}[w/8], int(w)) // p_filesz
		if err != nil {
			return err
		}
		end = max(end, off+size)
	}
	for a := s.vdso + pageSize; a < s.vdso+min(end, maxVdso*pageSize); a += pageSize {
		if _, err := m.page(a); err != nil {
			return err
		}
	}
	return nil
}

// keepString keeps the pages of the string at a, up to maxName bytes.
func (m *mini) keepString(a uint64) error {
	for end := a + maxName; a < end; a = (a | (pageSize - 1)) + 1 {
		p, err := m.page(a)
		if err != nil {
			return err
		}
		for _, c := range p[a&(pageSize-1):] {
			if c == 0 {
				return nil
			}
		}
	}
	return nil
}

// solibPieces appends the pages kept to the pieces, from out in the
// minidump, contiguous pages as one segment, and writes them there.
func (m *mini) writeSolibs(out int64) error {
	s := &m.solib
	for i := range s.n {
		if _, err := m.out.WriteAt(s.data[i*pageSize:(i+1)*pageSize], out); err != nil {
			return err
		}
		if k := len(m.pieces) - 1; i > 0 && s.addr[i] == s.addr[i-1]+pageSize && m.pieces[k].vaddr+m.pieces[k].size == s.addr[i] {
			m.pieces[k].size += pageSize
		} else {
			m.pieces = append(m.pieces, piece{vaddr: s.addr[i], size: pageSize, flags: 4 | 2, outOff: out})
		}
		out += pageSize
	}
	return nil
}
