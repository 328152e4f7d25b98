package agent

import (
	"os"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

const reviewTierConf = `[stream metrics.1m]
budget = 256KiB
segment = 64KiB
mode = periodic
flush = 1h
`

// TestReviewTierClockAhead: the device's clock runs 2 h ahead for its
// first minutes (an RTC kept in local time, corrected by NTP), then is
// right. The tier writes the minutes stamped ahead and then nothing for
// the real minutes, in this run and after a restart: the minutes stored
// "in the future" tell the rebuild that everything up to then is stored.
func TestReviewTierClockAhead(t *testing.T) {
	cfg := testConfig(t, reviewTierConf)
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	rec := codec.Record{Level: codec.LevelInfo, Source: "load", Name: "load", Fields: codec.Fields{{Key: "load1", Value: codec.Float(0.5)}}}
	run := func(from, to time.Duration, ahead time.Duration) {
		a, err := New(cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for d := from; d < to; d += 10 * time.Second {
			rec.Wall, rec.Mono = t0.Add(d), 0
			if d < 3*time.Minute {
				rec.Wall = rec.Wall.Add(ahead)
			}
			if err := a.Emit(StreamMetrics, &rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	run(0, 10*time.Minute, 2*time.Hour) // 10:00-10:03 stamped 12:00-12:03
	run(10*time.Minute, 30*time.Minute, 0)
	n, ahead := 0, 0
	for _, r := range readStream(t, cfg.Data, "metrics.1m") {
		if r.Name != "load" {
			continue
		}
		if r.Wall.Before(t0.Add(time.Hour)) {
			n++
		} else {
			ahead++
		}
	}
	// 10:03 to 10:29 are whole minutes of samples at the right time.
	if n < 26 {
		t.Errorf("%d summaries of the 27 whole minutes 10:03-10:29 (and %d stamped 2 h ahead)", n, ahead)
	}
}

// TestReviewTierAddedBelow: a device keeps metrics.1h; metrics.1m is
// added later (or its ring is lost or damaged). At the next start the
// minute tier is rebuilt from the whole raw ring and its minutes go on to
// the hour tier, which was told only of the groups of its last two hours
// (learn): an interface gone before then has its hours written again.
func TestReviewTierAddedBelow(t *testing.T) {
	hoursOnly := "[stream metrics]\nbudget = 4MiB\nsegment = 256KiB\n[stream metrics.1h]\nbudget = 256KiB\nsegment = 64KiB\nmode = periodic\nflush = 1h\n"
	cfg := testConfig(t, hoursOnly)
	if d := os.Getenv("REVIEW_KEEP"); d != "" {
		cfg.Data = d
	}
	t0 := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var rx uint64
	for d := time.Duration(0); d < 6*time.Hour+30*time.Minute; d += 10 * time.Second {
		ifaces := []string{"eth0"}
		if d < 3*time.Hour {
			ifaces = append(ifaces, "eth1") // gone at 03:00
		}
		rx += 1000
		for _, iface := range ifaces {
			r := codec.Record{Level: codec.LevelInfo, Source: "netdev", Name: "net", Wall: t0.Add(d), Mono: int64(time.Hour + d),
				Fields: codec.Fields{{Key: "iface", Value: codec.String(iface)}, {Key: "rx_bytes", Value: codec.Uint(rx)}}}
			if err := a.Emit(StreamMetrics, &r); err != nil {
				t.Fatal(err)
			}
		}
	}
	a.Close()
	count := func() map[string]int {
		n := map[string]int{}
		for _, r := range readStream(t, cfg.Data, "metrics.1h") {
			if r.Name == "net" {
				n[field(r, "iface").Str()+" "+r.Wall.Format("15:04")]++
			}
		}
		return n
	}
	before := count()
	if before["eth1 00:00"] != 1 {
		t.Fatalf("before: %v", before)
	}
	// The same device, metrics.1m added.
	cfg2 := testConfig(t, hoursOnly+"[stream metrics.1m]\nbudget = 1MiB\nsegment = 64KiB\nmode = periodic\nflush = 10m\n")
	cfg2.Data = cfg.Data
	a, err = New(cfg2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	for k, n := range count() {
		if n > 1 {
			t.Errorf("metrics.1h: %s summarised %d times (%d before the minutes were added)", k, n, before[k])
		}
	}
}

// TestReviewTierLateRing: the base ring cannot be opened at start (a
// full or read-only disk) and opens at the next retry. The tiers were
// rebuilt in New, from nothing, and are not rebuilt when the ring opens:
// the minute in progress at the last stop is summarised from the samples
// after the ring opened only, though the ring holds all of them.
func TestReviewTierLateRing(t *testing.T) {
	cfg := testConfig(t, reviewTierConf)
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	rec := codec.Record{Level: codec.LevelInfo, Source: "load", Name: "load", Fields: codec.Fields{{Key: "load1", Value: codec.Float(0.5)}}}
	emit := func(a *Agent, from, to time.Duration) {
		for d := from; d < to; d += 5 * time.Second {
			rec.Wall, rec.Mono = t0.Add(d), 0
			if err := a.Emit(StreamMetrics, &rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	emit(a, 0, 45*time.Second) // 10:00:00-10:00:40, 9 samples
	a.Close()
	full := fullStream(t, StreamMetrics)
	a, err = New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	full.Store(false)
	if err := a.retryStorage(); err != nil {
		t.Fatal(err)
	}
	emit(a, 45*time.Second, 125*time.Second) // 10:00:45-10:02:00
	a.Close()
	for _, r := range readStream(t, cfg.Data, "metrics.1m") {
		if r.Name == "load" && r.Wall.Equal(t0) {
			if n := field(r, "samples").Int(); n != 12 {
				t.Errorf("10:00: a summary of %d samples; the ring holds 12", n)
			}
			return
		}
	}
	t.Errorf("no summary of 10:00")
}
