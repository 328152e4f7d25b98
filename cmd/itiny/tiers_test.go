package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

// TestTiersKilled runs the real agent with tiers of 1 s and 3 s over a
// raw stream that survives SIGKILL (a mapped stage), kills it in the
// middle of a second, starts it again and stops it cleanly. Every
// summary of both tiers is then checked against the raw samples the
// ring holds: each interval once, none missing, its sample count and its
// means those of the raw samples, whether it was written before the
// kill, rebuilt after it, or folded from the finer tier.
func TestTiersKilled(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(t.TempDir(), "itiny.conf")
	os.WriteFile(conf, []byte(`socket = itiny.sock
[stream metrics]
budget = 2MiB
segment = 64KiB
mode = continuous
sync = none
[stream metrics.1s]
budget = 512KiB
segment = 64KiB
mode = periodic
flush = 2s
[stream metrics.3s]
budget = 512KiB
segment = 64KiB
mode = periodic
flush = 4s
[collector load]
interval = 100ms
[collector memory]
interval = 100ms
`), 0o644)
	p := start(t, data, conf)
	// Some summaries flushed, then killed in the middle of a second.
	waitRecord(t, data, "metrics.3s", "a 3 s summary", 0, func(r codec.Record, f map[string]codec.Value) bool { return true })
	time.Sleep(time.Second - time.Duration(time.Now().Nanosecond()) + 500*time.Millisecond)
	p.stop()
	p = start(t, data, conf)
	time.Sleep(4 * time.Second)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("agent: %v\n%s", err, p.logText())
	}

	raw := map[string][]codec.Record{} // load and memory samples by name
	for _, r := range readRing(t, filepath.Join(data, "metrics")) {
		if r.Name == "load" || r.Name == "memory" {
			raw[r.Name] = append(raw[r.Name], r)
		}
	}
	for _, every := range []time.Duration{time.Second, 3 * time.Second} {
		stream := fmt.Sprintf("metrics.%v", every)
		seen := map[string]bool{}
		last := map[string]int64{} // the newest interval summarised, per name
		n := 0
		for _, s := range readRing(t, filepath.Join(data, stream)) {
			if s.Name != "load" && s.Name != "memory" {
				continue
			}
			key := s.Name + " " + s.Wall.Format("15:04:05")
			if seen[key] {
				t.Errorf("%s: %s summarised twice", stream, key)
			}
			seen[key] = true
			iv := s.Wall.UnixNano() / int64(every)
			last[s.Name] = max(last[s.Name], iv)
			if checkSummary(t, stream, s, raw[s.Name], iv, every) < 3 {
				t.Errorf("%s: %s %s: fewer than 3 figures compared: %v", stream, s.Name, s.Wall.Format("15:04:05"), s.Fields)
			}
			n++
		}
		// Every interval with samples, up to the newest summarised, has its
		// summary.
		for name, rs := range raw {
			for _, r := range rs {
				iv := r.Wall.UnixNano() / int64(every)
				if key := name + " " + time.Unix(0, iv*int64(every)).Format("15:04:05"); iv <= last[name] && !seen[key] {
					t.Errorf("%s: no summary of %s", stream, key)
					seen[key] = true
				}
			}
		}
		if n < 8 {
			t.Errorf("%s: %d summaries of load and memory in about 7 s", stream, n)
		}
	}
}

// checkSummary compares summary s of interval iv with the raw samples of
// that interval: the same count, and each gauge's mean, minimum and
// maximum within the rounding to four digits (twice, for a tier folded
// from another).
func checkSummary(t *testing.T, stream string, s codec.Record, raw []codec.Record, iv int64, every time.Duration) (compared int) {
	t.Helper()
	sums, mins, maxs := map[string]float64{}, map[string]float64{}, map[string]float64{}
	n := 0
	for _, r := range raw {
		if r.Wall.UnixNano()/int64(every) != iv {
			continue
		}
		n++
		for _, f := range r.Fields {
			if v, ok := f.Value.Number(); ok {
				if _, ok := mins[f.Key]; !ok {
					mins[f.Key], maxs[f.Key] = v, v
				}
				sums[f.Key] += v
				mins[f.Key], maxs[f.Key] = min(mins[f.Key], v), max(maxs[f.Key], v)
			}
		}
	}
	f := procFields(s)
	if got := f["samples"].Int(); got != int64(n) {

		t.Errorf("%s: %s %s: %d samples, the raw ring holds %d", stream, s.Name, s.Wall.Format("15:04:05"), got, n)
		return 0
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-3*math.Abs(b)+1e-9 }
	for k, v := range f {
		x, _ := v.Number()
		base, fig := k, ""
		if _, isRaw := sums[k]; !isRaw {
			i := max(0, strings.LastIndexByte(k, '_'))
			base, fig = k[:i], k[i+1:]
		}
		if _, ok := sums[base]; !ok || k == "samples" {
			continue
		}
		var want float64
		switch fig {
		case "":
			want = sums[base] / float64(n)
		case "min":
			want = mins[base]
		case "max":
			want = maxs[base]
		default:
			continue
		}
		compared++
		if !near(x, want) {
			t.Errorf("%s: %s %s: %s = %v, the raw samples give %v", stream, s.Name, s.Wall.Format("15:04:05"), k, x, want)
		}
	}
	return compared
}
