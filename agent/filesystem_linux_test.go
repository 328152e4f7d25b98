//go:build !nofilesystem

package agent

import (
	"errors"
	"os"
	"os/exec"
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
func fakeStatfs(path []byte, st *syscall.Statfs_t, raw bool) error {
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
	for _, raw := range []bool{false, true} {
		var st, want syscall.Statfs_t
		if err := statfsNoAlloc(cString("/nonexistent/x"), &st, raw); err != syscall.ENOENT {
			t.Errorf("statfs of a missing path (raw %v): %v", raw, err)
		}
		if err := statfsNoAlloc([]byte("/"), &st, raw); err != syscall.EINVAL {
			t.Errorf("statfs of a path without NUL (raw %v): %v", raw, err)
		}
		if err := statfsNoAlloc(cString("/"), &st, raw); err != nil {
			t.Fatalf("statfs / (raw %v): %v", raw, err)
		}
		if err := syscall.Statfs("/", &want); err != nil {
			t.Fatal(err)
		}
		if st.Type != want.Type || st.Bsize != want.Bsize || st.Blocks != want.Blocks || st.Files != want.Files {
			t.Errorf("statfs / (raw %v): got %+v, syscall.Statfs %+v", raw, st, want)
		}
		if n := testing.AllocsPerRun(100, func() { statfsNoAlloc(c.(*filesystemCollector).sample[0].path, &st, raw) }); n != 0 {
			t.Errorf("statfs (raw %v): %v allocations", raw, n)
		}
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

// TestFilesystemReadsTableOnChange: with a change detector (on procfs,
// poll on the table), the table is read at the first sample, when the
// detector reports a change, and after an error; otherwise the last
// table's mounts are statfs'd again. The detector is injected here;
// TestFilesystemRealMountChange uses the kernel's.
func TestFilesystemReadsTableOnChange(t *testing.T) {
	proc := t.TempDir()
	os.Mkdir(filepath.Join(proc, "self"), 0o755)
	table := filepath.Join(proc, "self", "mounts")
	write := func(s string) {
		if err := os.WriteFile(table, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("/dev/vda / ext4 rw 0 0\n")
	c := mustCollector(t, "filesystem", CollectorConfig{Proc: proc}).(*filesystemCollector)
	if !c.changed(c.f.fd) || !c.changed(c.f.fd) {
		t.Fatal("a table on a regular file is not read every sample")
	}
	c.statfs = fakeStatfs
	var changed bool
	calls := 0
	c.changed = func(int) bool { calls++; return changed }
	update := func() (string, error) {
		var e recordingEmitter
		err := c.Update(&e)
		return e.out.String(), err
	}
	if out, err := update(); err != nil || calls != 0 || !strings.Contains(out, `"mount":"/"`) {
		t.Fatalf("first sample: %d detector calls, %v: %s", calls, err, out)
	}
	write("/dev/vda / ext4 rw 0 0\n/dev/sda1 /media/usb vfat rw 0 0\n")
	if out, err := update(); err != nil || calls != 1 || strings.Contains(out, "usb") || !strings.Contains(out, `"mount":"/"`) {
		t.Errorf("no change reported: table read again (%d calls, %v): %s", calls, err, out)
	}
	changed = true
	if out, err := update(); err != nil || !strings.Contains(out, `"mount":"/media/usb"`) {
		t.Errorf("change reported, table not read again (%v): %s", err, out)
	}
	// A malformed table is read again at the next sample, whatever the
	// detector says.
	write("/dev/vda\n")
	changed, calls = true, 0
	if _, err := update(); err == nil || calls != 1 {
		t.Fatalf("malformed table: %d detector calls, %v", calls, err)
	}
	changed = false
	if _, err := update(); err == nil || calls != 1 {
		t.Errorf("malformed table: read again without asking the detector: want an error again, got %v (%d calls)", err, calls)
	}
	write("/dev/vda / ext4 rw 0 0\n")
	if out, err := update(); err != nil || !strings.Contains(out, `"mount":"/"`) {
		t.Errorf("after a malformed table: %v: %s", err, out)
	}
	checkNoAllocs(t, c)
	for _, m := range []uint32{0xef53, 0x01021994, 0xf2f52010, 0x794c7630} {
		if !memoryStatfs(m) {
			t.Errorf("memoryStatfs(%#x) = false", m)
		}
	}
	for _, m := range []uint32{0x6969 /* nfs */, 0x65735546 /* fuse */, 0x4d44 /* vfat */, 0xff534d42 /* cifs */} {
		if memoryStatfs(m) {
			t.Errorf("memoryStatfs(%#x) = true", m)
		}
	}
	if !mountsChanged(1 << 20) {
		t.Error("mountsChanged: a bad descriptor does not count as a change")
	}
}

// TestFilesystemRealMountChange mounts a tmpfs in a mount namespace of
// its own (a child process: this test binary again, which needs the
// privilege to make one, so root or CAP_SYS_ADMIN; skipped without it)
// and checks that the collector, polling the real /proc/self/mounts, sees
// the mount come, turn read-only, and go.
func TestFilesystemRealMountChange(t *testing.T) {
	if os.Getenv("ITINY_MOUNTNS_CHILD") != "" {
		t.Skip("in the child")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFilesystemMountNamespaceChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "ITINY_MOUNTNS_CHILD="+dir)
	// Go makes the child's mounts private, so nothing reaches this
	// namespace.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL)) {
		t.Skipf("no mount namespace here: %v", err)
	}
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot run this test binary again (an emulator?): %v", err)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skipf("child skipped: %s", out)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: TestFilesystemMountNamespaceChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestFilesystemMountNamespaceChild is TestFilesystemRealMountChange's
// child, in a mount namespace of its own.
func TestFilesystemMountNamespaceChild(t *testing.T) {
	dir := os.Getenv("ITINY_MOUNTNS_CHILD")
	if dir == "" {
		t.Skip("run by TestFilesystemRealMountChange")
	}
	cfg := realCollectorConfig(t)
	cfg.Options = map[string]string{"mounts": dir}
	c := mustCollector(t, "filesystem", cfg).(*filesystemCollector)
	defer c.Close()
	mountRec := `"mount":"` + dir + `","fstype":"tmpfs"`
	update := func() string {
		t.Helper()
		var e recordingEmitter
		if err := c.Update(&e); err != nil {
			t.Fatal(err)
		}
		return e.out.String()
	}
	if out := update(); out != "" {
		t.Fatalf("not mounted yet: %s", out)
	}
	if c.changed(c.f.fd) {
		t.Fatal("no change since the table was read, detector says changed")
	}
	if err := syscall.Mount("none", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount: %v", err)
	}
	if out := update(); !strings.Contains(out, mountRec) || !strings.Contains(out, `"readonly":false`) {
		t.Fatalf("mounted, not reported: %q", out)
	}
	if c.changed(c.f.fd) {
		t.Fatal("no change since the table was read, detector says changed")
	}
	if out := update(); !strings.Contains(out, mountRec) {
		t.Fatalf("still mounted, not reported: %q", out)
	}
	if err := syscall.Mount("none", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, "size=1m"); err != nil {
		t.Fatalf("remount: %v", err)
	}
	if out := update(); !strings.Contains(out, mountRec) || !strings.Contains(out, `"readonly":true`) {
		t.Fatalf("remounted read-only: %q", out)
	}
	if err := syscall.Unmount(dir, 0); err != nil {
		t.Fatalf("umount: %v", err)
	}
	if out := update(); out != "" {
		t.Fatalf("unmounted, still reported: %s", out)
	}
	if err := syscall.Mount("none", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount again: %v", err)
	}
	if out := update(); !strings.Contains(out, mountRec) {
		t.Fatalf("mounted again, not reported: %q", out)
	}
	checkNoAllocs(t, c)
	syscall.Unmount(dir, 0)
}
