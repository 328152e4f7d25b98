package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/version"
)

// TestConfigCheckAsRun: itiny config check refuses exactly what itiny run
// refuses, with the same reason, and what it prints reads back to the
// same config. The files are those that passed the check and then failed
// the agent, spun a core, or switched a collector off at run time.
func TestConfigCheckAsRun(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"[stream events]\nbudget = 1MiB\nsegment = 1", "[stream events] segment 1B is out of range [4KiB, 64MiB]"},
		{"[stream events]\nbudget = 1MiB\nsegment = 2KiB", "[stream events] segment 2KiB is out of range"},
		{"cap = 1GiB\n[stream events]\nbudget = 512MiB\nsegment = 128MiB", "[stream events] segment 128MiB is out of range"},
		{"[stream boot]\nbudget = 1MiB", "[stream boot]: boot is the data directory's boot counter"},
		{"[stream itiny.sock]\nbudget = 512KiB", "socket = itiny.sock lands on the ring of stream itiny.sock"},
		{"socket = boot", "socket = boot lands on the data directory's boot counter"},
		{"[stream process.state]\nbudget = 512KiB", "[stream process.state]: process.state is the data directory's collector state file"},
		{"socket = process.state.tmp", "socket = process.state.tmp lands on the data directory's collector state file's temporary file"},
		{"stats_every = 1ns", "stats_every: 1ns is below the minimum of 50ms"},
		{"[collector cpu]\ninterval = 1ns", "interval: 1ns is below the minimum of 50ms"},
		{"[collector cpu]\ncolour = red", `[collector cpu] unknown option "colour" for collector cpu`},
		{"[collector filesystem]\ninclude_tmpfs = maybe", `[collector filesystem] option include_tmpfs: want true or false, got "maybe"`},
		{"socket_group = nosuchgroupxyz", `socket_group: no group "nosuchgroupxyz" in /etc/group`},
		{"[rule up]\nrecord = process\nfield = running\nbelow = 1", "[rule up] record process field running is not a number (a flag): its numeric fields are restarts, rss_bytes"},
		{"[stream cores]\nbudget = 1536KiB\nsegment = 128KiB\ncodec = json", "[collector cores] [stream cores] codec json: minidumps are stored as bytes, which only msgpack keeps"},
		{"[stream cores]\nbudget = 384KiB\nsegment = 128KiB\ncodec = msgpack", "[collector cores] [stream cores] budget 384KiB holds no minidump"},
	} {
		conf := filepath.Join(t.TempDir(), "bad.conf")
		os.WriteFile(conf, []byte(tc.text), 0o644)
		data := t.TempDir()
		check, checkErr := exec.Command(binary, "config", "check", "--data", data, conf).CombinedOutput()
		run, runErr := runRefused(t, "--data", data, "--config", conf)
		if checkErr == nil || !strings.Contains(string(check), tc.want) {
			t.Errorf("%q: itiny config check: %v, %s; want an error saying %q", tc.text, checkErr, check, tc.want)
		}
		if runErr == nil || !strings.Contains(string(run), tc.want) {
			t.Errorf("%q: itiny run: %v, %s; want an error saying %q", tc.text, runErr, run, tc.want)
		}
	}

	// What config check prints is a complete config: checked again, it
	// prints the same.
	conf := filepath.Join(t.TempDir(), "site.conf")
	os.WriteFile(conf, []byte("socket_group = 4242\nlog_file = /var/log/itiny.log\nlog_max_size = 3\n[collector cpu]\nenabled = false\n[collector kmsg]\nall = true\n"), 0o644)
	first, err := exec.Command(binary, "config", "check", conf).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"socket_group = 4242\n", "log_file = /var/log/itiny.log\n", "log_max_size = 3\n", "[collector cpu]\nenabled = false\n", "[collector kmsg]\nenabled = true\ninterval = 10s\nall = true\n"} {
		if !strings.Contains(string(first), want) {
			t.Errorf("config check does not print %q:\n%s", want, first)
		}
	}
	printed := filepath.Join(t.TempDir(), "printed.conf")
	os.WriteFile(printed, first, 0o644)
	second, err := exec.Command(binary, "config", "check", printed).Output()
	if err != nil || string(second) != string(first) {
		t.Errorf("the printed config, checked again: %v\n%s\n--- first:\n%s", err, second, first)
	}
}

// runRefused runs the agent with args, which it should refuse at once:
// one that starts instead is stopped after a while, its error saying so.
func runRefused(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := runAgent(t, args...)
	var out syncWriter
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return []byte(out.String()), err
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		return []byte(out.String()), nil // ran: not refused
	}
}

// TestVersion: itiny version and itiny --version print the one version
// string itiny-read and itiny-migrate print too.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(binary, arg).Output()
		if err != nil || string(out) != "itiny "+version.String+"\n" {
			t.Errorf("itiny %s: %v, %q", arg, err, out)
		}
	}
}
