package main

import (
	"io"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/migrate"
)

// TestStatusNeverWaitsForTheAgent: an agent socket that takes the
// connection and never answers must not hold the forwarder: Follow's
// status callback returns at once, and so does a stop (once it held the
// callback, and the forwarding with it; a review found it).
func TestStatusNeverWaitsForTheAgent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "itiny.sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_SEQPACKET, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 4); err != nil {
		t.Fatal(err)
	}
	f := &follower{c: &config{agentSocket: path, agentEvery: time.Nanosecond, statusEvery: time.Nanosecond}, stderr: io.Discard,
		tells: make(chan codec.Record, 1), told1: make(chan struct{})}
	go f.teller()
	f.setPhase("following")
	done := make(chan struct{})
	go func() {
		for range 100 {
			f.lags([]migrate.Lag{{Stream: "metrics"}})
		}
		f.stop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the status callback or the stop still blocked after 5 s on an agent that does not answer")
	}
}
