package agent

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCloseWithConnectingClients: Close returns while clients keep
// connecting and idling (a connection accepted during Close used to be
// registered after Close had closed the others, and Close waited on it
// forever).
func TestCloseWithConnectingClients(t *testing.T) {
	iters := 100
	if testing.Short() {
		iters = 20
	}
	for iter := 0; iter < iters; iter++ {
		cfg := testConfig(t, "")
		cfg.Socket = "itiny.sock"
		a, err := New(cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		go a.Run(context.Background())
		path := filepath.Join(cfg.Data, "itiny.sock")
		var stop atomic.Bool
		var wg sync.WaitGroup
		var mu sync.Mutex
		var clients []*Client
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					c, err := Dial(path)
					if err != nil {
						time.Sleep(50 * time.Microsecond)
						continue
					}
					mu.Lock()
					clients = append(clients, c) // idle: never sends
					mu.Unlock()
				}
			}()
		}
		// Close once clients are connected, while more keep coming.
		for deadline := time.Now().Add(eventWait); ; time.Sleep(100 * time.Microsecond) {
			mu.Lock()
			n := len(clients)
			mu.Unlock()
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				stop.Store(true)
				t.Fatalf("iteration %d: no client connected in 5 s", iter)
			}
		}
		done := make(chan struct{})
		go func() { a.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(eventWait):
			stop.Store(true)
			t.Fatalf("iteration %d: Close hung with clients connecting", iter)
		}
		stop.Store(true)
		wg.Wait()
		for _, c := range clients {
			c.Close()
		}
	}
}
