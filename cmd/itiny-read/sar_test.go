package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// sarFixture writes a data directory as the agent would: metrics (cpu and
// net samples every 10 s) and its own stream (agent.start), over two
// boots. In boot 1 the CPU is 25% user, 75% idle and eth0 receives
// 10 kB/s for 2 minutes; boot 2 starts its counters again, lower, and
// runs 50% user, 50% idle and 20 kB/s for a minute.
func sarFixture(t *testing.T) string {
	data := t.TempDir()
	metrics, self := sarRings(t, data)
	values := func(c *catalog.Record, boot uint32, sec int, vals ...codec.Value) *codec.Record {
		return catalogRecord(c, boot, time.Duration(3600*(boot-1)+uint32(sec))*time.Second, int64(sec)*1e9, vals...)
	}
	u := func(n int) codec.Value { return codec.Uint(uint64(n)) }
	for _, b := range []struct {
		boot              uint32
		samples           int
		user, idle, rxKBs int // per 10 s interval: ticks, and kB/s
	}{{1, 13, 250, 750, 10}, {2, 7, 500, 500, 20}} {
		if _, err := self.Append(values(&catalog.AgentStart, b.boot, 0, codec.String("test"), u(int(b.boot)), codec.Bool(true), codec.Bool(true), u(100))); err != nil {
			t.Fatal(err)
		}
		for i := range b.samples {
			sec := 1 + 10*i
			for _, r := range []*codec.Record{
				values(&catalog.CPU, b.boot, sec, u(b.user*i), u(0), u(0), u(b.idle*i)),
				values(&catalog.Net, b.boot, sec, codec.String("eth0"), u(b.rxKBs*1024*10*i), u(10*i)),
			} {
				if _, err := metrics.Append(r); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, w := range []*ringlog.Writer{metrics, self} {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

// sarRings opens the metrics and itiny rings of a data directory as the
// agent would.
func sarRings(t *testing.T, data string) (metrics, self *ringlog.Writer) {
	open := func(stream string, c codec.Codec) *ringlog.Writer {
		w, err := ringlog.Open(filepath.Join(data, stream), ringlog.Options{Stream: stream, Codec: c, Budget: 1 << 20, SegmentSize: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	return open(catalog.StreamMetrics, codec.Msgpack), open(catalog.StreamSelf, codec.JSON)
}

// catalogRecord returns a record of the catalogue's entry c, its fields
// in the catalogue's order as the agent writes them (0 for those vals
// leaves out), of boot, written at wall t0+at and monotonic time mono.
func catalogRecord(c *catalog.Record, boot uint32, at time.Duration, mono int64, vals ...codec.Value) *codec.Record {
	r := &codec.Record{Boot: codec.BootID{0xb0, byte(boot)}, BootCount: boot, Wall: t0.Add(at),
		Mono: mono, Source: c.Source, Level: codec.LevelInfo, Name: c.Name}
	for i, f := range c.Fields {
		v := codec.Uint(0)
		if i < len(vals) {
			v = vals[i]
		}
		r.Fields = append(r.Fields, codec.Field{Key: f.Key, Value: v})
	}
	return r
}

// TestSar runs itiny-read sar on rings written with known counters.
func TestSar(t *testing.T) {
	data := sarFixture(t)

	out, errOut, code := run(t, "sar", "cpu", "--utc", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := lines(out)
	// Title, blank, header, 12 intervals of boot 1, blank, the reboot,
	// blank, header, 6 intervals of boot 2, the Average.
	if len(got) != 3+12+2+2+6+1 {
		t.Fatalf("%d lines:\n%s", len(got), out)
	}
	for i, want := range map[int]string{
		2:  "10:00:11     %user     %nice   %system   %iowait    %steal     %idle     %busy",
		3:  "10:00:11     25.00      0.00      0.00      0.00      0.00     75.00     25.00",
		16: "11:00:00  -- reboot: boot 2 --",
		19: "11:00:11     50.00      0.00      0.00      0.00      0.00     50.00     50.00",
		// 12 intervals at 25%, 6 at 50%: 30/90 user.
		25: "Average:     33.33      0.00      0.00      0.00      0.00     66.67     33.33",
	} {
		if got[i] != want {
			t.Errorf("line %d: %q\nwant %q\n%s", i, got[i], want, out)
		}
	}

	// JSON: every row, the rates known; --every 1m averages a minute.
	out, errOut, code = run(t, "sar", "net", "-o", "json", "--every", "1m", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []map[string]any
	for _, l := range lines(out) {
		var o map[string]any
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		rows = append(rows, o)
	}
	// Boot 1: samples at 10:00:01..10:02:01, spans ending 10:01:00,
	// 10:02:00 and 10:03:00; the reboot; boot 2: 11:00:01..11:01:01, two
	// spans; the Average.
	var kinds []string
	for _, o := range rows {
		switch {
		case o["mark"] != nil:
			kinds = append(kinds, o["mark"].(string))
		case o["average"] == true:
			kinds = append(kinds, "average")
			// 12×10 + 6×20 over 18 intervals of 10 s.
			if o["rxkB/s"] != 13.33 || o["instance"] != "eth0" {
				t.Errorf("average: %v", o)
			}
		default:
			kinds = append(kinds, "sample")
			want := 10.0
			if o["boot"] == 2.0 {
				want = 20
			}
			if o["rxkB/s"] != want || o["rxpck/s"] != 1.0 || o["instance"] != "eth0" {
				t.Errorf("row: %v", o)
			}
		}
	}
	if strings.Join(kinds, " ") != "sample sample sample reboot sample sample average" {
		t.Errorf("rows: %v\n%s", kinds, out)
	}

	// -b alone: the last boot only, no reboot; CSV.
	out, errOut, code = run(t, "sar", "net", "-b", "-o", "csv", "--utc", data)
	if code != 0 || !strings.HasPrefix(out, "time,boot,row,IFACE,rxpck/s,") || strings.Contains(out, "reboot") || len(lines(out)) != 1+6+1 {
		t.Errorf("-b -o csv: exit %d %s\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "2026-11-25T11:00:11.000Z,2,sample,eth0,1.00,0.00,20.00,") {
		t.Errorf("-o csv:\n%s", out)
	}

	// -S, --until: a window of boot 1.
	out, _, code = run(t, "sar", "cpu", "--utc", "-S", "2026-11-25 10:00:30", "--until", "2026-11-25 10:01:00", data)
	if got := lines(out); code != 0 || len(got) != 3+2+1 || !strings.HasPrefix(got[3], "10:00:41 ") || !strings.HasPrefix(got[4], "10:00:51 ") {
		t.Errorf("--since --until: exit %d\n%s", code, out)
	}

	// No records of the report, an unknown report: errors that say so.
	if _, errOut, code := run(t, "sar", "disk", data); code != 1 || !strings.Contains(errOut, "no disk records") {
		t.Errorf("sar disk: exit %d, %s", code, errOut)
	}
	if _, errOut, code := run(t, "sar", "nosuch", data); code != 2 || !strings.Contains(errOut, `no report "nosuch"`) {
		t.Errorf("sar nosuch: exit %d, %s", code, errOut)
	}
	if out, _, code := run(t, "help", "sar"); code != 0 || !strings.Contains(out, "--every") && !strings.Contains(out, "-every") || !strings.Contains(out, "temp ") {
		t.Errorf("help sar: exit %d\n%s", code, out)
	}
}
