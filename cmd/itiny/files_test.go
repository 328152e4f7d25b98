package main

import (
	"context"
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

// oddConfigs replaces a config file by something that is not a regular
// file of a sane size. The agent must refuse each at once, not block on
// it or read it without end.
var oddConfigs = []struct {
	name string
	make func(path string) error
	want string
}{
	{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "a FIFO, not a regular file"},
	{"dev-zero", func(p string) error { return os.Symlink("/dev/zero", p) }, "a character device, not a regular file"},
	{"directory", func(p string) error { return os.Mkdir(p, 0o755) }, "a directory, not a regular file"},
	{"too-large", func(p string) error { return os.WriteFile(p, make([]byte, 1<<20+1), 0o644) }, "more than 1048576 bytes"},
}

// TestReloadOddFiles: SIGHUP with the config replaced by a FIFO, a
// symlink to /dev/zero, a directory or a file over 1 MiB keeps the running
// config and says why; the signal loop is free (SIGUSR1 and SIGTERM are
// heard after each) and the agent's memory does not grow.
func TestReloadOddFiles(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(t.TempDir(), "itiny.conf")
	os.WriteFile(conf, []byte(e2eConfig), 0o644)
	p := start(t, data, conf)
	for i, odd := range oddConfigs {
		os.RemoveAll(conf)
		if err := odd.make(conf); err != nil {
			t.Fatal(err)
		}
		p.cmd.Process.Signal(syscall.SIGHUP)
		waitLogCount(t, p, "reload refused", i+1)
		if !strings.Contains(p.logText(), odd.want) {
			t.Fatalf("%s: the refusal does not say %q:\n%s", odd.name, odd.want, p.logText())
		}
	}
	if hwm := vmHWM(t, p.cmd.Process.Pid); hwm > 32<<20 {
		t.Errorf("peak RSS %d bytes after the odd configs", hwm)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logText())
	}
}

// TestConfigCheckOddFiles: itiny config check refuses the same files
// with the same reasons, at once (the deadline only keeps a regression
// from hanging the test run).
func TestConfigCheckOddFiles(t *testing.T) {
	for _, odd := range oddConfigs {
		path := filepath.Join(t.TempDir(), "itiny.conf")
		if err := odd.make(path); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, binary, "config", "check", path).CombinedOutput()
		timedOut := ctx.Err() == context.DeadlineExceeded
		cancel()
		if timedOut {
			t.Fatalf("%s: itiny config check did not return", odd.name)
		}
		if err == nil || !strings.Contains(string(out), odd.want) {
			t.Errorf("%s: itiny config check: %v, %s; want an error saying %q", odd.name, err, out, odd.want)
		}
	}
}

// waitLogCount waits until the agent's log has said s n times.
func waitLogCount(t *testing.T, p *proc, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for strings.Count(p.logText(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q %d times:\n%s", s, n, p.logText())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOddTempFiles: the data directory's temporary names taken by a FIFO
// (the process collector's state file's) and a symbolic link (the boot
// counter's) neither block the agent nor lead it to write through the
// link: it saves both files, keeps sampling, and SIGTERM ends it.
func TestOddTempFiles(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	outside := filepath.Join(dir, "outside")
	os.WriteFile(outside, []byte("not the agent's\n"), 0o644)
	if err := os.Symlink(outside, filepath.Join(data, "boot.tmp")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(data, "process.state.tmp"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf, pidfile := watchConfig(t, "interval = 50ms\n")
	p := start(t, data, conf)
	defer p.stop()
	child := testbin.StartChild(t, pidfile, "exec sleep 600", "sleep")
	waitSaved(t, data, "0 "+strconv.Itoa(child.Cmd.Process.Pid)+" ")
	// Sampling goes on: the child's end is recorded.
	child.End(syscall.SIGKILL)
	waitRecord(t, data, "state", "the child's end", 0, func(r codec.Record, f map[string]codec.Value) bool {
		return r.Name == catalog.Process.Name && !f["running"].Bool()
	})
	p.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logText())
		}
	case <-time.After(time.Minute):
		t.Fatalf("no exit a minute after SIGTERM: blocked\n%s", p.logText())
	}
	if b, _ := os.ReadFile(outside); string(b) != "not the agent's\n" {
		t.Errorf("the file boot.tmp linked to was written: %q", b)
	}
	for _, name := range []string{"boot", "process.state"} {
		if st, err := os.Lstat(filepath.Join(data, name)); err != nil || !st.Mode().IsRegular() {
			t.Errorf("%s: %v %v, want a regular file", name, st, err)
		}
	}
}
