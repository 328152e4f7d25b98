package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/internal/testbin"
)

// nobody is the user the tests run a second sender as, when they run as
// root.
const nobody = 65534

// openDir makes dir and its parents up to the temp directory searchable
// by every user, so that another user's sender reaches a socket in it.
func openDir(t *testing.T, dir string) {
	t.Helper()
	for d := dir; d != os.TempDir() && d != "/" && d != "."; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// emitAs runs `itiny emit` as uid (-1: this process's), returning its
// output and error.
func emitAs(t *testing.T, bin string, uid int, args ...string) (string, error) {
	cmd := exec.Command(bin, append([]string{"emit"}, args...)...)
	if uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSocketLimits runs the agent and `itiny emit` and holds the socket
// to issue 12's section 1: when every connection is taken, `itiny emit`
// prints the agent's reason, not "broken pipe"; another user still gets a
// connection, the user holding them all giving up its longest idle one;
// rate limits are the user's, so junk src names neither get buckets nor
// starve another user; an empty message is answered; and the agent's
// clocks order what a sender sends, whatever mono it claims.
func TestSocketLimits(t *testing.T) {
	data := t.TempDir()
	openDir(t, data)
	conf := filepath.Join(t.TempDir(), "itiny.conf")
	os.WriteFile(conf, []byte("socket = itiny.sock\nsocket_mode = 0666\nrate_limit = 100\n[stream metrics]\nbudget = 2MiB\nmode = continuous\n"), 0o644)
	p := start(t, data, conf)
	defer p.cmd.Process.Kill()
	// A copy of the binary another user may run.
	binDir := t.TempDir()
	openDir(t, binDir)
	bin := filepath.Join(binDir, "itiny")
	b, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin, b, 0o755)
	root := os.Getuid() == 0

	// Every connection taken, and used once, by this process.
	var cs []*agent.Client
	for i := 0; i < 64; i++ {
		c, err := agent.Dial(p.sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.SendRaw([]byte(`{"name":"hold","src":"holder"}`)); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	out, err := emitAs(t, bin, -1, "--socket", p.sock, "full")
	if err == nil || !strings.Contains(out, "too many connections (64 open, 64 of them yours)") || strings.Contains(out, "broken pipe") {
		t.Errorf("itiny emit with every connection taken: %v, %q", err, out)
	}
	if root {
		// Another user: one of this process's connections makes way.
		if out, err := emitAs(t, bin, nobody, "--socket", p.sock, "-v", "other.user"); err != nil {
			t.Fatalf("itiny emit as uid %d with every connection taken by uid 0: %v, %q", nobody, err, out)
		}
		evicted := 0
		for _, c := range cs {
			_, err := c.SendRaw([]byte(`{"name":"still here?","src":"holder"}`))
			if err != nil && strings.Contains(err.Error(), "connection closed: another user needed it (uid 0 held 64 of 64)") {
				evicted++
			} else if err != nil && !strings.Contains(err.Error(), "rate limited") {
				t.Errorf("a held connection: %v", err)
			}
		}
		if evicted != 1 {
			t.Errorf("%d connections made way for another user, want 1", evicted)
		}
	}
	for _, c := range cs {
		c.Close()
	}

	// Rate: junk names are this user's and get no buckets: a flood of them
	// is limited, and another user is served while it goes on. (That the
	// flooding user's next name is limited too, TestIngestFlood shows
	// with a clock that stands still.)
	c, err := agent.Dial(p.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	limited := make(chan struct{})
	neverLimited := false // set before limited is closed
	stopFlood := make(chan struct{})
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		once := false
		for i := 0; ; i++ {
			select {
			case <-stopFlood:
				return
			default:
			}
			_, err := c.SendRaw([]byte(`{"name":"junk","src":"junk-` + strings.Repeat("x", 200) + strconv.Itoa(i) + `"}`))
			if !once && (err != nil && strings.Contains(err.Error(), "rate limited") || i == 1e6) {
				once, neverLimited = true, i == 1e6
				close(limited)
			}
		}
	}()
	<-limited
	if neverLimited {
		t.Fatal("a million records with a new src name each were never rate limited")
	}
	if root {
		if out, err := emitAs(t, bin, nobody, "--socket", p.sock, "quiet"); err != nil {
			t.Errorf("a quiet user during another's flood: %v, %q", err, out)
		}
	}
	close(stopFlood)
	<-flooded

	// An empty message gets an answer; a sender's mono does not order.
	c2, err := agent.Dial(p.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	for {
		_, err := c2.SendRaw(nil)
		if err == nil || !strings.Contains(err.Error(), "rate limited") {
			if err == nil || !strings.Contains(err.Error(), "empty message") {
				t.Errorf("an empty message: %v", err)
			}
			break
		}
	}
	for {
		_, err := c2.SendRaw([]byte(`{"name":"late","mono":9223372036854775807}`))
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "rate limited") {
			t.Fatal(err)
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, p.logText())
	}
	reader, err := testbin.Build(t.TempDir(), "../itiny-read")
	if err != nil {
		t.Fatal(err)
	}
	js, err := exec.Command(reader, "-o", "json", data).Output()
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for sc := bufio.NewScanner(bytes.NewReader(js)); sc.Scan(); {
		var r struct{ Name string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Name == "late" || r.Name == "agent.stop" {
			order = append(order, r.Name)
		}
	}
	if strings.Join(order, " ") != "late agent.stop" {
		t.Errorf("merged view: %v, want late before agent.stop", order)
	}
}
