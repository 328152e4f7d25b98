// Package testbin builds a command for the end-to-end tests that run it
// as a real process.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
