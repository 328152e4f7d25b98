package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/itiny/itiny/codec"
)

func TestPagerCommand(t *testing.T) {
	unset := map[string]string{}
	haveLess := func(string) (string, error) { return "/usr/bin/less", nil }
	noLess := func(string) (string, error) { return "", exec.ErrNotFound }
	for _, tc := range []struct {
		env                            map[string]string
		lookPath                       func(string) (string, error)
		terminal, noPager, follow, end bool
		want                           string
	}{
		{unset, haveLess, true, false, false, false, "less -R"},
		{unset, haveLess, true, false, false, true, "less -R +G"},
		{unset, noLess, true, false, false, false, ""},
		{unset, haveLess, false, false, false, false, ""}, // not a terminal
		{unset, haveLess, true, true, false, false, ""},   // --no-pager
		{unset, haveLess, true, false, true, false, ""},   // -f
		{map[string]string{"PAGER": "more"}, haveLess, true, false, false, false, "more"},
		{map[string]string{"PAGER": "more"}, noLess, true, false, false, true, "more"},
		{map[string]string{"PAGER": "/opt/bin/less -S"}, noLess, true, false, false, true, "/opt/bin/less -S +G"},
		{map[string]string{"PAGER": ""}, haveLess, true, false, false, false, ""},
		{map[string]string{"PAGER": " cat "}, haveLess, true, false, false, false, ""},
		{map[string]string{"PAGER": "most"}, haveLess, false, false, false, false, ""},
	} {
		env := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
		if got := pagerCommand(env, tc.lookPath, tc.terminal, tc.noPager, tc.follow, tc.end); got != tc.want {
			t.Errorf("%v terminal=%v no-pager=%v follow=%v end=%v: %q, want %q", tc.env, tc.terminal, tc.noPager, tc.follow, tc.end, got, tc.want)
		}
	}
}

// openPTY opens a pseudo-terminal: its controlling side and its terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	var unlock int32
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Skipf("no pseudo-terminal: unlock: %v", e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Skipf("no pseudo-terminal: %v", e)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

func TestIsTerminal(t *testing.T) {
	_, tty := openPTY(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !isTerminal(tty) || isTerminal(w) || isTerminal(f) {
		t.Fatalf("isTerminal: pty %v, pipe %v, file %v; want true, false, false", isTerminal(tty), isTerminal(w), isTerminal(f))
	}
}

// TestPager runs itiny-read with its output on a pseudo-terminal: the
// records go through $PAGER, here a script that records its input, its
// arguments and $LESS; with --no-pager, or a PAGER of cat, they do not.
func TestPager(t *testing.T) {
	data := fixture(t)
	dir := t.TempDir()
	rec := filepath.Join(dir, "got")
	script := "#!/bin/sh\necho \"$LESS $*\" > " + rec + ".args\ncat > " + rec + "\n"
	less := filepath.Join(dir, "less")
	if err := os.WriteFile(less, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	want, _, _ := run(t, "--color", "always", "--utc", data)
	for _, tc := range []struct {
		env   []string
		args  []string
		paged bool
		argv  string // the pager's $LESS and arguments
	}{
		{[]string{"PAGER=" + less + " -R"}, nil, true, "FRSXMK -R"},
		{[]string{"PAGER=" + less, "LESS=-i"}, []string{"-e"}, true, "FRSXMK +G"},   // the user's LESS does not count, as in journalctl
		{[]string{"PAGER=" + less, "ITINY_LESS=X"}, nil, true, "X"},                 // $SYSTEMD_LESS's part
		{[]string{"PATH=" + dir + ":" + os.Getenv("PATH")}, nil, true, "FRSXMK -R"}, // PAGER unset: less -R
		{[]string{"PAGER='" + less + "' -R"}, nil, true, "FRSXMK -R"},               // a shell command
		{[]string{"PAGER=" + less}, []string{"--no-pager"}, false, ""},
		{[]string{"PAGER=cat"}, nil, false, ""},
		{[]string{"PAGER="}, nil, false, ""},
	} {
		os.Remove(rec)
		os.Remove(rec + ".args")
		screen, errOut, code := onTerminal(t, tc.env, append(append([]string{"--utc"}, tc.args...), data)...)
		got, rerr := os.ReadFile(rec)
		argv, _ := os.ReadFile(rec + ".args")
		if code != 0 || tc.paged != (rerr == nil) {
			t.Errorf("%v %q: exit %d (%s); paged %v, want %v", tc.env, tc.args, code, errOut, rerr == nil, tc.paged)
			continue
		}
		if tc.paged && (string(got) != want || strings.TrimSpace(string(argv)) != tc.argv || screen != "") {
			t.Errorf("%v %q: the pager had %d bytes (want %d), args %q (want %q); screen %q", tc.env, tc.args, len(got), len(want), argv, tc.argv, screen)
		}
		if !tc.paged && screen != want {
			t.Errorf("%v %q: not paged, but the screen had %q, want %q", tc.env, tc.args, screen, want)
		}
		if errors.Is(rerr, os.ErrNotExist) != !tc.paged {
			t.Errorf("%v: %v", tc.env, rerr)
		}
	}
}

// TestPagerFails: a pager that cannot start, run as it is or through the
// shell, is named on stderr and the records print on the terminal
// directly, exit 0, as journalctl; one that fails otherwise is an error,
// exit 1.
func TestPagerFails(t *testing.T) {
	data := fixture(t)
	want, _, _ := run(t, "--color", "always", "--utc", data)
	for _, tc := range []struct {
		pager  string
		code   int
		screen string // the records; "" nothing
		err    string // in stderr
	}{
		{"/nonexistent", 0, want, `itiny-read: pager "/nonexistent": not started: fork/exec /nonexistent: no such file or directory: printing without it`},
		{"/nonexistent -R +G", 0, want, `pager "/nonexistent -R +G": not started`},
		{"no-such-pager-here", 0, want, `pager "no-such-pager-here": not started: exec: "no-such-pager-here": executable file not found in $PATH`},
		{"'/nonexistent' -R", 0, want, `pager "'/nonexistent' -R": not started: the shell could not run it (exit status 127): printing without it`},
		{"/dev/null; exit 126", 0, want, `not started: the shell could not run it (exit status 126)`},
		{"false", 1, "", `itiny-read: pager "false": exit status 1`},
	} {
		screen, errOut, code := onTerminal(t, []string{"PAGER=" + tc.pager}, "--utc", data)
		if code != tc.code || screen != tc.screen || !strings.Contains(errOut, tc.err) {
			t.Errorf("PAGER=%q: exit %d, %d bytes on the screen (want %d), stderr %q; want exit %d and %q", tc.pager, code, len(screen), len(tc.screen), errOut, tc.code, tc.err)
		}
	}
}

// TestPagerQuits: a pager that quits before the end, as less on q, ends
// itiny-read quietly, exit 0, however much was left to write.
func TestPagerQuits(t *testing.T) {
	data := t.TempDir()
	var recs []codec.Record
	for i := range 5000 { // over 64 KiB, a pipe's buffer
		recs = append(recs, codec.Record{BootCount: 1, Wall: t0.Add(time.Duration(i) * time.Second), Mono: int64(i), Level: codec.LevelInfo, Name: fmt.Sprint("r", i)})
	}
	writeRecords(t, data, "events", recs...)
	screen, errOut, code := onTerminal(t, []string{"PAGER=head -n 2"}, "--utc", "--color", "never", data)
	if code != 0 || errOut != "" || !strings.HasSuffix(screen, " r0\n") || len(lines(screen)) != 2 {
		t.Errorf("PAGER=head -n 2: exit %d, stderr %q, screen %q; want exit 0, the first record", code, errOut, screen)
	}
}

// onTerminal runs itiny-read with env added (PAGER and LESS unset unless
// there) and its output on a pseudo-terminal, and returns what the
// terminal showed, with its newlines made \n, stderr and the exit status.
func onTerminal(t *testing.T, env []string, args ...string) (screen, stderr string, code int) {
	t.Helper()
	master, tty := openPTY(t)
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	var e []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PAGER=") && !strings.HasPrefix(kv, "LESS=") && !strings.HasPrefix(kv, "ITINY_LESS=") {
			e = append(e, kv)
		}
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(e, env...)
	cmd.Stdout = tty
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err := cmd.Run()
	tty.Close()
	<-done
	var x *exec.ExitError
	if err != nil && !errors.As(err, &x) {
		t.Fatal(err)
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), errOut.String(), cmd.ProcessState.ExitCode()
}
