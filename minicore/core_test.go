package minicore

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"testing"
)

// Cores made to order, laid out as the kernel lays them out
// (fs/binfmt_elf.c): ELF header, program headers, the PT_NOTE segment,
// then the PT_LOAD segments' data, page-aligned, by increasing offset.

type fakeSeg struct {
	vaddr  uint64
	size   uint64 // data in the core; 0: a segment with none (memsz only)
	flags  uint32
	notesN bool // put this segment's data before the notes (gcore's order)
}

type fakeNote struct {
	name string
	typ  uint32
	desc []byte
}

type fakeCore struct {
	class   int
	order   binary.ByteOrder
	machine uint16
	segs    []fakeSeg
	notes   []fakeNote
}

// segByte is the byte at address a of any fake segment: its data says
// where it came from.
func segByte(a uint64) byte { return byte(a>>3) ^ byte(a>>11) ^ byte(a>>19) }

// prstatus returns a thread's NT_PRSTATUS for machine, with its stack
// pointer, thread id and signal.
func (c *fakeCore) prstatus(tid int, sp uint64, sig int) fakeNote {
	word := c.class / 8
	size := map[uint16]int{62: 336, 183: 392, 243: 376, 3: 144, 40: 148, 8: 480}[c.machine]
	d := make([]byte, size)
	c.order.PutUint16(d[12:], uint16(sig))
	pidAt := 32
	if word == 4 {
		pidAt = 24
	}
	c.order.PutUint32(d[pidAt:], uint32(tid))
	for _, a := range arches {
		if a.machine == c.machine && a.class == c.class {
			if word == 4 {
				c.order.PutUint32(d[a.sp:], uint32(sp))
			} else {
				c.order.PutUint64(d[a.sp:], sp)
			}
		}
	}
	return fakeNote{"CORE", ntPrstatus, d}
}

// prpsinfo returns the process's NT_PRPSINFO.
func (c *fakeCore) prpsinfo(pid int, fname string) fakeNote {
	pidAt, fnameAt, size := 24, 40, 136
	if c.class == 32 {
		pidAt, fnameAt, size = 12, 28, 124
	}
	d := make([]byte, size)
	c.order.PutUint32(d[pidAt:], uint32(pid))
	copy(d[fnameAt:fnameAt+15], fname)
	return fakeNote{"CORE", ntPrpsinfo, d}
}

func appendNote(b []byte, o binary.AppendByteOrder, n fakeNote) []byte {
	name := n.name + "\x00"
	if n.name == "" {
		name = ""
	}
	b = o.AppendUint32(b, uint32(len(name)))
	b = o.AppendUint32(b, uint32(len(n.desc)))
	b = o.AppendUint32(b, n.typ)
	b = append(b, name...)
	b = append(b, make([]byte, align4(uint32(len(name)))-uint64(len(name)))...)
	b = append(b, n.desc...)
	return append(b, make([]byte, align4(uint32(len(n.desc)))-uint64(len(n.desc)))...)
}

func (c *fakeCore) noteBytes() []byte {
	var b []byte
	for _, n := range c.notes {
		b = appendNote(b, c.order.(binary.AppendByteOrder), n)
	}
	return b
}

// bytes lays the core out.
func (c *fakeCore) bytes() []byte {
	e := elfFile{class: c.class, order: c.order == binary.BigEndian, machine: c.machine, ehsize: 64, phentsize: 56, shentsize: 64}
	if c.class == 32 {
		e.ehsize, e.phentsize, e.shentsize = 52, 32, 40
	}
	e.ident = [16]byte{0x7f, 'E', 'L', 'F', 2, 1, 1}
	if c.class == 32 {
		e.ident[4] = 1
	}
	if c.order == binary.BigEndian {
		e.ident[5] = 2
	}
	notes := c.noteBytes()
	phnum := 1 + len(c.segs)
	off := uint64(e.ehsize + phnum*e.phentsize)
	offs := make([]uint64, len(c.segs))
	for i, s := range c.segs { // gcore's order: some data before the notes
		if s.notesN {
			offs[i], off = off, off+s.size
		}
	}
	notesOff := off
	off = (off + uint64(len(notes)) + 4095) &^ 4095
	for i, s := range c.segs {
		if !s.notesN {
			offs[i], off = off, off+s.size
		}
	}
	b := e.appendHeader(nil, phnum)
	b = e.appendPhdr(b, ptNote, 0, int64(notesOff), 0, uint64(len(notes)), 0, 4)
	for i, s := range c.segs {
		b = e.appendPhdr(b, ptLoad, s.flags, int64(offs[i]), s.vaddr, s.size, max(s.size, 4096), 4096)
	}
	out := make([]byte, off)
	copy(out, b)
	copy(out[notesOff:], notes)
	for i, s := range c.segs {
		for a := uint64(0); a < s.size; a++ {
			out[offs[i]+a] = segByte(s.vaddr + a)
		}
	}
	return out
}

// memFile is a minidump written to memory; it fails a write past max,
// so that a test sees an unbounded output as an error.
type memFile struct {
	b   []byte
	max int64
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if f.max > 0 && off+int64(len(p)) > f.max {
		return 0, fmt.Errorf("write of %d bytes at %d, past %d", len(p), off, f.max)
	}
	if end := int(off) + len(p); end > len(f.b) {
		f.b = append(f.b, make([]byte, end-len(f.b))...)
	}
	copy(f.b[off:], p)
	return len(p), nil
}

// check reads a minidump with debug/elf and checks that it is a core
// whose loads hold the fake segments' bytes at their addresses, and
// returns it.
func check(t testing.TB, b []byte) *elf.File {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("minidump does not read as ELF: %v", err)
	}
	if f.Type != elf.ET_CORE {
		t.Fatalf("minidump of type %v", f.Type)
	}
	for _, p := range f.Progs {
		if p.Off+p.Filesz > uint64(len(b)) {
			t.Fatalf("segment at %d, %d bytes, past the minidump's %d", p.Off, p.Filesz, len(b))
		}
		if p.Type != elf.PT_LOAD {
			continue
		}
		if p.Memsz != p.Filesz {
			t.Errorf("segment at %#x: memsz %d, filesz %d", p.Vaddr, p.Memsz, p.Filesz)
		}
		for a := uint64(0); a < p.Filesz; a++ {
			if b[p.Off+a] != segByte(p.Vaddr+a) {
				t.Fatalf("segment at %#x: byte %d is %#x, the core's is %#x", p.Vaddr, a, b[p.Off+a], segByte(p.Vaddr+a))
			}
		}
	}
	return f
}

// loads returns the minidump's PT_LOAD segments as [vaddr, end) pairs.
func loads(f *elf.File) [][2]uint64 {
	var r [][2]uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			r = append(r, [2]uint64{p.Vaddr, p.Vaddr + p.Filesz})
		}
	}
	return r
}

// notes returns the minidump's note segment.
func notes(t testing.TB, f *elf.File, b []byte) []byte {
	t.Helper()
	for _, p := range f.Progs {
		if p.Type == elf.PT_NOTE {
			return b[p.Off : p.Off+p.Filesz]
		}
	}
	t.Fatal("minidump has no PT_NOTE")
	return nil
}
