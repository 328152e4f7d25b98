//go:build !noprocess

package agent

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	const line = "4242 (nginx) S 1 4242 4242 0 -1 4194560 57914 22197768 0 3724 233 864 129212 58292 10 -10 13 0 25 39833600 2632 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	odd := strings.Replace(line, "(nginx) S", "(a) b (c)) R", 1)
	for _, tc := range []struct {
		name, in string
		want     procStat
		err      string
	}{
		{"nginx", line, procStat{[]byte("nginx"), 'S', 233, 864, 25, 4194560, 13}, ""},
		{"parentheses in comm", odd, procStat{[]byte("a) b (c)"), 'R', 233, 864, 25, 4194560, 13}, ""},
		{"empty", "", procStat{}, "no (command name)"},
		{"no close", "4242 (nginx S 1", procStat{}, "no (command name)"},
		{"short", "4242 (nginx) S 1 2 3\n", procStat{}, "4 fields after the command name, want at least 20"},
		{"bad state", strings.Replace(line, ") S ", ") SS ", 1), procStat{}, `bad state "SS"`},
		{"bad utime", strings.Replace(line, " 233 ", " x ", 1), procStat{}, "field 14"},
		{"bad starttime", strings.Replace(line, " 25 ", " -25 ", 1), procStat{}, "field 22"},
		{"bad flags", strings.Replace(line, " 4194560 ", " 0x400100 ", 1), procStat{}, "field 9"},
		{"bad num_threads", strings.Replace(line, " 13 ", " many ", 1), procStat{}, "field 20"},
	} {
		_, got, err := parseProcStat("/proc", 4242, nil, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.name, err, "/proc/4242/stat", tc.err)
			continue
		}
		if err != nil || string(got.comm) != string(tc.want.comm) || got.state != tc.want.state ||
			got.utime != tc.want.utime || got.stime != tc.want.stime || got.starttime != tc.want.starttime ||
			got.flags != tc.want.flags || got.threads != tc.want.threads {
			t.Errorf("%s: got %+v, %v", tc.name, got, err)
		}
	}
}

func TestParseStatm(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		err  string
	}{
		{"9725 2632 1630 1330 0 7879 0\n", 2632, ""},
		{"9725 0 0 0 0 0 0", 0, ""},
		{"9725\n", 0, "want 7 numbers"},
		{"9725 -1 0 0 0 0 0\n", 0, "bad resident pages"},
	} {
		_, got, err := parseStatm("/proc", 7, nil, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.in, err, "/proc/7/statm", tc.err)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %v, %v", tc.in, got, err)
		}
	}
}

func TestProcessOptions(t *testing.T) {
	for _, tc := range []struct{ watch, err string }{
		{"pidfile:run/x.pid", "not absolute"},
		{"nginx, name=nginx", `"nginx" given twice`},
		{"name=", "bad process name"},
		{"usr/bin/x", "bad process name"},
	} {
		_, err := newCollector("process", CollectorConfig{Proc: "testdata/proc", Options: map[string]string{"watch": tc.watch}})
		wantErr(t, tc.watch, err, tc.err)
	}
	_, err := newCollector("process", CollectorConfig{Proc: "testdata/proc", Options: map[string]string{"snapshot_every": "0"}})
	wantErr(t, "snapshot_every", err, "snapshot_every", "positive")
	// Nothing watched: nothing emitted, and no /proc needed.
	c := mustCollector(t, "process", CollectorConfig{Proc: "testdata/none"})
	var e recordingEmitter
	if err := c.Update(&e); err != nil || e.count != 0 {
		t.Errorf("%d records, %v", e.count, err)
	}
}

// TestProcessCollector watches the fixture's two fake processes by name
// and by pidfile, a missing name and a missing pidfile.
func TestProcessCollector(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "nginx.pid")
	os.WriteFile(pidfile, []byte("4242\n"), 0o644)
	cfg := testCollectorConfig()
	cfg.Options = map[string]string{
		"watch":          "nginx, name=my (odd) app, nosuchprocess, pidfile:" + pidfile + ", pidfile:" + dir + "/gone.pid",
		"snapshot_every": "3",
	}
	c := mustCollector(t, "process", cfg)
	c.(*processCollector).pageSize = 4096 // as on this machine, whatever the test runs on
	setProcClock(c, 361817)               // the fixture's uptime
	var e recordingEmitter
	for i := 0; i < 4; i++ {
		if err := c.Update(&e); err != nil {
			t.Fatal(err)
		}
	}
	// Updates 1 (first states) and 3 (snapshot) emit 5 records each.
	if e.count != 10 {
		t.Errorf("%d records, want 10", e.count)
	}
	out := strings.ReplaceAll(e.out.String(), dir, "$DIR")
	checkGolden(t, "process", []byte(out))
	checkNoAllocs(t, c)
}

// procTree is a fake /proc in a temporary directory.
type procTree struct {
	t    *testing.T
	root string
}

// newProcTree makes a fake /proc.
func newProcTree(t *testing.T) procTree { return procTree{t, t.TempDir()} }

// setProcClock sets a process collector's time since boot, in clock ticks.
func setProcClock(c Collector, ticks uint64) {
	c.(*processCollector).clock = func() uint64 { return ticks }
}

// set makes a process, started at tick pid.
func (p procTree) set(pid int, comm string, state byte, utime int) {
	p.setStart(pid, comm, state, utime, pid)
}

func (p procTree) setStart(pid int, comm string, state byte, utime, start int) {
	d := filepath.Join(p.root, strconv.Itoa(pid))
	os.MkdirAll(filepath.Join(d, "fd"), 0o755)
	os.WriteFile(filepath.Join(d, "comm"), []byte(comm+"\n"), 0o644)
	stat := strconv.Itoa(pid) + " (" + comm + ") " + string(state) + " 1 1 1 0 -1 0 0 0 0 0 " + strconv.Itoa(utime) + " 1 0 0 20 0 1 0 " + strconv.Itoa(start) + " 1000 10 0\n"
	if err := os.WriteFile(filepath.Join(d, "stat"), []byte(stat), 0o644); err != nil {
		p.t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d, "statm"), []byte("100 10 5 1 0 50 0\n"), 0o644)
}

// processRecords returns the records an Update emits, decoded.
func processRecords(t *testing.T, c Collector) []map[string]any {
	t.Helper()
	var e recordingEmitter
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	dec := json.NewDecoder(&e.out)
	for {
		var r map[string]any
		if err := dec.Decode(&r); err == io.EOF {
			return recs
		} else if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
}

// want checks one record's level and some of its fields.
func wantRecord(t *testing.T, step string, recs []map[string]any, level string, fields map[string]any) {
	t.Helper()
	if len(recs) != 1 {
		t.Fatalf("%s: %d records, want 1: %v", step, len(recs), recs)
	}
	r := recs[0]
	if r["level"] != level || r["stream"] != "state" {
		t.Errorf("%s: level %v stream %v, want %s state", step, r["level"], r["stream"], level)
	}
	f := r["fields"].(map[string]any)
	for k, v := range fields {
		if f[k] != v {
			t.Errorf("%s: %s = %v, want %v (%v)", step, k, f[k], v, f)
		}
	}
}

// TestProcessTransitions follows a process watched by name through start,
// restart, zombie and a pidfile watch through a clean stop.
func TestProcessTransitions(t *testing.T) {
	p := newProcTree(t)
	run := t.TempDir()
	pidfile := filepath.Join(run, "appd.pid")
	c := mustCollector(t, "process", CollectorConfig{Proc: p.root, Options: map[string]string{"watch": "appd"}})
	setProcClock(c, 1000)
	wantRecord(t, "absent", processRecords(t, c), "info", map[string]any{"running": false, "pid": 0.0, "state": ""})
	if recs := processRecords(t, c); len(recs) != 0 {
		t.Errorf("no change, yet %v", recs)
	}
	p.set(300, "appd", 'S', 7)
	p.set(200, "appd", 'S', 1) // an older one started later?: the lower starttime wins
	p.set(100, "other", 'R', 1)
	wantRecord(t, "start", processRecords(t, c), "notice", map[string]any{"running": true, "pid": 200.0, "restarts": 0.0, "state": "S", "cpu_ticks": 2.0, "fds": 0.0})
	if recs := processRecords(t, c); len(recs) != 0 {
		t.Errorf("no change, yet %v", recs)
	}
	p.set(200, "appd", 'Z', 1) // died, not reaped: the other one takes over
	wantRecord(t, "restart", processRecords(t, c), "notice", map[string]any{"running": true, "pid": 300.0, "restarts": 1.0, "cpu_ticks": 8.0})
	p.set(300, "appd", 'Z', 7)
	wantRecord(t, "gone", processRecords(t, c), "warning", map[string]any{"running": false, "pid": 300.0, "restarts": 1.0, "state": "", "reason": "vanished", "signal": ""})
	p.set(300, "sh", 'R', 7) // the pid runs another program
	if recs := processRecords(t, c); len(recs) != 0 {
		t.Errorf("no change, yet %v", recs)
	}

	// A pidfile removed on stop is a notice, not a warning; the process
	// is followed until it exits.
	c = mustCollector(t, "process", CollectorConfig{Proc: p.root, Options: map[string]string{"watch": "pidfile:" + pidfile}})
	setProcClock(c, 1000)
	p.set(400, "appd", 'S', 1)
	os.WriteFile(pidfile, []byte("400\n"), 0o644)
	wantRecord(t, "pidfile", processRecords(t, c), "info", map[string]any{"process": pidfile, "running": true, "pid": 400.0, "runtime_s": 6.0})
	os.Remove(pidfile)
	if recs := processRecords(t, c); len(recs) != 0 {
		t.Errorf("pidfile removed, the process still runs, yet %v", recs)
	}
	p.set(400, "appd", 'Z', 1)
	wantRecord(t, "clean stop", processRecords(t, c), "notice", map[string]any{"running": false, "pid": 400.0, "reason": "stopped", "exit_code": -1.0, "runtime_s": 6.0})
	os.WriteFile(pidfile, []byte("bogus\n"), 0o644)
	var e recordingEmitter
	wantErr(t, "bad pidfile", c.Update(&e), pidfile, `want a process ID, got "bogus\n"`)
}

// TestProcessReal watches a real sleep by pidfile and by name, through
// its death.
func TestProcessReal(t *testing.T) {
	dir := t.TempDir()
	// A copy of sleep with a name of its own, so that no other process
	// on the machine matches it.
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip(err)
	}
	bin := filepath.Join(dir, "itinysleep"+strconv.Itoa(os.Getpid()%10000))
	if b, err := os.ReadFile(sleep); err != nil || os.WriteFile(bin, b, 0o755) != nil {
		t.Skip("cannot copy sleep")
	}
	cmd := exec.Command(bin, "30")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer cmd.Process.Kill()
	pid := cmd.Process.Pid
	pidfile := filepath.Join(dir, "sleep.pid")
	os.WriteFile(pidfile, []byte(strconv.Itoa(pid)+"\n"), 0o644)
	// Wait for the child to exec the copy and settle in its sleep: until
	// then its name is the test's and its descriptors come and go.
	statPath := "/proc/" + strconv.Itoa(pid) + "/stat"
	for deadline := time.Now().Add(eventWait); ; time.Sleep(5 * time.Millisecond) {
		b, _ := os.ReadFile(statPath)
		if strings.Contains(string(b), "("+filepath.Base(bin)+") S ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child does not sleep: %s", b)
		}
	}
	c := mustCollector(t, "process", CollectorConfig{Proc: "/proc", Options: map[string]string{"watch": "pidfile:" + pidfile + "," + filepath.Base(bin)}})
	recs := processRecords(t, c)
	if len(recs) != 2 {
		t.Fatalf("%d records for the running sleep: %v", len(recs), recs)
	}
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		f := r["fields"].(map[string]any)
		if r["level"] != "info" || f["running"] != true || f["pid"] != float64(pid) || f["rss_bytes"].(float64) <= 0 || f["fds"] != float64(len(fds)) || f["state"] != "S" {
			t.Errorf("record %d: %v", i, r)
		}
	}
	checkNoAllocs(t, c)
	cmd.Process.Kill()
	cmd.Wait()
	// Both watches follow the one process: each says how it ended, in
	// the state and, where the kernel told it, in an event.
	reason, events := "vanished", 0
	if c.(*processCollector).processExits() == "netlink" {
		reason, events = "killed", 2
	}
	var states []map[string]any
	recs = processRecords(t, c)
	for _, r := range recs {
		if r["name"] == "process" {
			states = append(states, r)
		}
	}
	if len(states) != 2 || len(recs) != 2+events {
		t.Fatalf("%d records after the kill, want 2 states and %d events: %v", len(recs), events, recs)
	}
	for _, r := range states {
		wantRecord(t, "killed", []map[string]any{r}, "warning", map[string]any{"running": false, "pid": float64(pid), "restarts": 0.0, "reason": reason})
	}
}

// BenchmarkProcess measures the process collector on the real /proc: a
// process followed by pidfile and by name, and a name that matches
// nothing, which scans /proc on every Update.
func BenchmarkProcess(b *testing.B) {
	pidfile := filepath.Join(b.TempDir(), "self.pid")
	os.WriteFile(pidfile, []byte(strconv.Itoa(os.Getpid())), 0o644)
	comm, _ := os.ReadFile("/proc/self/comm")
	for _, bc := range []struct{ name, watch string }{
		{"pidfile", "pidfile:" + pidfile},
		{"name", strings.TrimSpace(string(comm))},
		{"missing", "nosuchprocess"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := mustCollector(b, "process", CollectorConfig{Proc: "/proc", Options: map[string]string{"watch": bc.watch}})
			d := &discardEmitter{}
			if err := c.Update(d); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.Update(d)
			}
		})
	}
}
