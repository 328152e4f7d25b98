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

// writesData writes a metrics ring holding the agent's stream.stats and
// agent.io records, every field of the catalogue, over three runs: in
// boot 1 a run of three rounds a minute apart, then a restart, whose
// counters start again, with two; in boot 2 a run of one round, which
// measures nothing. Per round, the events stream's ring writes 600
// record bytes, 60 of framing, hands the kernel 1200 and syncs once,
// and the kernel writes 3 pages for the agent. ioErr is agent.io's
// write_error, "" for none.
func writesData(t *testing.T, ioErr string) string {
	t.Helper()
	data := t.TempDir()
	w, err := ringlog.Open(filepath.Join(data, catalog.StreamMetrics), ringlog.Options{Stream: catalog.StreamMetrics, Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	emit := func(boot uint32, mono time.Duration, c *catalog.Record, v map[string]codec.Value) {
		r := codec.Record{Boot: codec.BootID{0xb0, byte(boot)}, BootCount: boot, Wall: t0.Add(time.Duration(boot)*time.Hour + mono), Mono: int64(mono),
			Source: c.Source, Name: c.Name, Level: codec.LevelInfo}
		for _, f := range c.Fields {
			x, ok := v[f.Key]
			switch {
			case ok:
			case f.Kind == catalog.Label || f.Kind == catalog.Text:
				x = codec.String("")
			case f.Kind == catalog.Flag:
				x = codec.Bool(true)
			default:
				x = codec.Int(0)
			}
			r.Fields = append(r.Fields, codec.Field{Key: f.Key, Value: x})
		}
		if err := c.Check(c.Stream, &r); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Append(&r); err != nil {
			t.Fatal(err)
		}
	}
	round := func(boot uint32, mono time.Duration, k int64) {
		counts := map[string]codec.Value{
			"record_bytes": codec.Int(1000 + 600*k), "stored_bytes": codec.Int(1000 + 600*k), "framing_bytes": codec.Int(100 + 60*k),
			"handed_bytes": codec.Int(2000 + 1200*k), "syncs": codec.Int(k), "other_syncs": codec.Int(1),
		}
		stats := map[string]codec.Value{"stream": codec.String(catalog.StreamEvents), "written": codec.Int(10 * k)}
		for k, v := range counts {
			stats[k] = v
		}
		emit(boot, mono, &catalog.StreamStats, stats)
		counts["write_bytes"], counts["write_error"] = codec.Int(4096*(1+3*k)), codec.String(ioErr)
		if ioErr != "" {
			counts["write_bytes"] = codec.Int(0)
		}
		emit(boot, mono, &catalog.AgentIO, counts)
	}
	for k := range int64(3) {
		round(1, 10*time.Second+time.Duration(k)*time.Minute, k)
	}
	for k := range int64(2) { // a restart: the counters start again
		round(1, 200*time.Second+time.Duration(k)*time.Minute, k)
	}
	round(2, 10*time.Second, 0)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestStatsWrites reads the fixture's figures with itiny-read stats: 3
// minutes measured in two runs, 1800 record bytes, 3600 handed, 36864
// written by the kernel; a day's worth of each; and, when the agent
// could not read /proc/self/io, why not instead of the kernel's figure.
func TestStatsWrites(t *testing.T) {
	const perDay = 86400 / 180
	data := writesData(t, "")
	out, errOut, code := run(t, "stats", "--json", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rings []struct {
		Stream string
		Writes []struct {
			Stream              string
			Runs                int
			Seconds             float64
			RecordBytes         int64   `json:"record_bytes"`
			StoredBytes         int64   `json:"stored_bytes"`
			FramingBytes        int64   `json:"framing_bytes"`
			HandedBytes         int64   `json:"handed_bytes"`
			Syncs               int64   `json:"syncs"`
			WriteBytes          int64   `json:"write_bytes"`
			WriteKnown          bool    `json:"write_known"`
			BytesPerDay         float64 `json:"bytes_per_day"`
			Amplification       float64 `json:"amplification"`
			KernelAmplification float64 `json:"kernel_amplification"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rings); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rings) != 1 || len(rings[0].Writes) != 2 {
		t.Fatalf("rings %+v", rings)
	}
	ev, ag := rings[0].Writes[0], rings[0].Writes[1]
	if ev.Stream != catalog.StreamEvents || ev.Runs != 2 || ev.Seconds != 180 || ev.RecordBytes != 1800 || ev.StoredBytes != 1800 ||
		ev.FramingBytes != 180 || ev.HandedBytes != 3600 || ev.Syncs != 3 || ev.WriteKnown || ev.BytesPerDay != 3600*perDay || ev.Amplification != 2 {
		t.Errorf("events: %+v", ev)
	}
	if ag.Stream != "" || ag.Runs != 2 || ag.WriteBytes != 36864 || !ag.WriteKnown || ag.BytesPerDay != 36864*perDay || ag.KernelAmplification != 20.48 {
		t.Errorf("agent: %+v", ag)
	}

	out, _, _ = run(t, "stats", data)
	for _, want := range []string{
		"Writes a day, by the agent's records in metrics (" + filepath.Join(data, "metrics") + "):",
		// 1800 record bytes in 180 s: 843.75 KiB a day; handed 3600, written 36864.
		"events   3m0s in 2 runs         843.8 KiB   843.8 KiB    84.4 KiB     1.6 MiB           -      1440    2.00       -",
		"(agent)  3m0s in 2 runs         843.8 KiB   843.8 KiB    84.4 KiB     1.6 MiB    16.9 MiB      1440    2.00   20.48",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stats lacks %q:\n%s", want, out)
		}
	}

	out, _, _ = run(t, "stats", writesData(t, "open /proc/self/io: permission denied"))
	for _, want := range []string{
		"(agent)  3m0s in 2 runs         843.8 KiB   843.8 KiB    84.4 KiB     1.6 MiB           ?      1440    2.00       -",
		"KERNEL unknown: open /proc/self/io: permission denied",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stats lacks %q:\n%s", want, out)
		}
	}
}
