package agent

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
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
