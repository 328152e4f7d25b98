package minicore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

const (
	stackA = 0x7ffd_0000_0000 // a main thread's stack segment
	stackB = 0x7f00_0000_0000 // a second thread's
)

// threeThreads is an x86-64 core of three threads: the first's stack
// pointer deep in its stack, the second's near its stack's top, the
// third's in the stack of the first (a hostile core; merged).
func threeThreads() *fakeCore {
	c := &fakeCore{class: 64, order: binary.LittleEndian, machine: 62}
	c.segs = []fakeSeg{
		{vaddr: 0x5555_0000_0000, size: 0, flags: 5}, // text: no data
		{vaddr: 0x5555_0000_4000, size: 0x2000, flags: 6},
		{vaddr: stackB, size: 0x40000, flags: 6},
		{vaddr: stackA, size: 0x40000, flags: 6},
	}
	c.notes = []fakeNote{
		c.prstatus(100, stackA+0x10000, 11),
		c.prpsinfo(100, "appd-worker-long-name"),
		{"CORE", ntSiginfo, make([]byte, 128)},
		{"CORE", ntAuxv, make([]byte, 64)},
		{"CORE", ntFile, bytes.Repeat([]byte("/usr/bin/appd\x00"), 10)},
		{"CORE", 2, make([]byte, 512)},
		{"LINUX", 0x202, make([]byte, 2688)},
		c.prstatus(101, stackB+0x3ff00, 0),
		{"CORE", 2, make([]byte, 512)},
		c.prstatus(102, stackA+0x10100, 0),
		{"CORE", 2, make([]byte, 512)},
	}
	return c
}

func TestWrite(t *testing.T) {
	arm := func() *fakeCore {
		c := &fakeCore{class: 32, order: binary.LittleEndian, machine: 40}
		c.segs = []fakeSeg{{vaddr: 0xbe80_0000, size: 0x21000, flags: 6}}
		c.notes = []fakeNote{c.prstatus(7, 0xbe81_0000, 6), c.prpsinfo(7, "sensord")}
		return c
	}
	armBE := func() *fakeCore {
		c := arm()
		c.order = binary.BigEndian
		c.notes[0], c.notes[1] = c.prstatus(7, 0xbe81_0000, 6), c.prpsinfo(7, "sensord")
		return c
	}
	for _, tc := range []struct {
		name      string
		core      *fakeCore
		lim       Limits
		want      [][2]uint64 // the minidump's loads
		info      Info        // Size, Read and Notes not compared
		noteBytes int         // of the core's notes kept, if not all
	}{
		{
			name: "x86-64, three threads",
			core: threeThreads(), lim: Limits{ThreadBytes: 64 << 10, Threads: 16},
			want: [][2]uint64{{stackB + 0x3ff00 - RedZone, stackB + 0x40000}, {stackA + 0x10000 - RedZone, stackA + 0x10100 - RedZone + 64<<10}},
			info: Info{Class: 64, Machine: 62, Pid: 100, Exe: "appd-worker-lon", Signal: 11, Threads: 3, Stacks: 3},
		},
		{
			name: "two threads' stacks; the third's registers, not its FP ones",
			core: threeThreads(), lim: Limits{ThreadBytes: 4096, Threads: 2},
			want:      [][2]uint64{{stackB + 0x3ff00 - RedZone, stackB + 0x40000}, {stackA + 0x10000 - RedZone, stackA + 0x10000 - RedZone + 4096}},
			info:      Info{Class: 64, Machine: 62, Pid: 100, Exe: "appd-worker-lon", Signal: 11, Threads: 3, Stacks: 2, Cut: 1},
			noteBytes: -(12 + 8 + 512),
		},
		{
			name: "size limit cuts the last stack from the top",
			core: threeThreads(), lim: Limits{ThreadBytes: 8192, Threads: 2, Size: align16(int64(64+56*(9+MaxSolibPages)+len(threeThreads().noteBytes())-(12+8+512))) + 8192 + 100},
			want:      [][2]uint64{{stackB + 0x3ff00 - RedZone, stackB + 0x3ff00 - RedZone + 100}, {stackA + 0x10000 - RedZone, stackA + 0x10000 - RedZone + 8192}},
			info:      Info{Class: 64, Machine: 62, Pid: 100, Exe: "appd-worker-lon", Signal: 11, Threads: 3, Stacks: 2, Cut: 1},
			noteBytes: -(12 + 8 + 512),
		},
		{
			name: "no stacks asked",
			core: threeThreads(), lim: Limits{},
			info:      Info{Class: 64, Machine: 62, Pid: 100, Exe: "appd-worker-lon", Signal: 11, Threads: 3, Cut: 4},
			noteBytes: 12 + 8 + 336 + 12 + 8 + 136 + 12 + 8 + 128 + 12 + 8 + 64 + 12 + 8 + 140 + 2*(12+8+336),
		},
		{
			name: "armv7", core: arm(), lim: Limits{ThreadBytes: 64 << 10, Threads: 16},
			want: [][2]uint64{{0xbe81_0000 - RedZone, 0xbe81_0000 - RedZone + 64<<10}},
			info: Info{Class: 32, Machine: 40, Pid: 7, Exe: "sensord", Signal: 6, Threads: 1, Stacks: 1},
		},
		{
			name: "armv7 big-endian", core: armBE(), lim: Limits{ThreadBytes: 1024, Threads: 1},
			want: [][2]uint64{{0xbe81_0000 - RedZone, 0xbe81_0000 - RedZone + 1024}},
			info: Info{Class: 32, Machine: 40, Pid: 7, Exe: "sensord", Signal: 6, Threads: 1, Stacks: 1},
		},
		{
			name: "a window across two segments",
			core: func() *fakeCore {
				c := &fakeCore{class: 64, order: binary.LittleEndian, machine: 183}
				c.segs = []fakeSeg{{vaddr: 0x10000, size: 0x1000, flags: 6}, {vaddr: 0x11000, size: 0x1000, flags: 6}, {vaddr: 0x13000, size: 0x1000, flags: 6}}
				c.notes = []fakeNote{c.prstatus(9, 0x10f00, 11)}
				return c
			}(),
			lim:  Limits{ThreadBytes: 0x4000, Threads: 1},
			want: [][2]uint64{{0x10f00 - RedZone, 0x12000}}, // the first two meet; past the gap, another mapping
			info: Info{Class: 64, Machine: 183, Signal: 11, Threads: 1, Stacks: 1},
		},
		{
			// pthreads' stacks, each below its guard page (dumped empty):
			// a window near a stack's top ends there, never in the next
			// thread's stack; a stack pointer in a guard page (an
			// overflow) keeps the stack above it.
			name: "windows end at their stack's mapping",
			core: func() *fakeCore {
				c := &fakeCore{class: 64, order: binary.LittleEndian, machine: 62}
				c.segs = []fakeSeg{{vaddr: 0x20000, size: 0x8000, flags: 6}, {vaddr: 0x28000, flags: 0}, {vaddr: 0x29000, size: 0x8000, flags: 6}, {vaddr: 0x40000, size: 0x1000, flags: 6}, {vaddr: 0x4f000}, {vaddr: 0x50000, size: 0x4000, flags: 6}}
				c.notes = []fakeNote{c.prstatus(9, 0x27f00, 11), c.prstatus(10, 0x30f00, 0), c.prstatus(11, 0x4f800, 0)}
				return c
			}(),
			lim:  Limits{ThreadBytes: 0x2000, Threads: 3},
			want: [][2]uint64{{0x27f00 - RedZone, 0x28000}, {0x30f00 - RedZone, 0x31000}, {0x50000, 0x4f800 - RedZone + 0x2000}},
			info: Info{Class: 64, Machine: 62, Signal: 11, Threads: 3, Stacks: 3},
		},
		{
			name: "stack pointer in no segment",
			core: func() *fakeCore {
				c := &fakeCore{class: 64, order: binary.LittleEndian, machine: 62}
				c.segs = []fakeSeg{{vaddr: 0x10000, size: 0x1000, flags: 6}}
				c.notes = []fakeNote{c.prstatus(9, 0x90000, 11)}
				return c
			}(),
			lim:  Limits{ThreadBytes: 0x4000, Threads: 1},
			info: Info{Class: 64, Machine: 62, Signal: 11, Threads: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core := tc.core.bytes()
			var out memFile
			info, err := Write(&out, bytes.NewReader(core), tc.lim)
			if err != nil {
				t.Fatal(err)
			}
			f := check(t, out.b)
			if got := loads(f); !reflect.DeepEqual(got, tc.want) && len(got)+len(tc.want) > 0 {
				t.Errorf("loads %#x, want %#x", got, tc.want)
			}
			if info.Size != int64(len(out.b)) || info.Read > int64(len(core)) {
				t.Errorf("Size %d for %d bytes written; Read %d of %d", info.Size, len(out.b), info.Read, len(core))
			}
			in := tc.core.noteBytes()
			n := notes(t, f, out.b)
			switch {
			case tc.noteBytes == 0 && !bytes.Equal(n, in):
				t.Errorf("notes differ from the core's")
			case tc.noteBytes < 0 && len(n) != len(in)+tc.noteBytes, tc.noteBytes > 0 && len(n) != tc.noteBytes:
				t.Errorf("%d bytes of notes of the core's %d kept, want %d", len(n), len(in), tc.noteBytes)
			}
			info.Size, info.Read, info.Notes = 0, 0, 0
			if info != tc.info {
				t.Errorf("info %+v\nwant %+v", info, tc.info)
			}
		})
	}
}

// TestWritePartial: what Write makes of cores it cannot make a whole
// minidump of, each a valid core (the notes) or nothing, with the
// error saying why.
func TestWritePartial(t *testing.T) {
	gcore := threeThreads()
	for i := range gcore.segs {
		gcore.segs[i].notesN = true
	}
	mips := threeThreads()
	mips.machine = 8
	for _, tc := range []struct {
		name  string
		core  *fakeCore
		err   error
		notes bool // the minidump holds the notes
	}{
		{"gcore's order", gcore, ErrNotesLast, true},
		{"unknown machine", mips, ErrMachine, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out memFile
			info, err := Write(&out, bytes.NewReader(tc.core.bytes()), Limits{ThreadBytes: 4096, Threads: 4})
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			f := check(t, out.b)
			if len(loads(f)) != 0 || info.Stacks != 0 {
				t.Errorf("stacks kept: %v", loads(f))
			}
			if !bytes.Equal(notes(t, f, out.b), tc.core.noteBytes()) || info.Threads != 3 {
				t.Errorf("notes not kept: %+v", info)
			}
		})
	}
}

// TestHostile: inputs that are not a core, or a broken one, return an
// error naming what is wrong, and never a minidump that does not read.
func TestHostile(t *testing.T) {
	good := threeThreads().bytes()
	o := binary.LittleEndian
	set16 := func(at int, v uint16) []byte { b := bytes.Clone(good); o.PutUint16(b[at:], v); return b }
	set32 := func(at int, v uint32) []byte { b := bytes.Clone(good); o.PutUint32(b[at:], v); return b }
	set64 := func(at int, v uint64) []byte { b := bytes.Clone(good); o.PutUint64(b[at:], v); return b }
	notesAt := 64 + 56*5
	for _, tc := range []struct {
		name, in, err string
	}{
		{"empty", "", "not an ELF core: 0-byte input"},
		{"zeros", string(make([]byte, 1<<20)), "not an ELF core: e_ident 00 00 00 00 00 00, e_type 0"},
		{"text", strings.Repeat("core ", 100), "not an ELF core: e_ident 63 6f 72 65 20 63"},
		{"an executable", string(set16(16, 2)), "not an ELF core: e_ident 7f 45 4c 46 02 01, e_type 2"},
		{"class 3", string(bytes.Replace(good, []byte("\x7fELF\x02"), []byte("\x7fELF\x03"), 1)), "e_ident 7f 45 4c 46 03 01"},
		{"header only", string(good[:60]), "ELF header: core truncated at offset 60"},
		{"no program headers", string(set16(56, 0)), "malformed core: e_phoff 64, e_phentsize 56, e_phnum 0"},
		{"PN_XNUM", string(set16(56, 0xffff)), "e_phnum 65535"},
		{"phnum past the input", string(set16(56, 0xfffe)[:1<<10]), "program header 17 of 65534: core truncated at offset 1024"},
		{"program headers in the header", string(set64(32, 10)), "e_phoff 10, e_phentsize 56"},
		{"bad phentsize", string(set16(54, 32)), "e_phentsize 32"},
		{"notes before the program headers end", string(set64(64+8, 100)), "before the program headers end"},
		{"wrapping segment", string(set64(64+56+32, ^uint64(0))), "wrap around"},
		{"absurd note size", string(set32(notesAt+4, 0xfffffff0)), "4294967280-byte desc"},
		{"absurd note name", string(set32(notesAt, 1<<20)), "1048576-byte name"},
		{"notes past the input", string(good[:notesAt+500]), "core truncated at offset"},
		{"note segment's size past the input", string(set64(64+32, 1<<40)[:notesAt+5000]), "core truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := memFile{max: 4 << 20}
			info, err := Write(&out, strings.NewReader(tc.in), Limits{ThreadBytes: 64 << 10, Threads: 16})
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one saying %q", err, tc.err)
			}
			if info.Size > 0 {
				check(t, out.b)
			}
		})
	}
}

// TestTruncated cuts a core at every length: each gives an error (but
// the whole), and a minidump that reads, of the notes and stacks that
// came, or none.
func TestTruncated(t *testing.T) {
	c := threeThreads()
	c.segs = c.segs[2:] // keep it small: 512 KiB of stacks
	core := c.bytes()
	var whole memFile
	if _, err := Write(&whole, bytes.NewReader(core), Limits{ThreadBytes: 4096, Threads: 16}); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(core); n += 1 + n/64 {
		var out memFile
		info, err := Write(&out, bytes.NewReader(core[:n]), Limits{ThreadBytes: 4096, Threads: 16})
		if err == nil { // cut after the last byte kept
			if !bytes.Equal(out.b, whole.b) || info.Read > int64(n) {
				t.Fatalf("cut at %d: no error, and not the whole minidump", n)
			}
			continue
		}
		if info.Size > 0 {
			check(t, out.b)
		}
	}
}

// TestMemoryBound: a core of 65,534 segments takes what the package
// comment says, not what its sizes say.
func TestMemoryBound(t *testing.T) {
	c := &fakeCore{class: 64, order: binary.LittleEndian, machine: 62}
	for i := range maxLoads - 1 { // and the PT_NOTE
		c.segs = append(c.segs, fakeSeg{vaddr: uint64(i) << 20, size: 16, flags: 6})
	}
	c.notes = []fakeNote{c.prstatus(1, 5<<20, 11)}
	core := c.bytes()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	info, err := Write(&memFile{}, bytes.NewReader(core), Limits{ThreadBytes: 64 << 10, Threads: 16})
	runtime.ReadMemStats(&after)
	if err != nil || info.Stacks != 1 {
		t.Fatalf("%+v, %v", info, err)
	}
	// 32 bytes a program header, allocated once: 2 MiB; the stream's
	// buffer 32 KiB; the minidump 70 KiB.
	if got := after.TotalAlloc - before.TotalAlloc; got > 2<<20+256<<10 {
		t.Errorf("%d bytes allocated for a core of %d segments", got, maxLoads)
	}
}

// TestStopsReading: Write reads no further than the last stack it keeps;
// the caller drains the rest.
func TestStopsReading(t *testing.T) {
	core := threeThreads().bytes()
	r := bytes.NewReader(core)
	info, err := Write(&memFile{}, r, Limits{ThreadBytes: 4096, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	rest, _ := io.Copy(io.Discard, r)
	if info.Read+rest != int64(len(core)) || rest < 0x40000-0x10000-4096 {
		t.Errorf("read %d, left %d of %d", info.Read, rest, len(core))
	}
}

// TestSizeBound: whatever Size leaves, the minidump is no larger (but for
// its headers) and reads.
func TestSizeBound(t *testing.T) {
	core := threeThreads().bytes()
	head := int64(64 + 56*(1+MaxPieces*3))
	for size := head; size < head+8<<10; size += 97 {
		var out memFile
		info, err := Write(&out, bytes.NewReader(core), Limits{ThreadBytes: 4096, Threads: 3, Size: size})
		if err != nil && info.Size == 0 {
			continue // no note fits
		}
		if info.Size > size {
			t.Fatalf("Size %d: a %d-byte minidump", size, info.Size)
		}
		check(t, out.b)
	}
}

// TestManyThreads: the registers (NT_PRSTATUS) of every thread come
// before the big register sets of the first ones, within NoteBytes; the
// registers that do not fit are said in the error.
func TestManyThreads(t *testing.T) {
	for _, tc := range []struct {
		threads, kept int
		cut           bool
	}{{300, 300, false}, {400, NoteBytes / (12 + 8 + 336), true}} {
		t.Run(fmt.Sprint(tc.threads), func(t *testing.T) {
			c := &fakeCore{class: 64, order: binary.LittleEndian, machine: 62}
			c.segs = []fakeSeg{{vaddr: 0x7f0000000000, size: 0x1000, flags: 6}}
			for i := range tc.threads {
				c.notes = append(c.notes, c.prstatus(100+i, 0x7f0000000800, 11))
				if i == 0 {
					c.notes = append(c.notes, c.prpsinfo(100, "appd"), fakeNote{"CORE", ntFile, make([]byte, 4096)})
				}
				c.notes = append(c.notes, fakeNote{"CORE", 2, make([]byte, 512)}, fakeNote{"LINUX", 0x202, make([]byte, 2688)})
			}
			var out memFile
			info, err := Write(&out, bytes.NewReader(c.bytes()), Limits{ThreadBytes: 1024, Threads: 16})
			if tc.cut != errors.Is(err, ErrNotesCut) || !tc.cut && err != nil {
				t.Fatalf("error %v, want ErrNotesCut %v", err, tc.cut)
			}
			f := check(t, out.b)
			n, kept := notes(t, f, out.b), 0
			for len(n) >= 12 {
				namesz, descsz, typ := binary.LittleEndian.Uint32(n), binary.LittleEndian.Uint32(n[4:]), binary.LittleEndian.Uint32(n[8:])
				if typ == ntPrstatus && namesz == 5 {
					kept++
				}
				n = n[12+align4(namesz)+align4(descsz):]
			}
			if kept != tc.kept || info.Threads != tc.threads {
				t.Errorf("%d threads' registers kept of %d, want %d", kept, info.Threads, tc.kept)
			}
		})
	}
}
