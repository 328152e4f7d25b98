//go:build !nokmsg

package agent

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
)

func TestParseKmsg(t *testing.T) {
	const path = "/dev/kmsg"
	for _, tc := range []struct {
		in   string
		want kmsgRecord
		err  string
	}{
		{"6,17,58,-;tsc: Detected 2596.138 MHz processor", kmsgRecord{6, 17, 58, []byte("tsc: Detected 2596.138 MHz processor")}, ""},
		{"12,351,1800000,c,more;a; b", kmsgRecord{12, 351, 1800000, []byte("a; b")}, ""},
		{"3,5,7;no flags", kmsgRecord{3, 5, 7, []byte("no flags")}, ""},
		{"0,1,2,-;", kmsgRecord{0, 1, 2, []byte("")}, ""},
		{"6,17,58,- no semicolon", kmsgRecord{}, `no ';' in record "6,17,58,- no semicolon"`},
		{"6,17;short", kmsgRecord{}, "want PRIO,SEQ,USEC,FLAGS"},
		{"x,17,58,-;bad prio", kmsgRecord{}, "bad number"},
		{"6,17,,-;empty usec", kmsgRecord{}, "bad number"},
	} {
		got, err := parseKmsg(path, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.in, err, path, tc.err)
			continue
		}
		if err != nil || got.prio != tc.want.prio || got.seq != tc.want.seq || got.usec != tc.want.usec || string(got.msg) != string(tc.want.msg) {
			t.Errorf("%q: got %+v %q, %v", tc.in, got, got.msg, err)
		}
	}
}

func TestClassifyKmsg(t *testing.T) {
	for msg, want := range map[string]string{
		"Out of memory: Killed process 1234 (appd) total-vm:123456kB":                 "kernel.oom",
		"Memory cgroup out of memory: Killed process 99 (x)":                          "kernel.oom",
		"appd invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)": "kernel.oom",
		"blk_update_request: I/O error, dev mmcblk0, sector 123456":                   "kernel.io_error",
		"Buffer I/O error on dev mmcblk0p2, logical block 15432":                      "kernel.io_error",
		"EXT4-fs error (device sda1): I/O error -5":                                   "kernel.io_error",
		"Kernel panic - not syncing: Fatal exception":                                 "kernel.panic",
		"Oops: 0002 [#1] SMP": "kernel.panic",
		"BUG: unable to handle page fault for address: ffffffffc0a1b000":            "kernel.panic",
		"appd[1300]: segfault at 0 ip 00005581c2f1b6a8 sp 00007ffd5d0d6c30 error 4": "kernel.segfault",
		"[Firmware Bug]: TSC doesn't count with P0 frequency!":                      "",
		"tsc: Detected 2596.138 MHz processor":                                      "",
	} {
		if got := classifyKmsg([]byte(msg)); got != want {
			t.Errorf("%q: got %q, want %q", msg, got, want)
		}
	}
}

// TestKmsgCollector reads the fixture: real records of this machine's
// kernel log, then made-up ones of each class (this machine had none).
func TestKmsgCollector(t *testing.T) {
	for _, tc := range []struct {
		golden string
		opts   map[string]string
	}{
		{"kmsg", map[string]string{"from_start": "true"}},
		{"kmsg-all", map[string]string{"from_start": "true", "all": "true"}},
	} {
		cfg := testCollectorConfig()
		cfg.Options = tc.opts
		c := mustCollector(t, "kmsg", cfg)
		// Read 12 s after the fixture's last message (usec 1800000):
		// each record is stamped at its message's time, the last one
		// 12 s before the read.
		e := recordingEmitter{wall: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), mono: 13_800_000_000}
		if err := c.Update(&e); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, tc.golden, e.out.Bytes())
		checkNoAllocs(t, c) // at the end of the file
	}
	// Without from_start: only what comes after the start.
	c := mustCollector(t, "kmsg", testCollectorConfig())
	var e recordingEmitter
	if err := c.Update(&e); err != nil || e.count != 0 {
		t.Errorf("old records emitted: %d, %v", e.count, err)
	}
}

// TestKmsgAppend: records appended to a file are read as they come, a
// partial line waits for its end.
func TestKmsgAppend(t *testing.T) {
	dev := t.TempDir()
	path := filepath.Join(dev, "kmsg")
	old, _ := os.ReadFile("testdata/dev/kmsg")
	os.WriteFile(path, old, 0o644)
	c := mustCollector(t, "kmsg", CollectorConfig{Dev: dev})
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("6,400,2000000,-;usb 1-1: new high-speed USB device\n3,401,2000100,-;sd 0:0:0:0: [sda] tag#0 FAILED Result: I/O error, dev sda, sec")
	var e recordingEmitter
	if err := c.Update(&e); err != nil || e.count != 0 {
		t.Fatalf("%d records, %v: %s", e.count, err, e.out.String())
	}
	f.WriteString("tor 0\n")
	if err := c.Update(&e); err != nil || e.count != 1 {
		t.Fatalf("%d records, %v", e.count, err)
	}
	if !strings.Contains(e.out.String(), `"level":"err","name":"kernel.io_error","fields":{"msg":"sd 0:0:0:0: [sda] tag#0 FAILED Result: I/O error, dev sda, sector 0","kseq":401,"usec":2000100}`) {
		t.Errorf("got %s", e.out.String())
	}
	// A bad record is reported with the file, the others still emitted.
	f.WriteString("garbage\n0,402,2000200,-;Kernel panic - not syncing\n6,403,2000300,-;bad \xff byte: Oops\n")
	e = recordingEmitter{}
	wantErr(t, "garbage", c.Update(&e), path, `no ';' in record "garbage"`)
	if e.count != 2 || !strings.Contains(e.out.String(), `"level":"emerg","name":"kernel.panic"`) || !strings.Contains(e.out.String(), `"level":"warning","name":"kernel.panic","fields":{"msg":"bad ? byte: Oops"`) {
		t.Errorf("got %s", e.out.String())
	}
}

// fakeKmsg behaves as /dev/kmsg: one record per read, EPIPE once when
// records were overwritten, EAGAIN when there is nothing left.
type fakeKmsg struct {
	records []string
	epipeAt int
	reads   int
}

func (f *fakeKmsg) read(p []byte) (int, error) {
	f.reads++
	if f.reads == f.epipeAt {
		return 0, syscall.EPIPE
	}
	if len(f.records) == 0 {
		return 0, syscall.EAGAIN
	}
	r := f.records[0]
	if len(p) < len(r) {
		return 0, syscall.EINVAL
	}
	f.records = f.records[1:]
	return copy(p, r), nil
}

func TestKmsgDevice(t *testing.T) {
	cfg := testCollectorConfig()
	cfg.Options = map[string]string{"all": "true"}
	c := mustCollector(t, "kmsg", cfg).(*kmsgCollector)
	fake := &fakeKmsg{epipeAt: 2}
	rec := "6,1,5,-;sd 0:0:0:0: [sda] Attached SCSI removable disk\n SUBSYSTEM=scsi\n DEVICE=+scsi:0:0:0:0\n"
	for i := 0; i < 300; i++ {
		fake.records = append(fake.records, rec)
	}
	c.read = fake.read
	var e recordingEmitter
	if err := c.Update(&e); err != nil || e.count != kmsgPerUpdate {
		t.Fatalf("%d records, %v", e.count, err)
	}
	e = recordingEmitter{}
	if err := c.Update(&e); err != nil || e.count != 300-kmsgPerUpdate {
		t.Fatalf("%d records, %v", e.count, err)
	}
	if !strings.Contains(e.out.String(), `"level":"info","name":"kernel.log","fields":{"msg":"sd 0:0:0:0: [sda] Attached SCSI removable disk","kseq":1,"usec":5}`) {
		t.Errorf("got %s", e.out.String())
	}
	// Steady state while records flow: no allocation either.
	c.read = func(p []byte) (int, error) {
		return copy(p, "3,9,9,-;blk_update_request: I/O error, dev mmcblk0, sector 8\n"), nil
	}
	checkNoAllocs(t, c)
}

// TestKmsgReal reads this machine's /dev/kmsg, which needs privileges.
func TestKmsgReal(t *testing.T) {
	cfg := realCollectorConfig()
	cfg.Options = map[string]string{"from_start": "true", "all": "true"}
	c, err := newCollector("kmsg", cfg)
	if err != nil {
		t.Skip(err)
	}
	var e validatingEmitter
	e.t, e.counts = t, map[string]int{}
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	if e.count == 0 {
		t.Error("no record from /dev/kmsg")
	}
	checkNoAllocs(t, c)
}

// BenchmarkKmsgIdle is the cost of an Update on the real /dev/kmsg when
// nothing new was logged: one read that fails with EAGAIN.
func BenchmarkKmsgIdle(b *testing.B) {
	c, err := newCollector("kmsg", realCollectorConfig())
	if err != nil {
		b.Skip(err)
	}
	d := &discardEmitter{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Update(d)
	}
}

// TestKmsgTimes: the agent stamps a kernel message with the kernel's time
// of it, not the time it read it: a message logged 12 s before the round
// that reads it gets that monotonic time, and the wall time 12 s before
// the round's, by the agent's wall-minus-mono offset.
func TestKmsgTimes(t *testing.T) {
	cfg := testConfig(t, "[collector kmsg]\nfrom_start = true\n")
	cfg.Collectors["kmsg"].Enabled = true
	cfg.Collectors["uptime"].Enabled = true // a record at the round's time
	dev := t.TempDir()
	usec := clock.Mono()/1000 - 12_000_000
	line := "3,1," + strconv.FormatInt(usec, 10) + ",-;Buffer I/O error on dev mmcblk0p2, logical block 15432, lost async page write\n"
	if err := os.WriteFile(filepath.Join(dev, "kmsg"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, Options{Dev: dev, Proc: "testdata/proc"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, s := range a.collectors {
		s.c = &countUpdates{Collector: s.c, after: func(int) { cancel() }}
	}
	if err := a.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var msg, round codec.Record
	for _, r := range readStream(t, cfg.Data, StreamEvents) {
		if r.Name == catalog.KernelIOError.Name {
			msg = r
		}
	}
	for _, r := range readStream(t, cfg.Data, StreamMetrics) {
		if r.Name == catalog.Uptime.Name {
			round = r
		}
	}
	if msg.Mono != usec*1000 {
		t.Fatalf("message at usec %d stamped mono %d, want %d", usec, msg.Mono, usec*1000)
	}
	if age := round.Mono - msg.Mono; age < 12e9 {
		t.Fatalf("message 12 s before the read stamped %v before it", time.Duration(age))
	}
	if got, want := round.Wall.Sub(msg.Wall), time.Duration(round.Mono-msg.Mono); got != want {
		t.Errorf("wall %v before the round, mono %v", got, want)
	}
}
