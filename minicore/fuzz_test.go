package minicore

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// FuzzWrite feeds Write any bytes, with any limits: it must never panic,
// never write past what the limits allow, and leave either nothing (an
// error) or a core that debug/elf reads, its segments within the file.
// The seeds: the real minidump of a four-thread crash in testdata (a
// kernel core minidumped: it is laid out as one), and made-up cores of
// each class, byte order and layout.
func FuzzWrite(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.core")
	if len(files) == 0 {
		f.Fatal("no seed cores in testdata")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(16), uint16(4096))
		f.Add(b[:len(b)/2], uint8(2), uint16(1000))
	}
	small := threeThreads()
	for i := range small.segs {
		small.segs[i].size = min(small.segs[i].size, 0x2000)
		small.segs[i].vaddr = 0x10000 * uint64(i+1)
	}
	small.notes[0] = small.prstatus(100, 0x40100, 11)
	f.Add(small.bytes(), uint8(16), uint16(512))
	small.segs[2].notesN = true
	f.Add(small.bytes(), uint8(1), uint16(512))
	arm := &fakeCore{class: 32, order: binary.BigEndian, machine: 40, segs: []fakeSeg{{vaddr: 0x8000, size: 0x1000, flags: 6}}}
	arm.notes = []fakeNote{arm.prstatus(7, 0x8800, 6), arm.prpsinfo(7, "sensord"), {"", 0, nil}}
	f.Add(arm.bytes(), uint8(1), uint16(8192))
	f.Add(make([]byte, 4096), uint8(16), uint16(4096))
	f.Fuzz(func(t *testing.T, in []byte, threads uint8, threadBytes uint16) {
		lim := Limits{Threads: int(threads % 20), ThreadBytes: int(threadBytes)}
		bound := MaxSize(lim.Threads, lim.ThreadBytes)
		out := memFile{max: bound}
		info, err := Write(&out, bytes.NewReader(in), lim)
		if err == nil && info.Size == 0 {
			t.Fatal("no error and no minidump")
		}
		if info.Read > int64(len(in)) || info.Stacks > lim.Threads || info.Size > bound {
			t.Fatalf("info %+v for %d bytes in, limits %+v", info, len(in), lim)
		}
		if info.Size == 0 {
			return
		}
		if info.Size != int64(len(out.b)) {
			t.Fatalf("Size %d, %d bytes written", info.Size, len(out.b))
		}
		ef, rerr := elf.NewFile(bytes.NewReader(out.b))
		if rerr != nil {
			t.Fatalf("minidump does not read (%v): %v", err, rerr)
		}
		if ef.Type != elf.ET_CORE || len(ef.Progs) == 0 || ef.Progs[0].Type != elf.PT_NOTE {
			t.Fatalf("minidump of type %v, %d segments", ef.Type, len(ef.Progs))
		}
		for _, p := range ef.Progs {
			if p.Off+p.Filesz > uint64(len(out.b)) || p.Off+p.Filesz < p.Off {
				t.Fatalf("segment at %d, %d bytes, past the minidump's %d", p.Off, p.Filesz, len(out.b))
			}
		}
	})
}
