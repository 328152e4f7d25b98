package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testbin"
)

// procFields are a record's fields by key.
func procFields(r codec.Record) map[string]codec.Value {
	f := map[string]codec.Value{}
	for _, x := range r.Fields {
		f[x.Key] = x.Value
	}
	return f
}

// waitRecord waits for a record of stream numbered after seq that match
// accepts, and returns it and its number.
func waitRecord(t *testing.T, data, stream, what string, seq uint64, match func(r codec.Record, f map[string]codec.Value) bool) (codec.Record, uint64) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		recs := readRing(t, filepath.Join(data, stream))
		for _, r := range recs {
			if r.Seq > seq && match(r, procFields(r)) {
				return r, r.Seq
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s record of %s after %d: %v", stream, what, seq, recs)
		}
	}
}

// running matches the state record of a process running with that pid
// and count of restarts, at that level (anyLevel: either the first state
// or a start).
func running(pid int, restarts uint64, level codec.Level) func(codec.Record, map[string]codec.Value) bool {
	return func(r codec.Record, f map[string]codec.Value) bool {
		return r.Name == catalog.Process.Name && f["running"].Bool() && f["pid"].Int() == int64(pid) &&
			f["restarts"].Uint() == restarts && (r.Level == level || level == anyLevel && (r.Level == codec.LevelInfo || r.Level == codec.LevelNotice))
	}
}

// anyLevel is the level of a process that starts as the agent starts: its
// first state (info) if it ran by the first sample, else a start (notice).
const anyLevel = codec.Level(255)

// waitSaved waits until the process collector's state file holds line.
func waitSaved(t *testing.T, data, line string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(filepath.Join(data, "process.state")); strings.Contains(string(b), "\n"+line) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the state file never held %q", line)
		}
	}
}

// processExits returns what the agent's last start says of how it learns
// of exits.
func processExits(t *testing.T, data string) string {
	t.Helper()
	exits := "no agent.start"
	for _, r := range readRing(t, filepath.Join(data, "itiny")) {
		if r.Name == catalog.AgentStart.Name {
			exits = procFields(r)["process_exits"].Str()
		}
	}
	return exits
}

// watchConfig writes a config whose process collector watches a pidfile
// in a directory of the test's, with the lines of options besides, and
// returns the config's path and the pidfile's.
func watchConfig(t *testing.T, options string) (conf, pidfile string) {
	t.Helper()
	dir := t.TempDir()
	conf, pidfile = filepath.Join(dir, "itiny.conf"), filepath.Join(dir, "appd.pid")
	if err := os.WriteFile(conf, []byte("socket = itiny.sock\n[collector process]\n"+options+"watch = pidfile:"+pidfile+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf, pidfile
}

// TestProcessExits runs the real agent watching real processes: one
// killed by SIGSEGV is a crit process.exit event, with its state; the
// restart count survives a SIGKILL of the agent, a restart made while
// the agent was down, and a reload; an exit with code 3 is an err
// event; itiny-read shows them.
func TestProcessExits(t *testing.T) {
	data := t.TempDir()
	conf, pidfile := watchConfig(t, "interval = 50ms\nsnapshot_every = 100000\n")
	p := start(t, data, conf)
	defer func() { p.stop() }()
	testbin.NeedProcEvents(t, processExits(t, data))
	a := testbin.StartChild(t, pidfile, "exec sleep 600", "sleep")
	_, n := waitRecord(t, data, "state", "the first process", 0, running(a.Cmd.Process.Pid, 0, anyLevel))
	a.End(syscall.SIGSEGV)
	ev, _ := waitRecord(t, data, "events", "the crash", 0, func(r codec.Record, f map[string]codec.Value) bool {
		return r.Name == catalog.ProcessExit.Name
	})
	if f := procFields(ev); ev.Level != codec.LevelCrit || f["signal"].Str() != "SIGSEGV" || f["reason"].Str() != "killed" || f["pid"].Int() != int64(a.Cmd.Process.Pid) {
		t.Errorf("process.exit %v: %v", ev.Level, f)
	}
	b := testbin.StartChild(t, pidfile, "exec sleep 600", "sleep")
	_, n = waitRecord(t, data, "state", "the restart", n, running(b.Cmd.Process.Pid, 1, codec.LevelNotice))

	// SIGKILL: the next agent finds the same process, and the count.
	// The agent saves them just after the record: wait for it, lest the
	// next start count the restart again (a second notice, the same
	// count).
	waitSaved(t, data, "1 "+strconv.Itoa(b.Cmd.Process.Pid)+" ")
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	p = start(t, data, conf)
	_, n = waitRecord(t, data, "state", "the same process after a SIGKILL", n, running(b.Cmd.Process.Pid, 1, codec.LevelInfo))

	// A restart while the agent is down is counted at its start.
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	b.End(syscall.SIGKILL)
	c := testbin.StartChild(t, pidfile, "read x; exit 3", "")
	p = start(t, data, conf)
	_, n = waitRecord(t, data, "state", "a restart while the agent was down", n, running(c.Cmd.Process.Pid, 2, codec.LevelNotice))

	// A reload keeps the count: the collector saves it in the sample that
	// changed it, and the reload replaces it between samples.
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, p, "reloaded")
	_, n = waitRecord(t, data, "state", "the first state after the reload", n, running(c.Cmd.Process.Pid, 2, codec.LevelInfo))

	// Exit 3: an err event.
	c.End(0)
	state, _ := waitRecord(t, data, "state", "exit 3", n, func(r codec.Record, f map[string]codec.Value) bool {
		return r.Name == catalog.Process.Name && !f["running"].Bool()
	})
	if f := procFields(state); f["reason"].Str() != "exited" || f["exit_code"].Int() != 3 || f["restarts"].Uint() != 2 || state.Level != codec.LevelWarning {
		t.Errorf("exit 3: %v %v", state.Level, f)
	}
	waitRecord(t, data, "events", "exit 3's event", 0, func(r codec.Record, f map[string]codec.Value) bool {
		return r.Name == catalog.ProcessExit.Name && r.Level == codec.LevelErr && f["exit_code"].Int() == 3
	})

	// An end while the agent is down is recorded at its next start, as
	// vanished (how it ended, the agent cannot know), and only once.
	d := testbin.StartChild(t, pidfile, "exec sleep 600", "sleep")
	_, n = waitRecord(t, data, "state", "the last restart", n, running(d.Cmd.Process.Pid, 3, codec.LevelNotice))
	waitSaved(t, data, "3 "+strconv.Itoa(d.Cmd.Process.Pid)+" ")
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	d.End(syscall.SIGKILL)
	gone := func(r codec.Record, f map[string]codec.Value) bool {
		return r.Name == catalog.Process.Name && !f["running"].Bool()
	}
	for i, want := range []struct {
		reason string
		level  codec.Level
	}{{"vanished", codec.LevelWarning}, {"", codec.LevelInfo}} {
		p = start(t, data, conf)
		state, n = waitRecord(t, data, "state", "the state at a start after an end while the agent was down", n, gone)
		if f := procFields(state); f["reason"].Str() != want.reason || state.Level != want.level || f["pid"].Int() != int64(d.Cmd.Process.Pid) {
			t.Errorf("start %d after the end: %v %v, want %q at %v", i+1, state.Level, f, want.reason, want.level)
		}
		waitSaved(t, data, "3 "+strconv.Itoa(d.Cmd.Process.Pid)+" 0 ") // its end recorded
		if i == 0 {
			p.cmd.Process.Signal(syscall.SIGKILL)
			p.cmd.Wait()
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logText())
	}

	// itiny-read shows both exits among the errors.
	reader, err := testbin.Build(t.TempDir(), "../itiny-read")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(reader, "-p", "err", "-t", "process", data).CombinedOutput()
	if err != nil {
		t.Fatalf("itiny-read: %v\n%s", err, out)
	}
	if text := string(out); !strings.Contains(text, "process.exit") || !strings.Contains(text, "SIGSEGV") || !strings.Contains(text, "exit_code=3") {
		t.Errorf("itiny-read -p err -t process:\n%s", text)
	}
}

// TestProcessExitsPolled: with proc_events = false the agent polls, says
// so in agent.start, and of a process killed by SIGSEGV records only
// what polling knows: it vanished; no process.exit event.
func TestProcessExitsPolled(t *testing.T) {
	data := t.TempDir()
	conf, pidfile := watchConfig(t, "interval = 50ms\nproc_events = false\n")
	p := start(t, data, conf)
	defer p.stop()
	if exits := processExits(t, data); exits != "poll" {
		t.Errorf("agent.start says process_exits %q, want poll", exits)
	}
	a := testbin.StartChild(t, pidfile, "exec sleep 600", "sleep")
	_, n := waitRecord(t, data, "state", "the process", 0, running(a.Cmd.Process.Pid, 0, anyLevel))
	a.End(syscall.SIGSEGV)
	state, _ := waitRecord(t, data, "state", "its end", n, func(r codec.Record, f map[string]codec.Value) bool {
		return r.Name == catalog.Process.Name && !f["running"].Bool()
	})
	if f := procFields(state); f["reason"].Str() != "vanished" || f["signal"].Str() != "" || f["exit_code"].Int() != -1 || state.Level != codec.LevelWarning {
		t.Errorf("polled end: %v %v", state.Level, f)
	}
	for _, r := range readRing(t, filepath.Join(data, "events")) {
		if r.Name == catalog.ProcessExit.Name {
			t.Errorf("a process.exit event without the kernel's word: %v", procFields(r))
		}
	}
}

// TestProcessExitsAcrossReloads: a watched process that exits as the
// agent reloads has its end recorded, with its code, once: the reload's
// collector takes the socket and the processes the one it replaces
// followed. Each child exits just after a reload, before the new
// collector's first sample (a second later).
func TestProcessExitsAcrossReloads(t *testing.T) {
	data := t.TempDir()
	conf, pidfile := watchConfig(t, "interval = 1s\nsnapshot_every = 100000\n")
	p := start(t, data, conf)
	defer p.stop()
	testbin.NeedProcEvents(t, processExits(t, data))
	n := uint64(0)
	for i := 1; i <= 4; i++ {
		ch := testbin.StartChild(t, pidfile, "read x; exit "+strconv.Itoa(i), "")
		_, n = waitRecord(t, data, "state", "child "+strconv.Itoa(i), n, running(ch.Cmd.Process.Pid, uint64(i-1), anyLevel))
		p.cmd.Process.Signal(syscall.SIGHUP)
		waitLogCount(t, p, "reloaded", i)
		ch.End(0)
		end, m := waitRecord(t, data, "state", "child "+strconv.Itoa(i)+"'s end", n, func(r codec.Record, f map[string]codec.Value) bool {
			return r.Name == catalog.Process.Name && !f["running"].Bool()
		})
		if f := procFields(end); f["reason"].Str() != "exited" || f["exit_code"].Int() != int64(i) || f["pid"].Int() != int64(ch.Cmd.Process.Pid) || end.Level != codec.LevelWarning {
			t.Errorf("child %d's end: %v %v", i, end.Level, f)
		}
		n = m
	}
	// One end a child, one process.exit each (codes 1 to 4).
	ends, events := 0, 0
	for _, r := range readRing(t, filepath.Join(data, "state")) {
		if r.Name == catalog.Process.Name && !procFields(r)["running"].Bool() && r.Level != codec.LevelInfo {
			ends++
		}
	}
	for _, r := range readRing(t, filepath.Join(data, "events")) {
		if r.Name == catalog.ProcessExit.Name {
			events++
		}
	}
	if ends != 4 || events != 4 {
		t.Errorf("%d ends and %d process.exit events recorded, want 4 of each", ends, events)
	}
}
