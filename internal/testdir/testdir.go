// Package testdir gives tests a temporary directory in memory, for tests
// that sync thousands of times and check logic, not the disk: on ext4
// each fsync costs milliseconds, on tmpfs nothing (docs/DESIGN.md
// section 9). Tests of what a real filesystem does (allocated blocks, the
// budget on disk, write errors) use t.TempDir instead.
package testdir

import (
	"os"
	"strings"
	"testing"
)

// shm is where Linux mounts a tmpfs for POSIX shared memory.
const shm = "/dev/shm"

// TempDir returns a new directory on tmpfs, removed when the test ends:
// in /dev/shm when that is a tmpfs, else t.TempDir().
func TempDir(t testing.TB) string {
	t.Helper()
	if !isTmpfs(shm) {
		return t.TempDir()
	}
	name := strings.Map(safe, t.Name())
	if len(name) > 64 { // as t.TempDir
		name = name[:64]
	}
	dir, err := os.MkdirTemp(shm, "itiny-"+name+"-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("testdir: %v", err)
		}
	})
	return dir
}

// safe keeps a test's name usable in a file name, as t.TempDir does.
func safe(r rune) rune {
	if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
		return r
	}
	return '_'
}
