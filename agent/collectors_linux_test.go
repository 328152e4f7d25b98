package agent

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite agent/testdata/golden from the collectors' output")

// checkGolden compares a collector's JSON lines with
// testdata/golden/NAME.jsonl.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".jsonl")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./agent -update-golden to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// checkNoAllocs asserts the collector's steady state: after a first
// Update, which may grow buffers, Update allocates nothing.
func checkNoAllocs(t *testing.T, c Collector) {
	t.Helper()
	d := &discardEmitter{}
	if err := c.Update(d); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { c.Update(d) }); n != 0 {
		t.Errorf("%v allocations per Update in steady state", n)
	}
}

// wantErr checks that err is not nil and mentions every one of subs (the
// file's path and what is wrong).
func wantErr(t *testing.T, what string, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s: error %q does not mention %q", what, err, s)
		}
	}
}

// mustCollector builds a registered collector or fails the test.
func mustCollector(t testing.TB, name string, c CollectorConfig) Collector {
	t.Helper()
	col, err := newCollector(name, c)
	if err != nil {
		t.Fatal(err)
	}
	return col
}

// realCollectorConfig is the machine's roots, the default streams and a
// data directory of the test's own (the cores collector's spool).
func realCollectorConfig(t testing.TB) CollectorConfig {
	def, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	return CollectorConfig{Proc: "/proc", Sys: "/sys", Dev: "/dev", Data: t.TempDir(), Streams: def.Streams}
}

// defaultCollectors builds every collector enabled by default on the real
// /proc, /sys and /dev, in name order.
func defaultCollectors(t testing.TB) ([]string, []Collector) {
	var names []string
	var cols []Collector
	for _, n := range collectorNames() {
		if !registry[n].enabled {
			continue
		}
		names = append(names, n)
		cols = append(cols, mustCollector(t, n, realCollectorConfig(t)))
	}
	return names, cols
}

// validatingEmitter checks each record as a ring would before storing it
// and counts records per source.
type validatingEmitter struct {
	recordingEmitter
	t      *testing.T
	counts map[string]int
}

func (e *validatingEmitter) Emit(stream string, r *codec.Record) error {
	r.Stream = stream
	if err := r.Validate(); err != nil {
		e.t.Errorf("%s/%s: invalid record: %v", r.Source, r.Name, err)
	}
	e.counts[r.Source]++
	return e.recordingEmitter.Emit(stream, r)
}

func TestAllCollectorsOnThisMachine(t *testing.T) {
	names, cols := defaultCollectors(t)
	e := &validatingEmitter{t: t, counts: map[string]int{}}
	for round := 0; round < 2; round++ {
		for i, c := range cols {
			if err := c.Update(e); err != nil {
				t.Errorf("%s: update %d: %v", names[i], round+1, err)
			}
		}
		if round == 0 {
			time.Sleep(10 * time.Millisecond) // let counters move
		}
	}
	for _, n := range []string{"cpu", "memory", "load", "uptime"} {
		if _, ok := registry[n]; ok && e.counts[n] == 0 {
			t.Errorf("collector %s emitted no record", n)
		}
	}
	t.Logf("collectors %v emitted %d records:\n%s", names, e.count, e.out.String())
}

// BenchmarkFullSample runs every default collector once per iteration on
// the real /proc, /sys and /dev: the agent's cost of one full sample.
func BenchmarkFullSample(b *testing.B) {
	_, cols := defaultCollectors(b)
	d := &discardEmitter{}
	for _, c := range cols { // first Updates size the buffers
		if err := c.Update(d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, c := range cols {
			c.Update(d)
		}
	}
	// The goal is in CPU time, the kernel's work on /proc included.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkCollector runs each default collector alone.
func BenchmarkCollector(b *testing.B) {
	names, cols := defaultCollectors(b)
	for i, c := range cols {
		b.Run(names[i], func(b *testing.B) {
			d := &discardEmitter{}
			if err := c.Update(d); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.Update(d)
			}
		})
	}
}

// TestCollectorsClose: the agent closes collectors on reload; none may
// leave a descriptor open.
func TestCollectorsClose(t *testing.T) {
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip(err)
		}
		return len(ents)
	}
	before := fds()
	opts := map[string]map[string]string{
		"process":  {"watch": "init, systemd, pidfile:/run/nonexistent.pid, " + filepath.Base(os.Args[0])},
		"kmsg":     {"from_start": "true"},
		"snapshot": {"command": "true"},
		"pstore":   {"remove": "false"}, // never the machine's crash logs
	}
	for _, n := range collectorNames() {
		cfg := realCollectorConfig(t)
		cfg.Options = opts[n]
		c, err := newCollector(n, cfg)
		if err != nil {
			t.Logf("%s: %v", n, err) // kmsg without privileges
			continue
		}
		c.Update(&discardEmitter{})
		if cl, ok := c.(interface{ Close() error }); ok {
			cl.Close()
		} else if n != "snapshot" && n != "load" && n != "watchdog" { // none holds a descriptor between samples
			t.Errorf("%s has no Close", n)
		}
	}
	if after := fds(); after != before && !loadLeaks(after-before) {
		t.Errorf("%d descriptors open before, %d after", before, after)
	}
}

// loadLeaks allows for the load collector, which has no Close.
func loadLeaks(n int) bool {
	_, isLoad := registry["load"]
	return isLoad && n == 1
}
