package corespool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/minicore"
)

// seedCore is a real core of a four-thread crash (a kernel core, cut to
// 4 KiB of stack a thread by minicore: laid out as a kernel core is).
func seedCore(t testing.TB) []byte {
	b, err := os.ReadFile("../../minicore/testdata/x86_64.core")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testLimits = Limits{ThreadBytes: 1024, Threads: 2, PerHour: 2, Size: 64 << 10, Spool: 1 << 20}

func crash(pid, mono int64) Crash {
	return Crash{Pid: pid, Tid: pid, Signal: 11, Time: 1796331474, Exe: "appd", Boot: "b1", Mono: mono}
}

// take reads back a crash file as the agent does.
func take(t *testing.T, data, name string) (Crash, []byte) {
	t.Helper()
	s, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, f, err := s.Read(name, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, c.Size)
	if _, err := f.ReadAt(b, HeaderSize); err != nil {
		t.Fatal(err)
	}
	return c, b
}

// noPid is past PID_MAX_LIMIT: no process's, whose memory Capture would
// read for the shared libraries' list.
const noPid = 1<<22 + 1

// TestCapture keeps a crash: its header as given and as minicore found,
// and the minidump minicore makes of the core with the limits.
func TestCapture(t *testing.T) {
	data := t.TempDir()
	core := seedCore(t)
	name, err := Capture(data, crash(noPid, 1e9), bytes.NewReader(core), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	c, mini := take(t, data, name)
	var want bytes.Buffer
	info, err := minicore.Write(&memAt{&want}, bytes.NewReader(core), minicore.Limits{ThreadBytes: 1024, Threads: 2, Size: 64<<10 - HeaderSize})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mini, want.Bytes()) {
		t.Errorf("minidump of %d bytes, minicore's is %d", len(mini), want.Len())
	}
	wantC := crash(noPid, 1e9)
	wantC.Threads, wantC.Stacks, wantC.Read, wantC.Size = 4, 2, info.Read, info.Size
	// The core's command name, not the kernel's %e (a thread's name).
	wantC.Exe = "crash"
	// The real core's process is gone: its libraries' list is not kept.
	wantC.Error = fmt.Sprintf("shared libraries' list cut: reading 0x7f166a99b000: open /proc/%d/mem: no such file or directory", noPid)
	if fmt.Sprint(c) != fmt.Sprint(wantC) { // Crash is not comparable
		t.Errorf("header %+v\nwant %+v", c, wantC)
	}
	// What the kernel gives may hold anything: it is kept on one line.
	odd := crash(43, 2e9)
	odd.Exe = "a\nb\x00c\xffd" + strings.Repeat("x", 1000)
	name, err = Capture(data, odd, strings.NewReader("not a core"), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	c, mini = take(t, data, name)
	if c.Exe != "a?b?c?d"+strings.Repeat("x", maxString-7) || len(mini) != 0 || !strings.Contains(c.Error, "not an ELF core") {
		t.Errorf("%+v, %d-byte minidump", c, len(mini))
	}
}

type memAt struct{ b *bytes.Buffer }

func (m *memAt) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > m.b.Len() {
		m.b.Write(make([]byte, end-m.b.Len()))
	}
	copy(m.b.Bytes()[off:], p)
	return len(p), nil
}

// TestPerHour: past the per-hour cap crashes are counted, not kept; the
// next kept after the hour, or after a reboot, says how many were
// dropped before it.
func TestPerHour(t *testing.T) {
	data := t.TempDir()
	core := seedCore(t)
	capture := func(c Crash) (Crash, error) {
		t.Helper()
		name, err := Capture(data, c, bytes.NewReader(core), testLimits)
		if err != nil {
			return Crash{}, err
		}
		got, _ := take(t, data, name)
		return got, nil
	}
	for i, tc := range []struct {
		c       Crash
		dropped int64 // -1: the crash is dropped
	}{
		{crash(1, 1e9), 0},
		{crash(2, 2e9), 0},
		{crash(3, 5e8), -1}, // a handler that took the lock late
		{crash(4, 4e9), -1},
		{crash(5, 1e9+int64(time.Hour)), 2}, // an hour after the first
		{crash(6, 1e9+int64(time.Hour)+1), 0},
		{crash(7, 1e9+int64(time.Hour)+2), -1},
		{Crash{Pid: 8, Boot: "b2", Mono: 5e9}, 1}, // a reboot
	} {
		got, err := capture(tc.c)
		if tc.dropped < 0 {
			if !errors.Is(err, ErrDropped) || !strings.Contains(err.Error(), "2 crashes kept this hour, per_hour is 2") {
				t.Errorf("crash %d: %v, want it dropped", i+1, err)
			}
			continue
		}
		if err != nil || got.Dropped != tc.dropped {
			t.Errorf("crash %d: dropped %d before it (%v), want %d", i+1, got.Dropped, err, tc.dropped)
		}
	}
}

// TestSpoolFull: the spool's crash files together stay within
// Limits.Spool; a crash that finds no room is dropped, and a minidump is
// cut to the room left.
func TestSpoolFull(t *testing.T) {
	data := t.TempDir()
	core := seedCore(t)
	lim := Limits{ThreadBytes: 4096, Threads: 4, PerHour: 100, Size: 64 << 10, Spool: 60 << 10}
	var names []string
	for i := range 4 {
		name, err := Capture(data, crash(int64(i+1), int64(i+1)*1e9), bytes.NewReader(core), lim)
		if errors.Is(err, ErrDropped) {
			if !strings.Contains(err.Error(), "the spool holds") {
				t.Errorf("dropped: %v", err)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	var total int64
	for _, n := range names {
		st, err := os.Stat(filepath.Join(data, Dir, n))
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
	}
	if len(names) != 2 || total > lim.Spool {
		t.Errorf("%d crashes kept, %d bytes of %d", len(names), total, lim.Spool)
	}
}

// TestLimitsFile: the handler keeps crashes within the limits the agent
// wrote, not its own defaults.
func TestLimitsFile(t *testing.T) {
	data := t.TempDir()
	s, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	lim := Limits{ThreadBytes: 512, Threads: 1, PerHour: 9, Size: 1 << 20, Spool: 4 << 20}
	if err := s.SetLimits(lim); err != nil {
		t.Fatal(err)
	}
	s.Close()
	b, _ := os.ReadFile(filepath.Join(data, Dir, limitsFile))
	if string(b) != "thread_bytes 512\nthreads 1\nper_hour 9\nsize 1048576\nspool 4194304\n" {
		t.Errorf("limits file %q", b)
	}
	name, err := Capture(data, crash(1, 1), bytes.NewReader(seedCore(t)), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := take(t, data, name); c.Stacks != 1 {
		t.Errorf("%d stacks kept, the limits say 1", c.Stacks)
	}
	// A key the file lacks keeps the handler's default; a bad file is
	// not read at all.
	for text, want := range map[string]Limits{
		"threads 3\n":             {ThreadBytes: 1024, Threads: 3, PerHour: 2, Size: 64 << 10, Spool: 1 << 20},
		"threads x\nper_hour 1\n": testLimits,
	} {
		l := testLimits
		if err := parseFields(text, l.fields()); err != nil {
			l = testLimits
		}
		if l != want {
			t.Errorf("limits %q: %+v, want %+v", text, l, want)
		}
	}
}

// TestSymlinks: a symbolic link in place of the spool directory, its
// state or a temporary file is never followed: the handler runs as root
// in a directory another user may write.
func TestSymlinks(t *testing.T) {
	data := t.TempDir()
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(data, Dir)); err != nil {
		t.Fatal(err)
	}
	if _, err := Capture(data, crash(1, 1), bytes.NewReader(seedCore(t)), testLimits); err == nil {
		t.Error("a symbolic link as the spool directory was followed")
	}
	os.Remove(filepath.Join(data, Dir))
	victim := filepath.Join(elsewhere, "victim")
	os.WriteFile(victim, []byte("keep"), 0o600)
	os.Mkdir(filepath.Join(data, Dir), 0o750)
	for _, n := range []string{stateFile, ".core-" + strconv.Itoa(os.Getpid()) + ".tmp", limitsFile} {
		if err := os.Symlink(victim, filepath.Join(data, Dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Capture(data, crash(1, 1), bytes.NewReader(seedCore(t)), testLimits); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the file a link points to was written: %q", b)
	}
}

// TestStaleTemp: a handler that died mid-way leaves its temporary file;
// the next one removes it and does not count it against the spool,
// whatever process has its pid now (a reboot reuses pids). A handler
// still writing holds its file's lock: its file is counted and kept.
func TestStaleTemp(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pid     int // in the file's name
		writing bool
	}{
		{"its pid no process's", noPid, false},
		{"its pid another process's", 1, false},
		{"a handler writing", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			os.Mkdir(filepath.Join(data, Dir), 0o750)
			tmp := filepath.Join(data, Dir, fmt.Sprintf(".core-%d.tmp", tc.pid))
			os.WriteFile(tmp, bytes.Repeat([]byte{1}, 50<<10), 0o600)
			if tc.writing {
				f, err := os.Open(tmp)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
					t.Fatal(err)
				}
			}
			lim := testLimits
			lim.Spool = 80 << 10 // the temporary file counted leaves less than minRoom
			_, err := Capture(data, crash(2, 1), bytes.NewReader(seedCore(t)), lim)
			_, serr := os.Stat(tmp)
			switch {
			case tc.writing && (!errors.Is(err, ErrDropped) || serr != nil):
				t.Errorf("a file being written: Capture %v; the file: %v", err, serr)
			case !tc.writing && (err != nil || !errors.Is(serr, os.ErrNotExist)):
				t.Errorf("a stale file: Capture %v; the file: %v", err, serr)
			}
		})
	}
}

// TestPending: the agent's look at an empty spool allocates nothing;
// the crashes come oldest first.
func TestPending(t *testing.T) {
	data := t.TempDir()
	s, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := testing.AllocsPerRun(100, func() {
		if p, d, err := s.Pending(); p || d || err != nil {
			t.Fatal(p, d, err)
		}
	}); n != 0 {
		t.Errorf("%v allocations a look", n)
	}
	lim := testLimits
	lim.PerHour = 10
	for _, mono := range []int64{3e9, 1e9, 2e9} {
		if _, err := Capture(data, crash(mono/1e9, mono), strings.NewReader(""), lim); err != nil {
			t.Fatal(err)
		}
	}
	names, err := s.Crashes()
	if p, d, _ := s.Pending(); !p || d || err != nil || len(names) != 3 || names[0] > names[1] || names[1] > names[2] {
		t.Errorf("crashes %v, %v", names, err)
	}
	if _, _, err := s.Read(names[0], -1); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Errorf("a minidump over the limit read: %v", err)
	}
	if err := s.Remove(names[0]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Read(names[0], 1<<20); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("removed crash read: %v", err)
	}
}

// TestHeaderBound: a header with every string at its longest ends
// before the progress, which the agent writes there.
func TestHeaderBound(t *testing.T) {
	long := strings.Repeat("é", maxString)
	c := Crash{Pid: -1 << 63, Tid: -1 << 63, Signal: -1 << 63, Time: -1 << 63, Exe: long, Boot: long, Mono: -1 << 63,
		Threads: -1 << 63, Stacks: -1 << 63, Read: -1 << 63, Dropped: -1 << 63, Error: long}
	h := c.header()
	if end := len(strings.TrimRight(string(h), "\n")); len(h) != HeaderSize || end >= progressOff {
		t.Errorf("a %d-byte header, its fields ending at %d: past %d", len(h), end, progressOff)
	}
}

// TestMark: what Mark records is what Read returns next; a progress
// torn by a power cut reads as none, never as more than was stored.
func TestMark(t *testing.T) {
	data := t.TempDir()
	name, err := Capture(data, crash(noPid, 5), bytes.NewReader(seedCore(t)), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := Progress{Part: 3808, Parts: 7, First: 1 << 40, Sum: 1<<32 - 1, Told: 1}
	c, f, err := s.Read(name, 1<<20)
	if err != nil || c.Stored != (Progress{}) {
		t.Fatalf("a new crash's progress %+v, %v", c.Stored, err)
	}
	if err := s.Mark(f, want); err != nil {
		t.Fatal(err)
	}
	f.Close()
	exe := c.Exe
	if c, f, err = s.Read(name, 1<<20); err != nil || c.Stored != want || c.Exe != exe {
		t.Fatalf("progress %+v, exe %q, %v; want %+v, %q", c.Stored, c.Exe, err, want, exe)
	}
	f.WriteAt([]byte("parts 1x"), progressOff) // torn
	f.Close()
	if c, _, err = s.Read(name, 1<<20); err != nil || c.Stored != (Progress{}) {
		t.Errorf("a torn progress read as %+v, %v", c.Stored, err)
	}
}

// TestTakeDropped: crashes dropped are pending until the agent takes
// their count, once: one that tell fails to record is kept for the next
// call; a crash kept after takes the count in its dropped instead.
func TestTakeDropped(t *testing.T) {
	data := t.TempDir()
	lim := testLimits
	lim.PerHour = 1
	for i := range int64(3) {
		Capture(data, crash(noPid+i, 1e9+i), bytes.NewReader(seedCore(t)), lim)
	}
	s, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A handler late for the lock left a marker.
	if err := os.WriteFile(filepath.Join(data, Dir, latePre+"0000000000000009-9"), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, d, err := s.Pending(); !d || err != nil {
		t.Fatalf("dropped pending %v, %v", d, err)
	}
	failed := errors.New("the events stream is down")
	var told []int64
	for _, fail := range []bool{true, false} {
		err := s.TakeDropped(func(n int64) error {
			told = append(told, n)
			if fail {
				return failed
			}
			return nil
		})
		if fail != errors.Is(err, failed) {
			t.Errorf("tell failing %v: %v", fail, err)
		}
	}
	if _, d, _ := s.Pending(); d || len(told) != 2 || told[0] != 3 || told[1] != 3 {
		t.Errorf("told %v, pending %v; want 3 twice, then nothing", told, d)
	}
	if err := s.TakeDropped(func(n int64) error { t.Errorf("told %d again", n); return nil }); err != nil {
		t.Error(err)
	}
}
