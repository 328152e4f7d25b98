package rollup

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/decimal"
	"github.com/itiny/itiny/ringlog"
)

// templates are one sample of each default collector's records, from the
// agent's golden files: cpu, memory, load, two interfaces, a disk, two
// mounts, pressure, thermal zones, uptime.
func templates(tb testing.TB) []codec.Record {
	var out []codec.Record
	for _, name := range []string{"cpu", "memory", "load", "netdev", "diskstats", "filesystem", "pressure", "thermal", "uptime"} {
		f, err := os.Open(filepath.Join("..", "agent", "testdata", "golden", name+".jsonl"))
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
			out = append(out, r)
		}
		f.Close()
	}
	return out
}

// BenchmarkYearOnDisk rolls a year of samples of the default collectors
// (every minute, each gauge wandering 2% a sample, each counter growing
// by up to 1% of itself; or as ROLLUP_MODEL says) into hourly summaries,
// and writes them to a packed ring as the agent's periodic streams are
// written, a block a day (or ROLLUP_BLOCK_DAYS). It reports the ring's bytes on disk for the year: the issue's
// goal is 1 MiB.
func BenchmarkYearOnDisk(b *testing.B) {
	tmpl := templates(b)
	for b.Loop() {
		dir := b.TempDir()
		w := packedRing(b, dir, "metrics.1h")
		rng := rand.New(rand.NewPCG(1, 2))
		ro := New(time.Hour)
		var summaries int
		// ROLLUP_MODEL=steady: a steadier device than the default's random
		// walk: each gauge moves 0.2% of its level a minute (σ) and is
		// pulled a tenth of the way back to it, each counter grows by
		// its level/10^5 a minute (at least 1), ±10%.
		steady := os.Getenv("ROLLUP_MODEL") == "steady"
		// ROLLUP_BLOCK_DAYS: days of summaries a block holds (default 1).
		days := 1
		if d, err := strconv.Atoi(os.Getenv("ROLLUP_BLOCK_DAYS")); err == nil && d > 0 {
			days = d
		}
		var ent entropy
		write := func(r *codec.Record) error {
			summaries++
			quantize(r)
			ent.add(r)
			_, err := w.Append(r)
			return err
		}
		recs := make([]codec.Record, len(tmpl))
		for i := range tmpl {
			recs[i] = tmpl[i]
			recs[i].Fields = append(codec.Fields(nil), tmpl[i].Fields...)
			recs[i].Boot = codec.BootID{1}
		}
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for m := 0; m < 365*24*60; m++ {
			t := start.Add(time.Duration(m) * time.Minute)
			for i := range recs {
				r := &recs[i]
				r.Wall, r.Mono = t, int64(m+1)*60e9
				def := catalog.Lookup(r.Name)
				for j := range r.Fields {
					f := &r.Fields[j]
					_, k := def.Field(f.Key)
					v, ok := f.Value.Number()
					if k < 0 || !ok {
						continue
					}
					base, _ := tmpl[i].Fields[j].Value.Number()
					switch kind := def.Fields[k].Kind; {
					case steady && kind == catalog.Gauge:
						f.Value = codec.Float(v + 0.1*(base-v) + base*0.002*rng.NormFloat64())
					case steady && kind == catalog.Counter:
						f.Value = codec.Uint(uint64(v + max(1, base/1e5)*(1+0.1*rng.NormFloat64())))
					case kind == catalog.Gauge:
						f.Value = codec.Float(v * (1 + rng.NormFloat64()*0.02))
					case kind == catalog.Counter:
						f.Value = codec.Uint(uint64(v + v*0.01*rng.Float64()))
					}
				}
				if err := ro.Add(r, write); err != nil {
					b.Fatal(err)
				}
			}
			if m%(days*24*60) == 0 {
				w.Flush()
			}
		}
		bytes := closedSize(b, w, dir)
		b.ReportMetric(float64(bytes), "bytes/year")
		b.ReportMetric(float64(summaries), "summaries/year")
		b.ReportMetric(float64(bytes)/float64(summaries), "bytes/summary")
		b.ReportMetric(ent.bytes()/float64(summaries), "entropy-bytes/summary")
	}
}

// entropy estimates what the figures of summaries need at least when each
// is coded as its change from the same figure of the series' summary
// before (a decimal figure as the change of its mantissa while its
// exponent stays), by the best fixed code for each series: the order-0
// entropy of each series' changes, summed. Only the numbers that differ
// from summary to summary count, not the record's name, keys or times.
type entropy struct {
	prev  map[string][2]int64       // series: last mantissa, exponent
	count map[string]map[string]int // series: change: times seen
}

func (e *entropy) add(r *codec.Record) {
	if e.prev == nil {
		e.prev, e.count = map[string][2]int64{}, map[string]map[string]int{}
	}
	series := r.Name
	for _, f := range r.Fields {
		if f.Value.Kind() == codec.KindString {
			series += "\x00" + f.Value.Str()
		}
	}
	for _, f := range r.Fields {
		var m, x int64
		switch f.Value.Kind() {
		case codec.KindFloat:
			mm, xx, ok := decimal.Split(f.Value.Float())
			if !ok {
				mm, xx = int64(math.Float64bits(f.Value.Float())), 99
			}
			m, x = mm, int64(xx)
		case codec.KindInt, codec.KindUint:
			m = int64(f.Value.Uint())
		default:
			continue
		}
		key := series + "\x00" + f.Key
		p, seen := e.prev[key]
		var change string
		switch {
		case seen && p[1] == x:
			change = strconv.FormatInt(m-p[0], 10)
		default:
			change = "e" + strconv.FormatInt(x, 10) + ":" + strconv.FormatInt(m, 10)
		}
		e.prev[key] = [2]int64{m, x}
		if e.count[key] == nil {
			e.count[key] = map[string]int{}
		}
		e.count[key][change]++
	}
}

func (e *entropy) bytes() float64 {
	var bits float64
	for _, changes := range e.count {
		n := 0
		for _, c := range changes {
			n += c
		}
		for _, c := range changes {
			bits += float64(c) * math.Log2(float64(n)/float64(c))
		}
	}
	return bits / 8
}

// BenchmarkRealOnDisk rolls the samples of a real metrics ring, named by
// $ROLLUP_RING (say an agent's DATA/metrics after a while at 1 s), into
// summaries of $ROLLUP_EVERY (default 1m), quantized as $ROLLUP_QUANT
// says, and writes them packed, as BenchmarkYearOnDisk does: what a
// summary of real figures takes.
func BenchmarkRealOnDisk(b *testing.B) {
	ring := os.Getenv("ROLLUP_RING")
	if ring == "" {
		b.Skip("ROLLUP_RING names no ring")
	}
	every := time.Minute
	if e := os.Getenv("ROLLUP_EVERY"); e != "" {
		var err error
		if every, err = time.ParseDuration(e); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		dir := b.TempDir()
		w := packedRing(b, dir, "metrics.1m")
		r, err := ringlog.NewReader(ring)
		if err != nil {
			b.Fatal(err)
		}
		ro := New(every)
		var samples, summaries int
		write := func(r *codec.Record) error {
			summaries++
			quantize(r)
			_, err := w.Append(r)
			return err
		}
		for {
			e, err := r.Next()
			if err != nil {
				break
			}
			var rec codec.Record
			if e.Decode(&rec) != nil {
				continue
			}
			samples++
			if err := ro.Add(&rec, write); err != nil {
				b.Fatal(err)
			}
		}
		bytes := closedSize(b, w, dir)
		b.ReportMetric(float64(samples), "samples")
		b.ReportMetric(float64(summaries), "summaries")
		b.ReportMetric(float64(bytes)/float64(max(summaries, 1)), "bytes/summary")
	}
}

// quantize rounds a summary's figures as $ROLLUP_QUANT says: =round to
// 0.01, =int to an integer of hundredths, =digits4 floats to 4
// significant digits (decimal.Round), =digits3 to 3; how much quantizing
// saves. $ROLLUP_DROP=last leaves out every gauge's F_last, =minmax its
// F_min and F_max, =both all three: what fewer figures would save.
func quantize(r *codec.Record) {
	quant := os.Getenv("ROLLUP_QUANT")
	if drop := os.Getenv("ROLLUP_DROP"); drop != "" {
		keep := r.Fields[:0]
		for _, f := range r.Fields {
			last := strings.HasSuffix(f.Key, "_last")
			minmax := strings.HasSuffix(f.Key, "_min") || strings.HasSuffix(f.Key, "_max")
			if last && (drop == "last" || drop == "both") || minmax && (drop == "minmax" || drop == "both") {
				continue
			}
			keep = append(keep, f)
		}
		r.Fields = keep
	}
	for i := range r.Fields {
		v, ok := r.Fields[i].Value.Number()
		switch {
		case !ok:
		case quant == "round":
			r.Fields[i].Value = codec.Float(math.Round(v*100) / 100)
		case quant == "int":
			r.Fields[i].Value = codec.Int(int64(math.Round(v * 100)))
		case quant == "digits3" && r.Fields[i].Value.Kind() == codec.KindFloat:
			r.Fields[i].Value = codec.Float(decimal.Round(v, 3))
		case quant == "digits4" && r.Fields[i].Value.Kind() == codec.KindFloat:
			r.Fields[i].Value = codec.Float(decimal.Round(v, 4))
		}
	}
}

// packedRing opens a ring in dir written as the agent's periodic streams
// are, packed, flushed only when asked, with room for a year.
func packedRing(b *testing.B, dir, stream string) *ringlog.Writer {
	w, err := ringlog.Open(dir, ringlog.Options{Stream: stream, Codec: codec.Msgpack, Budget: 256 << 20, SegmentSize: 1 << 20,
		MemoryStage: true, Pack: true, FlushEvery: 1000 * time.Hour, StageSize: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// closedSize closes w and returns the bytes of its segments in dir.
func closedSize(b *testing.B, w *ringlog.Writer, dir string) int64 {
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	var bytes int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && filepath.Ext(e.Name()) == ".mpk" {
			bytes += fi.Size()
		}
	}
	return bytes
}
