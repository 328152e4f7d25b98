// Package natstest runs a NATS server with JetStream inside a test, on
// 127.0.0.1 only, for the migrate tests.
package natstest

import (
	"testing"
	"time"

	"github.com/itiny/itiny/internal/testdir"
	"github.com/nats-io/nats-server/v2/server"
)

// Start runs a server configured by opts (nil: defaults) with JetStream,
// its store in a temporary directory, on 127.0.0.1 and a free port, and
// shuts it down when the test ends. It returns the client URL.
func Start(t testing.TB, opts *server.Options) string {
	t.Helper()
	if opts == nil {
		opts = &server.Options{}
	}
	opts.Host, opts.Port, opts.JetStream, opts.StoreDir = "127.0.0.1", -1, true, testdir.TempDir(t)
	opts.NoLog, opts.NoSigs = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}
