package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/corespool"
	"github.com/itiny/itiny/internal/testbin"
)

// stormPid is the first pid the storm's crashes are given: past
// PID_MAX_LIMIT, no process's, whose memory itiny core would read.
const stormPid = 1<<22 + 1

// TestCoreStorm: 32 crashes at once, each in its own real itiny core as
// the kernel runs them, on one data directory, within a per-hour cap of
// 4. Whether the handlers take the spool's lock in turn, or find it held
// past their 2 s wait (by the test, as a handler syncing to slow flash
// held it before), every crash is counted: kept, or dropped and said in
// the next kept crash's dropped. After the storm the cap is raised and
// one more crash is kept: the crashes kept in the storm plus the dropped
// the spool's crashes say are exactly 32, and no marker or count is left.
func TestCoreStorm(t *testing.T) {
	const crashes, perHour = 32, 4
	core, err := os.ReadFile("../../minicore/testdata/x86_64.core")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		hold string // "": the lock is not held; "all": until every handler ended; "first": until one gave up
	}{
		{"at once", ""},
		{"lock held past the wait", "all"},
		{"lock held until one gives up", "first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			setCoreLimits(t, data, perHour)
			var release func()
			if tc.hold != "" {
				release = holdSpoolLock(t, data)
			}
			done := make(chan struct{})
			var wg sync.WaitGroup
			for i := range crashes {
				wg.Go(func() {
					res := testbin.RunInput(t, bytes.NewReader(core), nil, binary, "core", "--data", data, strconv.Itoa(stormPid+i), "1", "11", "0", "appd")
					if res.Code != 0 || res.Stderr != "" {
						t.Errorf("itiny core %d: exit %d, %s", i, res.Code, res.Stderr)
					}
				})
			}
			go func() { wg.Wait(); close(done) }()
			if tc.hold == "first" {
				for len(lateMarks(t, data)) == 0 {
					select {
					case <-done:
						t.Fatal("every handler ended with the lock held, none leaving a marker")
					case <-time.After(10 * time.Millisecond):
					}
				}
				release()
			}
			<-done
			if tc.hold == "all" {
				release()
			}
			kept, marks := spooled(t, data), len(lateMarks(t, data))
			t.Logf("storm: %d kept, %d handlers gave up on the lock", kept, marks)
			// Each handler that took the lock kept its crash while under
			// the cap; one that gave up on it left a marker. How many
			// gave up depends on the machine's load, not the result.
			if want := min(perHour, crashes-marks); kept != want {
				t.Errorf("%d crashes kept in the storm, %d handlers gave up on the lock: want %d kept", kept, marks, want)
			}
			if tc.hold == "all" && marks != crashes {
				t.Errorf("%d markers with the lock held throughout, want %d", marks, crashes)
			}
			setCoreLimits(t, data, 1000)
			res := testbin.RunInput(t, bytes.NewReader(core), nil, binary, "core", "--data", data, strconv.Itoa(stormPid+crashes), "1", "11", "0", "appd")
			if res.Code != 0 || res.Stderr != "" {
				t.Fatalf("itiny core after the storm: exit %d, %s", res.Code, res.Stderr)
			}
			dropped := spoolDropped(t, data)
			state, _ := os.ReadFile(filepath.Join(data, corespool.Dir, "state"))
			if kept+int(dropped) != crashes || spooled(t, data) != kept+1 || len(lateMarks(t, data)) != 0 || !strings.HasSuffix(string(state), "dropped 0\n") {
				t.Errorf("%d kept in the storm and %d dropped said, want %d in all; %d markers left; state %q",
					kept, dropped, crashes, len(lateMarks(t, data)), state)
			}
		})
	}
}

// setCoreLimits writes the limits the handler keeps crashes within, as
// the agent does, with perHour crashes an hour.
func setCoreLimits(t *testing.T, data string, perHour int64) {
	t.Helper()
	s, err := corespool.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetLimits(corespool.Limits{ThreadBytes: 4096, Threads: 4, PerHour: perHour, Size: 256 << 10, Spool: 32 << 20}); err != nil {
		t.Fatal(err)
	}
}

// holdSpoolLock takes the lock of data's spool as a handler does, until
// the returned function is called.
func holdSpoolLock(t *testing.T, data string) (release func()) {
	t.Helper()
	d, err := os.Open(filepath.Join(data, corespool.Dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	return func() { d.Close() }
}

// lateMarks returns the markers in data's spool of the handlers that
// could not take its lock.
func lateMarks(t *testing.T, data string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(data, corespool.Dir, ".late-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// spoolDropped returns the dropped crashes the spool's crash files say,
// read as the agent reads them.
func spoolDropped(t *testing.T, data string) int64 {
	t.Helper()
	s, err := corespool.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	names, err := s.Crashes()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, name := range names {
		c, f, err := s.Read(name, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		n += c.Dropped
	}
	return n
}

// TestCoreDiskFull: on a real file system (a tmpfs) filled but for less
// than what a minidump leaves free for the rings, the real itiny core
// keeps the crash's header alone, saying the disk was full and how much
// was free; once room is made, the real agent stores it as a
// process.crash with no minidump, which itiny-read lists.
func TestCoreDiskFull(t *testing.T) {
	data := t.TempDir()
	// 32 MiB: a minidump leaves 5% of it free (1.6 MiB).
	if err := syscall.Mount("tmpfs", data, "tmpfs", 0, "size=32m,mode=0755"); err != nil {
		t.Skipf("mount tmpfs: %v (needs root)", err)
	}
	defer syscall.Unmount(data, 0)
	setCoreLimits(t, data, 4)
	var st syscall.Statfs_t
	if err := syscall.Statfs(data, &st); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(data, "filler")
	if err := os.WriteFile(filler, make([]byte, int64(st.Bavail)*int64(st.Bsize)-1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	core, err := os.ReadFile("../../minicore/testdata/x86_64.core")
	if err != nil {
		t.Fatal(err)
	}
	res := testbin.RunInput(t, bytes.NewReader(core), nil, binary, "core", "--data", data, strconv.Itoa(stormPid), "1", "11", "1796331474", "appd")
	if res.Code != 0 || res.Stderr != "" {
		t.Fatalf("itiny core: exit %d, %s", res.Code, res.Stderr)
	}
	names, _ := filepath.Glob(filepath.Join(data, corespool.Dir, "core-*"))
	if len(names) != 1 {
		t.Fatalf("crash files %v", names)
	}
	b, _ := os.ReadFile(names[0])
	const full = "no minidump: the disk was full before the core was read: "
	if len(b) != corespool.HeaderSize || !bytes.Contains(b, []byte("\nerror "+full)) || !bytes.Contains(b, []byte(" kept free for the rings\n")) {
		t.Fatalf("a %d-byte crash file, want its header alone, saying the disk was full:\n%.600s", len(b), b)
	}
	os.Remove(filler)
	storeSpool(t, data)
	reader, err := testbin.Build(t.TempDir(), "../itiny-read")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(reader, "--stream", "events", "-o", "json", "name=process.crash", data).Output()
	if err != nil {
		t.Fatalf("itiny-read: %v", err)
	}
	if !bytes.Contains(out, []byte(`"process.crash"`)) || !bytes.Contains(out, []byte(full)) || !bytes.Contains(out, []byte(`"size":0`)) {
		t.Errorf("no process.crash without a minidump, saying the disk was full, in:\n%s", out)
	}
}
