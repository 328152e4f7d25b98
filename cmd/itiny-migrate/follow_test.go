package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/natstest"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/migrate"
	"github.com/itiny/itiny/view"
)

// liveAgent is the itiny binary running on a data directory, restartable.
type liveAgent struct {
	t          *testing.T
	bin, data  string
	sysfs      string
	cmd        *exec.Cmd
	log        bytes.Buffer
	socketPath string
	config     string // a config file; "": the embedded default
	proc       string // a procfs root; "": /proc
}

func startAgent(t *testing.T, data string) *liveAgent { return startAgentWith(t, data, "") }

func startAgentWith(t *testing.T, data, config string) *liveAgent {
	bin, err := testbin.Build(testdir.TempDir(t), "../itiny")
	if err != nil {
		t.Fatal(err)
	}
	a := &liveAgent{t: t, bin: bin, data: data, sysfs: testbin.Sysfs(t), socketPath: filepath.Join(data, "itiny.sock"), config: config}
	a.start()
	t.Cleanup(func() { a.stop(syscall.SIGTERM) })
	return a
}

func (a *liveAgent) start() {
	args := []string{"run", "--data", a.data, "--path.sysfs", a.sysfs}
	if a.proc != "" {
		args = append(args, "--path.procfs", a.proc)
	}
	if a.config != "" {
		args = append(args, "--config", a.config)
	}
	a.cmd = exec.Command(a.bin, args...)
	a.cmd.Stdout, a.cmd.Stderr = &a.log, &a.log
	if err := a.cmd.Start(); err != nil {
		a.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c, err := agent.Dial(a.socketPath); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("the agent's socket did not come up: %s", a.log.String())
		}
	}
}

func (a *liveAgent) stop(sig syscall.Signal) {
	if a.cmd == nil {
		return
	}
	a.cmd.Process.Signal(sig)
	a.cmd.Wait()
	a.cmd = nil
}

// rebootedProc returns a procfs root that is /proc but for its boot id:
// the agent started on it takes the device to have booted again.
func rebootedProc(t *testing.T, bootID string) string {
	root := testdir.TempDir(t)
	var mirror func(src, dst string, keep func(string) bool)
	mirror = func(src, dst string, keep func(string) bool) {
		ents, _ := os.ReadDir(src)
		for _, e := range ents {
			if keep(e.Name()) {
				os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
			}
		}
	}
	random := filepath.Join(root, "sys/kernel/random")
	if err := os.MkdirAll(random, 0o755); err != nil {
		t.Fatal(err)
	}
	mirror("/proc", root, func(n string) bool { return n != "sys" })
	mirror("/proc/sys", filepath.Join(root, "sys"), func(n string) bool { return n != "kernel" })
	mirror("/proc/sys/kernel", filepath.Join(root, "sys/kernel"), func(n string) bool { return n != "random" })
	mirror("/proc/sys/kernel/random", random, func(n string) bool { return n != "boot_id" })
	if err := os.WriteFile(filepath.Join(random, "boot_id"), []byte(bootID+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// feed sends records to the agent's socket at about rate a second until
// stop is closed, dialling again when the agent restarts, and returns how
// many the agent acknowledged.
func feed(a *liveAgent, rate int, stop <-chan struct{}) *atomic.Int64 {
	var acked atomic.Int64
	go func() {
		var c *agent.Client
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				if c != nil {
					c.Close()
				}
				return
			case <-tick.C:
			}
			if c == nil {
				var err error
				if c, err = agent.Dial(a.socketPath); err != nil {
					continue
				}
			}
			r := codec.Record{Stream: "events", Name: "follow.test", Level: codec.LevelInfo, Fields: codec.Fields{{Key: "i", Value: codec.Int(int64(i))}}}
			if _, err := c.Send(&r); err != nil {
				c.Close()
				c = nil
				continue
			}
			acked.Add(1)
		}
	}()
	return &acked
}

// forwarder is itiny-migrate --follow as a process.
type forwarder struct {
	t    *testing.T
	args []string
	cmd  *exec.Cmd
	out  bytes.Buffer
	mu   sync.Mutex
}

func (f *forwarder) start() {
	f.cmd = exec.Command(binary, f.args...)
	f.cmd.Stdout, f.cmd.Stderr = &f.out, &f.out
	if err := f.cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
}

func (f *forwarder) stop(sig syscall.Signal) error {
	f.cmd.Process.Signal(sig)
	return f.cmd.Wait()
}

// TestFollowExactlyOnce runs the agent fed through its socket at 400
// records a second and itiny-migrate --follow beside it, and for ten
// seconds kills the forwarder with SIGKILL and starts it again, restarts
// nats-server, kills and restarts the agent, and kills it and starts it in
// a new boot (another boot id), at random moments. At the
// end the store holds exactly the records of the rings, each once, with
// markers for what the rings lack: --verify-only, run while the forwarder
// goes on, passes.
func TestFollowExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("ten seconds of a live agent, a forwarder and a server killed")
	}
	data := testdir.TempDir(t)
	a := startAgent(t, data)
	srv := newRestartable(t)
	status := filepath.Join(testdir.TempDir(t), "status.json")
	ck := filepath.Join(testdir.TempDir(t), "ck")
	f := &forwarder{t: t, args: []string{"--to", srv.url(), "--scope", "dev-f", "--checkpoint", ck, "--follow",
		"--status-every", "200ms", "--status-file", status, "--timeout", "2s", "--window", "300", data}}
	f.start()
	stop := make(chan struct{})
	acked := feed(a, 400, stop)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	pause := func() { time.Sleep(time.Duration(500+rng.IntN(1000)) * time.Millisecond) }
	events := []string{"forwarder", "server", "agent", "reboot", "forwarder", "server", "forwarder"}
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	for _, e := range events {
		pause()
		t.Logf("%s: restart at %d records acknowledged by the agent", e, acked.Load())
		switch e {
		case "forwarder":
			f.stop(syscall.SIGKILL)
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
			f.start()
		case "server":
			srv.stop()
			time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
			srv.start()
		case "agent":
			a.stop(syscall.SIGKILL)
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
			a.start()
		case "reboot": // the agent killed, and started again in a new boot
			a.stop(syscall.SIGKILL)
			a.proc = rebootedProc(t, fmt.Sprintf("%08x-1111-4222-8333-%012x", rng.Uint32(), rng.Uint64()&(1<<48-1)))
			a.start()
		}
	}
	pause()
	close(stop)
	fed := acked.Load()
	// The forwarder catches up; the agent keeps writing its own records,
	// so the verification is taken again until it finds the store level
	// with the rings.
	var r result
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		r = migrateCmd(t, nil, "--to", srv.url(), "--scope", "dev-f", "--verify-only", "--checkpoint", ck+".verify", data)
		if r.code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store is not level with the rings after 60 s: exit %d\n%s\n%s\nforwarder:\n%s", r.code, r.stdout, r.stderr, f.out.String())
		}
	}
	if !strings.Contains(r.stdout, "events     ok") || strings.Contains(r.stdout, "DUPS") && !noDups(r.stdout) {
		t.Errorf("verify:\n%s", r.stdout)
	}
	var st followStatus
	if b, err := os.ReadFile(status); err != nil || json.Unmarshal(b, &st) != nil || st.Scope != "dev-f" || len(st.Streams) == 0 {
		t.Errorf("status file: %v %+v", err, st)
	}
	if err := f.stop(syscall.SIGTERM); err != nil {
		t.Errorf("the forwarder ended on SIGTERM with %v\n%s", err, f.out.String())
	}
	t.Logf("%d records fed through the socket; the store level with the rings:\n%s", fed, r.stdout)
}

// noDups reports whether every row of a verification table has 0
// duplicates and 0 missing.
func noDups(table string) bool {
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) >= 9 && f[1] == "ok" && (f[len(f)-2] != "0" || f[len(f)-1] != "0") {
			return false
		}
	}
	return true
}

// TestFollowRetentionGap stops the store while the agent writes far more
// events than their ring holds: retention deletes segments the forwarder
// has not read. When the store is back, those numbers reach it as a gap
// marker with the cause retention, and everything the ring still holds
// as records, each once.
func TestFollowRetentionGap(t *testing.T) {
	if testing.Short() {
		t.Skip("a live agent, a forwarder and a server stopped")
	}
	data := testdir.TempDir(t)
	conf := filepath.Join(testdir.TempDir(t), "itiny.conf")
	if err := os.WriteFile(conf, []byte("socket = itiny.sock\nrate_limit = 5000\n[stream events]\nbudget = 96KiB\nsegment = 16KiB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := startAgentWith(t, data, conf)
	srv := newRestartable(t)
	ck := filepath.Join(testdir.TempDir(t), "ck")
	f := &forwarder{t: t, args: []string{"--to", srv.url(), "--scope", "dev-r", "--checkpoint", ck, "--follow", "--timeout", "1s", data}}
	f.start()
	defer f.stop(syscall.SIGTERM)
	send := func(n int) {
		c, err := agent.Dial(a.socketPath)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := range n {
			r := codec.Record{Stream: "events", Name: "retention.test", Level: codec.LevelInfo,
				Fields: codec.Fields{{Key: "i", Value: codec.Int(int64(i))}, {Key: "pad", Value: codec.String(strings.Repeat("x", 100))}}}
			if _, err := c.Send(&r); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(50)
	time.Sleep(time.Second) // forwarded
	srv.stop()
	send(3000) // some 500 KB into a 96 KiB ring
	srv.start()
	var r result
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		r = migrateCmd(t, nil, "--to", srv.url(), "--scope", "dev-r", "--verify-only", "--checkpoint", ck+".verify", data)
		if r.code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store is not level with the rings: exit %d\n%s\n%s\nforwarder:\n%s", r.code, r.stdout, r.stderr, f.out.String())
		}
	}
	js := connectJS(t, srv.url())
	retention := 0
	for _, m := range natstest.Messages(t, js, "ITINY_EVENTS") {
		// "deleted by retention" (docs/FORMAT.md): segments deleted while
		// the forwarder read the ring.
		if m.Header.Get(migrate.HeaderGap) != "" && m.Header.Get(migrate.HeaderGapCause) == view.CauseRetention {
			retention++
		}
	}
	if retention == 0 {
		t.Errorf("no marker with the cause retention in ITINY_EVENTS\n%s", r.stdout)
	}
	t.Logf("%d retention markers; verify:\n%s", retention, r.stdout)
}

// TestFollowAgentStatus runs the forwarder beside a live agent: its
// status reaches the agent's own stream as forward.status records, with
// the catalogue's fields, when it starts following and when the store
// goes away (a warning), and again when it is back.
func TestFollowAgentStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("a live agent, a forwarder and a server stopped")
	}
	data := testdir.TempDir(t)
	startAgent(t, data)
	srv := newRestartable(t)
	f := &forwarder{t: t, args: []string{"--to", srv.url(), "--scope", "dev-s", "--checkpoint", filepath.Join(testdir.TempDir(t), "ck"),
		"--follow", "--status-every", "100ms", "--agent-status-every", "1h", "--timeout", "1s", data}}
	f.start()
	defer f.stop(syscall.SIGTERM)
	statuses := func() []codec.Record {
		var out []codec.Record
		for _, rec := range ringtest.Records(t, filepath.Join(data, catalog.StreamSelf)) {
			if rec.Name != catalog.ForwardStatus.Name {
				continue
			}
			if err := catalog.ForwardStatus.Check(catalog.StreamSelf, &rec); err != nil {
				t.Errorf("%v", err)
			}
			out = append(out, rec)
		}
		return out
	}
	wait := func(what string, ok func([]codec.Record) bool) []codec.Record {
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if got := statuses(); ok(got) {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("no forward.status %s in the itiny stream\nforwarder:\n%s", what, f.out.String())
			}
		}
	}
	state := func(r codec.Record) string {
		for _, fl := range r.Fields {
			if fl.Key == "state" {
				return fl.Value.Str()
			}
		}
		return ""
	}
	wait("following", func(rs []codec.Record) bool { return len(rs) > 0 && state(rs[len(rs)-1]) == "following" })
	srv.stop()
	got := wait("saying the store is away", func(rs []codec.Record) bool {
		last := state(rs[len(rs)-1])
		return len(rs) > 1 && (strings.HasPrefix(last, "store unreachable") || strings.HasPrefix(last, "retrying")) && rs[len(rs)-1].Level == codec.LevelWarning
	})
	srv.start()
	got = wait("following again", func(rs []codec.Record) bool { return len(rs) > len(got) && state(rs[len(rs)-1]) == "following" })
	t.Logf("%d forward.status records; the last: %s", len(got), state(got[len(got)-1]))
}
