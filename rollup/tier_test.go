package rollup

import (
	"testing"
	"time"
)

func TestSplitTier(t *testing.T) {
	for _, c := range []struct {
		name  string
		base  string
		every time.Duration
		ok    bool
	}{
		{"metrics.1m", "metrics", time.Minute, true},
		{"metrics.5m", "metrics", 5 * time.Minute, true},
		{"metrics.1h", "metrics", time.Hour, true},
		{"metrics.1d", "metrics", 24 * time.Hour, true},
		{"metrics.90s", "metrics", 90 * time.Second, true},
		{"a.b.30s", "a.b", 30 * time.Second, true},
		{"metrics", "", 0, false},
		{"app.v2", "", 0, false},
		{"metrics.", "", 0, false},
		{"metrics.m", "", 0, false},
		{"metrics.0m", "", 0, false},
		{"metrics.01m", "", 0, false},
		{"metrics.-1m", "", 0, false},
		{"metrics.+1m", "", 0, false},
		{"metrics.1w", "", 0, false},
		{"metrics.1h30m", "", 0, false},
		{"metrics.65536s", "", 0, false},
		{".1h", "", 0, false},
	} {
		base, every, ok := SplitTier(c.name)
		if base != c.base || every != c.every || ok != c.ok {
			t.Errorf("SplitTier(%q) = %q, %v, %v; want %q, %v, %v", c.name, base, every, ok, c.base, c.every, c.ok)
		}
		if ok && c.every != 90*time.Second {
			if n := TierName(base, every); n != c.name {
				t.Errorf("TierName(%q, %v) = %q, want %q", base, every, n, c.name)
			}
		}
	}
	for d, want := range map[time.Duration]string{90 * time.Second: "90s", 90 * time.Minute: "90m", 48 * time.Hour: "2d", 1500 * time.Millisecond: "1.5s"} {
		if got := Interval(d); got != want {
			t.Errorf("Interval(%v) = %q, want %q", d, got, want)
		}
	}
}
