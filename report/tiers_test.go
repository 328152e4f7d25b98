package report

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/tiertest"
	"github.com/itiny/itiny/view"
)

// TestTiers reports on a year of rollup tiers: the charts over the year
// read the hours (their lines' rates are the summaries', sane across a
// counter reset and a reboot), over a day the minutes; the page says
// which tier each part of the window is from.
func TestTiers(t *testing.T) {
	end := time.Date(2026, 12, 31, 23, 37, 30, 0, time.UTC)
	data := t.TempDir()
	tiertest.Write(t, data, tiertest.Config{End: end, Hours: 365 * 24 * time.Hour, Minutes: 7 * 24 * time.Hour, Raw: 3 * time.Hour,
		HourLag: 2 * time.Hour, MinuteLag: 10 * time.Minute, Reset: end.Add(-90 * time.Minute), Reboot: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)})
	for _, c := range []struct {
		name       string
		since      time.Time
		tiers      []string
		maxSamples int // metrics records read: of the tiers chosen, not all; a tier's mark after each interval's summaries
	}{
		// 600 points over the year: hours, then the minutes and samples
		// the hours have not reached.
		{"a year", time.Time{}, []string{"1h 2026-01-01T00:00:00Z..2026-12-31T21:00:00Z", "1m 2026-12-31T21:00:00Z..2026-12-31T23:27:00Z", "raw 2026-12-31T23:27:00Z.."}, 3*(8757+147+31) + 8757 + 147},
		// 600 points over a day: minutes, hours before them.
		{"a day", end.Add(-24 * time.Hour), []string{"1h 2026-01-01T00:00:00Z..2026-12-25T00:00:00Z", "1m 2026-12-25T00:00:00Z..2026-12-31T23:27:00Z", "raw 2026-12-31T23:27:00Z.."}, 3*(1430+31) + 1430},
	} {
		in, err := view.Open([]string{data})
		if err != nil {
			t.Fatal(err)
		}
		o := Options{Since: c.since}
		o.defaults()
		d, err := collect(in.Sources, &o)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(d.tiers, "; ") != strings.Join(c.tiers, "; ") {
			t.Errorf("%s: tiers %q\nwant %q", c.name, d.tiers, c.tiers)
		}
		if d.samples > c.maxSamples || d.samples < c.maxSamples-30 {
			t.Errorf("%s: %d metrics records, want about %d", c.name, d.samples, c.maxSamples)
		}
		var net *chart
		for _, ch := range d.charts {
			if ch.title == "network eth0: bytes/s" {
				net = ch
			}
		}
		if net == nil || net.line("rx") == nil || len(net.line("rx").pts) < 100 {
			t.Fatalf("%s: no chart of eth0's bytes, or few points", c.name)
		}
		for _, p := range net.line("rx").pts {
			if math.Abs(p.v-tiertest.RxRate) > 1e-6 {
				t.Fatalf("%s: eth0 rx %v B/s at %v, want %v", c.name, p.v, time.Unix(0, p.t).UTC(), tiertest.RxRate)
			}
		}
	}
	in, err := view.Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := Write(&page, in.Sources, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "Read from the rollup tiers of the metrics") || !strings.Contains(page.String(), "1h 2026-01-01T00:00:00Z..2026-12-31T21:00:00Z") {
		t.Errorf("the page does not say the tiers")
	}
}
