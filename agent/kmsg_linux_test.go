//go:build !nokmsg

package agent

import (
	"context"
	"fmt"
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

// TestKmsgPatterns: each kind of message the kernel logs, in the kernel's
// format, becomes its event with the fields parsed from it, at warning or
// worse; other messages only at err or worse, as kernel.log.
func TestKmsgPatterns(t *testing.T) {
	c := mustCollector(t, "kmsg", testCollectorConfig()).(*kmsgCollector)
	for _, tc := range []struct {
		line string
		want string // level, name and the parsed fields after usec; "" none
	}{
		// mm/oom_kill.c: one kill logs these three (and a Mem-Info dump at
		// info): only the victim's line is an event.
		{"4,1,1,-;appd invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0", ""},
		{"6,2,1,-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/appd.service,task=appd,pid=1234,uid=0", ""},
		{"3,3,1,-;Out of memory: Killed process 1234 (appd) total-vm:123456kB, anon-rss:65536kB, file-rss:1024kB, shmem-rss:512kB, UID:0 pgtables:200kB oom_score_adj:0",
			`"level":"err","name":"kernel.oom","fields":{"msg":"Out of memory: Killed process 1234 (appd) total-vm:123456kB, anon-rss:65536kB, file-rss:1024kB, shmem-rss:512kB, UID:0 pgtables:200kB oom_score_adj:0","kseq":3,"usec":1,"pid":"1234","process":"appd","rss_bytes":68681728}`},
		{"3,4,1,-;Memory cgroup out of memory: Killed process 99 (my app) total-vm:2048kB, anon-rss:1024kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:40kB oom_score_adj:0",
			`"name":"kernel.oom","fields":{"msg":"Memory cgroup out of memory: Killed process 99 (my app) total-vm:2048kB, anon-rss:1024kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:40kB oom_score_adj:0","kseq":4,"usec":1,"pid":"99","process":"my app","rss_bytes":1048576}`},
		{"6,5,1,-;oom_reaper: reaped process 1234 (appd), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB", ""},
		// kernel/hung_task.c
		{"3,6,1,-;INFO: task jbd2/mmcblk0p2:161 blocked for more than 120 seconds.",
			`"level":"err","name":"kernel.hung_task","fields":{"msg":"INFO: task jbd2/mmcblk0p2:161 blocked for more than 120 seconds.","kseq":6,"usec":1,"pid":"161","process":"jbd2/mmcblk0p2","blocked_s":120}`},
		{"3,7,1,-;\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
			`"level":"err","name":"kernel.log","fields":{"msg":"\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.","kseq":7,"usec":1}`},
		// block, buffer cache, ext4
		{"3,8,1,-;I/O error, dev mmcblk0, sector 123456 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 0",
			`"name":"kernel.io_error","fields":{"msg":"I/O error, dev mmcblk0, sector 123456 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 0","kseq":8,"usec":1,"device":"mmcblk0","readonly":false}`},
		{"3,9,1,-;blk_update_request: I/O error, dev sda, sector 2048 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
			`"fields":{"msg":"blk_update_request: I/O error, dev sda, sector 2048 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0","kseq":9,"usec":1,"device":"sda","readonly":false}`},
		{"3,10,1,-;Buffer I/O error on dev mmcblk0p2, logical block 15432, lost async page write",
			`"fields":{"msg":"Buffer I/O error on dev mmcblk0p2, logical block 15432, lost async page write","kseq":10,"usec":1,"device":"mmcblk0p2","readonly":false}`},
		{"2,11,1,-;EXT4-fs error (device mmcblk0p2): ext4_find_entry:1455: inode #2: comm appd: reading directory lblock 0",
			`"level":"crit","name":"kernel.io_error","fields":{"msg":"EXT4-fs error (device mmcblk0p2): ext4_find_entry:1455: inode #2: comm appd: reading directory lblock 0","kseq":11,"usec":1,"device":"mmcblk0p2","readonly":false}`},
		{"2,12,1,-;EXT4-fs (mmcblk0p2): Remounting filesystem read-only",
			`"name":"kernel.io_error","fields":{"msg":"EXT4-fs (mmcblk0p2): Remounting filesystem read-only","kseq":12,"usec":1,"device":"mmcblk0p2","readonly":true}`},
		{"3,13,1,-;sd 0:0:0:0: [sda] tag#0 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK cmd_age=0s: I/O error",
			`"name":"kernel.io_error","fields":{"msg":"sd 0:0:0:0: [sda] tag#0 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK cmd_age=0s: I/O error","kseq":13,"usec":1,"device":"","readonly":false}`},
		// arch/x86/mm/fault.c: logged at info, an event at warning.
		{"6,14,1,-;appd[1300]: segfault at 0 ip 00005581c2f1b6a8 sp 00007ffd5d0d6c30 error 4 in libc.so.6[7f3a1c228000+195000] likely on CPU 1 (core 1, socket 0)",
			`"level":"warning","name":"kernel.segfault","fields":{"msg":"appd[1300]: segfault at 0 ip 00005581c2f1b6a8 sp 00007ffd5d0d6c30 error 4 in libc.so.6[7f3a1c228000+195000] likely on CPU 1 (core 1, socket 0)","kseq":14,"usec":1,"pid":"1300","process":"appd","addr":"0","ip":"00005581c2f1b6a8","sp":"00007ffd5d0d6c30","error":"4","object":"libc.so.6"}`},
		// arm64, 5.0 on and before.
		{"6,22,1,-;appd[1301]: unhandled exception: DABT (lower EL), ESR 0x0000000092000006, level 2 translation fault in appd[aaaab1230000+1000]",
			`"name":"kernel.segfault","fields":{"msg":"appd[1301]: unhandled exception: DABT (lower EL), ESR 0x0000000092000006, level 2 translation fault in appd[aaaab1230000+1000]","kseq":22,"usec":1,"pid":"1301","process":"appd","addr":"","ip":"","sp":"","error":"0x0000000092000006","object":"appd"}`},
		{"6,23,1,-;appd[1302]: unhandled level 2 translation fault (11) at 0x0000000000000000, esr 0x92000006, in libc-2.28.so[ffff9a3c0000+13a000]",
			`"name":"kernel.segfault","fields":{"msg":"appd[1302]: unhandled level 2 translation fault (11) at 0x0000000000000000, esr 0x92000006, in libc-2.28.so[ffff9a3c0000+13a000]","kseq":23,"usec":1,"pid":"1302","process":"appd","addr":"0x0000000000000000","ip":"","sp":"","error":"0x92000006","object":"libc-2.28.so"}`},
		{"6,15,1,-;a[b][7]: segfault at 7ffd5d0d6000 ip 0000000000401136 sp 00007ffd5d0d5ff0 error 6",
			`"fields":{"msg":"a[b][7]: segfault at 7ffd5d0d6000 ip 0000000000401136 sp 00007ffd5d0d5ff0 error 6","kseq":15,"usec":1,"pid":"7","process":"a[b]","addr":"7ffd5d0d6000","ip":"0000000000401136","sp":"00007ffd5d0d5ff0","error":"6","object":""}`},
		// kernel/panic.c, die(), the page fault handler
		{"0,16,1,-;Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b",
			`"level":"emerg","name":"kernel.panic","fields":{"msg":"Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b","kseq":16,"usec":1,"reason":"Attempted to kill init! exitcode=0x0000000b"}`},
		{"4,17,1,-;Oops: general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI",
			`"level":"warning","name":"kernel.panic","fields":{"msg":"Oops: general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI","kseq":17,"usec":1,"reason":"general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI"}`},
		// arm64's die() and lib/bug.c; a line that only holds the word is
		// no crash.
		{"0,19,1,-;Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP",
			`"level":"emerg","name":"kernel.panic","fields":{"msg":"Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP","kseq":19,"usec":1,"reason":"0000000096000004 [#1] PREEMPT SMP"}`},
		{"2,20,1,-;kernel BUG at mm/slub.c:305!",
			`"level":"crit","name":"kernel.panic","fields":{"msg":"kernel BUG at mm/slub.c:305!","kseq":20,"usec":1,"reason":"kernel BUG at mm/slub.c:305!"}`},
		{"6,21,1,-;usb 1-1: Oops, BUG: descriptor read failed, retrying", ""},
		{"1,18,1,-;BUG: kernel NULL pointer dereference, address: 0000000000000008",
			`"level":"alert","name":"kernel.panic","fields":{"msg":"BUG: kernel NULL pointer dereference, address: 0000000000000008","kseq":18,"usec":1,"reason":"kernel NULL pointer dereference, address: 0000000000000008"}`},
		{"0,19,1,-;Kernel panic - not syncing: Out of memory and no killable processes...",
			`"name":"kernel.panic"`},
		// Below err and no pattern: left out.
		{"4,20,1,-;[Firmware Bug]: TSC doesn't count with P0 frequency!", ""},
		{"6,21,1,-;EXT4-fs (vda): mounted filesystem r/w with ordered data mode. Quota mode: none.", ""},
	} {
		m, err := parseKmsg("kmsg", []byte(tc.line))
		if err != nil {
			t.Fatal(err)
		}
		r := c.record(m)
		if r == nil {
			if tc.want != "" {
				t.Errorf("%s: no record, want %s", tc.line, tc.want)
			}
			continue
		}
		if tc.want == "" {
			t.Errorf("%s: got %s, want none", tc.line, r.Name)
			continue
		}
		f := r.Fields
		f[0].Value = alias(m.msg)
		f[1].Value, f[2].Value = codec.Uint(m.seq), codec.Uint(m.usec)
		var e recordingEmitter
		e.Emit(StreamEvents, r)
		if !strings.Contains(e.out.String(), tc.want) {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.line, e.out.String(), tc.want)
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
	if !strings.Contains(e.out.String(), `"level":"err","name":"kernel.io_error","fields":{"msg":"sd 0:0:0:0: [sda] tag#0 FAILED Result: I/O error, dev sda, sector 0","kseq":401,"usec":2000100,"device":"sda","readonly":false}`) {
		t.Errorf("got %s", e.out.String())
	}
	// A bad record is reported with the file, the others still emitted;
	// "Oops" within an info line is no crash.
	f.WriteString("garbage\n0,402,2000200,-;Kernel panic - not syncing\n6,403,2000300,-;Oops: bad \xff byte\n6,404,2000400,-;usb 1-1: Oops, retrying\n")
	e = recordingEmitter{}
	wantErr(t, "garbage", c.Update(&e), path, `no ';' in record "garbage"`)
	if e.count != 2 || !strings.Contains(e.out.String(), `"level":"emerg","name":"kernel.panic"`) || !strings.Contains(e.out.String(), `"level":"warning","name":"kernel.panic","fields":{"msg":"Oops: bad ? byte"`) || strings.Contains(e.out.String(), "retrying") {
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
	cfg.Options = map[string]string{"all": "true", "burst": "1000"}
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
	// Steady state while records flow: no allocation either, whether the
	// rate limit drops them (one second of kernel time for all) or, with
	// no bound, each is parsed and emitted.
	c.read = func(p []byte) (int, error) {
		return copy(p, "3,9,9,-;blk_update_request: I/O error, dev mmcblk0, sector 8\n"), nil
	}
	checkNoAllocs(t, c)
	if c.drops.pending == 0 {
		t.Error("nothing dropped past the burst")
	}
	c.burst = 1e18
	c.bucket.fill(time.Time{}, c.burst)
	e = recordingEmitter{}
	if err := c.Update(&e); err != nil || e.count != kmsgPerUpdate || !strings.Contains(e.out.String(), `"device":"mmcblk0"`) {
		t.Fatalf("%d records, %v", e.count, err)
	}
	checkNoAllocs(t, c)
}

// TestKmsgRateLimit: past its burst, the collector keeps rate records a
// second of the kernel's time and reports the rest in one kernel.dropped
// record stamped at the first dropped message, with their count and span;
// the bucket refills with the kernel's time.
func TestKmsgRateLimit(t *testing.T) {
	cfg := testCollectorConfig()
	cfg.Options = map[string]string{"rate": "1", "burst": "3"}
	c := mustCollector(t, "kmsg", cfg).(*kmsgCollector)
	fake := &fakeKmsg{}
	for i := range 10 { // 10 in 0.9 s: 3 kept, 7 dropped
		fake.records = append(fake.records, fmt.Sprintf("3,%d,%d,-;Buffer I/O error on dev mmcblk0p2, logical block %d, lost async page write\n", 100+i, 5_000_000+i*100_000, i))
	}
	c.read = fake.read
	e := recordingEmitter{wall: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), mono: 20e9}
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	out := e.out.String()
	if e.count != 4 || strings.Count(out, `"name":"kernel.io_error"`) != 3 || !strings.Contains(out, `"kseq":102,"usec"`) || strings.Contains(out, `"kseq":103,"usec"`) {
		t.Fatalf("want 3 kernel.io_error and kernel.dropped, got %d:\n%s", e.count, out)
	}
	want := `"wall":"2026-12-03T11:59:45.300000000Z","mono":5300000000,"src":"kmsg","level":"warning","name":"kernel.dropped","fields":{"dropped":7,"kseq":103,"span_s":0.6}`
	if !strings.Contains(out, want) {
		t.Errorf("got %s\nwant %s", out, want)
	}
	// 5 s later the bucket is full again (3, not 5: the burst); nothing
	// more was dropped, so no report.
	for i := range 4 {
		fake.records = append(fake.records, fmt.Sprintf("3,%d,%d,-;Buffer I/O error on dev mmcblk0p2, logical block %d, lost async page write\n", 200+i, 10_000_000+i, i))
	}
	e.out.Reset()
	e.count = 0
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	if out := e.out.String(); e.count != 3 || strings.Contains(out, "kernel.dropped") {
		t.Errorf("want 3 records, got %d:\n%s", e.count, out)
	}
	// The 4th, dropped, is reported a minute after the last report.
	if c.drops.pending != 1 {
		t.Errorf("%d drops pending, want 1", c.drops.pending)
	}
}

// TestKmsgRateLimitSparesPanic: a panic right after a storm that emptied
// the bucket is kept, its lines past the rate limit; crit lines beyond
// kmsgCritPerUpdate in one Update are limited again.
func TestKmsgRateLimitSparesPanic(t *testing.T) {
	cfg := testCollectorConfig()
	cfg.Options = map[string]string{"rate": "1", "burst": "3"}
	c := mustCollector(t, "kmsg", cfg).(*kmsgCollector)
	fake := &fakeKmsg{}
	for i := range 10 {
		fake.records = append(fake.records, fmt.Sprintf("3,%d,%d,-;Buffer I/O error on dev mmcblk0p2, logical block %d, lost async page write\n", 100+i, 5_000_000+i*1000, i))
	}
	fake.records = append(fake.records, "0,110,5020000,-;Kernel panic - not syncing: Fatal exception\n")
	for i := range kmsgCritPerUpdate + 5 {
		fake.records = append(fake.records, fmt.Sprintf("2,%d,%d,-;crit line %d\n", 111+i, 5_030_000+i, i))
	}
	c.read = fake.read
	e := recordingEmitter{wall: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), mono: 20e9}
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	out := e.out.String()
	if !strings.Contains(out, `"name":"kernel.panic"`) {
		t.Fatalf("the panic after the storm was dropped:\n%s", out)
	}
	// 3 I/O errors (the burst), the panic and kmsgCritPerUpdate-1 crit
	// lines pass; the rest (7 I/O errors, 6 crit lines) are dropped.
	if n := strings.Count(out, `"name":"kernel.log"`); n != kmsgCritPerUpdate-1 {
		t.Errorf("%d crit lines kept, want %d", n, kmsgCritPerUpdate-1)
	}
	if !strings.Contains(out, `"dropped":13`) {
		t.Errorf("want 13 dropped:\n%s", out)
	}
}

// TestKmsgOff: the kmsg collector is on by default; where /dev/kmsg
// cannot be read the agent starts without it and says why in
// collector.off.
func TestKmsgOff(t *testing.T) {
	def, err := ParseConfig("default", "")
	if err != nil {
		t.Fatal(err)
	}
	if !def.Collectors["kmsg"].Enabled {
		t.Fatal("kmsg off by default")
	}
	dev := t.TempDir()
	cases := map[string]string{"missing": "no such file or directory"}
	if os.Getuid() != 0 { // root reads a file of mode 0
		os.WriteFile(filepath.Join(dev, "kmsg"), nil, 0)
		cases = map[string]string{"unreadable": "permission denied (kernel.dmesg_restrict"}
	}
	for name, want := range cases {
		cfg := testConfig(t, "")
		cfg.Collectors["kmsg"].Enabled = true
		a, err := New(cfg, Options{Dev: dev})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		var off []string
		for _, r := range readStream(t, cfg.Data, StreamSelf) {
			if r.Name == catalog.CollectorOff.Name {
				off = append(off, field(r, "collector").Str()+": "+field(r, "error").Str())
			}
		}
		if len(off) != 1 || !strings.HasPrefix(off[0], "kmsg: agent: collector kmsg: "+filepath.Join(dev, "kmsg")+": "+want) {
			t.Errorf("%s: collector.off %q, want kmsg: ...%s", name, off, want)
		}
	}
}

// TestKmsgReal reads this machine's /dev/kmsg, which needs privileges.
func TestKmsgReal(t *testing.T) {
	cfg := realCollectorConfig(t)
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
	c, err := newCollector("kmsg", realCollectorConfig(b))
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
