package testdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTempDir: a directory in /dev/shm when that is a tmpfs (else where
// t.TempDir puts it), empty, writable, and gone once the test has ended.
func TestTempDir(t *testing.T) {
	var dir string
	t.Run("sub/test:name", func(t *testing.T) {
		dir = TempDir(t)
		if isTmpfs(shm) != strings.HasPrefix(dir, shm+"/itiny-TestTempDir_sub_test_name-") {
			t.Errorf("%s: tmpfs at %s is %v", dir, shm, isTmpfs(shm))
		}
		if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
			t.Fatalf("%s: %d entries, %v", dir, len(ents), err)
		}
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s left behind: %v", dir, err)
	}
}
