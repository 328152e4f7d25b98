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
		if r.Name == catalog.AgentStart.Name {
			exits = r.Fields[len(r.Fields)-1].Value.Str()
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
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(proc, "1/stat")); err == nil {
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
