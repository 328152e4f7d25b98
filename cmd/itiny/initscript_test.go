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

	"github.com/itiny/itiny/internal/testbin"
)

// TestSysVInit runs packaging/sysv/itiny, the SysV and BusyBox init
// script, as init runs it, with start-stop-daemon (Debian's; BusyBox's
// takes the same options): start returns once the agent takes records
// (an itiny emit right after it is stored), a second start leaves the
// agent alone, reload is a SIGHUP the agent logs, status says running
// and then not (exit 3), stop waits for the agent's clean exit and
// removes the pid file.
func TestSysVInit(t *testing.T) {
	if _, err := exec.LookPath("start-stop-daemon"); err != nil {
		t.Fatalf("start-stop-daemon (dpkg, or BusyBox) is not installed: %v", err)
	}
	dir := t.TempDir()
	data, conf, log, pidfile := filepath.Join(dir, "data"), filepath.Join(dir, "itiny.conf"), filepath.Join(dir, "log", "itiny.log"), filepath.Join(dir, "itiny.pid")
	if err := os.WriteFile(conf, []byte("[stream events]\nbudget = 1MiB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("../../packaging/sysv/itiny")
	if err != nil {
		t.Fatal(err)
	}
	run := func(action string) (string, int) {
		t.Helper()
		cmd := exec.Command("/bin/sh", script, action)
		cmd.Env = append(os.Environ(), "ITINY_BIN="+binary, "ITINY_CONF="+conf, "ITINY_DATA="+data, "ITINY_LOG="+log,
			"ITINY_PIDFILE="+pidfile, "ITINY_ARGS=--path.sysfs "+testbin.Sysfs(t), "ITINY_WAIT=30")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	defer func() {
		if b, err := os.ReadFile(pidfile); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
	}()
	if out, code := run("start"); code != 0 || !strings.Contains(out, "itiny started (pid ") {
		t.Fatalf("start: exit %d: %s", code, out)
	}
	if out, err := exec.Command(binary, "emit", "--data", data, "init.check", "n=1").CombinedOutput(); err != nil {
		t.Fatalf("emit right after start: %v: %s", err, out)
	}
	b, _ := os.ReadFile(pidfile)
	pid := strings.TrimSpace(string(b))
	if out, code := run("start"); code != 0 || !strings.Contains(out, "itiny is running (pid "+pid+")") {
		t.Fatalf("second start: exit %d: %s", code, out)
	}
	if out, code := run("status"); code != 0 || !strings.Contains(out, "running (pid "+pid+")") {
		t.Fatalf("status: exit %d: %s", code, out)
	}
	if out, code := run("reload"); code != 0 {
		t.Fatalf("reload: exit %d: %s", code, out)
	}
	for i := 0; ; i++ { // the SIGHUP is handled while the script returns
		if b, _ := os.ReadFile(log); strings.Contains(string(b), "reloaded ") {
			break
		} else if i == 500 {
			t.Fatalf("no reload in the agent's log:\n%s", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if out, code := run("stop"); code != 0 || !strings.Contains(out, "itiny stopped") {
		t.Fatalf("stop: exit %d: %s", code, out)
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pid file left: %v", err)
	}
	if b, _ := os.ReadFile(log); !strings.Contains(string(b), "terminated: flushing and closing") {
		t.Errorf("the agent's log has no clean shutdown:\n%s", b)
	}
	if out, code := run("status"); code != 3 || !strings.Contains(out, "not running") {
		t.Fatalf("status after stop: exit %d: %s", code, out)
	}
	// The record emitted right after start is in the ring.
	found := false
	for _, r := range readRing(t, filepath.Join(data, "events")) {
		found = found || r.Name == "init.check"
	}
	if !found {
		t.Error("the record emitted right after start is not in the events ring")
	}
}
