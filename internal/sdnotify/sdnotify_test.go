package sdnotify

import (
	"net"
	"path/filepath"
	"testing"
	"time"
)

func TestWatchdogInterval(t *testing.T) {
	for _, tc := range []struct {
		usec, pid string
		want      time.Duration
	}{
		{"", "", 0},
		{"0", "", 0},
		{"junk", "", 0},
		{"-5", "", 0},
		{"30000000", "", 30 * time.Second},
		{"30000000", "42", 30 * time.Second},
		{"30000000", "43", 0}, // meant for another process
	} {
		if got := watchdogInterval(tc.usec, tc.pid, 42); got != tc.want {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: %v, want %v", tc.usec, tc.pid, got, tc.want)
		}
	}
}

// TestMessages: what a manager reads, a status made one line.
func TestMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "2000000")
	n := New()
	defer n.Close()
	if n.Watchdog() != 2*time.Second {
		t.Fatalf("watchdog %v", n.Watchdog())
	}
	n.Ready("running:\nfine")
	n.Alive()
	n.Status("busy")
	n.Stopping("SIGTERM")
	buf := make([]byte, 512)
	for _, want := range []string{"READY=1\nSTATUS=running: fine", "WATCHDOG=1", "STATUS=busy", "STOPPING=1\nSTATUS=SIGTERM"} {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, err := conn.Read(buf)
		if err != nil || string(buf[:k]) != want {
			t.Fatalf("got %q (%v), want %q", buf[:k], err, want)
		}
	}
}

// TestNone: no socket, or a nil Notifier: nothing is sent, nothing fails.
func TestNone(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := New()
	if n != nil {
		t.Fatal("a Notifier without NOTIFY_SOCKET")
	}
	n.Ready("x")
	n.Reloading()
	n.Alive()
	n.Stopping("x")
	n.Close()
	if n.Watchdog() != 0 {
		t.Fatal("a watchdog without a Notifier")
	}
}

func Example() {
	n := New() // nil outside systemd: every call does nothing
	defer n.Close()
	n.Ready("running")
	// ... serve; at least every n.Watchdog()/2:
	n.Alive()
	n.Stopping("SIGTERM: flushing and closing")
	// Output:
}
