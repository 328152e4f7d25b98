package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/view"
)

// The tests run the real binary, built once.
var binary string

// eventWait bounds a wait for something the agent does (a log line, a
// record on disk): a minute, since a loaded machine (the race detector
// runs beside these tests) is slow at times, and a wait ends as soon as
// the thing happens. The tests assert no time.
const eventWait = time.Minute

func TestMain(m *testing.M) { testbin.Main(m.Run, "itiny", &binary) }

type proc struct {
	cmd  *exec.Cmd
	log  *syncWriter
	sock string
}

func (p *proc) logText() string { return p.log.String() }

// stop kills the agent, if it still runs, and waits for it to exit.
func (p *proc) stop() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

// terminate stops the agent as SIGTERM does, waiting for it to finish what
// it runs (a snapshot's command, which SIGKILL would leave running in its
// own process group), or kills it after a minute.
func (p *proc) terminate() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		<-done
	}
}

// start starts the agent and waits until it answers on its socket.
func start(t *testing.T, data, config string) *proc {
	t.Helper()
	p := launch(t, data, config)
	waitListening(t, p)
	return p
}

// runAgent returns itiny run with args on a sysfs root of the test's
// own (testbin.Sysfs), never the host's /sys/fs/pstore, whose entries
// the pstore collector removes. Every test runs the agent through it
// (TestAgentOffHostPstore).
func runAgent(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	if !slices.Contains(args, "--path.sysfs") {
		args = append([]string{"--path.sysfs", testbin.Sysfs(t)}, args...)
	}
	args = append([]string{"run"}, args...)
	return exec.Command(binary, args...)
}

// launch starts the agent.
func launch(t *testing.T, data, config string) *proc {
	t.Helper()
	return launchWith(t, data, "--config", config)
}

// launchWith starts the agent on data with args besides.
func launchWith(t *testing.T, data string, args ...string) *proc {
	t.Helper()
	cmd := runAgent(t, append([]string{"--data", data}, args...)...)
	p := &proc{cmd: cmd, log: &syncWriter{}, sock: filepath.Join(data, "itiny.sock")}
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitListening waits until the agent of p answers on its socket, and
// kills it and fails with its log if it never does.
func waitListening(t *testing.T, p *proc) {
	t.Helper()
	for i := 0; ; i++ {
		if c, err := agent.Dial(p.sock); err == nil {
			c.Close()
			return
		}
		if i > 500 {
			p.cmd.Process.Kill()
			t.Fatalf("agent did not start listening: %s", p.logText())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncWriter keeps what a process writes, for reading while it runs.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func readRing(t *testing.T, dir string) []codec.Record { return ringtest.Records(t, dir) }

const e2eConfig = `
socket = itiny.sock
stats_every = 200ms
rate_limit = 100000
[stream metrics]
budget = 2MiB
segment = 64KiB
mode = periodic
flush = 1h
[collector load]
interval = 50ms
`

func TestAgentProcess(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(t.TempDir(), "itiny.conf")
	os.WriteFile(conf, []byte(e2eConfig), 0o644)
	p := start(t, data, conf)

	// Feed it from a component and from the command line, collecting acks,
	// and kill it mid-stream.
	var acked []uint64
	var mu sync.Mutex
	stopFeed := make(chan struct{})
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		c, err := agent.Dial(p.sock)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		for i := 0; ; i++ {
			select {
			case <-stopFeed:
				return
			default:
			}
			seq, err := c.Send(&codec.Record{Source: "appd", Name: "tick", Level: codec.LevelInfo, Fields: codec.Fields{{Key: "i", Value: codec.Int(int64(i))}}})
			if err != nil {
				return // the agent died
			}
			mu.Lock()
			acked = append(acked, seq)
			mu.Unlock()
		}
	}()
	out, err := exec.Command(binary, "emit", "--socket", p.sock, "-v", "cli.note", "k=v").Output()
	if err != nil {
		t.Fatalf("itiny emit: %v", err)
	}
	cliSeq, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(string(out)), " stored"), 10, 64)
	// Kill once 100 records are acknowledged, with more on their way.
	for deadline := time.Now().Add(eventWait); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d records acknowledged in 10 s", n)
		}
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	close(stopFeed)
	<-fed
	t.Logf("%d records acknowledged before SIGKILL, plus one from itiny emit (seq %d)", len(acked), cliSeq)
	if _, err := exec.Command(binary, "emit", "--socket", p.sock, "x").Output(); err == nil {
		t.Fatal("emit with no agent succeeded")
	}

	// Restart: every acknowledged record is there, and the unclean
	// shutdown is recorded.
	p = start(t, data, conf)
	events := readRing(t, filepath.Join(data, "events"))
	have := map[uint64]bool{}
	unclean := false
	for _, r := range events {
		have[r.Seq] = true
		if r.Name == "agent.unclean_shutdown" {
			unclean = true
		}
	}
	for _, s := range append(acked, cliSeq) {
		if !have[s] {
			t.Fatalf("acknowledged record %d missing after SIGKILL and restart", s)
		}
	}
	if !unclean {
		t.Fatal("no agent.unclean_shutdown event after SIGKILL")
	}

	// Hostile input: the agent answers, keeps running, keeps its memory.
	c, err := agent.Dial(p.sock)
	if err != nil {
		t.Fatal(err)
	}
	junk := [][]byte{{0xdf, 0xff, 0xff, 0xff, 0xff}, []byte("{{{{"), bytes.Repeat([]byte("["), 10000), make([]byte, 20000), {0x81, 0xa4, 'n', 'a', 'm', 'e', 0xcb}}
	for i := 0; i < 2000; i++ {
		if _, err := c.SendRaw(junk[i%len(junk)]); err == nil {
			t.Fatalf("junk %d accepted", i%len(junk))
		}
	}
	c.Close()
	hwm := vmHWM(t, p.cmd.Process.Pid)
	t.Logf("peak RSS after 2000 hostile records: %d KiB", hwm>>10)
	if hwm > 16<<20 {
		t.Errorf("agent peak RSS %d bytes after hostile input", hwm)
	}

	// SIGHUP with a broken config keeps the running one.
	os.WriteFile(conf, []byte("cap = lots\n"), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, p, "reload refused")
	if c, err := agent.Dial(p.sock); err != nil {
		t.Fatalf("after a refused reload: %v", err)
	} else {
		c.Close()
	}

	// SIGUSR1 flushes the periodic metrics stream now. Before it, the
	// ring holds only the note its writer made at the restart after the
	// SIGKILL, explaining the numbers it passed over.
	for _, r := range readRing(t, filepath.Join(data, "metrics")) {
		if r.Name != ringlog.ResumeName {
			t.Fatalf("metrics record %d (%s) on disk before any flush", r.Seq, r.Name)
		}
	}
	// Again until there is a sample to flush (load: every 50 ms); the
	// stream's own flush is an hour away.
	deadline := time.Now().Add(eventWait)
	for len(readRing(t, filepath.Join(data, "metrics"))) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("SIGUSR1 did not flush the metrics stream")
		}
		p.cmd.Process.Signal(syscall.SIGUSR1)
		time.Sleep(20 * time.Millisecond)
	}

	// Stream statistics come every stats_every (200 ms), to the metrics
	// stream: flushed by SIGUSR1.
	isStats := func(r codec.Record) bool { return r.Name == "stream.stats" }
	for deadline := time.Now().Add(eventWait); !slices.ContainsFunc(readRing(t, filepath.Join(data, "metrics")), isStats); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no stream.stats record, every 200 ms")
		}
		p.cmd.Process.Signal(syscall.SIGUSR1)
	}

	// SIGTERM: flush, close, exit 0.
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logText())
	}
	// The itiny stream holds the agent's starts, stops and reloads, which
	// stats must not evict; they go to metrics. agent.stop says why.
	self := readRing(t, filepath.Join(data, "itiny"))
	var got []string
	for _, r := range self {
		got = append(got, r.Name)
		if r.Name == "agent.stop" {
			got = append(got, r.Fields[0].Value.Str())
		}
	}
	if want := "agent.start agent.config clock.sync agent.start agent.config clock.sync agent.stop SIGTERM"; strings.Join(got, " ") != want {
		t.Fatalf("itiny records %s, want %s", got, want)
	}
	var stats int
	for _, r := range readRing(t, filepath.Join(data, "metrics")) {
		if r.Name == "stream.stats" {
			stats++
			var keys []string
			for _, f := range r.Fields {
				keys = append(keys, f.Key)
			}
			if k := strings.Join(keys, ","); !strings.Contains(k, "oldest_wall") || !strings.Contains(k, "sync_max_ms") || !strings.Contains(k, "oldest_seq") {
				t.Fatalf("stream.stats fields: %s", k)
			}
		}
	}
	if stats == 0 {
		t.Error("no stream.stats records")
	}
	checkLossAfterKill(t, data)
}

// checkLossAfterKill: after the SIGKILL, itiny-read tells the truth about
// what it cost. The continuous streams lost nothing and show no gap; the
// periodic metrics stream lost at most the samples in the agent's memory,
// said as such, with its bound; retention, which deleted nothing, is not
// blamed.
func checkLossAfterKill(t *testing.T, data string) {
	reader, err := testbin.Build(t.TempDir(), "../itiny-read")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(reader, "verify", "--json", data).Output()
	if err != nil {
		t.Fatalf("itiny-read verify: %v\n%s", err, out)
	}
	var reps []view.Health
	if err := json.Unmarshal(out, &reps); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, out)
	}
	for _, r := range reps {
		if r.Retired != 0 {
			t.Errorf("%s: %d numbers blamed on retention, which deleted nothing", r.Stream, r.Retired)
		}
		switch {
		case r.Stream != "metrics" && len(r.Gaps) != 0:
			t.Errorf("%s, a continuous stream, has gaps after a SIGKILL: %+v", r.Stream, r.Gaps)
		case r.Stream == "metrics":
			if len(r.Gaps) != 1 || r.Gaps[0].Loss != view.LossPossible || !strings.Contains(r.Gaps[0].Cause, "records in memory") ||
				!strings.Contains(r.Gaps[0].Bound, "1h0m0s") || r.Lost != 0 {
				t.Errorf("metrics after a SIGKILL: gaps %+v, losses %+v", r.Gaps, r.Losses)
			}
		}
	}
	text, err := exec.Command(reader, "--stream", "metrics", data).Output()
	if err != nil {
		t.Fatalf("itiny-read: %v", err)
	}
	if !strings.Contains(string(text), "records possibly lost: the writer died with records in memory") || strings.Contains(string(text), "retention") {
		t.Errorf("text view after a SIGKILL:\n%s", text)
	}
}

func waitLog(t *testing.T, p *proc, s string) {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for !strings.Contains(p.logText(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", s, p.logText())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func vmHWM(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: itiny <command>"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"run", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"emit"}, 2, "usage: itiny emit"},
		{[]string{"emit", "--level", "loud", "x"}, 1, `unknown level "loud"`},
		{[]string{"emit", "x", "novalue"}, 1, `field "novalue": want key=value`},
		{[]string{"config", "check", "/nonexistent.conf"}, 1, "no such file"},
		{[]string{"config"}, 2, "usage: itiny config check"},
	} {
		cmd := exec.Command(binary, tc.args...)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("itiny %v: exit %d, output %q; want exit %d with %q", tc.args, code, out, tc.code, tc.want)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.conf")
	os.WriteFile(bad, []byte("[stream events]\nbudget = 1MiB\ncolour = red\n"), 0o644)
	out, err := exec.Command(binary, "config", "check", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bad.conf:3: unknown key \"colour\" in [stream events]") {
		t.Errorf("config check: %v %s", err, out)
	}
	out, err = exec.Command(binary, "config", "check").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "[stream metrics]") {
		t.Errorf("config check of the default: %v %s", err, out)
	}
}

// TestLogFile: --log-file sends the diagnostic log to a file (rotated by
// size, internal/logfile) instead of stderr.
func TestLogFile(t *testing.T) {
	data, logFile := t.TempDir(), filepath.Join(t.TempDir(), "itiny.log")
	var stderr bytes.Buffer
	cmd := runAgent(t, "--data", data, "--log-file", logFile)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(eventWait)
	for {
		b, _ := os.ReadFile(logFile)
		if strings.Contains(string(b), "running: data "+data) {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("log file never said running: %q", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(logFile)
	if !strings.Contains(string(b), "terminated: flushing and closing") || stderr.Len() != 0 {
		t.Fatalf("log file %q, stderr %q", b, stderr.String())
	}
}

// TestLogFileIrregular: a FIFO where the log file should be (or any file
// the agent cannot write) costs the log, not the agent: it logs to stderr,
// saying why, and runs.
func TestLogFileIrregular(t *testing.T) {
	data, fifo := t.TempDir(), filepath.Join(t.TempDir(), "itiny.log")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: runAgent(t, "--data", data, "--log-file", fifo), log: &syncWriter{}, sock: filepath.Join(data, "itiny.sock")}
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitListening(t, p)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, p.logText())
	}
	if log := p.logText(); !strings.Contains(log, "log file not used, logging to stderr: logfile: open "+fifo) || !strings.Contains(log, "running: data") {
		t.Errorf("stderr:\n%s", log)
	}
}
