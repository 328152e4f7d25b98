package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/sdnotify"
	"github.com/itiny/itiny/internal/testbin"
)

// TestSystemdNotify runs the agent as systemd runs a Type=notify service
// with WatchdogSec=: a datagram socket in $NOTIFY_SOCKET (a path, and an
// abstract name) and $WATCHDOG_USEC. The agent says READY=1 with its
// running line once it takes records, RELOADING=1 and READY=1 again
// around a SIGHUP (a good config and a bad one), WATCHDOG=1 at least
// every half of the watchdog's time, and STOPPING=1 at SIGTERM.
func TestSystemdNotify(t *testing.T) {
	for _, name := range []string{"path", "abstract"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			addr := filepath.Join(dir, "notify")
			if name == "abstract" {
				addr = "@itiny-notify-test-" + strconv.Itoa(os.Getpid())
			}
			conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conf := filepath.Join(dir, "itiny.conf")
			write := func(text string) {
				if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("[stream metrics]\nbudget = 1MiB\n")
			cmd := runAgent(t, "--data", filepath.Join(dir, "data"), "--config", conf)
			cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+addr, "WATCHDOG_USEC=1000000")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			next := func(want string) string {
				t.Helper()
				buf := make([]byte, 4096)
				for {
					conn.SetReadDeadline(time.Now().Add(20 * time.Second))
					n, err := conn.Read(buf)
					if err != nil {
						t.Fatalf("waiting for %q: %v", want, err)
					}
					if msg := string(buf[:n]); msg != "WATCHDOG=1" || want == "WATCHDOG=1" {
						if !strings.HasPrefix(msg, want) {
							t.Fatalf("got %q, want %q first", msg, want)
						}
						return msg
					}
				}
			}
			ready := next("READY=1\nSTATUS=running: data ")
			if !strings.Contains(ready, "pid "+strconv.Itoa(cmd.Process.Pid)) {
				t.Errorf("READY's status %q does not name the agent's pid", ready)
			}
			// WATCHDOG_USEC of 1 s: pings, from the scheduler every half
			// second (TestHousekeepingEvery).
			for range 4 {
				next("WATCHDOG=1")
			}
			cmd.Process.Signal(syscall.SIGHUP)
			reloading := next("RELOADING=1\nMONOTONIC_USEC=")
			if us, err := strconv.ParseInt(strings.TrimPrefix(reloading, "RELOADING=1\nMONOTONIC_USEC="), 10, 64); err != nil || us <= 0 {
				t.Errorf("%q: MONOTONIC_USEC is not a time: %v", reloading, err)
			}
			next("READY=1\nSTATUS=reloaded ")
			write("[stream metrics]\nbudget = lots\n")
			cmd.Process.Signal(syscall.SIGHUP)
			next("RELOADING=1")
			next("READY=1\nSTATUS=reload refused, keeping the running config: ")
			cmd.Process.Signal(syscall.SIGTERM)
			next("STOPPING=1\nSTATUS=SIGTERM: flushing and closing")
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit: %v", err)
			}
		})
	}
}

// TestNoNotifySocket: without $NOTIFY_SOCKET, or with one that names no
// socket, the agent runs and stops as it always did.
func TestNoNotifySocket(t *testing.T) {
	for _, env := range []string{"", "NOTIFY_SOCKET=/nonexistent/notify", "NOTIFY_SOCKET=relative", "WATCHDOG_USEC=junk"} {
		data := t.TempDir()
		cmd := runAgent(t, "--data", data)
		cmd.Env = append(os.Environ(), env)
		p := &proc{cmd: cmd, log: &syncWriter{}, sock: filepath.Join(data, "itiny.sock")}
		cmd.Stderr = p.log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitListening(t, p)
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s: exit %v: %s", env, err, p.logText())
		}
	}
}

// TestHousekeepingEvery: the scheduler's housekeeping, which sends the
// watchdog's pings, comes at least every half of WatchdogSec, and every
// residencyEvery without one.
func TestHousekeepingEvery(t *testing.T) {
	for _, tc := range []struct {
		usec string
		want time.Duration
	}{
		{"", residencyEvery},
		{"30000000", residencyEvery},
		{"4000000", 2 * time.Second},
		{"1000000", 500 * time.Millisecond},
	} {
		t.Setenv("NOTIFY_SOCKET", "@itiny-housekeeping-test")
		t.Setenv("WATCHDOG_USEC", tc.usec)
		sd := sdnotify.New()
		if got := newHousekeeping(newResidency(), sd).every; got != tc.want {
			t.Errorf("WATCHDOG_USEC=%q: housekeeping every %v, want %v", tc.usec, got, tc.want)
		}
		sd.Close()
	}
}

// TestSystemdUnit: packaging/systemd/itiny.service passes systemd-analyze
// verify, is a Type=notify service with a watchdog, and its ExecStart's
// flags are itiny run's.
func TestSystemdUnit(t *testing.T) {
	text, copied := testbin.VerifyUnit(t, "../../packaging/systemd/itiny.service", "/usr/bin/itiny", binary, "")
	for _, want := range []string{"Type=notify", "WatchdogSec=", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=always", "User=itiny",
		"ReadWritePaths=/var/lib/itiny", "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=CAP_SYSLOG"} {
		if !strings.Contains(text, want) {
			t.Errorf("the unit has no %q", want)
		}
	}
	// systemd's own measure of the hardening: 2.7 when it was written
	// (0 is a sealed service, 10 one with no protection at all).
	out, _ := exec.Command("systemd-analyze", "security", "--offline=true", copied).CombinedOutput()
	_, level, _ := strings.Cut(string(out), "Overall exposure level for itiny.service: ")
	exposure, err := strconv.ParseFloat(append(strings.Fields(level), "")[0], 64)
	if err != nil || exposure > 3.0 {
		t.Errorf("systemd-analyze security: exposure above 3.0:\n%s", out)
	}
	help, _ := runAgent(t, "--help").CombinedOutput()
	for _, flag := range []string{"-config", "-data"} {
		if !strings.Contains(string(help), "  "+flag+" ") {
			t.Errorf("the unit's flag %s is not in itiny run --help:\n%s", flag, help)
		}
	}
}
