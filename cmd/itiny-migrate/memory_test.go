package main

import (
	"fmt"
	"testing"

	"github.com/itiny/itiny/bundle"
	"github.com/itiny/itiny/internal/hostile"
	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/internal/testdir"
)

// TestBundleMemory is itiny-read's TestBundleMemory for itiny-migrate,
// whose plan reads every record of every ring. The store is a port that
// refuses connections: it is dialled after the plan is made.
func TestBundleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads about 500 MB")
	}
	dead := fmt.Sprintf("nats://127.0.0.1:%d", deadPort(t))
	for _, b := range hostile.WriteT(t, testdir.TempDir(t)) {
		t.Run(b.Name, func(t *testing.T) {
			r := testbin.Run(t, nil, binary, "--to", dead, "--scope", "s", "--retries", "1", "--dry-run", b.Path)
			b.Check(t, r, bundle.DefaultMemory, exitInput)
		})
	}
}
