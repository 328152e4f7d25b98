package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/testbin"
)

func makeCmd(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"--no-print-directory", "-s", "-C", ".."}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make %v: %v\n%s", args, err, out)
	}
}

// TestInstall runs make install-files into a DESTDIR with PREFIX /usr
// and checks what lands there: the binaries, /etc/itiny.conf that the
// agent reads as the same configuration as its embedded default, the
// units and the init script pointing at the installed paths, and the
// manual pages man(1) finds.
func TestInstall(t *testing.T) {
	bin := testbin.Commands(t, "..")
	dest := t.TempDir()
	makeCmd(t, "install-files", "BIN="+bin, "DESTDIR="+dest, "PREFIX=/usr")
	for path, mode := range map[string]os.FileMode{
		"usr/bin/itiny": 0o755, "usr/bin/itiny-read": 0o755, "usr/bin/itiny-migrate": 0o755,
		"etc/itiny.conf": 0o644, "etc/init.d/itiny": 0o755,
		"usr/lib/systemd/system/itiny.service": 0o644, "usr/lib/systemd/system/itiny-forward.service": 0o644,
		"usr/share/man/man8/itiny.8": 0o644, "usr/share/man/man1/itiny-read.1": 0o644, "usr/share/man/man1/itiny-migrate.1": 0o644,
	} {
		fi, err := os.Stat(filepath.Join(dest, path))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, mode %v, want %v", path, err, fi.Mode().Perm(), mode)
		}
	}
	// The installed file is the embedded default: the same effective
	// configuration, comments and all.
	itiny := filepath.Join(dest, "usr/bin/itiny")
	conf := filepath.Join(dest, "etc/itiny.conf")
	embedded, err1 := exec.Command(itiny, "config", "check").Output()
	installed, err2 := exec.Command(itiny, "config", "check", conf).Output()
	if err1 != nil || err2 != nil || !bytes.Equal(embedded, installed) {
		t.Errorf("/etc/itiny.conf is not the embedded default (%v, %v):\n%s\n---\n%s", err1, err2, embedded, installed)
	}
	if b, _ := os.ReadFile(conf); !bytes.Contains(b, []byte("\n# ")) {
		t.Error("/etc/itiny.conf has no comments")
	}
	unit, _ := os.ReadFile(filepath.Join(dest, "usr/lib/systemd/system/itiny.service"))
	if !strings.Contains(string(unit), "ExecStart=/usr/bin/itiny run --config /etc/itiny.conf ") {
		t.Errorf("the installed unit does not run the installed binary:\n%s", unit)
	}
	// With PREFIX /usr/local, the default, the paths follow.
	local := t.TempDir()
	makeCmd(t, "install-files", "BIN="+bin, "DESTDIR="+local)
	unit, _ = os.ReadFile(filepath.Join(local, "usr/local/lib/systemd/system/itiny.service"))
	script, _ := os.ReadFile(filepath.Join(local, "etc/init.d/itiny"))
	if !strings.Contains(string(unit), "ExecStart=/usr/local/bin/itiny run ") || !strings.Contains(string(script), "ITINY_BIN:=/usr/local/bin/itiny}") {
		t.Errorf("PREFIX /usr/local: the unit and script do not run /usr/local/bin/itiny:\n%s\n%s", unit, script)
	}
	// The unit verifies with its man page installed (Documentation=).
	testbin.VerifyUnit(t, filepath.Join(dest, "usr/lib/systemd/system/itiny.service"), "/usr/bin/itiny", itiny, filepath.Join(dest, "usr/share/man"))
	// man finds the pages under the install's MANPATH.
	for _, page := range []string{"8 itiny", "1 itiny-read", "1 itiny-migrate"} {
		cmd := exec.Command("man", append([]string{"-w"}, strings.Fields(page)...)...)
		cmd.Env = append(os.Environ(), "MANPATH="+filepath.Join(dest, "usr/share/man"))
		if out, err := cmd.Output(); err != nil || !strings.HasPrefix(string(out), dest) {
			t.Errorf("man -w %s: %v %s", page, err, out)
		}
	}
}

// TestDeb builds the .deb (make deb-package) and installs it with dpkg -i
// on this machine, as root: the user and group itiny, /var/lib/itiny of
// mode 0710 owned by them, the files in place; the installed agent, run
// as itiny, makes its socket of the group itiny, mode 0660, in a data
// directory the group may search only (0710); dpkg --purge leaves no file,
// no data directory, no user or group. The service is not started here
// (policy-rc.d says no, as in an image build): it would run on the
// host's /sys/fs/pstore.
func TestDeb(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("dpkg -i needs root: run make test as root (CI does)")
	}
	for _, tool := range []string{"dpkg", "dpkg-deb", "adduser"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: %v", tool, err)
		}
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f", "${Status}", "itiny").Output(); err == nil && strings.Contains(string(out), "installed") {
		t.Fatalf("a package itiny is installed on this machine already (%s): the test would remove it", out)
	}
	if _, err := user.Lookup("itiny"); err == nil {
		t.Fatal("a user itiny exists on this machine already: the test would remove it")
	}
	policy := "/usr/sbin/policy-rc.d"
	if _, err := os.Stat(policy); os.IsNotExist(err) {
		if err := os.WriteFile(policy, []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(policy)
	}
	out := t.TempDir()
	makeCmd(t, "deb-package", "BIN="+testbin.Commands(t, ".."), "DEBDIR="+out)
	debs, _ := filepath.Glob(filepath.Join(out, "itiny_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("make deb-package made %v", debs)
	}
	dpkg := func(args ...string) {
		t.Helper()
		if b, err := exec.Command("dpkg", args...).CombinedOutput(); err != nil {
			t.Fatalf("dpkg %v: %v\n%s", args, err, b)
		}
	}
	dpkg("-i", debs[0])
	purged := false
	defer func() {
		if !purged {
			exec.Command("dpkg", "--purge", "itiny").Run()
		}
	}()
	u, err := user.Lookup("itiny")
	if err != nil {
		t.Fatalf("no user itiny: %v", err)
	}
	g, err := user.LookupGroup("itiny")
	if err != nil || u.Gid != g.Gid {
		t.Fatalf("no group itiny, or not the user's: %v", err)
	}
	fi, err := os.Stat("/var/lib/itiny")
	if err != nil || fi.Mode().Perm() != 0o710 || owner(fi) != u.Uid+":"+g.Gid {
		t.Fatalf("/var/lib/itiny: %v, mode %v, owner %s", err, fi.Mode().Perm(), owner(fi))
	}
	for _, f := range []string{"/usr/bin/itiny", "/usr/bin/itiny-read", "/usr/bin/itiny-migrate", "/etc/itiny.conf",
		"/usr/lib/systemd/system/itiny.service", "/etc/init.d/itiny", "/usr/share/man/man8/itiny.8.gz"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	// The agent as the service runs it, as itiny, on a sysfs of its own
	// that itiny may read.
	sysfs := testbin.Sysfs(t)
	for d := sysfs; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	agent := exec.Command("/usr/bin/itiny", "run", "--config", "/etc/itiny.conf", "--data", "/var/lib/itiny", "--path.sysfs", sysfs)
	agent.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	var log bytes.Buffer
	agent.Stderr = &log
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	sock := "/var/lib/itiny/itiny.sock"
	for i := 0; ; i++ {
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			break
		} else if i == 1000 {
			agent.Process.Kill()
			agent.Wait()
			t.Fatalf("no socket: %s", log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	sfi, _ := os.Stat(sock)
	dfi, _ := os.Stat("/var/lib/itiny")
	agent.Process.Signal(syscall.SIGTERM)
	if err := agent.Wait(); err != nil {
		t.Errorf("the agent as itiny: %v\n%s", err, log.String())
	}
	if sfi.Mode().Perm() != 0o660 || owner(sfi) != u.Uid+":"+g.Gid || dfi.Mode().Perm() != 0o710 {
		t.Errorf("socket mode %v owner %s, data directory mode %v; want 0660 itiny:itiny in 0710", sfi.Mode().Perm(), owner(sfi), dfi.Mode().Perm())
	}
	dpkg("--purge", "itiny")
	purged = true
	for _, f := range []string{"/usr/bin/itiny", "/etc/itiny.conf", "/usr/lib/systemd/system/itiny.service", "/etc/init.d/itiny", "/var/lib/itiny"} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s left after purge: %v", f, err)
		}
	}
	if _, err := user.Lookup("itiny"); err == nil {
		t.Error("user itiny left after purge")
	}
	if _, err := user.LookupGroup("itiny"); err == nil {
		t.Error("group itiny left after purge")
	}
}

// owner returns a file's uid:gid.
func owner(fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "?"
	}
	return strconv.FormatUint(uint64(st.Uid), 10) + ":" + strconv.FormatUint(uint64(st.Gid), 10)
}
