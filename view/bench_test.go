package view

import (
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/hostile"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/ringlog"
)

// benchRing writes n metrics-like records (12 fields) to a ring.
func benchRing(b *testing.B, n int, pack bool) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "metrics")
	o := ringlog.Options{Stream: "metrics", Codec: codec.Msgpack, Budget: 1 << 30, SegmentSize: 4 << 20, Pack: pack, MemoryStage: pack}
	w, err := ringlog.Open(dir, o)
	if err != nil {
		b.Fatal(err)
	}
	r := codec.Record{Boot: codec.BootID{1}, BootCount: 1, Source: "cpu", Level: codec.LevelInfo, Name: "cpu"}
	for i := 0; i < n; i++ {
		r.Wall = t0.Add(time.Duration(i) * time.Second)
		r.Mono = int64(i) * 1e9
		r.Fields = append(r.Fields[:0],
			codec.Field{Key: "user", Value: codec.Int(int64(280000 + i*3))},
			codec.Field{Key: "nice", Value: codec.Int(0)},
			codec.Field{Key: "system", Value: codec.Int(int64(168000 + i*2))},
			codec.Field{Key: "idle", Value: codec.Int(int64(1089000 + i*190))},
			codec.Field{Key: "iowait", Value: codec.Int(int64(33980 + i/10))},
			codec.Field{Key: "irq", Value: codec.Int(0)},
			codec.Field{Key: "softirq", Value: codec.Int(int64(8611 + i/50))},
			codec.Field{Key: "steal", Value: codec.Int(373)},
			codec.Field{Key: "ctxt", Value: codec.Int(int64(132970094 + i*6500))},
			codec.Field{Key: "intr", Value: codec.Int(int64(48828857 + i*2000))},
			codec.Field{Key: "procs_running", Value: codec.Int(int64(1 + i%4))},
			codec.Field{Key: "load1", Value: codec.Float(0.25 + float64(i%100)/100)},
		)
		if _, err := w.Append(&r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkDumpJSON reads a ring and writes every record as JSON: the
// records/s of `itiny-read -o json`. repaired: with the clock.sync of an
// itiny ring that says the clock was synchronised half-way, so that the
// first half of the records have their times repaired (Clocks).
func BenchmarkDumpJSON(b *testing.B) {
	for _, name := range []string{"plain", "packed", "repaired"} {
		b.Run(name, func(b *testing.B) {
			const n = 200000
			dir := benchRing(b, n, name == "packed")
			paths := []string{dir}
			if name == "repaired" {
				sync := ringtest.ClockSync(1, n/2, true)
				sync.Wall = t0.Add(time.Duration(n/2)*time.Second + time.Hour)
				writeRing(b, filepath.Dir(dir), "itiny", codec.JSON, sync)
				paths = []string{filepath.Dir(dir)}
			}
			in, err := Open(paths)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				clocks, err := LearnClocks(in.Sources)
				if err != nil {
					b.Fatal(err)
				}
				m, err := NewMerger(in.Sources, time.Time{})
				if err != nil {
					b.Fatal(err)
				}
				defer m.Close()
				m.Clocks = clocks
				p := NewJSONPrinter(io.Discard, PrintOptions{})
				var it Item // one Item for the loop: Print's argument escapes
				for {
					it, err = m.Next()
					if err == io.EOF {
						break
					}
					if err := p.Print(&it); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkManyRings reads a bundle of n rings of 10 records each, the
// whole way itiny-read does: open, merge, print as JSON. Time is linear in
// the rings: ns/ring grows by an eighth from 2,000 to 20,000
// (docs/BENCHMARKS.md section 9); it grew 25-fold when the merge looked at
// every ring for every record and the bundle listed each directory's
// names one by one.
func BenchmarkManyRings(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("rings=%d", n), func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "many.tar.gz")
			if err := hostile.ManyRings(p, n); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				in, err := Open([]string{p})
				if err != nil {
					b.Fatal(err)
				}
				m, err := NewMerger(in.Sources, time.Time{})
				if err != nil {
					b.Fatal(err)
				}
				pr := NewJSONPrinter(io.Discard, PrintOptions{Notes: io.Discard})
				records := 0
				for {
					it, err := m.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if it.Kind == KindRecord {
						records++
					}
					pr.Print(&it)
				}
				m.Close()
				if records != 10*n {
					b.Fatalf("%d records, want %d", records, 10*n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/ring")
		})
	}
}
