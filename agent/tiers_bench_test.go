package agent

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/tiertest"
)

// goldenSample returns one full sample of the default collectors: their
// records in testdata/golden.
func goldenSample(tb testing.TB) []codec.Record {
	var recs []codec.Record
	for _, name := range []string{"cpu", "memory", "load", "netdev", "diskstats", "filesystem", "pressure", "thermal", "uptime"} {
		f, err := os.Open(filepath.Join("testdata", "golden", name+".jsonl"))
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r codec.Record
			if err := codec.DecodeJSON(sc.Bytes(), &r); err != nil {
				tb.Fatal(err)
			}
			recs = append(recs, r)
		}
		f.Close()
	}
	return recs
}

// BenchmarkSampleTiers emits one full sample of the default collectors
// (the golden files' 14 records) to metrics, samples 10 s apart, without
// tiers and with a minute and an hour tier: what the tiers add to a
// sample's CPU time, packing their summaries included.
func BenchmarkSampleTiers(b *testing.B) {
	for _, c := range []struct{ name, conf string }{
		{"none", ""},
		{"1m+1h", "[stream metrics.1m]\nbudget = 1MiB\nmode = periodic\nflush = 1h\n[stream metrics.1h]\nbudget = 1MiB\nmode = periodic\nflush = 1h\n"},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg, err := ParseConfig("b", "socket =\ncap = 20MiB\n"+c.conf)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Data = b.TempDir()
			a, err := New(cfg, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			recs := goldenSample(b)
			wall, mono := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), int64(time.Hour)
			b.ReportAllocs()
			for b.Loop() {
				for i := range recs {
					recs[i].Wall, recs[i].Mono = wall, mono
					if err := a.Emit(StreamMetrics, &recs[i]); err != nil {
						b.Fatal(err)
					}
				}
				wall, mono = wall.Add(10*time.Second), mono+int64(10*time.Second)
			}
		})
	}
}

// BenchmarkRebuildWeek measures the agent's start when its hour tier must
// be rebuilt from a week of minutes: what a crash costs at the next
// start with the default's metrics.1h flushed every 168 h, at worst. The
// minute ring holds a week of tiertest's three records a minute (30,240
// summaries); each round starts an agent on a copy without metrics.1h,
// so that New replays all of them. It reports the replay's cost a
// summary, to scale to a device's records an hour.
func BenchmarkRebuildWeek(b *testing.B) {
	src := b.TempDir()
	const week = 7 * 24 * time.Hour
	tiertest.Write(b, src, tiertest.Config{End: time.Now().Truncate(time.Hour), Hours: week, Minutes: week, Raw: time.Hour})
	if err := os.RemoveAll(filepath.Join(src, "metrics.1h")); err != nil {
		b.Fatal(err)
	}
	summaries := 0
	for _, r := range readStream(b, src, "metrics.1m") {
		if r.Source != "itiny" {
			summaries++
		}
	}
	conf := "cap = 1GiB\nsocket =\n"
	for _, s := range []string{"metrics 60s", "metrics.1m 2h", "metrics.1h 168h"} {
		var name, flush string
		for i := range s {
			if s[i] == ' ' {
				name, flush = s[:i], s[i+1:]
			}
		}
		conf += "[stream " + name + "]\nbudget = 256MiB\nsegment = 128KiB\nmode = periodic\nflush = " + flush + "\n"
	}
	c, err := ParseConfig("bench.conf", conf)
	if err != nil {
		b.Fatal(err)
	}
	for _, col := range c.Collectors {
		col.Enabled = false
	}
	var d time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		c.Data = filepath.Join(b.TempDir(), "data")
		if err := os.CopyFS(c.Data, os.DirFS(src)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		a, err := New(c, Options{})
		if err != nil {
			b.Fatal(err)
		}
		d += time.Since(start)
		b.StopTimer()
		a.Close()
		if i == 0 { // the week's hours are rebuilt: 3 records, 168 hours
			if n := len(readStream(b, c.Data, "metrics.1h")); n < 3*167 {
				b.Fatalf("%d records in metrics.1h after the rebuild, want the week's hours", n)
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(summaries), "summaries")
	b.ReportMetric(float64(d.Nanoseconds())/float64(b.N)/float64(summaries), "ns/summary")
}
