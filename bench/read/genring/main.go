// Command genring writes the same run of agent metrics records to rings
// and to a systemd journal export stream, for the reader benchmark
// (bench/read.sh).
//
// The records take their shape from pack/testdata/metrics.records: 62 s of
// the agent's default collectors on a 2-core machine, 12 records a sample
// (cpu, diskstats, filesystem, load, memory, three netdev, three pressure,
// uptime), with their field names, types and magnitudes. Sample k is
// written at start + k*interval (a few milliseconds of jitter, as a timer
// has), and its numbers vary:
//
//   - a counter (an integer or float that only grows over the 62 s, such
//     as cpu user or rx_bytes) grows at its recorded mean rate, each step
//     between 0.5 and 1.5 times it;
//   - uptime_s is the monotonic time since boot;
//   - any other number (a gauge, such as mem_free or load1) takes the value
//     of a random recorded sample;
//   - strings and booleans are kept.
//
// Every output gets the same records (a fixed seed): -plain, a MessagePack
// ring as a continuous stream writes it (mapped stage); -packed, a
// MessagePack ring with Pack and MemoryStage, as the agent's periodic
// metrics stream writes it, flushed every -flush of record time; -json, a
// JSON ring; -export, the journal export format that
// systemd-journal-remote reads (MESSAGE is the record's name,
// SYSLOG_IDENTIFIER its source, PRIORITY its level, and one upper-case
// field per record field). Segment headers carry the records' times, so
// segment skipping works as on a device. Figures go to stdout as key=value
// lines.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/itiny/itiny/bench/internal/jexport"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

func main() {
	records := flag.String("records", "pack/testdata/metrics.records", "the recorded samples the shape is taken from")
	n := flag.Int("n", 1000000, "records to write (whole samples; the last may be cut)")
	interval := flag.Duration("interval", 24*time.Second, "time between samples")
	flush := flag.Duration("flush", time.Minute, "packed ring: flush the block every this much record time (the agent's periodic flush)")
	start := flag.String("start", "2026-11-01T00:00:05Z", "wall time of the first sample (RFC 3339); off the hour, so that no sample sits on an hour's edge")
	segment := flag.Int64("segment", 256<<10, "segment size in bytes")
	stage := flag.Int("stage", 64<<10, "stage size in bytes (the agent's buffer)")
	budget := flag.Int64("budget", 4<<30, "ring budget in bytes: large enough that nothing is deleted")
	seed := flag.Uint64("seed", 1, "random seed")
	plain := flag.String("plain", "", "write a MessagePack ring to this directory")
	packed := flag.String("packed", "", "write a packed MessagePack ring (periodic) to this directory")
	jsonDir := flag.String("json", "", "write a JSON ring to this directory")
	export := flag.String("export", "", "write the journal export format to this file (- for stdout)")
	flag.Parse()
	t0, err := time.Parse(time.RFC3339Nano, *start)
	if err != nil {
		fail(err)
	}
	tmpl, err := load(*records)
	if err != nil {
		fail(err)
	}
	g := newGen(tmpl, *seed, t0, *interval)

	// The rings' clock is the records' own: the first segment's header,
	// written by Open, carries the first sample's time.
	s0 := g.sample(0)
	clockWall, clockMono := s0[0].Wall, s0[0].Mono
	now := func() (time.Time, int64) { return clockWall, clockMono }
	type ring struct {
		name string
		dir  string
		w    *ringlog.Writer
	}
	var rings []*ring
	var packedW *ringlog.Writer
	open := func(name, dir string, c codec.Codec, pack bool) {
		if dir == "" {
			return
		}
		o := ringlog.Options{Stream: "metrics", Codec: c, Budget: *budget, SegmentSize: *segment, StageSize: *stage,
			Sync: ringlog.SyncNone, Boot: g.boot, Now: now}
		if pack {
			o.Pack, o.MemoryStage, o.FlushEvery = true, true, *flush
		}
		w, err := ringlog.Open(dir, o)
		if err != nil {
			fail(err)
		}
		if !w.Recovery().New {
			fail(fmt.Errorf("%s: the ring exists already", dir))
		}
		rings = append(rings, &ring{name, dir, w})
		if pack {
			packedW = w
		}
	}
	open("plain", *plain, codec.Msgpack, false)
	open("packed", *packed, codec.Msgpack, true)
	open("json", *jsonDir, codec.JSON, false)

	var ex *bufio.Writer
	var exFile *os.File
	switch *export {
	case "":
	case "-":
		ex = bufio.NewWriterSize(os.Stdout, 1<<20)
	default:
		if exFile, err = os.Create(*export); err != nil {
			fail(err)
		}
		ex = bufio.NewWriterSize(exFile, 1<<20)
	}

	began := time.Now()
	var exBytes int64
	var eb []byte
	var lastFlush time.Time
	written := 0
	var first, last time.Time
	for s := 0; written < *n; s++ {
		sample := s0
		if s > 0 {
			sample = g.sample(s)
		}
		if packedW != nil && s > 0 && sample[0].Wall.Sub(lastFlush) >= *flush {
			if err := packedW.Flush(); err != nil {
				fail(err)
			}
			lastFlush = sample[0].Wall
		}
		if s == 0 {
			lastFlush, first = sample[0].Wall, sample[0].Wall
		}
		for i := range sample {
			if written == *n {
				break
			}
			r := &sample[i]
			clockWall, clockMono = r.Wall, r.Mono
			last = r.Wall
			for _, rg := range rings {
				if _, err := rg.w.Append(r); err != nil {
					fail(fmt.Errorf("%s: %w", rg.name, err))
				}
			}
			if ex != nil {
				eb = jexport.Append(eb[:0], r)
				if _, err := ex.Write(eb); err != nil {
					fail(err)
				}
				exBytes += int64(len(eb))
			}
			written++
		}
	}
	for _, rg := range rings {
		if err := rg.w.Close(); err != nil {
			fail(fmt.Errorf("%s: %w", rg.name, err))
		}
	}
	if ex != nil {
		if err := ex.Flush(); err != nil {
			fail(err)
		}
		if exFile != nil {
			if err := exFile.Close(); err != nil {
				fail(err)
			}
		}
	}
	out := os.Stdout
	if *export == "-" {
		out = os.Stderr
	}
	fmt.Fprintf(out, "gen records=%d samples=%d per_sample=%d interval=%s first=%s last=%s first_unix=%d last_unix=%d span_h=%.1f seconds=%.1f\n",
		written, (written+len(tmpl[0])-1)/len(tmpl[0]), len(tmpl[0]), *interval,
		first.UTC().Format(time.RFC3339Nano), last.UTC().Format(time.RFC3339Nano), first.Unix(), last.Unix(), last.Sub(first).Hours(), time.Since(began).Seconds())
	for _, rg := range rings {
		segs, bytes, err := dirSize(rg.dir)
		if err != nil {
			fail(err)
		}
		fmt.Fprintf(out, "ring name=%s segments=%d bytes=%d bytes_per_record=%.1f\n", rg.name, segs, bytes, float64(bytes)/float64(written))
	}
	if ex != nil {
		fmt.Fprintf(out, "export bytes=%d bytes_per_record=%.1f\n", exBytes, float64(exBytes)/float64(written))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "genring:", err)
	os.Exit(1)
}

// load reads the recorded records (a uvarint length before each
// MessagePack record) and returns them grouped by record time: the
// samples.
func load(path string) ([][]codec.Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var samples [][]codec.Record
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errors.New(path + ": bad length")
		}
		var r codec.Record
		if err := codec.Msgpack.Decode(b[k:k+int(n)], &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		b = b[k+int(n):]
		if len(samples) == 0 || samples[len(samples)-1][0].Mono != r.Mono {
			samples = append(samples, nil)
		}
		samples[len(samples)-1] = append(samples[len(samples)-1], r)
	}
	if len(samples) < 2 {
		return nil, errors.New(path + ": fewer than two samples")
	}
	// Only samples with the first one's records, in its order.
	want := samples[0]
	var keep [][]codec.Record
	for _, s := range samples {
		if len(s) != len(want) {
			continue
		}
		ok := true
		for i := range s {
			if s[i].Source != want[i].Source || len(s[i].Fields) != len(want[i].Fields) {
				ok = false
			}
		}
		if ok {
			keep = append(keep, s)
		}
	}
	return keep, nil
}

// A field's behaviour over the recording.
type kind uint8

const (
	constant kind = iota // strings, booleans
	counter              // a number that only grows
	gauge                // any other number
	uptime               // seconds since boot: the monotonic time
)

type gen struct {
	tmpl     [][]codec.Record // recorded samples
	kinds    [][]kind         // per record of a sample, per field
	rate     [][]float64      // counters: growth per second
	acc      [][]float64      // counters: value now
	rnd      *rand.Rand
	boot     codec.BootID
	t0       time.Time
	mono0    int64
	interval time.Duration
	recs     []codec.Record // the sample being made; its fields are reused
	jitter   time.Duration  // of the current sample
	lastMono int64
}

func newGen(tmpl [][]codec.Record, seed uint64, t0 time.Time, interval time.Duration) *gen {
	g := &gen{tmpl: tmpl, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), boot: tmpl[0][0].Boot,
		t0: t0, mono0: tmpl[0][0].Mono, interval: interval}
	a, z := tmpl[0], tmpl[len(tmpl)-1]
	secs := float64(z[0].Mono-a[0].Mono) / 1e9
	g.recs = make([]codec.Record, len(a))
	for i := range a {
		ks := make([]kind, len(a[i].Fields))
		rs := make([]float64, len(a[i].Fields))
		acc := make([]float64, len(a[i].Fields))
		for j, f := range a[i].Fields {
			switch {
			case f.Key == "uptime_s":
				ks[j] = uptime
			case !isNum(f.Value):
				ks[j] = constant
			case grows(tmpl, i, j):
				ks[j] = counter
				rs[j] = (num(z[i].Fields[j].Value) - num(f.Value)) / secs
				acc[j] = num(f.Value)
			default:
				ks[j] = gauge
			}
		}
		g.kinds = append(g.kinds, ks)
		g.rate = append(g.rate, rs)
		g.acc = append(g.acc, acc)
		g.recs[i] = codec.Record{Boot: a[i].Boot, BootCount: a[i].BootCount, Source: a[i].Source, Level: a[i].Level, Name: a[i].Name,
			Fields: append(codec.Fields(nil), a[i].Fields...)}
	}
	return g
}

func isNum(v codec.Value) bool {
	k := v.Kind()
	return k == codec.KindInt || k == codec.KindUint || k == codec.KindFloat
}

func num(v codec.Value) float64 {
	switch v.Kind() {
	case codec.KindInt:
		return float64(v.Int())
	case codec.KindUint:
		return float64(v.Uint())
	}
	return v.Float()
}

// grows reports whether field j of record i never falls and rises over
// the recording.
func grows(tmpl [][]codec.Record, i, j int) bool {
	for s := 1; s < len(tmpl); s++ {
		if num(tmpl[s][i].Fields[j].Value) < num(tmpl[s-1][i].Fields[j].Value) {
			return false
		}
	}
	return num(tmpl[len(tmpl)-1][i].Fields[j].Value) > num(tmpl[0][i].Fields[j].Value)
}

// sample returns sample s (called with s = 0, 1, 2, ...). The records are
// valid until the next call.
func (g *gen) sample(s int) []codec.Record {
	// A timer's jitter: up to ±2 ms, monotonic time strictly increasing.
	mono := g.mono0 + int64(s)*int64(g.interval) + g.rnd.Int64N(4e6) - 2e6
	if s > 0 && mono <= g.lastMono {
		mono = g.lastMono + 1
	}
	g.lastMono = mono
	wall := g.t0.Add(time.Duration(mono - g.mono0))
	step := g.interval.Seconds()
	if s == 0 {
		step = 0
	}
	pick := g.tmpl[g.rnd.IntN(len(g.tmpl))]
	for i := range g.recs {
		r := &g.recs[i]
		r.Wall, r.Mono = wall, mono
		for j := range r.Fields {
			f := &r.Fields[j]
			tv := g.tmpl[0][i].Fields[j].Value
			switch g.kinds[i][j] {
			case counter:
				g.acc[i][j] += g.rate[i][j] * step * (0.5 + g.rnd.Float64())
				f.Value = like(tv, g.acc[i][j])
			case uptime:
				f.Value = codec.Float(math.Round(float64(mono)/1e7) / 100)
			case gauge:
				f.Value = pick[i].Fields[j].Value
			}
		}
	}
	return g.recs
}

// like makes a value of v's kind holding x.
func like(v codec.Value, x float64) codec.Value {
	switch v.Kind() {
	case codec.KindInt:
		return codec.Int(int64(x))
	case codec.KindUint:
		return codec.Uint(uint64(x))
	}
	return codec.Float(math.Round(x*100) / 100)
}

// dirSize returns the segment files of a ring and their bytes.
func dirSize(dir string) (int, int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	n, size := 0, int64(0)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "seg-") {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			return 0, 0, err
		}
		n++
		size += fi.Size()
	}
	return n, size, nil
}
