package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestNoSharedMappings runs the agent on a file system that cannot map
// files shared, as JFFS2 cannot: bindfs with direct_io (FUSE), on which
// mmap(MAP_SHARED) fails with ENODEV as it does there. The agent chooses
// the write path without the mapped stage by itself, says so in its log
// and in agent.start (write_path events=direct-unmappable; the periodic
// streams keep their memory stage), and every record it acknowledged
// survives a SIGKILL.
func TestNoSharedMappings(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("mounting a FUSE file system needs root (make test runs as root in CI)")
	}
	bindfs, err := exec.LookPath("bindfs")
	if err != nil {
		t.Fatalf("bindfs is not installed (make test installs it: scripts/deps.sh): %v", err)
	}
	src, mnt := t.TempDir(), t.TempDir()
	if out, err := exec.Command(bindfs, "-o", "direct_io", src, mnt).CombinedOutput(); err != nil {
		t.Fatalf("bindfs -o direct_io: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("fusermount", "-u", mnt).CombinedOutput(); err != nil {
			t.Errorf("fusermount -u: %v %s", err, out)
		}
	})
	// The premise: no shared writable mapping here.
	f, err := os.Create(filepath.Join(mnt, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(4096)
	if m, err := syscall.Mmap(int(f.Fd()), 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED); err == nil {
		syscall.Munmap(m)
		t.Fatal("the bindfs mount maps files shared: no test of the path without")
	}
	f.Close()

	data := filepath.Join(mnt, "data")
	emit := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if out, err := exec.Command(binary, "emit", "--data", data, "nomap.check", "n="+strconv.Itoa(i)).CombinedOutput(); err != nil {
				t.Fatalf("emit %d: %v: %s", i, err, out)
			}
		}
	}
	p := launchWith(t, data)
	waitListening(t, p)
	emit(0, 50)
	p.cmd.Process.Signal(syscall.SIGKILL) // every record acknowledged so far must be in the ring
	p.cmd.Wait()
	q := launchWith(t, data)
	waitListening(t, q)
	emit(50, 60)
	q.cmd.Process.Signal(syscall.SIGTERM)
	if err := q.cmd.Wait(); err != nil {
		t.Fatalf("the agent after the kill: %v\n%s", err, q.logText())
	}
	if !strings.Contains(p.logText(), "cannot map files shared") {
		t.Errorf("the log does not say the file system cannot map files shared:\n%s", p.logText())
	}
	// Read through the file system underneath, as a copy would be.
	seen := map[string]bool{}
	for _, r := range readRing(t, filepath.Join(src, "data", "events")) {
		for _, f := range r.Fields {
			if r.Name == "nomap.check" && f.Key == "n" {
				seen[strconv.FormatInt(f.Value.Int(), 10)] = true
			}
		}
	}
	for i := range 60 {
		if !seen[strconv.Itoa(i)] {
			t.Errorf("record %d, acknowledged, is not in the ring", i)
		}
	}
	starts := 0
	for _, r := range readRing(t, filepath.Join(src, "data", "itiny")) {
		for _, f := range r.Fields {
			if r.Name == "agent.start" && f.Key == "write_path" {
				starts++
				if w := f.Value.Str(); !strings.Contains(w, "events=direct-unmappable") || !strings.Contains(w, "metrics=memory") {
					t.Errorf("agent.start write_path %q, want events=direct-unmappable and metrics=memory", w)
				}
			}
		}
	}
	if starts != 2 {
		t.Errorf("%d agent.start records with write_path, want 2", starts)
	}
}
