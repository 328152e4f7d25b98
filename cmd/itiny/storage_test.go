package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/codec"
)

// storageConfig fits the rings in the small file systems these tests
// mount; the agent retries what the storage refused every stats_every.
const storageConfig = `
cap = 1MiB
stats_every = 100ms
[stream metrics]
budget = 192KiB
segment = 16KiB
mode = periodic
flush = 1h
[stream state]
budget = 192KiB
segment = 16KiB
[stream events]
budget = 192KiB
segment = 16KiB
[stream itiny]
budget = 192KiB
segment = 16KiB
[stream cores]
budget = 192KiB
segment = 16KiB
[collector load]
interval = 50ms
`

// mountSmall mounts a small file system of kind tmpfs or ext4 (on a loop
// device) and returns its directory, unmounted when the test ends. The
// tests need root; without it they skip and say so.
func mountSmall(t *testing.T, kind string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	var cmds [][]string
	switch kind {
	case "tmpfs":
		cmds = [][]string{{"mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt}}
	case "ext4":
		img := filepath.Join(dir, "ext4.img")
		cmds = [][]string{{"truncate", "-s", "16M", img}, {"mkfs.ext4", "-q", "-F", img}, {"mount", "-o", "loop", img, mnt}}
	}
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Skipf("%s: %v: %s (this test mounts a small %s)", strings.Join(c, " "), err, out, kind)
		}
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt
}

// remount remounts a file system read-only or read-write.
func remount(t *testing.T, mnt, mode string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+mode, mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v: %s", mode, mnt, err, out)
	}
}

// fill writes a file in dir until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "fill")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

type acked struct {
	stream string
	seq    uint64
}

// killWithStaged starts the agent on data, has it acknowledge records
// in its continuous streams, and kills it with SIGKILL: some of them are
// then only in the rings' stages.
func killWithStaged(t *testing.T, data, conf string) []acked {
	t.Helper()
	p := start(t, data, conf)
	c, err := agent.Dial(p.sock)
	if err != nil {
		t.Fatal(err)
	}
	var acks []acked
	for i := range 40 {
		stream := []string{"state", "events"}[i%2]
		seq, err := c.Send(&codec.Record{Stream: stream, Level: codec.LevelNotice, Source: "appd", Name: "before", Fields: codec.Fields{{Key: "i", Value: codec.Int(int64(i))}}})
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, acked{stream, seq})
	}
	c.Close()
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	return acks
}

// downStreams returns the streams the agent's log says are unavailable
// for the reason given.
func downStreams(log, reason string) []string {
	var down []string
	for _, m := range regexp.MustCompile(`stream (\S+) unavailable (.*)`).FindAllStringSubmatch(log, -1) {
		if strings.Contains(m[2], reason) && !slices.Contains(down, m[1]) {
			down = append(down, m[1])
		}
	}
	return down
}

// TestStartOnFullDisk: killed with records in its stages, the agent
// restarts on a full disk (tmpfs and ext4): it starts, serves the streams
// it can, refuses records for the others with the reason, says so in the
// log, and once space is freed opens them, with every acknowledged record,
// and says in the itiny stream what happened.
func TestStartOnFullDisk(t *testing.T) {
	for _, kind := range []string{"tmpfs", "ext4"} {
		t.Run(kind, func(t *testing.T) {
			mnt := mountSmall(t, kind)
			data := filepath.Join(mnt, "data")
			conf := filepath.Join(t.TempDir(), "itiny.conf")
			os.WriteFile(conf, []byte(storageConfig), 0o644)
			acks := killWithStaged(t, data, conf)
			filler := fill(t, mnt)

			p := start(t, data, conf)
			defer p.stop() // before the file system is unmounted
			waitLog(t, p, " unavailable (")
			down := downStreams(p.logText(), "no space left on device")
			if len(down) == 0 {
				t.Fatalf("no stream unavailable for want of space:\n%s", p.logText())
			}
			c, err := agent.Dial(p.sock)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, s := range down {
				if s == "itiny" {
					continue // not the socket's to write
				}
				_, err := c.Send(&codec.Record{Stream: s, Level: codec.LevelNotice, Name: "during"})
				if err == nil || !strings.Contains(err.Error(), "stream "+s+" unavailable (no space left on device)") {
					t.Errorf("a record for %s, unavailable, on a full disk: %v", s, err)
				}
			}
			t.Logf("on a full %s: %s unavailable", kind, strings.Join(down, ", "))

			os.Remove(filler)
			for _, s := range down {
				waitLog(t, p, "stream "+s+" available again")
			}
			checkAfter(t, p, c, data, acks, down, "no space left on device")
		})
	}
}

// TestStartReadOnly: killed with records in its stages, the agent
// restarts on a data directory whose file system is read-only: it starts,
// says why nothing can be stored, and once the file system is read-write
// again opens its rings with every acknowledged record, and its socket.
func TestStartReadOnly(t *testing.T) {
	for _, kind := range []string{"tmpfs", "ext4"} {
		t.Run(kind, func(t *testing.T) {
			mnt := mountSmall(t, kind)
			data := filepath.Join(mnt, "data")
			conf := filepath.Join(t.TempDir(), "itiny.conf")
			os.WriteFile(conf, []byte(storageConfig), 0o644)
			acks := killWithStaged(t, data, conf)
			remount(t, mnt, "ro")

			p := launch(t, data, conf)
			defer p.stop() // before the file system is unmounted
			waitLog(t, p, "itiny.sock: read-only file system; retrying")
			// Nor can the crash file be opened: said, and the agent runs on.
			waitLog(t, p, "crash file not kept, the agent's crashes go to stderr only: open "+filepath.Join(data, "crash")+": read-only file system")
			// The running: line does not claim a socket that is not made.
			waitLog(t, p, "socket "+p.sock+" not listening yet (retried every ")
			down := downStreams(p.logText(), "read-only file system")
			if len(down) != 5 { // every stream
				t.Fatalf("streams unavailable on a read-only file system: %v\n%s", down, p.logText())
			}
			remount(t, mnt, "rw")
			waitListening(t, p)
			for _, s := range down {
				waitLog(t, p, "stream "+s+" available again")
			}
			c, err := agent.Dial(p.sock)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			checkAfter(t, p, c, data, acks, down, "read-only file system")
		})
	}
}

// checkAfter stores a record in each stream, stops the agent, and checks
// the rings: every record acknowledged before the kill, the new ones, and
// in the itiny stream, for each stream that was down, why and for how
// long.
func checkAfter(t *testing.T, p *proc, c *agent.Client, data string, acks []acked, down []string, reason string) {
	t.Helper()
	for _, s := range []string{"state", "events", "metrics"} {
		seq, err := c.Send(&codec.Record{Stream: s, Level: codec.LevelNotice, Name: "after"})
		if err != nil {
			t.Fatalf("a record for %s once the storage is back: %v", s, err)
		}
		acks = append(acks, acked{s, seq})
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	have := map[acked]bool{}
	var notes []string
	starts := 0
	for _, s := range []string{"state", "events", "metrics", "itiny"} {
		for _, r := range readRing(t, filepath.Join(data, s)) {
			have[acked{s, r.Seq}] = true
			switch r.Name {
			case "stream.available":
				notes = append(notes, fmt.Sprintf("%s: %s", field(r, "stream").Str(), field(r, "error").Str()))
			case "agent.start":
				starts++
			}
		}
	}
	if starts != 2 {
		t.Errorf("%d agent.start records in the itiny stream, want both starts", starts)
	}
	for _, a := range acks {
		if !have[a] {
			t.Errorf("acknowledged record %d of %s is not in its ring", a.seq, a.stream)
		}
	}
	for _, s := range down {
		if !slices.ContainsFunc(notes, func(n string) bool { return strings.HasPrefix(n, s+": ") && strings.Contains(n, reason) }) {
			t.Errorf("no stream.available record for %s saying %q in the itiny stream: %q", s, reason, notes)
		}
	}
}

func field(r codec.Record, key string) codec.Value {
	for _, f := range r.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return codec.Value{}
}
