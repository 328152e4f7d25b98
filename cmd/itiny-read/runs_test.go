package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/testbin"
)

// lockedBuffer keeps what a process writes, for reading while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// agentProc is the real agent, run on a data directory.
type agentProc struct {
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{} // closed when it has exited
	err  error         // how, once done
}

func startAgent(t *testing.T, bin, data, config string) *agentProc {
	t.Helper()
	p := &agentProc{cmd: exec.Command(bin, "run", "--data", data, "--config", config), log: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	return p
}

// stop sends sig to the agent and returns how it exited.
func (p *agentProc) stop(sig os.Signal) error {
	p.cmd.Process.Signal(sig)
	<-p.done
	return p.err
}

// waitFor waits until cond holds, and fails with the agent's log if the
// agent exits first or cond does not hold within a minute: a wait for a
// state, not for a time.
func (p *agentProc) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		select {
		case <-p.done:
			t.Fatalf("agent pid %d exited (%v), never %s; its log:\n%s", p.cmd.Process.Pid, p.err, what, p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent pid %d: never %s; its log:\n%s", p.cmd.Process.Pid, what, p.log.String())
		}
	}
}

// TestRunsAfterKill runs the real agent, kills it with SIGKILL, starts it
// again, reloads and stops it with SIGTERM, and starts it once more; the
// real itiny-read then tells the three runs apart, marks the downtimes
// in the records view, and says the last run is running.
func TestRunsAfterKill(t *testing.T) {
	itiny, err := testbin.Build(t.TempDir(), "../itiny")
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	config := filepath.Join(t.TempDir(), "itiny.conf")
	if err := os.WriteFile(config, []byte("socket =\n[stream metrics]\nbudget = 2MiB\nsegment = 64KiB\nmode = continuous\n[collector load]\ninterval = 50ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	loads := func() int {
		out, _, _ := run(t, "--stream", "metrics", data)
		return strings.Count(out, " load1=")
	}
	samples := func(n int) func() bool { return func() bool { return loads() >= n } } // n load samples in the rings
	a := startAgent(t, itiny, data, config)
	a.waitFor(t, "sampled", samples(3))
	a.stop(syscall.SIGKILL)

	b := startAgent(t, itiny, data, config)
	b.waitFor(t, "started", func() bool { return strings.Contains(b.log.String(), "running:") })
	b.cmd.Process.Signal(syscall.SIGHUP)
	b.waitFor(t, "reloaded", func() bool { return strings.Contains(b.log.String(), "reloaded") })
	b.waitFor(t, "sampled", samples(6))
	if err := b.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, b.log.String())
	}

	n := loads()
	c := startAgent(t, itiny, data, config)
	c.waitFor(t, "sampled", samples(n+1))
	runs := runsJSON(t, data, 3)
	for i, p := range []*agentProc{a, b, c} {
		if runs[i].PID != int64(p.cmd.Process.Pid) {
			t.Errorf("run %d: pid %d, want %d", i, runs[i].PID, p.cmd.Process.Pid)
		}
		if !strings.Contains(runs[i].Config, "[collector load]\nenabled = true\ninterval = 50ms\n") || runs[i].ConfigCut {
			t.Errorf("run %d: configuration in effect %q", i, runs[i].Config)
		}
	}
	killed, stopped, running := runs[0], runs[1], runs[2]
	if killed.End != "crashed" || killed.Cause != "it crashed or was killed" || killed.Down == nil || *killed.Down < 0 ||
		killed.Rebooted || len(killed.Reloads) != 0 || killed.Last.Stream == "" || killed.Last.Wall.After(stopped.Start) {
		t.Errorf("the killed run: %+v", killed)
	}
	if stopped.Clean || stopped.End != "stopped" || stopped.Reason != "SIGTERM" || len(stopped.Reloads) != 1 ||
		stopped.Last.Name != "agent.stop" || stopped.Down == nil || *stopped.Down < 0 {
		t.Errorf("the stopped run: %+v", stopped)
	}
	if !running.Clean || running.End != "running" || running.Down != nil {
		t.Errorf("the running run: %+v", running)
	}

	// The text table, as boots prints one.
	out, _, _ := run(t, "runs", data)
	rows := lines(out)
	if len(rows) != 4 || !strings.HasPrefix(rows[0], " IDX  BOOT  START") {
		t.Fatalf("runs:\n%s", out)
	}
	for i, want := range []string{"crashed", "stopped (SIGTERM)", "running"} {
		if f := strings.Fields(rows[i+1]); f[0] != []string{"-2", "-1", "0"}[i] || !strings.Contains(rows[i+1], " "+want+" ") {
			t.Errorf("row %d: %q, want %s", i+1, rows[i+1], want)
		}
	}

	// The records view marks each downtime before the start that ends it,
	// also when its filter shows none of the agent's records.
	for _, args := range [][]string{{data}, {"--grep", "^load$", data}} {
		marks := downMarks(t, args...)
		if len(marks) != 2 || !strings.HasSuffix(marks[0], "; it crashed or was killed) --") || !strings.HasSuffix(marks[1], "; stopped by SIGTERM) --") {
			t.Errorf("itiny-read %v: downtime markers %q", args, marks)
		}
	}
	if err := c.stop(syscall.SIGTERM); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, c.log.String())
	}
}

// runsJSON runs itiny-read runs --json on data, reads its output with
// encoding/json and fails unless it lists n runs.
func runsJSON(t *testing.T, data string, n int) []jsonRun {
	t.Helper()
	out, stderr, code := run(t, "runs", "--json", data)
	if code != 0 {
		t.Fatalf("runs --json: exit %d: %s", code, stderr)
	}
	var runs []jsonRun
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		t.Fatalf("runs --json: %v\n%s", err, out)
	}
	if len(runs) != n {
		t.Fatalf("%d runs, want %d:\n%s", len(runs), n, out)
	}
	return runs
}

// downMarks returns the downtime markers itiny-read args prints.
func downMarks(t *testing.T, args ...string) []string {
	t.Helper()
	out, _, _ := run(t, args...)
	var marks []string
	for _, l := range lines(out) {
		if strings.HasPrefix(l, "-- itiny not running") {
			marks = append(marks, l)
		}
	}
	return marks
}

// jsonRun is a run of runs --json, as encoding/json reads it: the test
// checks the hand-written document against the standard decoder.
type jsonRun struct {
	Boot      uint32      `json:"boot"`
	BootID    string      `json:"boot_id"`
	Start     time.Time   `json:"start"`
	Version   string      `json:"version"`
	PID       int64       `json:"pid"`
	Clean     bool        `json:"clean_start"`
	End       string      `json:"end"`
	Reason    string      `json:"reason,omitempty"`
	Cause     string      `json:"cause"`
	Last      jsonRecord  `json:"last_record"`
	Length    float64     `json:"length_s"`
	Down      *float64    `json:"down_s"`
	Rebooted  bool        `json:"rebooted"`
	Reloads   []time.Time `json:"reloads"`
	Off       []jsonOff   `json:"collectors_off"`
	Config    string      `json:"config,omitempty"`
	ConfigCut bool        `json:"config_truncated,omitempty"`
	Records   int         `json:"records"`
}

type jsonRecord struct {
	Wall   time.Time `json:"wall"`
	Stream string    `json:"stream"`
	Name   string    `json:"name"`
}

type jsonOff struct {
	Collector string `json:"collector"`
	Error     string `json:"error"`
}
