//go:build !nofilesystem

package agent

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestParseMountLine(t *testing.T) {
	const path = "/proc/self/mounts"
	for _, tc := range []struct {
		name, in      string
		point, fstype string
		ro            bool
		err           string
	}{
		{"root", "/dev/vda / ext4 rw,relatime,discard 0 0", "/", "ext4", false, ""},
		{"read-only", "/dev/mmcblk0p2 /rom squashfs ro,relatime 0 0", "/rom", "squashfs", true, ""},
		{"ro last", "/dev/sda1 /mnt vfat nosuid,ro 0 0", "/mnt", "vfat", true, ""},
		{"not ro", "/dev/sda1 /mnt vfat rw,errors=remount-ro 0 0", "/mnt", "vfat", false, ""},
		{"escaped", `/dev/sdb1 /media/USB\040STICK vfat rw 0 0`, `/media/USB\040STICK`, "vfat", false, ""},
		{"short", "/dev/vda / ext4", "", "", false, `3 columns, want at least 4: "/dev/vda / ext4"`},
		{"relative", "/dev/vda data ext4 rw 0 0", "", "", false, "mount point is not absolute"},
	} {
		_, ml, err := parseMountLine(path, nil, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.name, err, path, tc.err)
			continue
		}
		if err != nil || string(ml.point) != tc.point || string(ml.fstype) != tc.fstype || ml.readonly != tc.ro {
			t.Errorf("%s: got %s %s %v, %v", tc.name, ml.point, ml.fstype, ml.readonly, err)
		}
	}
	if got := unescapeMount([]byte(`/a\040b\011c\134d\012\04`)); got != "/a b\tc\\d\n\\04" {
		t.Errorf("unescape: %q", got)
	}
}

// fakeStatfs gives each path made-up figures, so that the output does
// not depend on this machine's disks.
func fakeStatfs(path []byte, st *syscall.Statfs_t) error {
	*st = syscall.Statfs_t{Bsize: 4096, Frsize: 4096, Blocks: 1000, Bfree: 400, Bavail: 300, Files: 100, Ffree: 90}
	if string(path) == "/sys/fs/cgroup\x00" {
		st.Flags = stRdonly
	}
	if string(path) == "/gone\x00" {
		return syscall.ENOENT
	}
	if string(path) == "/stale\x00" {
		return syscall.ESTALE
	}
	return nil
}

func TestFilesystemCollector(t *testing.T) {
	for _, tc := range []struct {
		golden string
		opts   map[string]string
	}{
		{"filesystem", nil},
		{"filesystem-tmpfs", map[string]string{"include_tmpfs": "true"}},
		{"filesystem-mounts", map[string]string{"include_tmpfs": "yes", "mounts": " /dev/shm/, /nowhere"}},
		{"filesystem-mounts", map[string]string{"mounts": "/dev/shm"}}, // listed: reported though tmpfs
	} {
		cfg := testCollectorConfig()
		cfg.Options = tc.opts
		c, err := newCollector("filesystem", cfg)
		if err != nil {
			if tc.opts["include_tmpfs"] == "yes" {
				wantErr(t, tc.golden, err, "include_tmpfs", `"yes"`)
				cfg.Options["include_tmpfs"] = "1"
				c = mustCollector(t, "filesystem", cfg)
			} else {
				t.Fatal(err)
			}
		}
		c.(*filesystemCollector).statfs = fakeStatfs
		var e recordingEmitter
		if err := c.Update(&e); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, tc.golden, e.out.Bytes())
		checkNoAllocs(t, c)
	}
}

// TestFilesystemRealStatfs runs the real statfs on the fixture's "/".
func TestFilesystemRealStatfs(t *testing.T) {
	c := mustCollector(t, "filesystem", testCollectorConfig())
	var e recordingEmitter
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	if e.count != 1 || !strings.Contains(e.out.String(), `"mount":"/","fstype":"ext4","size_bytes":`) || strings.Contains(e.out.String(), `"size_bytes":0,`) {
		t.Errorf("got %s", e.out.String())
	}
	checkNoAllocs(t, c)
	var st syscall.Statfs_t
	if err := statfsNoAlloc(cString("/nonexistent/x"), &st); err != syscall.ENOENT {
		t.Errorf("statfs of a missing path: %v", err)
	}
	if n := testing.AllocsPerRun(100, func() { statfsNoAlloc(c.(*filesystemCollector).sample[0].path, &st) }); n != 0 {
		t.Errorf("statfs: %v allocations", n)
	}
}

// TestFilesystemChanges: mounts come and go, a later mount hides an
// earlier one, errors name the mount point.
func TestFilesystemChanges(t *testing.T) {
	proc := t.TempDir()
	os.Mkdir(filepath.Join(proc, "self"), 0o755)
	table := filepath.Join(proc, "self", "mounts")
	write := func(s string) {
		if err := os.WriteFile(table, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("/dev/vda / ext4 rw 0 0\n")
	c := mustCollector(t, "filesystem", CollectorConfig{Proc: proc, Options: map[string]string{"include_tmpfs": "false"}})
	c.(*filesystemCollector).statfs = fakeStatfs
	update := func() (string, error) {
		var e recordingEmitter
		err := c.Update(&e)
		return e.out.String(), err
	}
	out, err := update()
	if err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	// A USB stick, then tmpfs over it: hidden, so not reported.
	write("/dev/vda / ext4 rw 0 0\n/dev/sda1 /media/USB\\040STICK vfat ro 0 0\n")
	out, _ = update()
	if !strings.Contains(out, `"mount":"/media/USB STICK","fstype":"vfat"`) || !strings.Contains(out, `"readonly":true`) {
		t.Errorf("no stick: %s", out)
	}
	write("/dev/vda / ext4 rw 0 0\n/dev/sda1 /media/USB\\040STICK vfat ro 0 0\ntmpfs /media/USB\\040STICK tmpfs rw 0 0\n")
	if out, _ = update(); strings.Contains(out, "STICK") {
		t.Errorf("hidden mount reported: %s", out)
	}
	// Unmounted between the table and statfs: skipped; other errors are
	// reported with the mount point, after the other records.
	write("/dev/vda /gone ext4 rw 0 0\nsrv:/x /stale nfs rw 0 0\n/dev/vda / ext4 rw 0 0\n")
	out, err = update()
	wantErr(t, "stale", err, "statfs /stale", "stale")
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, `"mount":"/"`) {
		t.Errorf("got %s", out)
	}
	write("/dev/vda\n")
	_, err = update()
	wantErr(t, "malformed", err, table, "want at least 4")
}
