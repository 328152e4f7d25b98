package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/codec"
)

// TestSocketPathOnlyStale: the agent replaces only a stale socket at its
// socket path. A regular file there, or a live agent's socket, makes it
// exit saying why, and leaves them as they were; the boot counter cannot
// be named as the socket (socket = boot once replaced it, and the next
// start recorded a device boot that was not).
func TestSocketPathOnlyStale(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(t.TempDir(), "itiny.conf")
	os.WriteFile(conf, []byte(e2eConfig), 0o644)
	p := start(t, data, conf)
	defer p.cmd.Process.Kill()
	boot, err := os.ReadFile(filepath.Join(data, "boot"))
	if err != nil {
		t.Fatal(err)
	}

	keep := filepath.Join(t.TempDir(), "keep.txt")
	os.WriteFile(keep, []byte("precious\n"), 0o644)
	for _, tc := range []struct{ data, socket, want string }{
		{t.TempDir(), keep, keep + " is a regular file, not a socket: not replacing it"},
		{t.TempDir(), filepath.Join(data, "boot"), filepath.Join(data, "boot") + " is a regular file, not a socket"},
		{data, filepath.Join(data, "boot"), "lands on the data directory's boot counter"},
		{t.TempDir(), filepath.Join(data, "itiny.sock"), "another process is listening on " + filepath.Join(data, "itiny.sock")},
	} {
		other := filepath.Join(t.TempDir(), "other.conf")
		os.WriteFile(other, []byte(strings.Replace(e2eConfig, "socket = itiny.sock", "socket = "+tc.socket, 1)), 0o644)
		out, err := runAgent(t, "--data", tc.data, "--config", other).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("socket = %s: %v, %s; want an error saying %q", tc.socket, err, out, tc.want)
		}
	}
	if b, _ := os.ReadFile(keep); string(b) != "precious\n" {
		t.Errorf("the regular file at the socket path now holds %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(data, "boot")); string(b) != string(boot) {
		t.Errorf("boot counter %q, was %q", b, boot)
	}
	c, err := agent.Dial(p.sock)
	if err != nil {
		t.Fatalf("the live agent's socket after another tried it: %v", err)
	}
	if _, err := c.Send(&codec.Record{Name: "still.here", Level: codec.LevelInfo}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestSocketGroupMembers: with socket_group, a member of the group who is
// not the agent's user reaches DATA/itiny.sock (the data directory is the
// agent's and 0750) and stores a record; someone outside the group does
// not. Under umask 000 the socket still gets exactly socket_mode.
func TestSocketGroupMembers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running itiny emit as another user needs root")
	}
	const gid, nobody = 4242, 65534
	base, err := os.MkdirTemp("", "itiny-group-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	os.Chmod(base, 0o711) // others may pass through, as /var/lib
	bin := filepath.Join(base, "itiny")
	copyFile(t, binary, bin, 0o755)
	data := filepath.Join(base, "data")
	conf := filepath.Join(base, "itiny.conf")
	os.WriteFile(conf, []byte("socket_group = 4242\n"+e2eConfig), 0o644)

	old := syscall.Umask(0)
	p := start(t, data, conf)
	syscall.Umask(old)
	defer p.cmd.Process.Kill()
	var st syscall.Stat_t
	if err := syscall.Stat(p.sock, &st); err != nil || st.Gid != gid || st.Mode&0o777 != 0o660 {
		t.Errorf("socket: %v, group %d, mode %04o; want %d, 0660", err, st.Gid, st.Mode&0o777, gid)
	}
	emitAs := func(groups []uint32, name string) ([]byte, error) {
		cmd := exec.Command(bin, "emit", "--data", data, name)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: groups}}
		return cmd.CombinedOutput()
	}
	if out, err := emitAs([]uint32{gid}, "member.note"); err != nil {
		t.Errorf("a member of socket_group: %v: %s", err, out)
	}
	if out, err := emitAs(nil, "outsider.note"); err == nil || !strings.Contains(string(out), "permission denied") {
		t.Errorf("someone outside socket_group: %v: %s", err, out)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range readRing(t, filepath.Join(data, "events")) {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "member.note") || strings.Contains(got, "outsider.note") {
		t.Errorf("events: %s", got)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
