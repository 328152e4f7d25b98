package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

func TestParseSyslog(t *testing.T) {
	for _, tc := range []struct {
		in, src, msg, fac string
		level             codec.Level
	}{
		{"<30>Nov 24 23:00:01 appd[123]: link up", "appd", "link up", "daemon", codec.LevelInfo},
		{"<11>appd: disk failed", "appd", "disk failed", "user", codec.LevelErr},
		{"<165>1 2026-11-24T23:00:00Z host app 42 ID47 - hello there", "app", "hello there", "local4", codec.LevelNotice},
		{"<13>just a message without tag", "syslog", "just a message without tag", "user", codec.LevelNotice},
		{"<14>bad \xff utf8: x", "syslog", "bad ? utf8: x", "user", codec.LevelInfo},
		{"<14>b\xffd[1]: x", "b?d", "x", "user", codec.LevelInfo},
	} {
		var r codec.Record
		if err := parseSyslog([]byte(tc.in), &r); err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if r.Source != tc.src || field(r, "msg").Str() != tc.msg || field(r, "facility").Str() != tc.fac || r.Level != tc.level {
			t.Errorf("%q: got %s %q %s %v", tc.in, r.Source, field(r, "msg").Str(), field(r, "facility").Str(), r.Level)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("%q: %v", tc.in, err)
		}
	}
	for _, bad := range []string{"", "no pri", "<999>x", "<x>y", "<1", "<>x", "<1a>x"} {
		var r codec.Record
		if err := parseSyslog([]byte(bad), &r); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestSyslogListener sends datagrams as syslog(3) does and finds them in
// the events stream.
func TestSyslogListener(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	a, _, stop := runAgent(t, "syslog = "+sock+"\n")
	waitExists(t, sock)
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	for _, m := range []string{"<11>appd[42]: disk failed", "<14>Nov 24 23:00:01 cron[7]: job done", "garbage without pri"} {
		if err := syscall.Sendto(fd, []byte(m), 0, &syscall.SockaddrUnix{Name: sock}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(eventWait)
	var got []string
	for len(got) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		got = got[:0]
		for _, r := range readStream(t, a.cfg.Data, StreamEvents) {
			if r.Name == "syslog" {
				got = append(got, r.Source+"/"+r.Level.String()+"/"+field(r, "msg").Str())
			}
		}
	}
	stop()
	if strings.Join(got, "|") != "appd/err/disk failed|cron/info/job done" {
		t.Fatalf("syslog records: %q", got)
	}
}

// syslogListening reports whether a's syslog listener is up.
func (a *Agent) syslogListening() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.syslog != nil
}

// sendSyslog sends datagrams to the syslog socket at path.
func sendSyslog(t *testing.T, path string, msgs ...string) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	for _, m := range msgs {
		if err := syscall.Sendto(fd, []byte(m), 0, &syscall.SockaddrUnix{Name: path}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSyslogLimits: syslog datagrams spend their sender's tokens, the
// same as records on the ingest socket: a flood from a user is dropped
// past its rate, counted and reported, whatever tags it uses.
func TestSyslogLimits(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	a, path, stop := runAgent(t, "rate_limit = 20\nsyslog = "+sock+"\n")
	setClock(a) // no token comes back during the test
	waitExists(t, sock)
	// Half the user's tokens on the ingest socket.
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if _, err := c.SendRaw([]byte(`{"name":"before the flood"}`)); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	var flood []string
	for i := 0; i < 200; i++ {
		flood = append(flood, fmt.Sprintf("<11>tag%d: spam %d", i, i))
	}
	sendSyslog(t, sock, flood...)
	// Datagrams get no answer: wait until the agent has counted them all.
	uid := uint32(os.Getuid())
	var p peer
	for deadline := time.Now().Add(eventWait); ; time.Sleep(5 * time.Millisecond) {
		peers, _ := a.peers.sweep(false)
		if len(peers) == 1 && peers[0].accepted+peers[0].dropped == 210 {
			p = peers[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("peers %+v: not all 210 messages counted in 10 s", peers)
		}
	}
	stop()
	if p.uid != uid || p.accepted != 20 || p.dropped != 190 {
		t.Errorf("peer %+v: want uid %d, 20 accepted, 190 dropped", p, uid)
	}
	var syslogs, dropped int
	for _, r := range readStream(t, a.cfg.Data, StreamEvents) {
		switch r.Name {
		case "syslog":
			syslogs++
		case "ingest.dropped":
			dropped += int(field(r, "dropped").Int())
		}
	}
	if syslogs != 10 || dropped != 190 {
		t.Errorf("%d syslog records, %d drops reported; want 10 and 190", syslogs, dropped)
	}
}

// TestSyslogPath: the agent replaces only a stale socket at the syslog
// path; a file that is not a socket, or a socket something listens on,
// is not the agent's to remove, and it does not start.
func TestSyslogPath(t *testing.T) {
	dir := t.TempDir()
	// New makes the sockets: it fails, or returns listening.
	run := func(path string) error {
		cfg := testConfig(t, "syslog = "+path+"\n")
		a, err := New(cfg, Options{})
		if err != nil {
			return err
		}
		defer a.Close()
		if !a.syslogListening() {
			t.Fatalf("syslog = %s: New returned with no syslog listener", path)
		}
		sendSyslog(t, path, "<14>check: up")
		return nil
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("precious"), 0o644)
	if err := run(file); err == nil || !strings.Contains(err.Error(), "is a regular file, not a socket") {
		t.Errorf("a regular file at the syslog path: %v", err)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "precious" {
		t.Errorf("the file at the syslog path: %q, %v", b, err)
	}
	live := filepath.Join(dir, "live")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err = syscall.Bind(fd, &syscall.SockaddrUnix{Name: live}); err != nil {
		t.Fatal(err)
	}
	if err := run(live); err == nil || !strings.Contains(err.Error(), "another process is listening") {
		t.Errorf("a live socket at the syslog path: %v", err)
	}
	stale := filepath.Join(dir, "stale")
	sfd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(sfd, &syscall.SockaddrUnix{Name: stale}); err != nil {
		t.Fatal(err)
	}
	syscall.Close(sfd)
	if err := run(stale); err != nil {
		t.Errorf("a stale socket at the syslog path: %v", err)
	}
}

// TestSyslogZeroAllocs: parsing a datagram and storing its record
// allocates nothing, however it is encoded: a flood makes no garbage.
func TestSyslogZeroAllocs(t *testing.T) {
	cfg := testConfig(t, "")
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var rec codec.Record
	for _, m := range []string{"<11>appd[42]: disk failed", "<165>1 2026-11-24T23:00:00Z host app 42 ID47 - hello", "<14>bad \xff utf8: x", "<13>no tag at all"} {
		buf := make([]byte, len(m))
		run := func() {
			copy(buf, m)
			if err := parseSyslog(buf, &rec); err != nil {
				t.Fatal(err)
			}
			if err := a.emit(StreamEvents, &rec, nil); err != nil {
				t.Fatal(err)
			}
		}
		run()
		if n := testing.AllocsPerRun(200, run); n != 0 {
			t.Errorf("%q: %v allocations", m, n)
		}
	}
}
