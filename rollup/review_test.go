package rollup

import (
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

// TestReviewClockAhead: a single sample stamped in the future (an RTC
// set ahead, then corrected by NTP; a GPS glitch) stops the group's
// summaries until the wall clock reaches that future time: every sample
// after the correction is "before the interval in progress" and folded
// into nothing. The base ring keeps its samples; the tier is blind.
func TestReviewClockAhead(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var got []string
	ro := New(time.Minute)
	mono := 1.0
	add := func(wall time.Time) {
		ro.Add(netSample("eth0", wall, mono, uint64(mono*100)), collect(&got))
		mono += 10
	}
	for s := 0; s < 120; s += 10 {
		add(t0.Add(time.Duration(s) * time.Second))
	}
	add(t0.Add(2 * time.Hour)) // the clock 2 h ahead for one sample, then corrected
	for s := 120; s < 3600; s += 10 {
		add(t0.Add(time.Duration(s) * time.Second))
	}
	// Samples every 10 s over the hour 10:00-11:00: 59 whole minutes
	// should have been summarised (10:59 is in progress).
	if len(got) < 59 {
		t.Errorf("a sample stamped 2 h ahead: %d summaries of the 59 whole minutes:\n%s", len(got), strings.Join(got, "\n"))
	}
}

// TestReviewCounterJitter: /proc/stat's iowait (and, on some kernels,
// idle) is a counter that goes back by a tick now and then (the kernel's
// Documentation/filesystems/proc.rst: "the value of iowait in this field
// will decrease in certain conditions"). The Roller takes any decrease for
// a reset and counts the whole value as the increase: a minute's
// iowait_rate of tens of thousands of ticks a second for a CPU that waits
// a tick in a few seconds. sar, reading the raw samples, drops that pair
// ("went back").
func TestReviewCounterJitter(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var got []string
	ro := New(time.Minute)
	iowait := []uint64{5000000, 5000001, 5000003, 5000002, 5000004, 5000005, 5000006, 5000006}
	for i, v := range iowait {
		r := netSample("", t0.Add(time.Duration(i)*10*time.Second), float64(i*10), 0)
		r.Name, r.Fields = "cpu", r.Fields[:0]
		r.Fields = append(r.Fields, codecField("iowait", v))
		ro.Add(r, collect(&got))
	}
	if len(got) != 1 {
		t.Fatalf("%d summaries: %v", len(got), got)
	}
	// 6 ticks up, 1 back, over 60 s: about 0.1 a second.
	if !strings.Contains(got[0], "iowait_rate=0.1") {
		t.Errorf("iowait back by one tick: %s", got[0])
	}
}

func codecField(k string, v uint64) codec.Field { return codec.Field{Key: k, Value: codec.Uint(v)} }

// TestReviewSlowCounterCascade: a counter sampled every 5 minutes (a
// collector slowed to spare the CPU; the flash collector's MTD ECC
// counters, hourly) has a rate in an hour Roller fed the samples, but
// none in one folded from minutes (NewCascade, as the agent makes
// metrics.1h): a minute pairs a sample only with one at most two minutes
// old, and the hour is the mean of the minutes' rates.
func TestReviewSlowCounterCascade(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var direct, cascade []string
	hd, m, hc := New(time.Hour), New(time.Minute), NewCascade(time.Hour, time.Minute)
	toHour := func(r *codec.Record) error { return hc.Add(r, collect(&cascade)) }
	for s := 0; s <= 3*3600; s += 300 {
		r := netSample("eth0", t0.Add(time.Duration(s)*time.Second), float64(s), uint64(s)*100)
		hd.Add(r, collect(&direct))
		m.Add(r, toHour)
	}
	t.Logf("direct:\n%s\ncascade:\n%s", strings.Join(direct, "\n"), strings.Join(cascade, "\n"))
	for _, s := range cascade {
		if !strings.Contains(s, "rx_bytes_rate=100.0") {
			t.Errorf("an hour folded from minutes, samples 5 min apart, 100 B/s: %s", s)
		}
	}
}
