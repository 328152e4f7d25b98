// Command loadgen sends records to a running itiny agent's ingest socket
// at a steady rate, for the footprint benchmark (bench/footprint.sh).
//
// Every 10 ms it sends the records due by then (rate × elapsed time minus
// those already sent), each through agent.Client.Send, which waits for the
// agent's acknowledgement. Records are the 10-field record of
// docs/BENCHMARKS.md section 1: 4 floats, 2 unsigned and 2 signed integers,
// a string and a changing counter. They are spread round-robin over
// -sources source names. The agent's rate_limit is per user (default
// 200/s), whatever the names: bench/footprint.sh raises it.
//
// With -export FILE (- for stdout) it also writes each record the agent
// acknowledged in the journal export format, stamped with the wall and
// monotonic clocks and the boot id when it was sent, and flushed every
// tick: fed to systemd-journal-remote, the same records reach a journal
// file as they reach the agent (bench/flashwrite.sh).
//
// At the end it prints one line of key=value figures, e.g.
//
//	loadgen sent=60000 acked=60000 refused=0 errors=0 seconds=60.00 rate=1000.0 late_ticks=0 ack_p50_us=41 ack_p99_us=180 ack_max_us=2100
//
// where ack_* are the time each Send took, from the record's send to the
// agent's acknowledgement (bench/follow.sh compares them with and without
// a forwarder).
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/bench/internal/jexport"
	"github.com/itiny/itiny/codec"
)

func main() {
	socket := flag.String("socket", "itiny-data/itiny.sock", "the agent's ingest socket")
	rate := flag.Int("rate", 1000, "records per second")
	dur := flag.Duration("duration", 60*time.Second, "how long to send")
	sources := flag.Int("sources", 10, "distinct source names, used round-robin")
	stream := flag.String("stream", "events", "stream the records go to")
	tick := flag.Duration("tick", 10*time.Millisecond, "batch interval")
	wait := flag.Duration("wait", 5*time.Second, "how long to retry dialing a socket not there yet")
	export := flag.String("export", "", "also write each acknowledged record in the journal export format to this file (- for stdout)")
	flag.Parse()
	if *rate <= 0 || *sources <= 0 || *dur <= 0 || *tick <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: rate, sources, duration and tick must be positive")
		os.Exit(2)
	}

	var c *agent.Client
	var err error
	for deadline := time.Now().Add(*wait); ; time.Sleep(50 * time.Millisecond) {
		if c, err = agent.Dial(*socket); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	defer c.Close()

	ex, err := openExport(*export)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}

	srcs := make([]string, *sources)
	for i := range srcs {
		srcs[i] = fmt.Sprintf("loadgen-%d", i)
	}
	rec := codec.Record{
		Stream: *stream,
		Level:  codec.LevelInfo,
		Name:   "app.request",
		Fields: codec.Fields{
			{Key: "latency_ms", Value: codec.Float(0)},
			{Key: "cpu_pct", Value: codec.Float(0)},
			{Key: "mem_mb", Value: codec.Float(0)},
			{Key: "temp_c", Value: codec.Float(0)},
			{Key: "rx_bytes", Value: codec.Uint(0)},
			{Key: "tx_bytes", Value: codec.Uint(0)},
			{Key: "queue_delta", Value: codec.Int(0)},
			{Key: "retries", Value: codec.Int(0)},
			{Key: "route", Value: codec.String("/api/v1/status")},
			{Key: "n", Value: codec.Uint(0)},
		},
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	t := time.NewTicker(*tick)
	defer t.Stop()
	start := time.Now()
	end := start.Add(*dur)
	var sent, acked, errs, late uint64
	lat := make([]time.Duration, 0, int(dur.Seconds()+1)*(*rate))
	refused := map[string]uint64{}
	lastTick := start
loop:
	for {
		select {
		case <-stop:
			break loop
		case now := <-t.C:
			if now.Sub(lastTick) > 2**tick {
				late++ // the ticker dropped ticks: we could not keep up
			}
			lastTick = now
			if now.After(end) {
				now = end
			}
			due := uint64(now.Sub(start).Seconds() * float64(*rate))
			for ; sent < due; sent++ {
				n := sent
				rec.Source = srcs[n%uint64(len(srcs))]
				rec.Wall, rec.Mono = time.Time{}, 0 // the agent stamps them
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
				t0 := time.Now()
				_, err := c.Send(&rec)
				lat = append(lat, time.Since(t0))
				if err != nil {
					msg := err.Error()
					if strings.HasPrefix(msg, "agent refused the record: ") {
						refused[strings.TrimPrefix(msg, "agent refused the record: ")]++
						continue
					}
					errs++
					fmt.Fprintln(os.Stderr, "loadgen:", err)
					sent++
					break loop // the connection is gone
				}
				acked++
				if ex != nil {
					ex.add(&rec)
				}
			}
			if ex != nil {
				if err := ex.Flush(); err != nil {
					fmt.Fprintln(os.Stderr, "loadgen: export:", err)
					errs++
					break loop
				}
			}
			if !now.Before(end) {
				break loop
			}
		}
	}
	secs := time.Since(start).Seconds()
	var nref uint64
	var reasons []string
	for r, n := range refused {
		nref += n
		reasons = append(reasons, fmt.Sprintf("%q:%d", r, n))
	}
	sort.Strings(reasons)
	report := os.Stdout
	if *export == "-" {
		report = os.Stderr // stdout carries the export
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) int64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()
	}
	fmt.Fprintf(report, "loadgen sent=%d acked=%d refused=%d errors=%d seconds=%.2f rate=%.1f late_ticks=%d ack_p50_us=%d ack_p99_us=%d ack_max_us=%d\n",
		sent, acked, nref, errs, secs, float64(acked)/secs, late, pct(0.5), pct(0.99), pct(1))
	if len(reasons) > 0 {
		fmt.Fprintf(report, "loadgen refused_reasons=%s\n", strings.Join(reasons, ","))
	}
	if errs > 0 {
		os.Exit(1)
	}
}

// exporter writes records in the journal export format, stamped as sent.
type exporter struct {
	*bufio.Writer
	boot codec.BootID
	buf  []byte
}

// openExport opens the export output named by the -export flag: nil for
// none.
func openExport(name string) (*exporter, error) {
	if name == "" {
		return nil, nil
	}
	e := &exporter{}
	id, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return nil, err
	}
	if _, err := hex.Decode(e.boot[:], bytes.ReplaceAll(bytes.TrimSpace(id), []byte("-"), nil)); err != nil {
		return nil, fmt.Errorf("boot_id %q: %v", id, err)
	}
	out := os.Stdout
	if name != "-" {
		if out, err = os.Create(name); err != nil {
			return nil, err
		}
	}
	e.Writer = bufio.NewWriter(out)
	return e, nil
}

// add buffers r, stamped now; Flush writes.
func (e *exporter) add(r *codec.Record) {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) // cannot fail for CLOCK_MONOTONIC
	x := *r
	x.Wall, x.Mono, x.Boot = time.Now(), ts.Nano(), e.boot
	e.buf = jexport.Append(e.buf[:0], &x)
	e.Write(e.buf)
}
