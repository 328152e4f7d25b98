// Package testbin builds a command for the end-to-end tests that run it
// as a real process.
package testbin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Main builds the command in the current directory as name, runs the
// tests with its path in *binary, removes it and exits: call it from
// TestMain.
func Main(run func() int, name string, binary *string) {
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

// Run runs the command bin with args, env added to the environment, and
// returns its output and exit status. It fails the test if the command
// has not ended after a minute, killing it: the tests that use it check
// that the command never blocks (on a FIFO, say), not how fast it is.
func Run(t testing.TB, env []string, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not end: blocked", filepath.Base(bin), strings.Join(args, " "))
	}
	var x *exec.ExitError
	if errors.As(err, &x) {
		code = x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}
