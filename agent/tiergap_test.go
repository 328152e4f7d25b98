package agent

import (
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// TestTierGapNoted: the minute tier stopped at a mark (an agent with it,
// then one without it, as after a change of configuration or a tier
// killed long before its flush), and retention took the samples after
// the mark meanwhile. The rebuild at the next start cannot fold them: it
// says so in a rollup.gap record naming the numbers and where the tier
// resumes, writes no summary of an interval it holds only part of, and
// none twice.
func TestTierGapNoted(t *testing.T) {
	const small = "[stream metrics]\nbudget = 32KiB\nsegment = 4KiB\nmode = continuous\n"
	withTier := testConfig(t, small+"[stream metrics.1m]\nbudget = 256KiB\nsegment = 64KiB\nmode = periodic\nflush = 1h\n")
	without := testConfig(t, small)
	without.Data = withTier.Data
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	rec := codec.Record{Level: codec.LevelInfo, Source: "load", Name: "load", Fields: codec.Fields{{Key: "load1", Value: codec.Float(0.5)}}}
	emit := func(c *Config, from, to time.Duration) {
		a, err := New(c, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for d := from; d < to; d += 5 * time.Second {
			rec.Wall, rec.Mono = t0.Add(d), 0
			if err := a.Emit(StreamMetrics, &rec); err != nil {
				t.Fatal(err)
			}
		}
		a.Close()
	}
	emit(withTier, 0, 3*time.Minute)                       // 10:00-10:02 summarised
	emit(without, 3*time.Minute, 3*time.Hour)              // retention takes the first of these
	emit(withTier, 3*time.Hour, 3*time.Hour+3*time.Minute) // rebuilt: a gap
	var gap *codec.Record
	for _, r := range readStream(t, withTier.Data, StreamSelf) {
		if r.Name == catalog.RollupGap.Name {
			gap = &r
		}
	}
	if gap == nil {
		t.Fatal("no rollup.gap in the itiny stream")
	}
	after, first := field(*gap, "after").Uint(), field(*gap, "first").Uint()
	from, err := time.Parse(time.RFC3339, field(*gap, "from").Str())
	if err != nil || first <= after+1 || field(*gap, "tier").Str() != "metrics.1m" || field(*gap, "of").Str() != StreamMetrics || from.Second() != 0 {
		t.Fatalf("rollup.gap %v: after %d, first %d, from %v (%v)", gap.Fields, after, first, from, err)
	}
	seen := map[time.Time]bool{}
	for _, r := range readStream(t, withTier.Data, "metrics.1m") {
		if r.Name != "load" {
			continue
		}
		if seen[r.Wall] {
			t.Errorf("%v summarised twice", r.Wall)
		}
		seen[r.Wall] = true
		if r.Wall.After(t0.Add(3*time.Minute)) && r.Wall.Before(from) {
			t.Errorf("a summary of %v, in the gap before %v", r.Wall, from)
		}
		if n := field(r, "samples").Int(); n != 12 {
			t.Errorf("%v: a summary of %d samples, want the whole minute's 12", r.Wall, n)
		}
	}
	if !seen[t0] || !seen[t0.Add(3*time.Hour)] {
		t.Errorf("summaries of 10:00 and 13:00 missing: %v", seen)
	}
}
