// Command memprobe hosts the itiny agent in-process, as `itiny run` does,
// and prints the Go runtime's memory classes (runtime/metrics) and
// VmRSS/RssAnon every few seconds, to see where the agent's anonymous
// memory goes (bench/footprint.sh reports only its totals).
//
//	memprobe -data DIR -config FILE [-every 5s] [-duration 60s] [-gcpercent N]
//		[-memlimit BYTES] [-memprofilerate N] [-freeos D] [-emit N]
//		[-heapprofile FILE]
//
// -gcpercent and -memlimit call debug.SetGCPercent and debug.SetMemoryLimit
// at start, as the agent could itself; -1 leaves them alone.
// -memprofilerate sets runtime.MemProfileRate (0: no heap profiling).
// -heapprofile writes a heap profile at the end and one at each report, to
// FILE.SECONDS: `go tool pprof -sample_index=alloc_space -base FILE.10
// FILE.40` shows what the agent allocates in steady state.
// -freeos calls debug.FreeOSMemory at that interval. Send records with
// loadgen to DIR/itiny.sock meanwhile, or with -emit N have the process
// itself Emit N records/s (the same 10-field record, 0 allocations) to the
// events stream: the agent's cost without the socket's decoding.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/codec"
)

// emitLoop emits rate records/s, in batches every 10 ms, like loadgen.
func emitLoop(a *agent.Agent, rate int) {
	rec := codec.Record{Level: codec.LevelInfo, Name: "app.request", Fields: codec.Fields{
		{Key: "latency_ms"}, {Key: "cpu_pct"}, {Key: "mem_mb"}, {Key: "temp_c"},
		{Key: "rx_bytes"}, {Key: "tx_bytes"}, {Key: "queue_delta"}, {Key: "retries"},
		{Key: "route", Value: codec.String("/api/v1/status")}, {Key: "n"},
	}}
	srcs := make([]string, 10)
	for i := range srcs {
		srcs[i] = fmt.Sprintf("loadgen-%d", i)
	}
	start := time.Now()
	var sent uint64
	for now := range time.Tick(10 * time.Millisecond) {
		due := uint64(now.Sub(start).Seconds() * float64(rate))
		for ; sent < due; sent++ {
			n := sent
			rec.Source = srcs[n%10]
			rec.Wall, rec.Mono = time.Time{}, 0
			f := rec.Fields
			f[0].Value = codec.Float(float64(n%997) * 0.173)
			f[1].Value = codec.Float(float64(n%101) * 0.99)
			f[2].Value = codec.Float(128 + float64(n%64)*0.5)
			f[3].Value = codec.Float(41.5 + float64(n%13)*0.25)
			f[4].Value = codec.Uint(n * 1500)
			f[5].Value = codec.Uint(n * 420)
			f[6].Value = codec.Int(int64(n%21) - 10)
			f[7].Value = codec.Int(int64(n % 3))
			f[9].Value = codec.Uint(n)
			if err := a.Emit(agent.StreamEvents, &rec); err != nil {
				log.Print(err)
			}
		}
	}
}

func main() {
	data := flag.String("data", "memprobe-data", "data directory")
	conf := flag.String("config", "", "config file")
	every := flag.Duration("every", 5*time.Second, "report interval")
	dur := flag.Duration("duration", 60*time.Second, "how long to run")
	gcp := flag.Int("gcpercent", -1, "debug.SetGCPercent at start (-1: leave)")
	lim := flag.Int64("memlimit", -1, "debug.SetMemoryLimit at start, bytes (-1: leave)")
	mpr := flag.Int("memprofilerate", -1, "runtime.MemProfileRate (-1: leave)")
	freeos := flag.Duration("freeos", 0, "call debug.FreeOSMemory at this interval (0: never)")
	emit := flag.Int("emit", 0, "Emit this many records/s in-process to the events stream")
	heapOut := flag.String("heapprofile", "", "write a heap profile here at the end, and to FILE.SECONDS at each report (set -memprofilerate 1)")
	flag.Parse()
	if *mpr >= 0 {
		runtime.MemProfileRate = *mpr
	}
	if *gcp >= 0 {
		debug.SetGCPercent(*gcp)
	}
	if *lim >= 0 {
		debug.SetMemoryLimit(*lim)
	}
	cfg, err := agent.LoadConfig(*conf)
	if err != nil {
		log.Fatal(err)
	}
	cfg.Data = *data
	a, err := agent.New(cfg, agent.Options{Log: log.New(os.Stderr, "itiny: ", log.LstdFlags)})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	if *freeos > 0 {
		go func() {
			for range time.Tick(*freeos) {
				debug.FreeOSMemory()
			}
		}()
	}
	if *emit > 0 {
		go emitLoop(a, *emit)
	}

	var names []string
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") || d.Name == "/gc/cycles/total:gc-cycles" || d.Name == "/gc/heap/goal:bytes" || d.Name == "/sched/goroutines:goroutines" || d.Name == "/gc/heap/allocs:bytes" {
			names = append(names, d.Name)
		}
	}
	samples := make([]metrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	t := time.NewTicker(*every)
	defer t.Stop()
	start := time.Now()
	report := func() {
		metrics.Read(samples)
		var b strings.Builder
		fmt.Fprintf(&b, "t=%.0fs %s", time.Since(start).Seconds(), status())
		for _, s := range samples {
			if s.Value.Kind() != metrics.KindUint64 {
				continue
			}
			n := strings.TrimPrefix(strings.TrimPrefix(s.Name, "/memory/classes/"), "/")
			n = n[:strings.IndexByte(n, ':')]
			v := s.Value.Uint64()
			if strings.HasSuffix(s.Name, ":bytes") {
				fmt.Fprintf(&b, " %s=%dK", n, v>>10)
			} else {
				fmt.Fprintf(&b, " %s=%d", n, v)
			}
		}
		fmt.Println(b.String())
	}
	report()
	for {
		select {
		case <-t.C:
			report()
			if *heapOut != "" {
				writeHeapProfile(fmt.Sprintf("%s.%.0f", *heapOut, time.Since(start).Seconds()))
			}
		case err := <-done:
			report()
			if *heapOut != "" {
				writeHeapProfile(*heapOut)
			}
			a.Close()
			if err != nil {
				log.Fatal(err)
			}
			return
		}
	}
}

// writeHeapProfile writes the live heap (after a collection) to path.
func writeHeapProfile(path string) {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		log.Fatal(err)
	}
}

func status() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	var out []string
	for _, l := range bytes.Split(b, []byte("\n")) {
		for _, k := range []string{"VmRSS:", "RssAnon:", "RssFile:"} {
			if bytes.HasPrefix(l, []byte(k)) {
				out = append(out, strings.TrimSuffix(k, ":")+"="+strings.Fields(string(l[len(k):]))[0]+"K")
			}
		}
	}
	return strings.Join(out, " ")
}
