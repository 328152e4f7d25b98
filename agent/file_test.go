package agent

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/itiny/itiny/internal/regular"
)

// TestReadRegular: only regular files are read, without blocking on a
// FIFO or reading a device, and only up to the limit; the config, the
// boot counter and a snapshot's file are read this way.
func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		make func(path string) error
		want string // "" for success
	}{
		{"regular", func(p string) error { return os.WriteFile(p, []byte("cap = 1MiB\n"), 0o644) }, ""},
		{"at-limit", func(p string) error { return os.WriteFile(p, make([]byte, 64), 0o644) }, ""},
		{"symlink-to-regular", func(p string) error {
			os.WriteFile(p+".target", []byte("x"), 0o644)
			return os.Symlink(p+".target", p)
		}, ""},
		{"over-limit", func(p string) error { return os.WriteFile(p, make([]byte, 65), 0o644) }, "more than 64 bytes"},
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "a FIFO, not a regular file"},
		{"dev-zero", func(p string) error { return os.Symlink("/dev/zero", p) }, "a character device, not a regular file"},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }, "a directory, not a regular file"},
		{"missing", func(string) error { return nil }, "no such file"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := tc.make(path); err != nil {
			t.Fatal(err)
		}
		_, err := regular.ReadFile(path, 64)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if tc.name == "fifo" {
			if _, _, err := readBounded(path, 64); err == nil || !strings.Contains(err.Error(), "FIFO") {
				t.Errorf("snapshot file that is a FIFO: %v", err)
			}
		}
	}
}
