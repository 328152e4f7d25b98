package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/internal/testbin"
)

// TestOwnCrash: the agent dies of SIGABRT, as systemd's watchdog kills a
// service, and the Go runtime prints its goroutines to stderr and to the
// crash file; the next start records that output as agent.crash, with
// the dead run's pid and version, which itiny-read shows, and empties the
// file but for its own header.
func TestOwnCrash(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(data, "itiny.conf")
	os.WriteFile(conf, []byte(e2eConfig), 0o644)
	p := start(t, data, conf)
	crashed := p.cmd.Process.Pid
	header := fmt.Sprintf("== itiny agent %s pid %d\n", agent.Version, crashed)
	if b, _ := os.ReadFile(filepath.Join(data, "crash")); string(b) != header {
		t.Errorf("crash file of a running agent: %q, want its header", b)
	}
	p.cmd.Process.Signal(syscall.SIGABRT)
	err := p.cmd.Wait()
	if st, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || st.ExitStatus() != 2 {
		t.Fatalf("after SIGABRT: %v, want the runtime's exit 2\n%s", err, p.logText())
	}
	if b, _ := os.ReadFile(filepath.Join(data, "crash")); !strings.HasPrefix(string(b), header+"SIGABRT: abort\n") {
		t.Fatalf("crash file after SIGABRT: %.200q", b)
	}

	p = start(t, data, conf)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logText())
	}
	if want := fmt.Sprintf("the agent crashed (version %s, pid %d): SIGABRT: abort", agent.Version, crashed); !strings.Contains(p.logText(), want) {
		t.Errorf("log of the start after the crash, without %q:\n%s", want, p.logText())
	}
	if b, _ := os.ReadFile(filepath.Join(data, "crash")); string(b) != fmt.Sprintf("== itiny agent %s pid %d\n", agent.Version, p.cmd.Process.Pid) {
		t.Errorf("crash file once recorded: %.200q, want only the new run's header", b)
	}

	reader, err := testbin.Build(t.TempDir(), "../itiny-read")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(reader, "--stream", "events", "-o", "json", "name=agent.crash", data).Output()
	if err != nil {
		t.Fatalf("itiny-read: %v", err)
	}
	var text strings.Builder
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i, line := range lines {
		var r struct {
			Level  string
			Fields struct {
				Version          string
				PID, Part, Parts int
				Text             string
				Cut              int64
			}
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		f := r.Fields
		if r.Level != "crit" || f.Version != agent.Version || f.PID != crashed || f.Part != i+1 || f.Parts != len(lines) || f.Cut != 0 {
			t.Errorf("agent.crash %d of %d: %s", i+1, len(lines), line)
		}
		text.WriteString(f.Text)
	}
	runs, err := exec.Command(reader, "runs", data).Output()
	if err != nil || !strings.Contains(string(runs), fmt.Sprintf(" %d ", crashed)) || !strings.Contains(string(runs), "crashed (SIGABRT: abort)") {
		t.Errorf("itiny-read runs: %v, without the crashed run and its cause:\n%s", err, runs)
	}
	if !strings.HasPrefix(text.String(), "SIGABRT: abort\n") || !strings.Contains(text.String(), "goroutine 1 ") {
		t.Errorf("agent.crash text, its parts joined:\n%s", text.String())
	}
}
