package view

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/tiertest"
)

// tierEnd is when the simulated samples of the tier tests stop.
var tierEnd = time.Date(2026, 12, 31, 23, 37, 30, 0, time.UTC)

// tierConfig is a year of hours, a week of minutes and three hours of
// samples, the newest two hours and ten minutes of the tiers not written
// yet, a counter reset and a reboot.
var tierConfig = tiertest.Config{End: tierEnd, Hours: 365 * 24 * time.Hour, Minutes: 7 * 24 * time.Hour, Raw: 3 * time.Hour,
	HourLag: 2 * time.Hour, MinuteLag: 10 * time.Minute, Reset: tierEnd.Add(-90 * time.Minute), Reboot: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}

func TestParseTier(t *testing.T) {
	for _, c := range []struct {
		stream, base string
		every        time.Duration
	}{
		{"metrics", "metrics", 0},
		{"metrics.1m", "metrics", time.Minute},
		{"metrics.5m", "metrics", 5 * time.Minute},
		{"metrics.1h", "metrics", time.Hour},
		{"metrics.1d", "metrics", 24 * time.Hour},
		{"a.b.30s", "a.b", 30 * time.Second},
		{"metrics.", "metrics.", 0},
		{"metrics.0m", "metrics.0m", 0},
		{"metrics.m", "metrics.m", 0},
		{"metrics.-1m", "metrics.-1m", 0},
		{"metrics.1w", "metrics.1w", 0},
		{".1h", ".1h", 0},
	} {
		base, every := ParseTier(c.stream)
		if base != c.base || every != c.every {
			t.Errorf("ParseTier(%q) = %q, %v; want %q, %v", c.stream, base, every, c.base, c.every)
		}
	}
	if TierName(0) != "raw" || TierName(90*time.Minute) != "90m" {
		t.Errorf("TierName: %q, %q", TierName(0), TierName(90*time.Minute))
	}
}

// TestTiers plans the tiers of a year of hours, a week of minutes and
// hours of samples, and reads them merged: each part of the time line
// comes from the tier the rule picks, and no time is read from two.
func TestTiers(t *testing.T) {
	data := t.TempDir()
	tiertest.Write(t, data, tierConfig)
	day := func(d, h, m int) string {
		return time.Date(2026, 12, d, h, m, 0, 0, time.UTC).Format(time.RFC3339)
	}
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	for _, c := range []struct {
		o          TierOptions
		parts      []string
		maxMinutes int // of the week's, read
	}{
		// Finest first: the samples, then minutes before them, then
		// hours; each coarser tier's last interval whole.
		{TierOptions{}, []string{"1h " + jan + ".." + day(25, 0, 0), "1m " + day(25, 0, 0) + ".." + day(31, 20, 38), "raw " + day(31, 20, 38) + ".."}, 7 * 1440},
		// --every 1h: hours where they are written, minutes after them,
		// the samples after the minutes.
		{TierOptions{Every: time.Hour}, []string{"1h " + jan + ".." + day(31, 21, 0), "1m " + day(31, 21, 0) + ".." + day(31, 23, 27), "raw " + day(31, 23, 27) + ".."}, 3 * 1440},
		// --every 5m: minutes, hours before them.
		{TierOptions{Every: 5 * time.Minute}, []string{"1h " + jan + ".." + day(25, 0, 0), "1m " + day(25, 0, 0) + ".." + day(31, 23, 27), "raw " + day(31, 23, 27) + ".."}, 7 * 1440},
		// --every 30s: no tier is so fine: the samples, as with none.
		{TierOptions{Every: 30 * time.Second}, []string{"1h " + jan + ".." + day(25, 0, 0), "1m " + day(25, 0, 0) + ".." + day(31, 20, 38), "raw " + day(31, 20, 38) + ".."}, 7 * 1440},
		// A chart of 600 points over the year: 14.6 hours a point, read
		// from hours; over its last day, 2.4 minutes a point, from minutes.
		{TierOptions{Points: 600}, []string{"1h " + jan + ".." + day(31, 21, 0), "1m " + day(31, 21, 0) + ".." + day(31, 23, 27), "raw " + day(31, 23, 27) + ".."}, 3 * 1440},
		{TierOptions{Points: 600, Since: tierEnd.Add(-24 * time.Hour)}, []string{"1h " + jan + ".." + day(25, 0, 0), "1m " + day(25, 0, 0) + ".." + day(31, 23, 27), "raw " + day(31, 23, 27) + ".."}, 7 * 1440},
	} {
		in, err := Open([]string{data})
		if err != nil {
			t.Fatal(err)
		}
		tiers, err := PlanTiers(in.Sources, nil, c.o)
		if err != nil {
			t.Fatal(err)
		}
		if got := tiers.Parts("metrics"); !slices.Equal(got, c.parts) {
			t.Errorf("%+v: parts\n%q\nwant\n%q", c.o, got, c.parts)
		}
		srcs := tiers.Sources(in.Sources)
		m, err := NewMerger(srcs, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		tiers.PassOver(m)
		read := map[string]int{} // load records read, by stream
		var shown []part
		var last int64
		for {
			it, err := m.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if it.Kind != KindRecord || it.Rec.Name != "load" {
				continue
			}
			read[it.Source.Stream]++
			if !tiers.Keep(it.Source.Stream, it.Rec) {
				continue
			}
			w := it.Rec.Wall.UnixNano()
			if w < last {
				t.Fatalf("%+v: %s's record at %v after one at %v", c.o, it.Source.Stream, it.Rec.Wall, time.Unix(0, last))
			}
			last = w
			d := max(tiers.Every(it.Source.Stream), tiertest.Pace)
			shown = append(shown, part{w, w + int64(d)})
		}
		m.Close()
		for i := 1; i < len(shown); i++ {
			if shown[i].from < shown[i-1].to {
				t.Fatalf("%+v: %v read twice: the records at %v and %v both cover it", c.o,
					time.Unix(0, shown[i].from).UTC(), time.Unix(0, shown[i-1].from).UTC(), time.Unix(0, shown[i].from).UTC())
			}
		}
		// The segments of the minutes before their part are passed over
		// (a segment holds two to three days of them, in version 3
		// blocks); every hour is read, once.
		if read["metrics.1m"] > c.maxMinutes || read["metrics.1h"] > 365*24 || read["metrics"] > 3*3600/20 {
			t.Errorf("%+v: read %v load records; want at most %d minutes", c.o, read, c.maxMinutes)
		}
	}
}

// TestTiersUnsynced: samples stamped before the clock was set (1970)
// have no place on the time line: they do not stretch the samples' part
// back over the tiers, and are shown as their ring has them.
func TestTiersUnsynced(t *testing.T) {
	data := t.TempDir()
	c := tierConfig
	c.Unsynced = 10 * time.Minute
	tiertest.Write(t, data, c)
	in, err := Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	tiers, err := PlanTiers(in.Sources, nil, TierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parts := tiers.Parts("metrics")
	if len(parts) != 3 || parts[2] != "raw 2026-12-31T20:48:00Z.." {
		t.Errorf("parts %q: want the samples' from 20:48, after the unsynced ones", parts)
	}
	m, err := NewMerger(tiers.Sources(in.Sources), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	kept := map[bool]int{} // raw load records kept, by unsynced
	for {
		it, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.Kind == KindRecord && it.Source.Stream == "metrics" && it.Rec.Name == "load" && tiers.Keep(it.Source.Stream, it.Rec) {
			kept[it.Rec.Wall.Year() == 1970]++
		}
	}
	// 30 unsynced; of the 510 after them, the two before 20:48 are the
	// minute's.
	if kept[true] != 30 || kept[false] != 508 {
		t.Errorf("raw load records kept: %d unsynced, %d others; want 30 and 508", kept[true], kept[false])
	}
}

// TestShare shares time lines between tiers as PlanTiers does once it
// knows what each covers (in minutes here): whole intervals of the
// coarser tier where two meet, never a minute twice.
func TestShare(t *testing.T) {
	const m = int64(time.Minute)
	type lvl struct {
		every    time.Duration
		from, to float64 // minutes
	}
	for _, c := range []struct {
		name   string
		levels []lvl // finest first
		every  time.Duration
		want   []string // per level: its parts, in minutes
	}{
		{"finest first", []lvl{{0, 125.5, 300}, {time.Minute, 60, 290}, {time.Hour, 0, 240}}, 0,
			[]string{"126-end", "60-126", "0-60"}},
		{"--every 1h", []lvl{{0, 125.5, 300}, {time.Minute, 60, 290}, {time.Hour, 0, 240}}, time.Hour,
			[]string{"290-end", "240-290", "0-240"}},
		{"--every 5m: minutes, then hours before them", []lvl{{0, 125.5, 300}, {time.Minute, 60, 290}, {time.Hour, 0, 240}}, 5 * time.Minute,
			[]string{"290-end", "60-290", "0-60"}},
		// 7 minutes do not divide an hour: the hour ends whole at 120,
		// the 7 minutes start at their first whole interval after it.
		{"intervals that do not divide", []lvl{{7 * time.Minute, 63, 301}, {time.Hour, 0, 240}}, 0,
			[]string{"126-end", "0-120"}},
		// A tier with nothing: the others share the time line.
		{"an empty tier", []lvl{{0, 200, 300}, {time.Minute, 0, 0}, {time.Hour, 0, 240}}, 0,
			[]string{"240-end", "", "0-240"}},
	} {
		var levels []*tierLevel
		for _, l := range c.levels {
			tl := &tierLevel{every: l.every, plan: &tierPlan{every: l.every}}
			if l.to > l.from {
				tl.cover, tl.any = part{int64(l.from * float64(m)), int64(l.to * float64(m))}, true
			}
			levels = append(levels, tl)
		}
		share(preferred(levels, c.every))
		for i, l := range levels {
			var got []string
			for _, p := range l.plan.parts {
				to := "end"
				if p.to != math.MaxInt64 {
					to = strconv.FormatFloat(float64(p.to)/float64(m), 'g', -1, 64)
				}
				got = append(got, strconv.FormatFloat(float64(p.from)/float64(m), 'g', -1, 64)+"-"+to)
			}
			if strings.Join(got, ",") != c.want[i] {
				t.Errorf("%s: tier %v: parts %q, want %q", c.name, l.every, got, c.want[i])
			}
		}
	}
}
