package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

// TestRoots: itiny run --path.sysfs reads sysfs there, pstore's entries
// included. On a copy of the agent's fixture tree, with the default
// config, the previous boot's panic from pstore is in the events ring
// (and the entry removed from the copy once stored), the watchdog's
// card reset in the state ring and the thermal zones in the metrics ring.
func TestRoots(t *testing.T) {
	sys := t.TempDir()
	if err := os.CopyFS(sys, os.DirFS("../../agent/testdata/sys")); err != nil {
		t.Fatal(err)
	}
	panicLog := filepath.Join(sys, "fs/pstore/dmesg-ramoops-0")
	data := t.TempDir()
	p := launchWith(t, data, "--path.sysfs", sys)
	defer p.stop()
	waitListening(t, p)
	cmd := p.cmd
	type record struct {
		stream, name string
		ok           func(codec.Record) bool
	}
	missing := []record{
		{"events", "pstore.panic", func(r codec.Record) bool {
			return r.Level == codec.LevelCrit && field(r, "file").Str() == "dmesg-ramoops-0"
		}},
		{"state", "watchdog.bootstatus", func(r codec.Record) bool {
			return field(r, "watchdog").Str() == "watchdog0" && field(r, "flags").Str() == "card_reset"
		}},
		{"metrics", "thermal", func(r codec.Record) bool { return field(r, "type").Str() == "x86_pkg_temp" }},
	}
	// The collectors sample at start: flush (SIGUSR1) and look until the
	// records are in the rings.
	for i := 0; len(missing) > 0; i++ {
		if i > 500 {
			t.Fatalf("no %s record in the %s ring: %s", missing[0].name, missing[0].stream, p.logText())
		}
		time.Sleep(20 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGUSR1)
		missing = slices.DeleteFunc(missing, func(w record) bool {
			return slices.ContainsFunc(readRing(t, filepath.Join(data, w.stream)), func(r codec.Record) bool { return r.Name == w.name && w.ok(r) })
		})
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("itiny run: %v: %s", err, p.logText())
	}
	if _, err := os.Stat(panicLog); !os.IsNotExist(err) {
		t.Errorf("%s, stored, is still there: %v", panicLog, err)
	}
	if _, err := os.Stat("../../agent/testdata/sys/fs/pstore/dmesg-ramoops-0"); err != nil {
		t.Errorf("the fixture itself: %v", err)
	}
}

// TestAgentOffHostPstore: every test of this package runs the agent
// through runAgent, on a sysfs root of its own: a test that ran itiny run
// on the host's /sys with the default config would, as root, take the
// machine's crash logs from /sys/fs/pstore into rings it then deletes.
func TestAgentOffHostPstore(t *testing.T) {
	direct := regexp.MustCompile(`exec\.Command(Context)?\([^)]*"run"`)
	files, err := filepath.Glob("*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("test files: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(b), "\n") {
			if direct.MatchString(l) {
				t.Errorf("%s:%d runs the agent without runAgent: %s", f, i+1, strings.TrimSpace(l))
			}
		}
	}
	sys := runAgent(t).Args
	at := slices.Index(sys, "--path.sysfs")
	if at < 0 || strings.HasPrefix(sys[at+1], "/sys") {
		t.Fatalf("runAgent runs %q", sys)
	}
	if _, err := os.Lstat(filepath.Join(sys[at+1], "fs/pstore")); !os.IsNotExist(err) {
		t.Fatalf("runAgent's sysfs %s has fs/pstore: %v", sys[at+1], err)
	}
}
