package report

import (
	"encoding/json"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/sar"
	"github.com/itiny/itiny/view"
)

// sarFixture writes the rings of two boots, a sample every 10 s of the
// agent's cpu, memory, disk sda and interface eth0 records, all their
// fields, counters advancing by varying amounts. Boot 1: the agent starts
// at 0 s; sda's counters go back at 61 s (the device was made again),
// eth0's at 121 s; no samples from 141 to 201 s (a gap); the agent stops
// at 240 s and starts again at 300 s, the kernel's counters going on.
// Boot 2: the agent starts at 0 s, every counter from lower values.
func sarFixture(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	var metrics, self []*codec.Record
	mk := func(c *catalog.Record, boot uint32, s int, v map[string]uint64, inst string) *codec.Record {
		fs := make([]codec.Field, len(c.Fields))
		for i, f := range c.Fields {
			fs[i] = codec.Field{Key: f.Key, Value: codec.Uint(v[f.Key])}
		}
		if c.Instance != "" {
			fs[0].Value = codec.String(inst)
		}
		r := rec(boot, s, c.Name, fs...)
		r.Source = c.Source
		return r
	}
	// cum holds each counter's value; grow advances them by amounts that
	// vary with the sample, so that each interval's figures differ.
	cum := map[string]uint64{}
	grow := func(n int, keys ...string) {
		for k, key := range keys {
			d := uint64(10 + (n*7+k*5)%23)
			switch {
			case strings.Contains(key, "bytes"):
				d *= 3001 // kB/s with decimals
			case strings.Contains(key, "sectors"):
				d *= 61
			}
			cum[key] += d
		}
	}
	restart := func(keys ...string) {
		for _, key := range keys {
			cum[key] = uint64(len(key))
		}
	}
	cpuKeys := []string{"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "ctxt", "intr", "processes"}
	diskKeys := []string{"sda.reads", "sda.reads_merged", "sda.sectors_read", "sda.read_ms", "sda.writes", "sda.writes_merged",
		"sda.sectors_written", "sda.write_ms", "sda.io_ms", "sda.weighted_io_ms"}
	netKeys := []string{"eth0.rx_bytes", "eth0.rx_packets", "eth0.rx_errs", "eth0.rx_drop", "eth0.tx_bytes", "eth0.tx_packets",
		"eth0.tx_errs", "eth0.tx_drop"}
	of := func(prefix string, keys []string) map[string]uint64 {
		v := map[string]uint64{}
		for _, k := range keys {
			v[strings.TrimPrefix(k, prefix)] = cum[k]
		}
		return v
	}
	sample := func(boot uint32, s, n int) {
		grow(n, cpuKeys...)
		grow(n, diskKeys...)
		grow(n*3, netKeys...)
		cpu := of("", cpuKeys)
		cpu["procs_running"], cpu["procs_blocked"] = 2, uint64(n%3)
		mem := map[string]uint64{"mem_total": 8 << 30, "mem_free": 1<<30 + uint64(n)*3<<20, "mem_available": 3 << 30,
			"buffers": 200<<20 + uint64(n%5)<<20, "cached": 2<<30 - uint64(n)<<20, "swap_total": 1 << 30,
			"swap_free": 1<<30 - uint64(n)*64<<10, "dirty": 1 << 20, "slab": 100<<20 + uint64(n%7)<<10}
		disk := of("sda.", diskKeys)
		disk["in_flight"] = uint64(n % 2)
		metrics = append(metrics, mk(&catalog.CPU, boot, s, cpu, ""), mk(&catalog.Memory, boot, s, mem, ""),
			mk(&catalog.Disk, boot, s, disk, "sda"), mk(&catalog.Net, boot, s, of("eth0.", netKeys), "eth0"))
	}
	start := func(boot uint32, s int) {
		r := rec(boot, s, catalog.AgentStart.Name, codec.Field{Key: "clean", Value: codec.Bool(true)})
		r.Source, r.Level = catalog.SelfSource, codec.LevelNotice
		self = append(self, r)
	}
	start(1, 0)
	for s := 1; s <= 231; s += 10 {
		switch {
		case s > 141 && s < 201:
			continue
		case s == 61:
			restart(diskKeys...)
		case s == 121:
			restart(netKeys...)
		}
		sample(1, s, s/10)
	}
	start(1, 300)
	for s := 301; s <= 401; s += 10 {
		sample(1, s, s/10)
	}
	for k := range cum {
		cum[k] /= 4
	}
	start(2, 0)
	for s := 1; s <= 101; s += 10 {
		sample(2, s, s/10)
	}
	writeRingSized(t, data, catalog.StreamMetrics, codec.Msgpack, metrics...)
	writeRingSized(t, data, catalog.StreamSelf, codec.JSON, self...)
	return data
}

// The report's charts of the CPU, the memory, a disk and an interface
// show the numbers itiny-read sar prints for the same rings, at its
// times, and their lines break where sar's marks stand: across the
// reboot, the agent's restart, the gap and each counter's reset.
func TestSameAsSar(t *testing.T) {
	data := sarFixture(t)
	bin, err := testbin.Build(t.TempDir(), "../cmd/itiny-read")
	if err != nil {
		t.Fatal(err)
	}
	in, err := view.Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{MaxPoints: 1 << 20}
	o.defaults()
	d, err := collect(in.Sources, &o)
	if err != nil {
		t.Fatal(err)
	}
	charts := map[string]*chart{}
	for _, c := range d.charts {
		charts[c.title] = c
	}
	// kB is what sar's kB figures are multiplied by in the report's
	// charts of bytes.
	const kB = 1024
	for _, tc := range []struct {
		report, chart string
		lines         map[string]string // the chart's line: sar's figure
		scale         float64           // the chart's value over sar's
		marks         int               // sar's, at least
	}{
		{"cpu", "CPU busy and iowait", map[string]string{"busy": "%busy", "iowait": "%iowait"}, 1, 3},
		{"mem", "memory", map[string]string{"used": "kbmemused", "cached": "kbcached", "swap used": "kbswpused"}, kB, 3},
		{"disk", "disk sda: bytes/s", map[string]string{"read": "rkB/s", "write": "wkB/s"}, kB, 4},
		{"net", "network eth0: bytes/s", map[string]string{"rx": "rxkB/s", "tx": "txkB/s"}, kB, 4},
	} {
		out, err := exec.Command(bin, "sar", tc.report, "-o", "json", data).Output()
		if err != nil {
			t.Fatalf("sar %s: %v", tc.report, err)
		}
		c := charts[tc.chart]
		if c == nil {
			t.Fatalf("no chart %q", tc.chart)
		}
		for label, fig := range tc.lines {
			var l *line
			for _, x := range c.lines {
				if x.label == label {
					l = x
				}
			}
			if l == nil {
				t.Fatalf("%q: no line %q", tc.chart, label)
			}
			// sar's rows as the chart's points: time, figure, and a
			// break where a mark stands before the row.
			var want, got []string
			marks, brk := 0, true
			for _, js := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				var row map[string]any
				if err := json.Unmarshal([]byte(js), &row); err != nil {
					t.Fatalf("sar %s: %v: %s", tc.report, err, js)
				}
				switch {
				case row["mark"] != nil:
					marks++
					brk = true
				case row["average"] == nil:
					tm, err := time.Parse(time.RFC3339, row["time"].(string))
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, point{t: tm.UnixNano(), brk: brk}.text(row[fig].(float64)))
					brk = false
				}
			}
			for _, p := range l.pts {
				got = append(got, p.text(p.v/tc.scale))
			}
			if marks < tc.marks || len(want) < 20 {
				t.Errorf("sar %s: %d marks, %d rows: the fixture has not its resets", tc.report, marks, len(want))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%q %s:\n%s\nsar %s %s:\n%s", tc.chart, label, strings.Join(got, "\n"), tc.report, fig, strings.Join(want, "\n"))
			}
			// And to the last bit: the rows of sar's Reader, given the
			// records as the command gives them.
			rep := sar.Lookup(tc.report)
			exact := sarRows(t, in.Sources, rep)
			i := rep.Column(fig)
			if len(exact) != len(l.pts) {
				t.Fatalf("%q %s: %d points, sar's Reader %d rows", tc.chart, label, len(l.pts), len(exact))
			}
			for k, r := range exact {
				if p := l.pts[k]; p.t != r.Time.UnixNano() || p.v != r.Values[i]*tc.scale {
					t.Errorf("%q %s: point %d %v %v, sar %v %v", tc.chart, label, k, p.t, p.v, r.Time.UnixNano(), r.Values[i]*tc.scale)
				}
			}
		}
	}
}

// sarRows returns the Sample rows of sar's report rep over srcs, read as
// itiny-read sar reads them.
func sarRows(t *testing.T, srcs []*view.Source, rep *sar.Report) sampleRows {
	t.Helper()
	m, err := view.NewMerger(srcs, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var rows sampleRows
	r := sar.NewReader(rep, &rows, sar.Options{})
	for {
		it, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.Kind == view.KindRecord {
			if err := r.Add(it.Rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	return rows
}

// sampleRows collects the Sample rows a sar Reader writes.
type sampleRows []sar.Row

func (rs *sampleRows) Write(r *sar.Row) error {
	if r.Kind == sar.Sample {
		c := *r
		c.Values = append([]float64(nil), r.Values...)
		*rs = append(*rs, c)
	}
	return nil
}

func (rs *sampleRows) Flush() error { return nil }

// text shows a point as sar's JSON rows give figures: two decimals.
func (p point) text(v float64) string {
	s := time.Unix(0, p.t).UTC().Format(time.TimeOnly) + " " + strconv.FormatFloat(v, 'f', 2, 64)
	if p.brk {
		s = "-- " + s
	}
	return s
}

// The fields the charts need are the catalogue's, and sar reads them.
func TestDrawn(t *testing.T) {
	for _, d := range drawn {
		for _, k := range d.needs {
			if f, i := d.rep.Record.Field(k); i < 0 || f.Kind != catalog.Gauge && f.Kind != catalog.Counter {
				t.Errorf("%s: %q is not a figure of the catalogue's record", d.rep.Name, k)
			}
		}
	}
}
