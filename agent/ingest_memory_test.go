package agent

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/hostile"
)

// The samples are made once: reading them allocates nothing, so that the
// allocations counted are the agent's.
var (
	liveSample   = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	allocsSample = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
)

func heapLive() uint64 {
	runtime.GC()
	metrics.Read(liveSample)
	return liveSample[0].Value.Uint64()
}

func heapAllocs() uint64 {
	metrics.Read(allocsSample)
	return allocsSample[0].Value.Uint64()
}

// attack sends the hostile records over conns connections to the socket
// at path, rounds times, one goroutine per connection; it returns the
// messages sent, the connections refused, and the messages answered with
// a reason and the records stored.
func attack(t testing.TB, path string, conns, rounds int) (sent, refused, answered, stored int) {
	msgs := hostile.Records()
	clients := make([]*Client, conns)
	for i := range clients {
		c, err := Dial(path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s, r, a, st int
			defer func() {
				mu.Lock()
				sent, refused, answered, stored = sent+s, refused+r, answered+a, stored+st
				mu.Unlock()
			}()
			for range rounds {
				for _, m := range msgs {
					s++
					_, err := c.SendRaw(m)
					switch {
					case err == nil:
						st++
					case strings.Contains(err.Error(), "too many connections"):
						r++
						return
					case strings.Contains(err.Error(), "agent refused the record"):
						a++
					default:
						t.Errorf("connection %d: %v", i, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	return sent, refused, answered, stored
}

// TestIngestAttacker is the attacking process of TestIngestMemoryBound,
// so that its connections, goroutines and threads are not in the heap
// that test measures.
func TestIngestAttacker(t *testing.T) {
	path := os.Getenv("ITINY_TEST_ATTACK")
	if path == "" {
		t.Skip("run by TestIngestMemoryBound")
	}
	sent, refused, answered, stored := attack(t, path, maxConns+8, 3)
	fmt.Printf("attack: sent %d refused %d answered %d stored %d\n", sent, refused, answered, stored)
}

// TestIngestMemoryBound: adversarial senders, a process on many
// connections, some refused, cannot make the ingest socket hold more than
// ingestMemory (docs/DESIGN.md section 12), during the attack or after:
// the agent's live Go heap, read with runtime/metrics after a collection
// at every sample, stays within it of what it was before the agent
// listened. And they make it allocate nothing per message: no decoded
// record, no reason. (Before, one connection's
// 200 such records grew the agent by 200 MB, and 63 connections by 71 MB,
// held after they closed.)
func TestIngestMemoryBound(t *testing.T) {
	const maxRecord = hostile.Size
	cfg := testConfig(t, "rate_limit = 1000000000\n") // every message decoded
	cfg.Socket = "itiny.sock"
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfg.Data, "itiny.sock")
	before := heapLive()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	waitExists(t, path)

	cmd := exec.Command(os.Args[0], "-test.run=^TestIngestAttacker$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ITINY_TEST_ATTACK="+path)
	outFile, err := os.CreateTemp(t.TempDir(), "attacker")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = outFile, outFile // a file: no goroutine copies
	attacked := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	allocs := heapAllocs() // from here on, what allocates is the agent
	go func() { attacked <- cmd.Wait() }()
	peak := before
	for sampling := true; sampling; {
		select {
		case err := <-attacked:
			if err != nil {
				t.Fatalf("attacker: %v", err)
			}
			sampling = false
		default:
		}
		peak = max(peak, heapLive())
	}
	garbage := heapAllocs() - allocs
	after := heapLive()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	a.Close()

	b, _ := os.ReadFile(outFile.Name())
	out := string(b)
	var sent, refused, answered, stored int
	if _, err := fmt.Sscanf(out[max(strings.Index(out, "attack:"), 0):], "attack: sent %d refused %d answered %d stored %d", &sent, &refused, &answered, &stored); err != nil {
		t.Fatalf("attacker's output %q: %v", out, err)
	}
	bound := uint64(ingestMemory(maxRecord))
	t.Logf("%d messages on %d connections (%d refused), %d answered; live heap %d KiB before, peak +%d KiB, after +%d KiB (bound %d KiB); %d bytes allocated per message",
		sent, maxConns+8, refused, answered, before>>10, (peak-before)>>10, (max(after, before)-before)>>10, bound>>10, garbage/uint64(sent))
	if msgs := len(hostile.Records()); refused != 8 || answered != maxConns*3*msgs || stored != 0 {
		t.Errorf("%d refused, %d answered, %d stored; want 8, %d and none", refused, answered, stored, maxConns*3*msgs)
	}
	// The runtime's own, beside the agent's: the metrics read, a thread.
	const runtimeSlack = 64 << 10
	if peak > before+bound+runtimeSlack {
		t.Errorf("live heap peaked %d bytes above its start, over the bound of %d", peak-before, bound+runtimeSlack)
	}
	if after > before+bound+runtimeSlack {
		t.Errorf("live heap %d bytes above its start after the attack, over the bound of %d", after-before, bound+runtimeSlack)
	}
	// Per message nothing: what is counted is the process's (the wait for
	// the attacker, a timer), over 7,000 messages.
	if per := garbage / uint64(sent); per > 64 {
		t.Errorf("%d bytes allocated per hostile message", per)
	}
}

// TestIngestIdle: a connection that sends nothing for the idle timeout
// is told so and closed; Client makes it again and sends.
func TestIngestIdle(t *testing.T) {
	cfg := testConfig(t, "")
	cfg.Socket = "itiny.sock"
	a, err := New(cfg, Options{SocketIdle: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go a.Run(context.Background())
	defer a.Close()
	path := filepath.Join(cfg.Data, "itiny.sock")
	waitExists(t, path)
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Blocks until the agent closes the connection: no sleep.
	buf := make([]byte, 256)
	n, err := syscall.Read(c.fd, buf)
	if err != nil || string(buf[:n]) != "err idle for 20ms: connection closed" {
		t.Fatalf("idle connection got %q, %v", buf[:n], err)
	}
	if n, err := syscall.Read(c.fd, buf); n != 0 || err != nil {
		t.Fatalf("after the notice: %d bytes, %v; want the end", n, err)
	}
	if _, err := c.SendRaw([]byte(`{"name":"after idle"}`)); err != nil {
		t.Fatalf("send after the agent closed the idle connection: %v", err)
	}
}

// TestIngestConnectionLimit: when all connections are taken, a newcomer
// of the same user is refused with the reason, which Client reports
// (`itiny emit` used to say "broken pipe"); one closing makes room.
func TestIngestConnectionLimit(t *testing.T) {
	_, path, stop := runAgent(t, "")
	defer stop()
	var cs []*Client
	for i := 0; i < maxConns; i++ {
		c, err := Dial(path)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
		if _, err := c.SendRaw([]byte(`{"name":"hello"}`)); err != nil {
			t.Fatal(err)
		}
	}
	extra, err := Dial(path) // the kernel takes the connection; the agent refuses it
	if err != nil {
		t.Fatal(err)
	}
	_, err = extra.SendRaw([]byte(`{"name":"one too many"}`))
	want := fmt.Sprintf("agent refused the record: too many connections (%d open, %d of them yours)", maxConns, maxConns)
	if err == nil || err.Error() != want {
		t.Fatalf("connection %d: %v, want %q", maxConns+1, err, want)
	}
	extra.Close()
	cs[0].Close()
	// Room again once the agent has seen the close, in its own time.
	for {
		c, err := Dial(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.SendRaw([]byte(`{"name":"room again"}`))
		c.Close()
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "too many connections") {
			t.Fatalf("after a connection closed: %v", err)
		}
	}
	for _, c := range cs[1:] {
		c.Close()
	}
}
