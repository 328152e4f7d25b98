// Package testbin builds a command for the end-to-end tests that run it
// as a real process.
package testbin

import (
	"context"
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
)

// Main builds the command in the current directory as name, runs the
// tests with its path in *binary, removes it and exits: call it from
// TestMain.
func Main(run func() int, name string, binary *string) {
	if out := os.Getenv(rssEnv); out != "" {
		os.Exit(runner(out))
	}
	dir, err := os.MkdirTemp("", name+"-e2e-")
	if err != nil {
		panic(err)
	}
	*binary = filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", *binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Build builds the command in directory pkg (relative to the test's
// package) into dir and returns its path: for a test that runs a second
// command beside the one Main built.
func Build(dir, pkg string) (string, error) {
	bin := filepath.Join(dir, filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// A Result is how a command run by Run ended.
type Result struct {
	Stdout, Stderr string
	Code           int   // exit status
	MaxRSS         int64 // peak resident memory in bytes, or a little more
}

// Run runs the command bin with args, env added to the environment. It
// fails the test if the command has not ended after two minutes, killing
// it: the tests that use it check that the command never blocks (on a
// FIFO, say), not how fast it is.
//
// The command runs under the test binary itself, started again as a
// runner that only runs it and writes its peak resident memory
// (getrusage) to a file: Linux counts in a process's peak that of the
// process it was started from, which shares its memory until the exec,
// and the test process itself may have grown large. The runner's own
// peak, a few megabytes, is what MaxRSS may overstate.
func Run(t testing.TB, env []string, bin string, args ...string) Result {
	t.Helper()
	return RunInput(t, nil, env, bin, args...)
}

// RunInput is Run with the command's standard input read from stdin
// (nil: none).
func RunInput(t testing.TB, stdin io.Reader, env []string, bin string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rss := filepath.Join(t.TempDir(), "rss")
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{bin}, args...)...)
	cmd.Env = append(append(os.Environ(), env...), rssEnv+"="+rss)
	cmd.WaitDelay = time.Second // the runner's child may hold the pipes
	var o, e strings.Builder
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not end: blocked", filepath.Base(bin), strings.Join(args, " "))
	}
	var x *exec.ExitError
	if err != nil && !errors.As(err, &x) {
		t.Fatal(err)
	}
	r := Result{Stdout: o.String(), Stderr: e.String(), Code: cmd.ProcessState.ExitCode()}
	b, err := os.ReadFile(rss)
	if err != nil {
		t.Fatalf("the runner left no peak memory: %v\n%s", err, r.Stderr)
	}
	if r.MaxRSS, err = strconv.ParseInt(string(b), 10, 64); err != nil {
		t.Fatal(err)
	}
	return r
}

// rssEnv names the file a runner writes the peak memory of its command to.
const rssEnv = "ITINY_TESTBIN_RSS"

// runner runs the command in its arguments, with its standard files, and
// writes its peak resident memory in bytes to out; it returns its exit
// status. Killed (the test's deadline), it kills the command too.
func runner(out string) int {
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	var x *exec.ExitError
	if err != nil && !errors.As(err, &x) {
		fmt.Fprintln(os.Stderr, "runner:", err)
		return 125
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil || os.WriteFile(out, []byte(strconv.FormatInt(int64(ru.Maxrss)<<10, 10)), 0o600) != nil { // kilobytes on Linux
		return 125
	}
	return cmd.ProcessState.ExitCode()
}

// Sysfs returns a sysfs root for a test's agent (itiny run --path.sysfs):
// the host's /sys, linked entry by entry, without fs/pstore. The pstore
// collector, on in the default config, removes the entries it stores: a
// test must never take the machine's crash logs into its temporary rings.
func Sysfs(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	link(tb, "/sys", dir, "fs")
	if err := os.Mkdir(filepath.Join(dir, "fs"), 0o755); err != nil {
		tb.Fatal(err)
	}
	link(tb, "/sys/fs", filepath.Join(dir, "fs"), "pstore")
	if _, err := os.Lstat(filepath.Join(dir, "fs/pstore")); !errors.Is(err, os.ErrNotExist) {
		tb.Fatalf("test sysfs %s has fs/pstore (%v)", dir, err)
	}
	return dir
}

// link links each entry of directory src but skip into dst. No src (a
// container without sysfs) leaves dst empty.
func link(tb testing.TB, src, dst, skip string) {
	ents, _ := os.ReadDir(src)
	for _, e := range ents {
		if e.Name() == skip {
			continue
		}
		if err := os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			tb.Fatal(err)
		}
	}
}

// CC builds the C program src with gcc (-g, -pthread) into dir as name and
// returns its path; without gcc it skips the test, saying how to get it.
func CC(tb testing.TB, dir, name, src string) string {
	tb.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		tb.Skip("gcc not installed, needed to build the test's program: make deps (scripts/deps.sh) installs it")
	}
	c, bin := filepath.Join(dir, name+".c"), filepath.Join(dir, name)
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-g", "-O0", "-pthread", "-o", bin, c).CombinedOutput(); err != nil {
		tb.Fatalf("gcc %s: %v\n%s", c, err, out)
	}
	return bin
}

// VerifyUnit runs systemd-analyze verify on the systemd unit at path,
// with bin standing for the program it runs (installed as installed),
// and returns the unit's text and the path of the copy it verified. With
// manpath "" the man pages the unit names are not looked up (make install
// installs them); else they are, in manpath.
func VerifyUnit(t testing.TB, path, installed, bin, manpath string) (text, copied string) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is not installed (make test installs it: scripts/deps.sh): %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copied = filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(copied, []byte(strings.ReplaceAll(string(b), installed, bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", "--man=no", copied)
	if manpath != "" {
		cmd = exec.Command(analyze, "verify", copied)
		cmd.Env = append(os.Environ(), "MANPATH="+manpath)
	}
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", path, err, out)
	}
	return string(b), copied
}

// Commands builds itiny, itiny-read and itiny-migrate into a directory
// of the test's and returns it; root is the repository's root relative
// to the test's package.
func Commands(t testing.TB, root string) string {
	t.Helper()
	dir := t.TempDir()
	for _, c := range []string{"itiny", "itiny-read", "itiny-migrate"} {
		if _, err := Build(dir, filepath.Join(root, "cmd", c)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
