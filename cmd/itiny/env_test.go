package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/itiny/itiny/internal/datadir"
)

// TestDataFromEnv: with no --data, itiny run and itiny emit take the data
// directory from $ITINY_DATA, as itiny-read does, so that the three agree.
func TestDataFromEnv(t *testing.T) {
	data := t.TempDir()
	env := append(os.Environ(), datadir.Env+"="+data)
	run := runAgent(t)
	run.Env = env
	p := &proc{cmd: run, log: &syncWriter{}, sock: filepath.Join(data, "itiny.sock")}
	run.Stderr = p.log
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	waitListening(t, p)
	emit := exec.Command(binary, "emit", "from.env", "k=v")
	emit.Env = env
	if out, err := emit.CombinedOutput(); err != nil {
		t.Fatalf("itiny emit with %s set: %v: %s", datadir.Env, err, out)
	}
	run.Process.Signal(syscall.SIGTERM)
	if err := run.Wait(); err != nil {
		t.Fatalf("itiny run: %v", err)
	}
	found := false
	for _, r := range readRing(t, filepath.Join(data, "events")) {
		found = found || r.Name == "from.env"
	}
	if !found {
		t.Fatalf("the record emitted with %s=%s is not in its events ring", datadir.Env, data)
	}
}
