package agent

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/ringlog"
)

// eventWait bounds a wait for something the agent does: a minute, since
// a loaded machine, or qemu-user (make test-cross), is slow at times, and
// a wait ends as soon as the thing happens. The tests assert no time.
const eventWait = time.Minute

// testConfig is the default config with collectors off, no listeners, a
// data directory of its own, and extra text parsed over it.
func testConfig(t *testing.T, extra string) *Config {
	t.Helper()
	text := "socket =\n" + extra
	c, err := ParseConfig("test.conf", text)
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range c.Collectors {
		col.Enabled = false
	}
	c.Data = testdir.TempDir(t) // each ring's Open syncs: some tests open hundreds
	return c
}

// readStream returns the records of one stream's ring.
func readStream(t testing.TB, dir, stream string) []codec.Record {
	t.Helper()
	r, err := ringlog.NewReader(filepath.Join(dir, stream))
	if err != nil {
		t.Fatal(err)
	}
	var out []codec.Record
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", stream, err)
		}
		var rec codec.Record
		if err := e.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
}

func names(rs []codec.Record) []string {
	var n []string
	for _, r := range rs {
		n = append(n, r.Name)
	}
	return n
}

func field(r codec.Record, key string) codec.Value {
	for _, f := range r.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return codec.Value{}
}

func TestAgentEmitRestart(t *testing.T) {
	cfg := testConfig(t, "")
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := codec.Record{Level: codec.LevelWarning, Source: "appd", Name: "link.down", Fields: codec.Fields{{Key: "iface", Value: codec.String("eth0")}}}
	if err := a.Emit(StreamEvents, &rec); err != nil {
		t.Fatal(err)
	}
	if err := a.Emit("nope", &rec); !errors.Is(err, ErrUnknownStream) {
		t.Fatalf("unknown stream: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// A second start in the same boot: same boot counter, no device boot.
	a, err = New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	self := readStream(t, cfg.Data, StreamSelf)
	if got := strings.Join(names(self), " "); got != "agent.start agent.config clock.sync agent.stop agent.start agent.config clock.sync agent.stop" {
		t.Fatalf("itiny stream: %s", got)
	}
	if field(self[0], "bootn").Uint() != 1 || field(self[4], "bootn").Uint() != 1 || !field(self[4], "clean").Bool() {
		t.Fatalf("boot records: %+v / %+v", self[0].Fields, self[4].Fields)
	}
	ev := readStream(t, cfg.Data, StreamEvents)
	if got := strings.Join(names(ev), " "); got != "device.boot link.down" {
		t.Fatalf("events: %s", got)
	}
	if ev[1].Boot == (codec.BootID{}) || ev[1].BootCount != 1 || ev[1].Mono == 0 || ev[1].Wall.IsZero() {
		t.Fatalf("record not stamped: %+v", ev[1])
	}
}

func TestEmitZeroAllocs(t *testing.T) {
	a, err := New(testConfig(t, ""), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rec := codec.Record{Level: codec.LevelInfo, Source: "appd", Name: "req", Fields: codec.Fields{{Key: "ms", Value: codec.Float(1.5)}, {Key: "path", Value: codec.String("/x")}}}
	for _, s := range []string{StreamEvents, StreamMetrics} {
		a.Emit(s, &rec)
		if n := testing.AllocsPerRun(1000, func() { rec.Wall, rec.Mono = time.Time{}, 0; a.Emit(s, &rec) }); n != 0 {
			t.Errorf("%s: %v allocations per Emit", s, n)
		}
	}
}

func BenchmarkEmit(b *testing.B) {
	cfg, _ := ParseConfig("b", "socket =")
	cfg.Data = b.TempDir()
	a, err := New(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	rec := codec.Record{Level: codec.LevelInfo, Source: "appd", Name: "req", Fields: codec.Fields{{Key: "ms", Value: codec.Float(1.5)}, {Key: "path", Value: codec.String("/x")}}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rec.Wall, rec.Mono = time.Time{}, 0
		if err := a.Emit(StreamEvents, &rec); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRules(t *testing.T) {
	cfg := testConfig(t, "[rule filesystem-full]\nrecord = filesystem\nfield = used_pct\nabove = 90\nclear = 85\nfor = 3\nlevel = warning\n")
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs := func(mount string, pct float64) {
		r := codec.Record{Source: "filesystem", Name: "filesystem", Level: codec.LevelInfo, Fields: codec.Fields{
			{Key: "mount", Value: codec.String(mount)}, {Key: "used_pct", Value: codec.Float(pct)}}}
		if err := a.Emit(StreamMetrics, &r); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []float64{95, 95, 50, 95, 95, 95, 99, 88, 86, 84, 80} { // fires at the 3rd 95 in a row, clears at 84
		fs("/data", v)
	}
	for _, v := range []float64{91, 92} { // never 3 in a row
		fs("/boot", v)
	}
	a.Close()
	var got []string
	for _, r := range readStream(t, cfg.Data, StreamEvents) {
		if r.Name == "rule.filesystem-full" {
			what := "fired"
			if field(r, "cleared").Bool() {
				what = "cleared"
			}
			got = append(got, field(r, "instance").Str()+":"+r.Level.String()+":"+what)
		}
	}
	if strings.Join(got, " ") != "/data:warning:fired /data:notice:cleared" {
		t.Fatalf("rule events: %v", got)
	}
}

func TestStateChangeEvent(t *testing.T) {
	cfg := testConfig(t, "")
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := codec.Record{Source: "process", Name: "process", Level: codec.LevelWarning, Fields: codec.Fields{
		{Key: "process", Value: codec.String("appd")}, {Key: "running", Value: codec.Bool(false)}}}
	a.Emit(StreamState, &r)
	r.Level = codec.LevelInfo // a routine snapshot is not an event
	a.Emit(StreamState, &r)
	a.Close()
	var changes []codec.Record
	for _, e := range readStream(t, cfg.Data, StreamEvents) {
		if e.Name == "state.change" {
			changes = append(changes, e)
		}
	}
	if len(changes) != 1 || field(changes[0], "process").Str() != "appd" || changes[0].Level != codec.LevelWarning {
		t.Fatalf("state.change events: %+v", changes)
	}
}

func TestConfigReload(t *testing.T) {
	cfg := testConfig(t, "")
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	next, err := ParseConfig("next", "socket =\nrate_limit = 5\n[stream events]\nbudget = 2MiB\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(next); err != nil {
		t.Fatal(err)
	}
	if a.live.Load().RateLimit != 5 {
		t.Fatal("reload did not apply rate_limit")
	}
}

func TestSnapshotInstances(t *testing.T) {
	hosts := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644)
	cfg := testConfig(t, "[collector snapshot.greeting]\ncommand = echo hello\n[collector snapshot.hosts]\nfile = "+hosts+"\n")
	cfg.Collectors["snapshot.greeting"].Enabled = true
	cfg.Collectors["snapshot.hosts"].Enabled = true
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.collectors) != 2 {
		t.Fatalf("%d collectors built, want the two snapshots", len(a.collectors))
	}
	for _, s := range a.collectors {
		if err := s.c.Update(a); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	a.Close()
	got := map[string]string{}
	for _, r := range readStream(t, cfg.Data, StreamState) {
		got[field(r, "snapshot").Str()] = field(r, "output").Str()
	}
	if got["greeting"] != "hello\n" || got["hosts"] != "127.0.0.1 localhost\n" {
		t.Fatalf("snapshot records: %q", got)
	}
}

// countUpdates wraps a collector and calls after(n) after its nth Update.
type countUpdates struct {
	Collector
	n     int
	after func(n int)
}

func (c *countUpdates) Update(e Emitter) error {
	err := c.Collector.Update(e)
	c.n++
	c.after(c.n)
	return err
}

func (c *countUpdates) Close() error {
	if cl, ok := c.Collector.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// Collectors reuse their records; each round must still carry its own
// time, shared by every record of the round. The agent runs until the
// third round, however long that takes on a loaded machine.
func TestSampleTimes(t *testing.T) {
	cfg := testConfig(t, "[collector uptime]\ninterval = 100ms\n[collector load]\ninterval = 100ms\n")
	cfg.Collectors["uptime"].Enabled = true
	cfg.Collectors["load"].Enabled = true
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := a.collectors[len(a.collectors)-1]
	counted := &countUpdates{Collector: s.c, after: func(n int) {
		if n == 3 {
			cancel() // Run ends after this round
		}
	}}
	s.c = counted
	if err := a.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if counted.n < 3 {
		t.Fatalf("%d rounds in a minute at 100 ms", counted.n)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	rounds := map[int64][]string{} // mono -> names
	var monos []int64
	var last codec.Record
	for _, r := range readStream(t, cfg.Data, StreamMetrics) {
		if rounds[r.Mono] == nil {
			monos = append(monos, r.Mono)
			if len(monos) > 1 && (r.Mono <= last.Mono || !r.Wall.After(last.Wall)) {
				t.Fatalf("round at mono %d, wall %v after mono %d, wall %v", r.Mono, r.Wall, last.Mono, last.Wall)
			}
		} else if !r.Wall.Equal(last.Wall) {
			t.Fatalf("one round, two wall times: %v, %v", last.Wall, r.Wall)
		}
		rounds[r.Mono] = append(rounds[r.Mono], r.Name)
		last = r
	}
	if len(monos) != counted.n {
		t.Fatalf("%d rounds in the ring, %d sampled", len(monos), counted.n)
	}
	for _, m := range monos {
		if got := strings.Join(rounds[m], ","); got != "load,uptime" && got != "uptime,load" {
			t.Fatalf("round at %d: %s, want load and uptime", m, got)
		}
	}
}

// TestReloadKeepsSchedule: a reload hands each collector's schedule to
// the one that replaces it, so no collector writes a second sample
// before its interval, the new one, is up. The intervals are an hour:
// a second sample in the test's few rounds can only be the reload's.
// Run's housekeeping, every round, reloads after the first and ends the
// test two rounds later.
func TestReloadKeepsSchedule(t *testing.T) {
	cfg := testConfig(t, "[collector uptime]\ninterval = 1h\n[collector load]\ninterval = 1h\n")
	cfg.Collectors["uptime"].Enabled = true
	cfg.Collectors["load"].Enabled = true
	// The same uptime, load at a longer interval, memory enabled.
	next := testConfig(t, "[collector uptime]\ninterval = 1h\n[collector load]\ninterval = 2h\n[collector memory]\ninterval = 1h\n")
	for _, name := range []string{"uptime", "load", "memory"} {
		next.Collectors[name].Enabled = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var a *Agent
	rounds := 0
	house := func(time.Time) {
		switch rounds++; rounds {
		case 1:
			if err := a.Reload(next); err != nil {
				t.Error(err)
			}
		case 3:
			cancel()
		}
	}
	a, err := New(cfg, Options{Housekeeping: house, HousekeepingEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(ctx); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if rounds < 3 {
		t.Fatalf("%d rounds in a minute", rounds)
	}
	got := map[string]int{}
	for _, r := range readStream(t, cfg.Data, StreamMetrics) {
		got[r.Name]++
	}
	if got["uptime"] != 1 || got["load"] != 1 || got["memory"] != 1 {
		t.Fatalf("samples in the ring: %v; want one each of uptime, load and memory", got)
	}
}

// TestReloadKeepsFailingSpell: a collector failing at a reload goes on
// failing in the same spell, which collector.failing has told once: the
// reload does not tell it again. Its /proc/uptime is malformed; after the
// reload it samples at a short interval until it has failed again.
func TestReloadKeepsFailingSpell(t *testing.T) {
	proc := t.TempDir()
	os.WriteFile(filepath.Join(proc, "uptime"), []byte("not a number\n"), 0o644)
	cfg := testConfig(t, "[collector uptime]\ninterval = 1h\n")
	cfg.Collectors["uptime"].Enabled = true
	next := testConfig(t, "[collector uptime]\ninterval = 50ms\n")
	next.Collectors["uptime"].Enabled = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var a *Agent
	reloaded := false
	house := func(time.Time) {
		if !reloaded {
			reloaded = true
			if err := a.Reload(next); err != nil {
				t.Error(err)
			}
			return
		}
		a.mu.Lock()
		errs := a.collectors[0].errs
		a.mu.Unlock()
		if errs >= 3 {
			cancel()
		}
	}
	a, err := New(cfg, Options{Proc: proc, Log: discard{}, Housekeeping: house, HousekeepingEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(ctx); err != nil {
		t.Fatal(err)
	}
	a.Close()
	var failing []string
	for _, r := range readStream(t, cfg.Data, StreamEvents) {
		if r.Name == "collector.failing" || r.Name == "collector.recovered" {
			failing = append(failing, r.Name+" "+field(r, "collector").Str())
		}
	}
	if len(failing) != 1 || failing[0] != "collector.failing uptime" {
		t.Fatalf("collector events: %q; want collector.failing uptime, once", failing)
	}
}

// Reload after Close is refused and leaves no collector's files open.
func TestReloadAfterClose(t *testing.T) {
	cfg := testConfig(t, "")
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	next := testConfig(t, "")
	for _, name := range []string{"cpu", "memory", "diskstats", "netdev"} {
		next.Collectors[name].Enabled = true
	}
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip(err)
		}
		return len(ents)
	}
	before := fds()
	if err := a.Reload(next); !errors.Is(err, ErrClosed) {
		t.Fatalf("Reload after Close: %v, want ErrClosed", err)
	}
	if after := fds(); after != before {
		t.Fatalf("%d open files before Reload, %d after", before, after)
	}
}

// Housekeeping runs on the scheduler at its interval, collectors or not:
// the agent runs until the third call, and calls are never closer than
// the interval (by the monotonic clock the scheduler reads).
func TestHousekeeping(t *testing.T) {
	cfg := testConfig(t, "")
	const every = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var calls []time.Time
	a, err := New(cfg, Options{Housekeeping: func(now time.Time) {
		if calls = append(calls, now); len(calls) == 3 {
			cancel()
		}
	}, HousekeepingEvery: every})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(ctx); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if len(calls) < 3 {
		t.Fatalf("%d calls in a minute at %v", len(calls), every)
	}
	for i := 1; i < len(calls); i++ {
		if d := calls[i].Sub(calls[i-1]); d < every {
			t.Fatalf("calls %v apart, interval %v", d, every)
		}
	}
}
