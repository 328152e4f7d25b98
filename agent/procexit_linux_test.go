//go:build !noprocess

package agent

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testbin"
)

func TestEndOf(t *testing.T) {
	killed := func(sig syscall.Signal, core bool) procEnd {
		return procEnd{reason: endKilled, code: -1, sig: sig, signal: signalName(sig), core: core}
	}
	for _, tc := range []struct {
		status uint32
		want   procEnd
		level  codec.Level // of process.exit; 0: none
	}{
		{0, procEnd{reason: endExited}, 0},
		{3 << 8, procEnd{reason: endExited, code: 3}, codec.LevelErr},
		{uint32(syscall.SIGSEGV), killed(syscall.SIGSEGV, false), codec.LevelCrit},
		{uint32(syscall.SIGSEGV) | 0x80, killed(syscall.SIGSEGV, true), codec.LevelCrit},
		{uint32(syscall.SIGABRT), killed(syscall.SIGABRT, false), codec.LevelCrit},
		{uint32(syscall.SIGKILL), killed(syscall.SIGKILL, false), codec.LevelErr},
		{uint32(syscall.SIGUSR1) | 0x80, killed(syscall.SIGUSR1, true), codec.LevelCrit},
		{uint32(syscall.SIGTERM), killed(syscall.SIGTERM, false), codec.LevelWarning},
		{34, killed(34, false), codec.LevelErr},
		{0x7f | 19<<8, procEnd{reason: endVanished, code: -1}, 0}, // stopped: not an exit
	} {
		got := endOf(tc.status)
		level, ok := got.eventLevel()
		if fmt.Sprint(got) != fmt.Sprint(tc.want) || ok != (tc.level != 0) || ok && level != tc.level {
			t.Errorf("%#x: %+v, event %v %v; want %+v, %v", tc.status, got, level, ok, tc.want, tc.level)
		}
	}
}

// TestSignalName checks the names against this architecture's numbers.
func TestSignalName(t *testing.T) {
	for sig, name := range map[syscall.Signal]string{
		syscall.SIGHUP: "SIGHUP", syscall.SIGQUIT: "SIGQUIT", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS",
		syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL", syscall.SIGSEGV: "SIGSEGV", syscall.SIGPIPE: "SIGPIPE",
		syscall.SIGTERM: "SIGTERM", syscall.SIGCHLD: "SIGCHLD", syscall.SIGSTOP: "SIGSTOP", syscall.SIGXFSZ: "SIGXFSZ",
		syscall.SIGWINCH: "SIGWINCH", syscall.SIGPWR: "SIGPWR", syscall.SIGSYS: "SIGSYS", 34: "SIG34",
	} {
		if got := signalName(sig); got != name {
			t.Errorf("signal %d: %s, want %s", sig, got, name)
		}
	}
}

// exitRecorder keeps the records emitted from any goroutine, as JSON
// decoded, and wakes those waiting for one.
type exitRecorder struct {
	mu   sync.Mutex
	cond *sync.Cond
	recs []map[string]any
	t    *testing.T
}

func newExitRecorder(t *testing.T) *exitRecorder {
	r := &exitRecorder{t: t}
	r.cond = sync.NewCond(&r.mu)
	return r
}

func (r *exitRecorder) Emit(stream string, rec *codec.Record) error {
	rec.Stream = stream
	if c := catalog.Lookup(rec.Name); c == nil {
		r.t.Errorf("record %q is not in the catalogue", rec.Name)
	} else if err := c.Check(stream, rec); err != nil {
		r.t.Error(err)
	}
	b, err := codec.AppendJSON(nil, rec)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	r.mu.Lock()
	r.recs = append(r.recs, m)
	r.cond.Broadcast()
	r.mu.Unlock()
	return nil
}

// wait returns the first record match accepts, once emitted, and fails
// the test if none is within a minute: a deadline, not a measure.
func (r *exitRecorder) wait(what string, match func(m map[string]any) bool) map[string]any {
	r.t.Helper()
	expired := false
	timer := time.AfterFunc(time.Minute, func() {
		r.mu.Lock()
		expired = true
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		for _, m := range r.recs {
			if match(m) {
				return m
			}
		}
		if expired {
			r.t.Fatalf("no record of %s: %v", what, r.recs)
		}
		r.cond.Wait()
	}
}

func (r *exitRecorder) all() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.recs...)
}

func recFields(m map[string]any) map[string]any { f, _ := m["fields"].(map[string]any); return f }

// isProcess matches the record of a watch's process that ended (running
// false), or of the event, by name.
func isProcess(name, watch string, running bool) func(map[string]any) bool {
	return func(m map[string]any) bool {
		f := recFields(m)
		return m["name"] == name && f["process"] == watch && (name != "process" || f["running"] == running)
	}
}

// checkEnd checks a record of how a process ended against its wait
// status.
func checkEnd(t *testing.T, what string, m map[string]any, c *testbin.Child, ws syscall.WaitStatus) {
	t.Helper()
	f := recFields(m)
	want := map[string]any{"reason": "exited", "exit_code": float64(ws.ExitStatus()), "signal": "", "core": false}
	if ws.Signaled() {
		want = map[string]any{"reason": "killed", "exit_code": -1.0, "signal": signalName(ws.Signal()), "core": ws.CoreDump()}
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s: %s = %v, want %v (%v)", what, k, f[k], v, f)
		}
	}
	// Within the time the test saw it live, a tick either way: start
	// times and the clock count in ticks.
	if rt, _ := f["runtime_s"].(float64); rt < 0 || rt > c.Lived.Seconds()+0.02 {
		t.Errorf("%s: runtime_s %v, but it lived %v", what, f["runtime_s"], c.Lived)
	}
}

// TestProcessExitReasons: with the kernel's process events (as root),
// real processes killed by SIGSEGV (core dumps allowed), SIGKILL and
// SIGTERM, or exiting with 3 and 0, are recorded as they exit, with no
// sample taken: the state says how each ended, as its parent's wait
// status does, and process.exit tells all but the exit 0, at its level.
func TestProcessExitReasons(t *testing.T) {
	dir := t.TempDir()
	before := openFDs(t)
	cases := []struct {
		name, script, execs string
		sig                 syscall.Signal
		level               string // of the state record
		event               string // of process.exit; "": none
	}{
		{"segv", "ulimit -c unlimited; exec sleep 600", "sleep", syscall.SIGSEGV, "warning", "crit"},
		{"kill", "exec sleep 600", "sleep", syscall.SIGKILL, "warning", "err"},
		{"term", "exec sleep 600", "sleep", syscall.SIGTERM, "warning", "warning"},
		{"exit3", "read x; exit 3", "", 0, "warning", "err"},
		{"exit0", "read x; exit 0", "", 0, "notice", ""},
	}
	children := make([]*testbin.Child, len(cases))
	var watch []string
	for i, tc := range cases {
		children[i] = testbin.StartChild(t, filepath.Join(dir, tc.name+".pid"), tc.script, tc.execs)
		watch = append(watch, "pidfile:"+children[i].Pidfile)
	}
	rec := newExitRecorder(t)
	c := mustCollector(t, "process", CollectorConfig{Proc: "/proc", Options: map[string]string{"watch": strings.Join(watch, ",")}, async: rec})
	p := c.(*processCollector)
	testbin.NeedProcEvents(t, p.processExits())
	if err := c.Update(rec); err != nil {
		t.Fatal(err)
	}
	age := make([]float64, len(cases)) // runtime_s while running
	for i, tc := range cases {
		age[i] = recFields(rec.wait(tc.name+" running", isProcess("process", children[i].Pidfile, true)))["runtime_s"].(float64)
	}
	for i, tc := range cases {
		ws := children[i].End(tc.sig)
		m := rec.wait(tc.name+"'s end", isProcess("process", children[i].Pidfile, false))
		checkEnd(t, tc.name, m, children[i], ws)
		if rt := recFields(m)["runtime_s"].(float64); rt < age[i] {
			t.Errorf("%s ran %v s, but was %v s old when running", tc.name, rt, age[i])
		}
		if m["level"] != tc.level || recFields(m)["pid"] != float64(children[i].Cmd.Process.Pid) {
			t.Errorf("%s: level %v, pid %v", tc.name, m["level"], recFields(m)["pid"])
		}
		if tc.event != "" {
			ev := rec.wait(tc.name+"'s event", isProcess("process.exit", children[i].Pidfile, false))
			checkEnd(t, tc.name+" event", ev, children[i], ws)
			if ev["level"] != tc.event || ev["stream"] != "events" {
				t.Errorf("%s: event %v in %v, want %s", tc.name, ev["level"], ev["stream"], tc.event)
			}
		}
	}
	// An Update waits for the goroutine's records under way: all are in.
	if err := c.Update(rec); err != nil {
		t.Fatal(err)
	}
	events := 0
	for _, m := range rec.all() {
		if m["name"] == "process.exit" {
			events++
		}
	}
	if events != 4 {
		t.Errorf("%d process.exit events, want 4 (none for exit 0)", events)
	}
	c.(*processCollector).Close()
	for _, ch := range children {
		ch.Stdin.Close() // waited for: no descriptor of theirs is left
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d descriptors open before, %d after Close", before, after)
	}
}

// TestProcessExitPolled: without the kernel's events (proc_events =
// false), a process killed by SIGSEGV is found gone by the next sample,
// and the record says what is known: it vanished; no event claims more.
func TestProcessExitPolled(t *testing.T) {
	dir := t.TempDir()
	ch := testbin.StartChild(t, filepath.Join(dir, "segv"+".pid"), "exec sleep 600", "sleep")
	c := mustCollector(t, "process", CollectorConfig{Proc: "/proc", Options: map[string]string{"watch": "pidfile:" + ch.Pidfile, "proc_events": "false"}})
	if got := c.(*processCollector).processExits(); got != "poll" {
		t.Errorf("process_exits %q, want poll", got)
	}
	wantRecord(t, "running", processRecords(t, c), "info", map[string]any{"running": true, "reason": ""})
	ch.End(syscall.SIGSEGV)
	recs := processRecords(t, c)
	wantRecord(t, "vanished", recs, "warning", map[string]any{"running": false, "reason": "vanished", "exit_code": -1.0, "signal": "", "core": false})
}

// TestProcessExitsFiltered: the kernel passes the socket the exits of
// the processes followed only; those of others never reach it.
func TestProcessExitsFiltered(t *testing.T) {
	dir := t.TempDir()
	ch := testbin.StartChild(t, filepath.Join(dir, "watched"+".pid"), "exec sleep 600", "sleep")
	c := mustCollector(t, "process", CollectorConfig{Proc: "/proc", Options: map[string]string{"watch": "pidfile:" + ch.Pidfile}})
	p := c.(*processCollector)
	testbin.NeedProcEvents(t, p.processExits())
	defer p.Close()
	processRecords(t, c)
	for i := 0; i < 20; i++ {
		if err := exec.Command("true").Run(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.ev.recv(); err != syscall.EAGAIN {
		t.Fatalf("after 20 other processes exited, the socket reads %v, want EAGAIN", err)
	}
	ws := ch.End(syscall.SIGKILL)
	rec := newExitRecorder(t)
	if err := p.drain(rec); err != nil {
		t.Fatal(err)
	}
	if recs := rec.all(); len(recs) != 2 || recs[0]["name"] != "process" || recs[1]["name"] != "process.exit" {
		t.Fatalf("the watched exit: %v", recs)
	}
	checkEnd(t, "the watched exit", rec.all()[0], ch, ws)
}

// TestProcessExitsLost: when the kernel's queue overflows, the exits
// lost read vanished, those read say how, and process.exits_lost counts
// the overflow; nothing waits.
func TestProcessExitsLost(t *testing.T) {
	dir := t.TempDir()
	var children []*testbin.Child
	var watch []string
	for i := 0; i < 8; i++ {
		ch := testbin.StartChild(t, filepath.Join(dir, "p"+strconv.Itoa(i)+".pid"), "exec sleep 600", "sleep")
		children = append(children, ch)
		watch = append(watch, "pidfile:"+ch.Pidfile)
	}
	c := mustCollector(t, "process", CollectorConfig{Proc: "/proc", Options: map[string]string{"watch": strings.Join(watch, ",")}})
	p := c.(*processCollector)
	testbin.NeedProcEvents(t, p.processExits())
	defer p.Close()
	// The smallest queue the kernel allows: two or three messages.
	if err := syscall.SetsockoptInt(p.ev.fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1); err != nil {
		t.Fatal(err)
	}
	if recs := processRecords(t, c); len(recs) != len(children) {
		t.Fatalf("%d records, want %d", len(recs), len(children))
	}
	for _, ch := range children {
		ch.End(syscall.SIGKILL)
	}
	reasons := map[string]int{}
	lost := 0
	for _, m := range processRecords(t, c) {
		f := recFields(m)
		switch m["name"] {
		case "process":
			reasons[f["reason"].(string)]++
		case "process.exits_lost":
			lost++
			if f["overflows"].(float64) < 1 || m["level"] != "warning" {
				t.Errorf("exits lost: %v", m)
			}
		}
	}
	if lost != 1 || reasons["killed"] < 1 || reasons["vanished"] < 1 || reasons["killed"]+reasons["vanished"] != len(children) {
		t.Errorf("%d process.exits_lost, ends %v", lost, reasons)
	}
}

// TestProcessExitsInAgent runs an agent watching a real process through
// a crash, a restart and a reload: agent.start says the kernel's events
// are used; the crash is a process.exit event at crit in the events ring,
// besides the state; the restart count survives the reload.
func TestProcessExitsInAgent(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "appd.pid")
	cfg := testConfig(t, "[collector process]\ninterval = 50ms\nsnapshot_every = 100000\nwatch = pidfile:"+pidfile+"\n")
	cfg.Collectors["process"].Enabled = true
	a, err := New(cfg, Options{Log: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- a.Run(t.Context()) }()
	defer func() {
		a.Close()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	exits := ""
	for _, r := range readStream(t, cfg.Data, StreamSelf) {
		for _, f := range r.Fields {
			if r.Name == catalog.AgentStart.Name && f.Key == "process_exits" {
				exits = f.Value.Str()
			}
		}
	}
	testbin.NeedProcEvents(t, exits)
	// waitState waits for a state record after the first n that match.
	waitState := func(what string, n int, match func(f map[string]codec.Value) bool) int {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			recs := readStream(t, cfg.Data, StreamState)
			for i := n; i < len(recs); i++ {
				f := map[string]codec.Value{}
				for _, x := range recs[i].Fields {
					f[x.Key] = x.Value
				}
				if recs[i].Name == "process" && match(f) {
					return i + 1
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no state record of %s", what)
			}
		}
	}
	running := func(pid int, restarts uint64) func(f map[string]codec.Value) bool {
		return func(f map[string]codec.Value) bool {
			return f["running"].Bool() && f["pid"].Int() == int64(pid) && f["restarts"].Uint() == restarts
		}
	}
	a1 := testbin.StartChild(t, filepath.Join(dir, "appd"+".pid"), "exec sleep 600", "sleep")
	n := waitState("the first process", 0, running(a1.Cmd.Process.Pid, 0))
	ws := a1.End(syscall.SIGSEGV)
	n = waitState("its crash", n, func(f map[string]codec.Value) bool {
		return !f["running"].Bool() && f["reason"].Str() == "killed" && f["signal"].Str() == "SIGSEGV"
	})
	var ev *codec.Record
	for deadline := time.Now().Add(time.Minute); ev == nil; time.Sleep(10 * time.Millisecond) {
		for _, r := range readStream(t, cfg.Data, StreamEvents) {
			if r.Name == catalog.ProcessExit.Name {
				ev = &r
			}
		}
		if ev == nil && time.Now().After(deadline) {
			t.Fatal("no process.exit event")
		}
	}
	if ev.Level != codec.LevelCrit || ev.Source != "process" || ws.Signal() != syscall.SIGSEGV {
		t.Errorf("process.exit %+v, the wait status %v", ev, ws)
	}
	a2 := testbin.StartChild(t, filepath.Join(dir, "appd"+".pid"), "exec sleep 600", "sleep")
	waitState("the restart", n, running(a2.Cmd.Process.Pid, 1))
	// No snapshot is due: a record of a2 after these is the reload's.
	n = len(readStream(t, cfg.Data, StreamState))
	if err := a.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	n = waitState("the first state after the reload", n, running(a2.Cmd.Process.Pid, 1))
	a2.End(syscall.SIGKILL)
	a3 := testbin.StartChild(t, filepath.Join(dir, "appd"+".pid"), "exec sleep 600", "sleep")
	waitState("the restart after the reload", n, running(a3.Cmd.Process.Pid, 2))
}

// TestProcessExitsOtherNamespace: a procfs of another PID namespace (a
// container's, as /proc/PID/root/proc gives it) numbers processes as the
// kernel's events do not: the collector polls, and says why.
func TestProcessExitsOtherNamespace(t *testing.T) {
	dir := t.TempDir()
	// unshare, in new PID and mount namespaces, mounts the new
	// namespace's procfs on dir, seen through /proc/PID/root.
	cmd := exec.Command("unshare", "--pid", "--fork", "--kill-child", "--mount-proc="+dir, "sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Skipf("unshare: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	proc := filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "root", dir)
	// Its pid 1 is unshare's child until that has exec'd sleep.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if comm, err := os.ReadFile(filepath.Join(proc, "1/comm")); err == nil && string(comm) == "sleep\n" {
			break
		}
		if cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Skipf("unshare --pid --mount-proc made no procfs (not privileged?): %s", proc)
		}
	}
	c := mustCollector(t, "process", CollectorConfig{Proc: proc, Options: map[string]string{"watch": "sleep"}})
	defer c.(*processCollector).Close()
	if got, want := c.(*processCollector).processExits(), "poll: "+proc+" is another PID namespace's procfs"; got != want {
		t.Errorf("process_exits %q, want %q", got, want)
	}
	// Polling there finds the namespace's sleep, its pid 1.
	wantRecord(t, "the namespace's sleep", processRecords(t, c), "info", map[string]any{"running": true, "pid": 1.0})
}

// Programs whose threads end otherwise than all at once, for the tests
// below: each waits for a line on stdin.
const (
	// main ends its thread, the leader, at the line; the other thread
	// exits the process with 5 at SIGUSR1.
	leaderExitsC = `#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static sigset_t usr1;

static void *worker(void *arg) {
	int sig;
	sigwait(&usr1, &sig);
	exit(5);
}

int main(void) {
	pthread_t t;
	char b[16];
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	pthread_create(&t, NULL, worker, NULL);
	read(0, b, sizeof b);
	pthread_exit(NULL);
}
`
	// A thread other than main execs sh at the line (as Go's
	// syscall.Exec from a locked thread does), which exits with 7 at the
	// end of stdin.
	threadExecsC = `#include <pthread.h>
#include <unistd.h>

static void *worker(void *arg) {
	char b[16];
	read(0, b, sizeof b);
	execl("/bin/sh", "sh", "-c", "read x; exit 7", (char *)0);
	_exit(127);
}

int main(void) {
	pthread_t t;
	pthread_create(&t, NULL, worker, NULL);
	for (;;)
		pause();
}
`
	// A thread other than main dereferences NULL at the end of stdin,
	// core dumps allowed.
	threadCrashesC = `#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

static void *worker(void *arg) {
	char b[16];
	read(0, b, sizeof b);
	*(volatile int *)0 = 1;
	return 0;
}

int main(void) {
	struct rlimit r;
	pthread_t t;
	getrlimit(RLIMIT_CORE, &r);
	r.rlim_cur = r.rlim_max;
	setrlimit(RLIMIT_CORE, &r);
	pthread_create(&t, NULL, worker, NULL);
	pthread_join(t, NULL);
	return 0;
}
`
)

// threadsChild builds src, starts it as a child watched by its pidfile,
// and a collector recording its exits as they happen, with a full record
// at every sample.
func threadsChild(t *testing.T, name, src string) (*testbin.Child, *processCollector, *exitRecorder) {
	t.Helper()
	dir := t.TempDir()
	testbin.CC(t, dir, name, src)
	ch := testbin.StartChild(t, filepath.Join(dir, name+".pid"), "exec ./"+name, name)
	rec := newExitRecorder(t)
	c := mustCollector(t, "process", CollectorConfig{Proc: "/proc", Options: map[string]string{"watch": "pidfile:" + ch.Pidfile, "snapshot_every": "1"}, async: rec})
	p := c.(*processCollector)
	t.Cleanup(func() { p.Close() })
	testbin.NeedProcEvents(t, p.processExits())
	if err := p.Update(rec); err != nil {
		t.Fatal(err)
	}
	rec.wait("running", isProcess("process", ch.Pidfile, true))
	return ch, p, rec
}

// waitStat waits until /proc/PID/stat satisfies ok.
func waitStat(t *testing.T, pid int, what string, ok func(st procStat) bool) procStat {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			t.Fatal(err)
		}
		_, st, err := parseProcStat("/proc", pid, nil, b)
		if err != nil {
			t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d never %s: %s", pid, what, b)
		}
	}
}

// ends returns the records of the ends of the watch's process: not
// running, not a snapshot's (info).
func ends(rec *exitRecorder, watch string) []map[string]any {
	var ms []map[string]any
	for _, m := range rec.all() {
		if isProcess("process", watch, false)(m) && m["level"] != "info" {
			ms = append(ms, m)
		}
	}
	return ms
}

// TestProcessExitLeaderFirst: the leader's exit (main's pthread_exit,
// exit code 0) while another thread runs on is not the process's end: a
// sample then finds it running, a zombie leader; the end is the last
// thread's exit(5), recorded as it happens, with its run time to then.
func TestProcessExitLeaderFirst(t *testing.T) {
	ch, p, rec := threadsChild(t, "leader", leaderExitsC)
	// Polling, a sample finds it running too.
	polled := mustCollector(t, "process", CollectorConfig{Proc: "/proc", Options: map[string]string{"watch": "pidfile:" + ch.Pidfile, "snapshot_every": "1", "proc_events": "false"}})
	defer polled.(*processCollector).Close()
	processRecords(t, polled)
	ch.Stdin.Write([]byte("\n"))
	pid := ch.Cmd.Process.Pid
	if st := waitStat(t, pid, "a zombie leader", func(st procStat) bool { return st.state == 'Z' }); st.threads != 2 {
		t.Fatalf("the zombie leader has %d threads, want 2", st.threads)
	}
	n := len(rec.all())
	if err := p.Update(rec); err != nil {
		t.Fatal(err)
	}
	after := rec.all()[n:]
	if len(after) != 1 || recFields(after[0])["running"] != true || recFields(after[0])["state"] != "Z" {
		t.Fatalf("the sample after the leader's exit: %v, want it running, its leader a zombie", after)
	}
	wantRecord(t, "polled after the leader's exit", processRecords(t, polled), "info", map[string]any{"running": true, "state": "Z"})
	ws := ch.End(syscall.SIGUSR1)
	// Recorded as the exits are read, or by the sample if they came
	// before the last thread was released.
	if err := p.Update(rec); err != nil {
		t.Fatal(err)
	}
	m := rec.wait("the end", isProcess("process", ch.Pidfile, false))
	checkEnd(t, "the end", m, ch, ws)
	if ws.ExitStatus() != 5 || recFields(m)["runtime_s"].(float64) < recFields(after[0])["runtime_s"].(float64) {
		t.Errorf("the end %v, after a sample of it running %v", recFields(m), recFields(after[0]))
	}
	if e := ends(rec, ch.Pidfile); len(e) != 1 {
		t.Errorf("%d ends recorded, want 1: %v", len(e), e)
	}
}

// TestProcessExitThreadExecs: a thread other than the leader execs, and
// takes its pid: the kernel tells the leader's exit, but the process
// runs on, the same one (same pid, same start time, no restart); its end
// is sh's exit 7.
func TestProcessExitThreadExecs(t *testing.T) {
	ch, p, rec := threadsChild(t, "execs", threadExecsC)
	ch.Stdin.Write([]byte("\n"))
	pid := ch.Cmd.Process.Pid
	waitStat(t, pid, "sh, alone", func(st procStat) bool { return string(st.comm) == "sh" && st.threads == 1 })
	if err := p.Update(rec); err != nil {
		t.Fatal(err)
	}
	ws := ch.End(0)
	m := rec.wait("the end", isProcess("process", ch.Pidfile, false))
	checkEnd(t, "sh's end", m, ch, ws)
	if err := p.Update(rec); err != nil {
		t.Fatal(err)
	}
	for _, m := range rec.all() {
		if f := recFields(m); m["name"] == "process" && (f["pid"] != float64(pid) || f["restarts"] != 0.0 || f["running"] == true && m["level"] != "info") {
			t.Errorf("a record of another process, or of a start: %v", m)
		}
	}
	if e := ends(rec, ch.Pidfile); len(e) != 1 || ws.ExitStatus() != 7 {
		t.Errorf("%d ends recorded, want 1 (exit %d): %v", len(e), ws.ExitStatus(), e)
	}
}

// TestProcessExitThreadCore: a thread other than the leader crashes
// (SIGSEGV) and dumps core: its exit alone carries the core flag, which
// the record has.
func TestProcessExitThreadCore(t *testing.T) {
	ch, p, rec := threadsChild(t, "crashes", threadCrashesC)
	ws := ch.End(0)
	if !ws.Signaled() || ws.Signal() != syscall.SIGSEGV {
		t.Fatalf("the program ended with %v, want SIGSEGV", ws)
	}
	if !ws.CoreDump() {
		pattern, _ := os.ReadFile("/proc/sys/kernel/core_pattern")
		t.Skipf("the kernel dumped no core (core_pattern %q, RLIMIT_CORE's hard limit), so none to tell", strings.TrimSpace(string(pattern)))
	}
	// A core_pattern of a file name put the core in the program's
	// directory, the test's: removed with it.
	if err := p.Update(rec); err != nil { // as in TestProcessExitLeaderFirst
		t.Fatal(err)
	}
	m := rec.wait("the crash", isProcess("process", ch.Pidfile, false))
	checkEnd(t, "the crash", m, ch, ws)
	ev := rec.wait("the crash's event", isProcess("process.exit", ch.Pidfile, false))
	checkEnd(t, "the crash's event", ev, ch, ws)
	if ev["level"] != "crit" {
		t.Errorf("process.exit at %v, want crit", ev["level"])
	}
}
