package sar

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// A step is one record of a test: of boot n, sec seconds after t0 (and
// after the boot's start, in monotonic time), named name, with fields
// given as key, value pairs (the keys the agent writes, as text: the
// figures must come out right through the catalogue's positions).
type step struct {
	boot uint32
	sec  float64
	name string
	kv   []any
}

func (s step) record() *codec.Record {
	r := &codec.Record{Stream: catalog.StreamMetrics, BootCount: s.boot, Boot: codec.BootID{byte(s.boot)},
		Wall: t0.Add(time.Duration(s.sec * 1e9)), Mono: int64(s.sec * 1e9), Source: s.name, Level: codec.LevelInfo, Name: s.name}
	if s.name == catalog.AgentStart.Name {
		r.Source, r.Stream = catalog.SelfSource, catalog.StreamSelf
	}
	for i := 0; i < len(s.kv); i += 2 {
		f := codec.Field{Key: s.kv[i].(string)}
		switch v := s.kv[i+1].(type) {
		case int:
			f.Value = codec.Uint(uint64(v))
		case float64:
			f.Value = codec.Float(v)
		case string:
			f.Value = codec.String(v)
		}
		r.Fields = append(r.Fields, f)
	}
	return r
}

// rows collects the rows a Reader writes.
type rows []Row

func (rs *rows) Write(r *Row) error {
	c := *r
	c.Values = append([]float64(nil), r.Values...)
	c.Labels = append([]string(nil), r.Labels...)
	*rs = append(*rs, c)
	return nil
}
func (rs *rows) Flush() error { return nil }

// run reads steps through report rep and returns the rows.
func run(t *testing.T, rep *Report, every time.Duration, steps []step) rows {
	t.Helper()
	var got rows
	r := NewReader(rep, &got, Options{Every: every})
	for _, s := range steps {
		if err := r.Add(s.record()); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return got
}

// String shows a row as the tests expect it: kind, time after t0,
// instance, figures to two decimals ("-" for NaN), or a mark's reason.
func (r Row) String() string {
	var b strings.Builder
	switch r.Kind {
	case Average:
		b.WriteString("avg")
	case Mark:
		fmt.Fprintf(&b, "%v %s", r.Time.Sub(t0), r.Why)
		if r.Note != "" {
			fmt.Fprintf(&b, " (%s)", r.Note)
		}
		return b.String()
	default:
		fmt.Fprintf(&b, "%v", r.Time.Sub(t0))
	}
	if r.Instance != "" {
		b.WriteString(" " + r.Instance)
	}
	for _, l := range r.Labels {
		b.WriteString(" " + l)
	}
	for _, v := range r.Values {
		if math.IsNaN(v) {
			b.WriteString(" -")
			continue
		}
		fmt.Fprintf(&b, " %.2f", v)
	}
	return b.String()
}

func check(t *testing.T, got rows, want []string) {
	t.Helper()
	var g []string
	for _, r := range got {
		g = append(g, r.String())
	}
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range got {
		for i, v := range r.Values {
			if v < 0 {
				t.Errorf("row %v: figure %d is negative", r, i)
			}
		}
	}
}

// cpu returns a cpu record's fields: the eight tick counters, then the
// others.
func cpu(user, nice, system, idle, iowait, irq, softirq, steal, blocked int) []any {
	return []any{"user", user, "nice", nice, "system", system, "idle", idle, "iowait", iowait,
		"irq", irq, "softirq", softirq, "steal", steal, "ctxt", 0, "intr", 0,
		"procs_running", 1, "procs_blocked", blocked, "processes", 100}
}

func disk(dev string, reads, sr, rms, writes, sw, wms, io, wio int) []any {
	return []any{"device", dev, "reads", reads, "reads_merged", 0, "sectors_read", sr, "read_ms", rms,
		"writes", writes, "writes_merged", 0, "sectors_written", sw, "write_ms", wms,
		"in_flight", 0, "io_ms", io, "weighted_io_ms", wio}
}

func net(iface string, rxb, rxp, rxe, rxd, txb, txp, txe, txd int) []any {
	return []any{"iface", iface, "rx_bytes", rxb, "rx_packets", rxp, "rx_errs", rxe, "rx_drop", rxd,
		"tx_bytes", txb, "tx_packets", txp, "tx_errs", txe, "tx_drop", txd, "oper", "up"}
}

func psi(res string, s10, s60 float64, stotal int, f10, f60 float64, ftotal int) []any {
	return []any{"resource", res, "some_avg10", s10, "some_avg60", s60, "some_total", stotal,
		"full_avg10", f10, "full_avg60", f60, "full_total", ftotal}
}

// TestFigures computes each report's figures from samples whose counters
// advance by known amounts over 10 s; the expected figures are worked out
// by hand in the comments.
func TestFigures(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		rep   *Report
		steps []step
		want  []string
	}{{
		rep: &CPU,
		steps: []step{
			{1, 0, "cpu", cpu(1000, 0, 1000, 1000, 0, 0, 0, 0, 0)},
			// 1000 ticks: user 300, system 100+irq 20+softirq 30, idle 500,
			// iowait 50: 30%, 15%, 50%, 5%; busy 45%.
			{1, 10, "cpu", cpu(1300, 0, 1100, 1500, 50, 20, 30, 0, 0)},
			// 1000 ticks: user 100, idle 850, steal 50.
			{1, 20, "cpu", cpu(1400, 0, 1100, 2350, 50, 20, 30, 50, 0)},
		},
		want: []string{
			"10s 30.00 0.00 15.00 5.00 0.00 50.00 45.00",
			"20s 10.00 0.00 0.00 0.00 5.00 85.00 15.00",
			// Equal intervals: the mean of the two.
			"avg 20.00 0.00 7.50 2.50 2.50 67.50 30.00",
		},
	}, {
		rep: &Memory,
		steps: []step{{1, 0, "memory", []any{
			"mem_total", 8 * gib, "mem_free", 2 * gib, "mem_available", 5 * gib, "buffers", gib / 4,
			"cached", 2 * gib, "swap_total", 2 * gib, "swap_free", 3 * gib / 2, "dirty", 1 << 20,
			"writeback", 0, "shmem", 0, "slab", gib / 4, "sreclaimable", gib / 8,
		}}},
		// kB: free 2 GiB = 2097152, used 8-2-0.25-2-0.25 = 3.5 GiB =
		// 3670016 (43.75%), swap used 0.5 GiB = 524288 (25%).
		want: []string{
			"0s 2097152.00 5242880.00 3670016.00 43.75 262144.00 2097152.00 1024.00 1572864.00 524288.00 25.00",
			"avg 2097152.00 5242880.00 3670016.00 43.75 262144.00 2097152.00 1024.00 1572864.00 524288.00 25.00",
		},
	}, {
		rep: &Net,
		steps: []step{
			{1, 0, "net", net("eth0", 0, 0, 0, 0, 0, 0, 0, 0)},
			{1, 0, "net", net("lo", 100, 1, 0, 0, 100, 1, 0, 0)},
			// eth0 over 10 s: 102400 B rx (10 kB/s), 500 packets (50/s),
			// 20480 B tx (2 kB/s), 100 packets; 10 errors rx, 5 tx, 20
			// drops rx, 0 tx.
			{1, 10, "net", net("eth0", 102400, 500, 10, 20, 20480, 100, 5, 0)},
			{1, 10, "net", net("lo", 100, 1, 0, 0, 100, 1, 0, 0)},
		},
		want: []string{
			"10s eth0 50.00 10.00 10.00 2.00 1.00 0.50 2.00 0.00",
			"10s lo 0.00 0.00 0.00 0.00 0.00 0.00 0.00 0.00",
			"avg eth0 50.00 10.00 10.00 2.00 1.00 0.50 2.00 0.00",
			"avg lo 0.00 0.00 0.00 0.00 0.00 0.00 0.00 0.00",
		},
	}, {
		rep: &Disk,
		steps: []step{
			{1, 0, "disk", disk("sda", 1000, 10000, 1000, 1000, 10000, 1000, 1000, 1000)},
			// Over 10 s: 100 reads, 300 writes (40 tps); 2000 sectors read
			// (1000 kB, 100 kB/s), 6000 written (300 kB/s); 4000 kB over
			// 400 requests (10 kB each); 400+1200 ms over 400 (await 4);
			// io_ms 5000 (50%); weighted 20000 ms (queue 2).
			{1, 10, "disk", disk("sda", 1100, 12000, 1400, 1300, 16000, 2200, 6000, 21000)},
			// No request: sar's 0.00 for the request size and await;
			// io_ms over the interval's length is at most 100%.
			{1, 20, "disk", disk("sda", 1100, 12000, 1400, 1300, 16000, 2200, 16500, 21000)},
		},
		want: []string{
			"10s sda 40.00 100.00 300.00 10.00 2.00 4.00 50.00",
			"20s sda 0.00 0.00 0.00 0.00 0.00 0.00 100.00",
			// Per request, the 400 requests of the first: an idle
			// interval does not halve the request size or the wait.
			"avg sda 20.00 50.00 150.00 10.00 1.00 4.00 75.00",
		},
	}, {
		rep: &Filesystem,
		steps: []step{{1, 0, "filesystem", []any{
			"mount", "/data", "fstype", "ext4", "size_bytes", 1000 << 20, "free_bytes", 250 << 20,
			"avail_bytes", 200 << 20, "used_pct", 78.9, "files", 1000, "files_free", 900, "readonly", false,
		}}},
		// 750 MB used of 1000 (75%); 800 MB of a user's (80%); 100 inodes
		// used (10%).
		want: []string{
			"0s /data 250.00 750.00 75.00 80.00 900.00 100.00 10.00",
			"avg /data 250.00 750.00 75.00 80.00 900.00 100.00 10.00",
		},
	}, {
		rep: &Load,
		steps: []step{
			{1, 0, "load", []any{"load1", 1.5, "load5", 1.0, "load15", 0.5, "running", 3, "tasks", 120}},
			{1, 1, "cpu", cpu(0, 0, 0, 0, 0, 0, 0, 0, 2)},
			{1, 10, "load", []any{"load1", 2.5, "load5", 1.5, "load15", 0.75, "running", 5, "tasks", 130}},
		},
		// blocked: not known before the first cpu record of the boot.
		want: []string{
			"0s 3.00 120.00 1.50 1.00 0.50 -",
			"10s 5.00 130.00 2.50 1.50 0.75 2.00",
			"avg 4.00 125.00 2.00 1.25 0.62 2.00",
		},
	}, {
		rep: &PSI,
		steps: []step{
			{1, 0, "pressure", psi("io", 1.5, 1.0, 1000000, 0.5, 0.25, 500000)},
			// 500000 µs of some stall over 10 s: 5%; 100000 full: 1%.
			{1, 10, "pressure", psi("io", 4.0, 2.0, 1500000, 1.0, 0.5, 600000)},
		},
		// The first sample's gauges show, its interval figures cannot.
		want: []string{
			"0s io 1.50 1.00 - 0.50 0.25 -",
			"10s io 4.00 2.00 5.00 1.00 0.50 1.00",
			"avg io 2.75 1.50 5.00 0.75 0.38 1.00",
		},
	}, {
		rep: &Temp,
		steps: []step{
			{1, 0, "thermal", []any{"zone", "thermal_zone0", "type", "x86_pkg_temp", "temp_c", 45.0}},
			{1, 10, "thermal", []any{"zone", "thermal_zone0", "type", "x86_pkg_temp", "temp_c", 55.0}},
		},
		want: []string{
			"0s thermal_zone0 x86_pkg_temp 45.00",
			"10s thermal_zone0 x86_pkg_temp 55.00",
			"avg thermal_zone0 x86_pkg_temp 50.00",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.rep.Name, func(t *testing.T) {
			check(t, run(t, tt.rep, 0, tt.steps), tt.want)
		})
	}
}

// TestResets: a reboot, an agent restart, a counter that goes back and a
// gap in the samples each drop the interval across them, with a mark;
// no figure is ever negative or huge.
func TestResets(t *testing.T) {
	start := func(boot uint32, sec float64) step { return step{boot, sec, catalog.AgentStart.Name, nil} }
	n := func(boot uint32, sec float64, rxb int) step {
		return step{boot, sec, "net", net("eth0", rxb, 0, 0, 0, 0, 0, 0, 0)}
	}
	tests := []struct {
		name  string
		steps []step
		want  []string
	}{{
		name: "reboot",
		steps: []step{
			start(1, 0), n(1, 1, 1024000), n(1, 11, 1126400),
			// Boot 2 starts its counters again, lower: no rate across.
			start(2, 0), n(2, 1, 10240), n(2, 11, 20480),
		},
		want: []string{
			"11s eth0 0.00 0.00 10.00 0.00 0.00 0.00 0.00 0.00",
			"0s reboot (boot 2)",
			"11s eth0 0.00 0.00 1.00 0.00 0.00 0.00 0.00 0.00",
			"avg eth0 0.00 0.00 5.50 0.00 0.00 0.00 0.00 0.00",
		},
	}, {
		name: "counter went back",
		steps: []step{
			n(1, 0, 1024000), n(1, 10, 1126400),
			// The interface was made again (or the counter wrapped).
			n(1, 20, 1024), n(1, 30, 11264),
		},
		want: []string{
			"10s eth0 0.00 0.00 10.00 0.00 0.00 0.00 0.00 0.00",
			"20s reset (eth0: rx_bytes went back)",
			"30s eth0 0.00 0.00 1.00 0.00 0.00 0.00 0.00 0.00",
			"avg eth0 0.00 0.00 5.50 0.00 0.00 0.00 0.00 0.00",
		},
	}, {
		name: "agent restart",
		steps: []step{
			start(1, 0), n(1, 1, 0), n(1, 11, 102400),
			// The agent stops for a while and starts again: the kernel's
			// counters went on, but the interval is its downtime.
			start(1, 300), n(1, 301, 204800), n(1, 311, 215040),
		},
		want: []string{
			"11s eth0 0.00 0.00 10.00 0.00 0.00 0.00 0.00 0.00",
			"5m0s agent restart",
			"5m11s eth0 0.00 0.00 1.00 0.00 0.00 0.00 0.00 0.00",
			"avg eth0 0.00 0.00 5.50 0.00 0.00 0.00 0.00 0.00",
		},
	}, {
		name: "gap",
		steps: []step{
			n(1, 0, 0), n(1, 10, 102400), n(1, 20, 204800),
			// No sample for 90 s (the agent stalled): not averaged over.
			n(1, 110, 1126400), n(1, 120, 1136640),
		},
		want: []string{
			"10s eth0 0.00 0.00 10.00 0.00 0.00 0.00 0.00 0.00",
			"20s eth0 0.00 0.00 10.00 0.00 0.00 0.00 0.00 0.00",
			"1m50s gap (no samples for 1m30s)",
			"2m0s eth0 0.00 0.00 1.00 0.00 0.00 0.00 0.00 0.00",
			// (10 + 10 + 1) / 3: 7.
			"avg eth0 0.00 0.00 7.00 0.00 0.00 0.00 0.00 0.00",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, run(t, &Net, 0, tt.steps), tt.want)
		})
	}
}

// TestEvery: --every averages the intervals ending in each span, a rate
// weighted by the intervals' lengths, and labels the span by its last
// sample, as sar does; the Average row is the same as without it.
func TestEvery(t *testing.T) {
	var steps []step
	// rx 10 kB/s for the first 30 s, then 40 kB/s; samples at 0, 10, 20
	// then 30, 45 and 60 (an interval of 15 s: weighted, not counted).
	rx := 0
	for i, sec := range []float64{0, 10, 20, 30, 45, 60} {
		if i > 0 {
			prev := steps[len(steps)-1].sec
			rate := 10240
			if sec > 30 {
				rate = 40960
			}
			rx += rate * int(sec-prev)
		}
		steps = append(steps, step{1, sec, "net", net("eth0", rx, 0, 0, 0, 0, 0, 0, 0)})
	}
	check(t, run(t, &Net, 30*time.Second, steps), []string{
		"30s eth0 0.00 0.00 10.00 0.00 0.00 0.00 0.00 0.00",
		"1m0s eth0 0.00 0.00 40.00 0.00 0.00 0.00 0.00 0.00",
		"avg eth0 0.00 0.00 25.00 0.00 0.00 0.00 0.00 0.00",
	})
	check(t, run(t, &Net, 0, steps), []string{
		"10s eth0 0.00 0.00 10.00 0.00 0.00 0.00 0.00 0.00",
		"20s eth0 0.00 0.00 10.00 0.00 0.00 0.00 0.00 0.00",
		"30s eth0 0.00 0.00 10.00 0.00 0.00 0.00 0.00 0.00",
		"45s eth0 0.00 0.00 40.00 0.00 0.00 0.00 0.00 0.00",
		"1m0s eth0 0.00 0.00 40.00 0.00 0.00 0.00 0.00 0.00",
		"avg eth0 0.00 0.00 25.00 0.00 0.00 0.00 0.00 0.00",
	})
	// Gauges: the mean of the samples in each span.
	var mem []step
	for i := range 6 {
		mem = append(mem, step{1, float64(10 * i), "memory", []any{
			"mem_total", 1 << 30, "mem_free", (i + 1) << 20, "mem_available", 0, "buffers", 0, "cached", 0,
			"swap_total", 0, "swap_free", 0, "dirty", 0, "writeback", 0, "shmem", 0, "slab", 0, "sreclaimable", 0}})
	}
	// Spans (-30 s, 0], (0, 30 s], (30 s, 60 s]: free 1, then 2, 3, 4,
	// then 5, 6 MiB.
	check(t, run(t, &Memory, 30*time.Second, mem), []string{
		"0s 1024.00 0.00 1047552.00 99.90 0.00 0.00 0.00 0.00 0.00 0.00",
		"30s 3072.00 0.00 1045504.00 99.71 0.00 0.00 0.00 0.00 0.00 0.00",
		"50s 5632.00 0.00 1042944.00 99.46 0.00 0.00 0.00 0.00 0.00 0.00",
		"avg 3584.00 0.00 1044992.00 99.66 0.00 0.00 0.00 0.00 0.00 0.00",
	})
}

func TestParseEvery(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{{"1m", time.Minute}, {"5m", 5 * time.Minute}, {"1h", time.Hour}, {"90s", 90 * time.Second}, {"24h", 24 * time.Hour},
		{"", 0}, {"0s", 0}, {"-1m", 0}, {"1.5s", 0}, {"25h", 0}, {"1d", 0}, {"m", 0}} {
		got, err := ParseEvery(tt.in)
		if got != tt.want || (err == nil) != (tt.want != 0) {
			t.Errorf("ParseEvery(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseEvery(f *testing.F) {
	for _, s := range []string{"1m", "5m", "1h", "1h30m", "0", "-5m", "1e9h", "9223372036s", ".5m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseEvery(s)
		if err != nil {
			if d != 0 {
				t.Fatalf("%q: %v with error %v", s, d, err)
			}
			return
		}
		if d < time.Second || d > maxEvery || d%time.Second != 0 {
			t.Fatalf("%q: accepted %v", s, d)
		}
		if span(t0, d, time.UTC) < 0 {
			t.Fatalf("%q: span of %v is negative", s, t0)
		}
	})
}
