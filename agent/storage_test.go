package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// TestStreamUnavailableAtStart: a ring the storage does not let the agent
// open (here openRing fails as on a full disk, for tests without root;
// cmd/itiny's TestStartOnFullDisk mounts one) leaves the agent running:
// records for that stream are refused with ErrUnavailable and the reason,
// counted; the other streams work; and once the ring opens, at a retry,
// its stream works and the itiny stream says what happened.
func TestStreamUnavailableAtStart(t *testing.T) {
	full := fullEvents(t)
	cfg := testConfig(t, "stats_every = 50ms\n")
	var log lockedLog
	a, err := New(cfg, Options{Log: &log})
	if err != nil {
		t.Fatalf("New on a full disk: %v", err)
	}
	err = a.Emit(StreamEvents, &codec.Record{Name: "refused", Level: codec.LevelInfo})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, syscall.ENOSPC) || !strings.HasPrefix(err.Error(), "stream events unavailable (no space left on device): ") {
		t.Fatalf("Emit to the unavailable stream: %v", err)
	}
	if err := a.Emit(StreamState, &codec.Record{Name: "kept", Level: codec.LevelInfo}); err != nil {
		t.Fatalf("Emit to a stream that opened: %v", err)
	}
	a.writeStats() // a stats round while it is down
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	log.wait(t, "stream events unavailable")
	full.Store(false)
	log.wait(t, "stream events available again")
	if err := a.Emit(StreamEvents, &codec.Record{Name: "stored", Level: codec.LevelInfo}); err != nil {
		t.Fatalf("Emit once the ring opened: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	a.Close()

	var down, up, stats []codec.Record
	for _, r := range readStream(t, cfg.Data, StreamSelf) {
		switch {
		case r.Name == "stream.unavailable":
			down = append(down, r)
		case r.Name == "stream.available":
			up = append(up, r)
		}
	}
	for _, r := range readStream(t, cfg.Data, StreamMetrics) { // stats.go
		if r.Name == "stream.stats" && field(r, "stream").Str() == StreamEvents {
			stats = append(stats, r)
		}
	}
	if len(down) != 1 || field(down[0], "stream").Str() != StreamEvents || !strings.Contains(field(down[0], "error").Str(), "no space left on device") {
		t.Errorf("stream.unavailable records: %v", down)
	}
	if len(up) != 1 || field(up[0], "refused").Uint() != 1 {
		t.Errorf("stream.available records: %v", up)
	}
	// The device boot, kept until the stream was available, and the record
	// stored once it was: in either order, as the kept record is written
	// just after the ring opens to every writer (the log line this test
	// waits for comes first), so a record sent in that instant may be
	// numbered before it. Both once.
	got := names(readStream(t, cfg.Data, StreamEvents))
	slices.Sort(got)
	if !slices.Equal(got, []string{"device.boot", "stored"}) {
		t.Errorf("events: %v; want the device boot, kept until the stream was available, and the record stored", got)
	}
	if len(stats) == 0 || field(stats[0], "available").Bool() {
		t.Errorf("the first stats of events, while it was down: %v", stats)
	}
}

// fullEvents makes the events stream's ring fail to open as on a full
// disk while the flag it returns is set, as it is at first, until the
// test ends.
func fullEvents(t *testing.T) *atomic.Bool { return fullStream(t, StreamEvents) }

// fullStream is fullEvents for any stream.
func fullStream(t *testing.T, stream string) *atomic.Bool {
	var full atomic.Bool
	full.Store(true)
	t.Cleanup(func() { openRing = ringlog.Open })
	openRing = func(dir string, o ringlog.Options) (*ringlog.Writer, error) {
		if o.Stream == stream && full.Load() {
			return nil, fmt.Errorf("ringlog: stream %s: write %s: %w", stream, dir, syscall.ENOSPC)
		}
		return ringlog.Open(dir, o)
	}
	return &full
}

// TestStartFailsOnOtherErrors: only a condition of the storage lets the
// agent start without a ring; any other failure to open one (here, a
// ring another writer holds) fails New, as before.
func TestStartFailsOnOtherErrors(t *testing.T) {
	cfg := testConfig(t, "")
	w, err := ringlog.Open(filepath.Join(cfg.Data, StreamEvents), cfg.Stream(StreamEvents).ringOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := New(cfg, Options{Log: discard{}}); !errors.Is(err, ringlog.ErrLocked) {
		t.Fatalf("New with a ring locked by another writer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Data, StreamState)); err != nil {
		t.Fatal(err)
	}
}

// lockedLog keeps the agent's log lines for a test to wait on.
type lockedLog struct {
	mu    sync.Mutex
	lines []string
	cond  *sync.Cond
}

func (l *lockedLog) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	if l.cond != nil {
		l.cond.Broadcast()
	}
}

// wait waits until a line says s.
func (l *lockedLog) wait(t *testing.T, s string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cond == nil {
		l.cond = sync.NewCond(&l.mu)
	}
	for !slices.ContainsFunc(l.lines, func(line string) bool { return strings.Contains(line, s) }) {
		l.cond.Wait()
	}
}
