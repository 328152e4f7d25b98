package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReviewScanAfterKill: the rebuild's reading of the rings after a
// SIGKILL and after a clean stop, as the agent's log tells.
func TestReviewScanAfterKill(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(t.TempDir(), "itiny.conf")
	os.WriteFile(conf, []byte(`socket = itiny.sock
[stream metrics]
budget = 2MiB
segment = 64KiB
mode = periodic
flush = 1s
sync = none
[stream metrics.1s]
budget = 512KiB
segment = 64KiB
mode = periodic
flush = 2s
[collector load]
interval = 100ms
`), 0o644)
	p := start(t, data, conf)
	time.Sleep(3 * time.Second)
	p.stop() // SIGKILL
	t.Logf("first run:\n%s", p.logText())
	p = start(t, data, conf)
	time.Sleep(time.Second)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	t.Logf("after SIGKILL:\n%s", p.logText())
	if strings.Contains(p.logText(), "rollup: reading") {
		t.Errorf("the rebuild could not read a ring after a SIGKILL")
	}
	p = start(t, data, conf)
	time.Sleep(time.Second)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	t.Logf("after a clean stop:\n%s", p.logText())
	if strings.Contains(p.logText(), "rollup: reading") {
		t.Errorf("the rebuild could not read a ring after a clean stop")
	}
}
