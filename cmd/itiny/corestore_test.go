package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/itiny/itiny/internal/corespool"
	"github.com/itiny/itiny/internal/testbin"
)

// storeConfig gives the cores stream room for a minidump of hundreds of
// parts, which the agent takes a while to store, each synced.
const storeConfig = `
cap = 64MiB
[stream cores]
budget = 40MiB
segment = 128KiB
codec = msgpack
sync = always
mode = continuous
[collector cores]
threads = 64
thread_bytes = 1MiB
`

// TestCoreStoreKilled: an agent SIGKILLed while it stores a minidump's
// parts resumes, started again, at the part after the last it stored
// (the mark in the spool file): the cores ring then holds each part
// once, and the minidump extracted is the one the spool held.
func TestCoreStoreKilled(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(t.TempDir(), "itiny.conf")
	os.WriteFile(conf, []byte(storeConfig), 0o644)
	// A spool file as itiny core leaves one (docs/FORMAT.md, the spool):
	// the agent stores its bytes as they are.
	mini := make([]byte, 16<<20)
	rand.NewChaCha8([32]byte{14}).Read(mini)
	name := fmt.Sprintf("core-%016x-%d", 1, 4242)
	head := []byte("itiny-core 1\npid 4242\ntid 4242\nsignal 11\ntime 1796331474\nexe /usr/bin/appd\nboot another\nmono 1\n")
	file := append(append(head, bytes.Repeat([]byte("\n"), corespool.HeaderSize-len(head))...), mini...)
	os.Mkdir(filepath.Join(data, corespool.Dir), 0o750)
	path := filepath.Join(data, corespool.Dir, name)
	if err := os.WriteFile(path, file, 0o640); err != nil {
		t.Fatal(err)
	}

	// Stop it as soon as its mark says some parts are stored, the event
	// not yet: the kill lands partway.
	p := start(t, data, conf)
	h := make([]byte, corespool.HeaderSize)
	var mark string
	for {
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("the agent stored the crash before it was seen partway: %v\n%s", err, p.logText())
		}
		f.ReadAt(h, 0)
		f.Close()
		mark = strings.Trim(string(h[corespool.HeaderSize-corespool.ProgressSize:]), "\n")
		if strings.Contains(mark, "parts ") {
			break
		}
	}
	p.cmd.Process.Signal(syscall.SIGSTOP)
	f, _ := os.Open(path)
	f.ReadAt(h, 0)
	f.Close()
	mark = strings.Trim(string(h[corespool.HeaderSize-corespool.ProgressSize:]), "\n")
	p.stop() // SIGKILL
	if !strings.Contains(mark, "told 0") {
		t.Fatalf("killed after the event: mark %q", mark)
	}
	t.Logf("killed at mark %q", strings.ReplaceAll(mark, "\n", " "))

	storeConf(t, data, conf)
	reader, err := testbin.Build(t.TempDir(), "../itiny-read")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(reader, "--stream", "cores", "-o", "json", data).Output()
	if err != nil {
		t.Fatalf("itiny-read --stream cores: %v\n%s", err, stderrOf(err))
	}
	parts := strings.Count(string(out), `"name":"process.core"`)
	list, err := exec.Command(reader, "cores", data).Output()
	if err != nil {
		t.Fatalf("itiny-read cores: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(list)), "\n")
	seq := ""
	if f := strings.Fields(lines[len(lines)-1]); len(lines) == 2 && len(f) > 9 {
		seq = f[9]
	}
	got := filepath.Join(t.TempDir(), "mini.core")
	if out, err := exec.Command(reader, "cores", "--extract", seq, "-o", got, data).CombinedOutput(); err != nil {
		t.Fatalf("itiny-read cores --extract %q: %v\n%s\n%s", seq, err, out, list)
	}
	b, _ := os.ReadFile(got)
	want := (len(mini) + 32479) / 32480
	if parts != want || !bytes.Equal(b, mini) {
		t.Errorf("%d process.core records, want %d; the minidump extracted is %d bytes, the same: %v\n%s", parts, want, len(b), bytes.Equal(b, mini), list)
	}
}
