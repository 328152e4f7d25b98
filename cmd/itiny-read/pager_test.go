package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
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
		{[]string{"PAGER=" + less, "LESS=X"}, []string{"-e"}, true, "X +G"},
		{[]string{"PATH=" + dir + ":" + os.Getenv("PATH")}, nil, true, "FRSXMK -R"}, // PAGER unset: less -R
		{[]string{"PAGER=" + less}, []string{"--no-pager"}, false, ""},
		{[]string{"PAGER=cat"}, nil, false, ""},
		{[]string{"PAGER="}, nil, false, ""},
	} {
		os.Remove(rec)
		os.Remove(rec + ".args")
		master, tty := openPTY(t)
		var screen bytes.Buffer
		done := make(chan struct{})
		go func() { io.Copy(&screen, master); close(done) }()
		env := []string{}
		for _, e := range os.Environ() {
			if !strings.HasPrefix(e, "PAGER=") && !strings.HasPrefix(e, "LESS=") {
				env = append(env, e)
			}
		}
		cmd := exec.Command(binary, append(append([]string{"--utc"}, tc.args...), data)...)
		cmd.Env = append(env, tc.env...)
		cmd.Stdout = tty
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		err := cmd.Run()
		tty.Close()
		<-done
		got, rerr := os.ReadFile(rec)
		argv, _ := os.ReadFile(rec + ".args")
		if err != nil || tc.paged != (rerr == nil) {
			t.Errorf("%v %q: %v (%s); paged %v, want %v", tc.env, tc.args, err, errOut.String(), rerr == nil, tc.paged)
			continue
		}
		screenText := strings.ReplaceAll(screen.String(), "\r\n", "\n") // the terminal's newlines
		if tc.paged && (string(got) != want || strings.TrimSpace(string(argv)) != tc.argv || screenText != "") {
			t.Errorf("%v %q: the pager had %d bytes (want %d), args %q (want %q); screen %q", tc.env, tc.args, len(got), len(want), argv, tc.argv, screenText)
		}
		if !tc.paged && screenText != want {
			t.Errorf("%v %q: not paged, but the screen had %q, want %q", tc.env, tc.args, screenText, want)
		}
		if errors.Is(rerr, os.ErrNotExist) != !tc.paged {
			t.Errorf("%v: %v", tc.env, rerr)
		}
	}
}
