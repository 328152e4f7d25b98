package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/testdir"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// restartable is Debian's nats-server as a process on 127.0.0.1 that a
// test can stop and start again on the same port and store.
type restartable struct {
	t     *testing.T
	bin   string
	store string
	port  int
	cmd   *exec.Cmd
	log   bytes.Buffer
}

func newRestartable(t *testing.T) *restartable {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Fatalf("nats-server is not installed (make test installs it: scripts/deps.sh): %v", err)
	}
	s := &restartable{t: t, bin: bin, store: testdir.TempDir(t)}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *restartable) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

// start starts the server: the first time on a port of its choosing, which
// it writes to a ports file, then on that port again.
func (s *restartable) start() {
	ports := testdir.TempDir(s.t)
	port := "-1"
	if s.port != 0 {
		port = fmt.Sprint(s.port)
	}
	s.log.Reset()
	s.cmd = exec.Command(s.bin, "-a", "127.0.0.1", "-p", port, "--ports_file_dir", ports, "-js", "-sd", s.store)
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	portsFile := filepath.Join(ports, fmt.Sprintf("%s_%d.ports", filepath.Base(s.bin), s.cmd.Process.Pid))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var p struct{ Nats []string }
		if b, err := os.ReadFile(portsFile); err == nil && json.Unmarshal(b, &p) == nil && len(p.Nats) == 1 {
			fmt.Sscanf(p.Nats[0][strings.LastIndexByte(p.Nats[0], ':')+1:], "%d", &s.port)
			return
		}
		if time.Now().After(deadline) {
			s.cmd.Process.Kill()
			s.t.Fatalf("nats-server did not come up: %s", s.log.String())
		}
	}
}

// stop stops the server by its pid, as an operator restarting it would.
func (s *restartable) stop() {
	if s.cmd == nil {
		return
	}
	syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	s.cmd.Wait()
	s.cmd = nil
}

// TestStoreRestartNoDuplicates restarts nats-server while itiny-migrate
// sends, 20 times, into a stream whose duplicate window (100 ms) is
// shorter than the outage: messages whose acknowledgements the restart
// lost must not be stored again. Each trial ends with a run that
// finishes (the one the restart hit, or its rerun) and the store holding
// every record of the ring exactly once.
func TestStoreRestartNoDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a server 20 times")
	}
	const records, trials = 20000, 20
	data := testdir.TempDir(t)
	writeRing(t, data, "metrics", records, 32<<20)
	srv := newRestartable(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	hit := 0 // trials whose restart came while messages were in flight
	for trial := range trials {
		scope := fmt.Sprintf("t%d", trial)
		js := connectJS(t, srv.url())
		ctx := context.Background()
		js.DeleteStream(ctx, "ITINY_METRICS")
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ITINY_METRICS", Subjects: []string{"itiny.*.metrics"},
			Duplicates: 100 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		ck := filepath.Join(testdir.TempDir(t), "ck")
		args := []string{"--to", srv.url(), "--scope", scope, "--checkpoint", ck, "--window", "500", "--timeout", "2s", "--retries", "20", "--progress", "never", data}
		cmd := exec.Command(binary, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Restart when the store holds a random share of the records.
		target := uint64(records * (10 + rng.IntN(70)) / 100)
		for stored(js) < target && cmd.ProcessState == nil {
			time.Sleep(time.Millisecond)
		}
		before := stored(js)
		srv.stop()
		time.Sleep(time.Duration(150+rng.IntN(300)) * time.Millisecond) // past the duplicate window
		srv.start()
		err := cmd.Wait()
		if before < records {
			hit++
		}
		if err != nil { // could not finish: the rerun resumes
			t.Logf("trial %d: the run hit by the restart exited %v; running again\n%s", trial, err, out.String())
			if r := migrateCmd(t, nil, args...); r.code != 0 {
				t.Fatalf("trial %d: rerun: exit %d\n%s\n%s", trial, r.code, r.stdout, r.stderr)
			}
		}
		js = connectJS(t, srv.url())
		if n := stored(js); n != records {
			t.Errorf("trial %d (restart at %d of %d stored): the store holds %d messages, want %d", trial, before, records, n, records)
		}
		if r := migrateCmd(t, nil, "--to", srv.url(), "--scope", scope, "--verify-only", data); r.code != 0 || !strings.Contains(r.stdout, "metrics    ok") {
			t.Errorf("trial %d: verify: exit %d\n%s", trial, r.code, r.stdout)
		}
	}
	if hit < trials/2 {
		t.Errorf("only %d of %d restarts came during the migration", hit, trials)
	}
	t.Logf("%d trials, %d restarts during the migration, 0 duplicates", trials, hit)
}

func connectJS(t *testing.T, url string) jetstream.JetStream {
	nc, err := nats.Connect(url, nats.RetryOnFailedConnect(true), nats.MaxReconnects(50), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// stored is the messages ITINY_METRICS holds; 0 while it cannot be read.
func stored(js jetstream.JetStream) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "ITINY_METRICS")
	if err != nil {
		return 0
	}
	return st.CachedInfo().State.Msgs
}
