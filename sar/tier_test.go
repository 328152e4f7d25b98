package sar

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/rollup"
)

// TestSummaries reads rollup summaries of simulated samples: gauges are
// the summaries' means, weighed by their samples over a span; counters'
// rates are the summaries' rates, sane across a reset and a reboot; each
// row says its tier.
func TestSummaries(t *testing.T) {
	// Three hours of samples every 10 s: the interface receives 1000 B/s,
	// its counters reset at 1:30 and the device reboots at 2:00; memory
	// free is the minute of the day in MiB. A sample is missing every
	// seven, so that the minutes fold 5 or 6 samples each.
	var samples []*codec.Record
	rx, mono, boot := uint64(0), int64(0), uint32(1)
	for sec := 0; sec < 3*3600; sec += 10 {
		switch sec {
		case 5400:
			rx = 0
		case 7200:
			boot, mono = 2, 0
		}
		rx += 10000
		mono += 10e9
		if (sec/10)%7 == 3 {
			continue
		}
		for _, s := range []step{
			{boot, 0, "net", net("eth0", int(rx), int(rx/100), 0, 0, int(rx/2), 0, 0, 0)},
			{boot, 0, "memory", []any{"mem_total", 1 << 30, "mem_free", (sec / 60) << 20, "mem_available", 0, "buffers", 0, "cached", 0,
				"swap_total", 0, "swap_free", 0, "dirty", 0, "writeback", 0, "shmem", 0, "slab", 0, "sreclaimable", 0}},
		} {
			r := s.record()
			r.Wall, r.Mono = t0.Add(time.Duration(sec)*time.Second), mono
			samples = append(samples, r)
		}
	}
	roll := func(every time.Duration) []*codec.Record {
		var out []*codec.Record
		ro := rollup.New(every)
		for _, r := range samples {
			if err := ro.Add(r, func(s *codec.Record) error {
				c := *s
				c.Fields, c.BootCount = append(codec.Fields(nil), s.Fields...), uint32(s.Boot[0])
				out = append(out, &c)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	minutes := roll(time.Minute)
	read := func(rep *Report, every time.Duration, tier time.Duration, recs []*codec.Record) rows {
		var got rows
		r := NewReader(rep, &got, Options{Every: every})
		for _, rec := range recs {
			if err := r.AddFrom(rec, 0, tier); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	rxkB := Net.Column("rxkB/s")
	for _, c := range []struct {
		name  string
		every time.Duration
		rows  int
	}{{"per minute", 0, 179}, {"per hour", time.Hour, 3}} {
		got := read(&Net, c.every, time.Minute, minutes)
		n := 0
		for _, r := range got {
			if r.Kind == Mark && r.Why != "reboot" {
				t.Errorf("%s: mark %s: %s", c.name, r.Why, r.Note)
			}
			if r.Kind != Sample {
				continue
			}
			n++
			if r.Tier != "1m" {
				t.Errorf("%s: row at %v: tier %q, want 1m", c.name, r.Time, r.Tier)
			}
			if v := r.Values[rxkB]; math.Abs(v-1000.0/KB) > 1e-9 {
				t.Errorf("%s: row at %v: rxkB/s %v, want %v", c.name, r.Time, v, 1000.0/KB)
			}
		}
		if n != c.rows {
			t.Errorf("%s: %d rows, want %d", c.name, n, c.rows)
		}
	}
	// A summary's row is at its interval's end, its figures its means.
	got := read(&Memory, 0, time.Minute, minutes)
	if r := got[0]; r.Time != t0.Add(time.Minute) || r.Values[0] != 0 || r.Tier != "1m" {
		t.Errorf("first minute: %v at %v, tier %q", r.Values, r.Time, r.Tier)
	}
	// Over an hour, the minutes' means weigh by their samples: the mean
	// of the hour's samples, as the hour's summary has it, but for the
	// rounding of the summaries' figures to four digits.
	hours := roll(time.Hour)
	fromMinutes := read(&Memory, time.Hour, time.Minute, minutes)
	fromHours := read(&Memory, 0, time.Hour, hours)
	for i := range 2 {
		m, h := fromMinutes[i], fromHours[i]
		if m.Time != h.Time || m.Kind != Sample || math.Abs(m.Values[0]-h.Values[0]) > 1e-3*math.Abs(h.Values[0]) || h.Tier != "1h" {
			t.Errorf("hour %d: from minutes %v at %v, from hours %v at %v (%s)", i, m.Values[0], m.Time, h.Values[0], h.Time, h.Tier)
		}
	}
	// Raw samples after summaries: the first only ends the summaries;
	// rows say where each tier starts.
	var mixed []*codec.Record
	var tiers []time.Duration
	for _, r := range minutes[:20] {
		mixed, tiers = append(mixed, r), append(tiers, time.Minute)
	}
	for _, r := range samples[len(samples)-10:] {
		mixed, tiers = append(mixed, r), append(tiers, 0)
	}
	var rs rows
	r := NewReader(&Net, &rs, Options{})
	for i, rec := range mixed {
		if err := r.AddFrom(rec, 0, tiers[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, row := range rs {
		if row.Kind == Sample {
			count[row.Tier]++
		}
		if row.Kind == Average && row.Tier != "1m+raw" {
			t.Errorf("average's tier %q, want 1m+raw", row.Tier)
		}
	}
	if count["1m"] != 10 || count["raw"] != 4 {
		t.Errorf("rows by tier %v, want 10 of 1m and 4 raw", count)
	}
	var text strings.Builder
	tw := NewTextWriter(&text, &Net, time.UTC)
	for _, row := range rs {
		if err := tw.Write(&row); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"\n10:01:00  -- tier 1m: summaries, means and rates --\n", "  -- tier raw: samples --\n"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text: no %q in\n%s", want, text.String())
		}
	}
}
