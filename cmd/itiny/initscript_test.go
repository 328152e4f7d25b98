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

// procdStub stands in for OpenWrt's rc.common and procd's shell functions
// (procd.sh): it sources the init script given as $1, sets its PROG and
// DATA to the test's, runs start_service and reload_service, and prints
// what they asked of procd: one line a parameter's value, "key<TAB>arg".
const procdStub = `
procd_open_instance() { echo "open"; }
procd_close_instance() { echo "close"; }
procd_set_param() { k=$1; shift; for a; do printf '%s\t%s\n' "$k" "$a"; done; }
procd_send_signal() { for a; do printf 'signal\t%s\n' "$a"; done; }
. "$1"
PROG=$2 DATA=$3
start_service
reload_service
`

// TestProcdInit runs packaging/openwrt/itiny/files/itiny.init's
// start_service and reload_service in BusyBox's ash, OpenWrt's shell,
// with procd's functions stood in for, then runs the command the script
// gives procd, as procd would: the agent starts on the package's
// /etc/itiny.conf (agent/default.conf) and takes the signal the script's
// reload sends as a reload. procd's respawn is asked for, stderr kept,
// the configuration file watched.
func TestProcdInit(t *testing.T) {
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox is not installed (make deps installs it): %v", err)
	}
	script, err := filepath.Abs("../../packaging/openwrt/itiny/files/itiny.init")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "srv", "itiny")
	out, err := exec.Command(busybox, "ash", "-euc", procdStub, "stub", script, binary, data).CombinedOutput()
	if err != nil {
		t.Fatalf("start_service and reload_service under ash: %v\n%s", err, out)
	}
	params := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(l, "\t")
		params[k] = append(params[k], v)
	}
	if st, err := os.Stat(data); err != nil || !st.IsDir() {
		t.Fatalf("start_service did not make the data directory %s: %v", data, err)
	}
	for k, want := range map[string]string{"respawn": "3600 5 5", "stderr": "1", "file": "/etc/itiny.conf", "open": "", "close": ""} {
		if got := strings.Join(params[k], " "); got != want {
			t.Errorf("procd %s: %q, want %q (all: %q)", k, got, want, out)
		}
	}
	// The command, as procd would run it, on the package's configuration.
	command := params["command"]
	if len(command) < 2 || command[0] != binary || command[1] != "run" {
		t.Fatalf("procd command %q: not itiny run", command)
	}
	conf := filepath.Join(dir, "itiny.conf")
	def, err := os.ReadFile("../../agent/default.conf")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, def, 0o644); err != nil {
		t.Fatal(err)
	}
	args := command[2:] // runAgent says run, on a sysfs of the test's own
	for i, a := range args {
		if a == "/etc/itiny.conf" {
			args[i] = conf
		}
	}
	p := &proc{cmd: runAgent(t, args...), log: &syncWriter{}, sock: filepath.Join(data, "itiny.sock")}
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	waitLog(t, p, "running: data "+data)
	// reload_service: procd_send_signal itiny '*' HUP, to every instance.
	if sig := params["signal"]; len(sig) != 3 || sig[0] != "itiny" || sig[1] != "*" || sig[2] != "HUP" {
		t.Fatalf("reload_service sends %q, want itiny * HUP", sig)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, p, "reloaded ")
}
