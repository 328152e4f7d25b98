package testdir

import (
	"os"
	"strings"
	"testing"
)

// TestIsTmpfs: isTmpfs agrees with the kernel's mount table for every
// mount point it lists (the last mount at a point is the one seen);
// devtmpfs is a tmpfs too, with the same magic number.
func TestIsTmpfs(t *testing.T) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	fstype := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && !strings.Contains(f[1], `\`) {
			fstype[f[1]] = f[2]
		}
	}
	tmpfs := 0
	for dir, typ := range fstype {
		if _, err := os.Stat(dir); err != nil {
			continue // not visible to this process
		}
		mem := typ == "tmpfs" || typ == "devtmpfs"
		if isTmpfs(dir) != mem {
			t.Errorf("%s (%s): isTmpfs %v", dir, typ, isTmpfs(dir))
		}
		if mem {
			tmpfs++
		}
	}
	if tmpfs == 0 || len(fstype) == tmpfs {
		t.Logf("%d mounts, %d of them tmpfs: one side untested", len(fstype), tmpfs)
	}
	if isTmpfs("/no/such/dir") {
		t.Error("a missing directory is tmpfs")
	}
}
