package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

const tierConf = `[stream metrics.1s]
budget = 256KiB
segment = 64KiB
mode = periodic
flush = 1h
[stream metrics.3s]
budget = 256KiB
segment = 64KiB
mode = periodic
flush = 1h
`

// TestTiersZeroAllocs: a sample reaching the tiers, and the summaries it
// hands on to both, allocate nothing once the groups are made.
func TestTiersZeroAllocs(t *testing.T) {
	a, err := New(testConfig(t, tierConf), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	wall := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	rec := codec.Record{Level: codec.LevelInfo, Source: "load", Name: "load", Fields: codec.Fields{{Key: "load1", Value: codec.Float(0.5)}}}
	emit := func() {
		wall = wall.Add(100 * time.Millisecond)
		rec.Wall, rec.Mono = wall, 0
		rec.Fields[0].Value = codec.Float(float64(wall.UnixMilli()%7) / 10)
		if err := a.Emit(StreamMetrics, &rec); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 {
		emit()
	}
	if n := testing.AllocsPerRun(1000, emit); n != 0 {
		t.Errorf("%v allocations a sample", n)
	}
	a.Close()
	// 1,100 samples from 00:00:00.1 to 00:01:50: the last interval is in
	// progress.
	for stream, want := range map[string]int{"metrics.1s": 110, "metrics.3s": 36} {
		n := 0
		for _, r := range readStream(t, a.cfg.Data, stream) {
			if r.Name == "load" {
				n++
			}
		}
		if n != want {
			t.Errorf("%s: %d summaries of load, want %d", stream, n, want)
		}
	}
}

// TestTierConfig: what makes a tier, and the tiers refused.
func TestTierConfig(t *testing.T) {
	c := testConfig(t, tierConf)
	if s := c.Stream("metrics.3s"); s.Tier != 3*time.Second || s.Base != "metrics" {
		t.Errorf("metrics.3s: tier %v of %q", s.Tier, s.Base)
	}
	if s := c.Stream("events"); s.Tier != 0 {
		t.Errorf("events: a tier of %v", s.Tier)
	}
	for _, c := range []struct{ text, want string }{
		{"[stream metrics.2s]\nbudget = 256KiB\n[stream metrics.3s]\nbudget = 256KiB\n", "3s is not a multiple of tier metrics.2s's 2s"},
		{"[stream metrics.1s]\nbudget = 256KiB\n[stream metrics.1s.1m]\nbudget = 256KiB\n", "a tier of tier metrics.1s"},
	} {
		_, err := ParseConfig("t.conf", "socket =\n"+c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
}
