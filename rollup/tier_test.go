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
		{"metrics.1h", "metrics", time.Hour, true},
		{"metrics.90s", "metrics", 90 * time.Second, true},
		{"app.v2.1h", "app.v2", time.Hour, true},
		{"metrics", "", 0, false},
		{"app.v2", "", 0, false},
		{"metrics.500ms", "", 0, false},
		{"metrics.1.5s", "metrics.1", 5 * time.Second, true},
		{".1m", "", 0, false},
		{"metrics.", "", 0, false},
		{"metrics.-1m", "", 0, false},
	} {
		base, every, ok := SplitTier(c.name)
		if base != c.base || every != c.every || ok != c.ok {
			t.Errorf("SplitTier(%q) = %q, %v, %v; want %q, %v, %v", c.name, base, every, ok, c.base, c.every, c.ok)
		}
		if ok {
			if n := TierName(base, every); n != c.name && c.every != 90*time.Second {
				t.Errorf("TierName(%q, %v) = %q, want %q", base, every, n, c.name)
			}
		}
	}
	for d, want := range map[time.Duration]string{time.Minute: "m.1m", time.Hour: "m.1h", 90 * time.Second: "m.1m30s", 24 * time.Hour: "m.24h", 5 * time.Minute: "m.5m"} {
		if got := TierName("m", d); got != want {
			t.Errorf("TierName(m, %v) = %q, want %q", d, got, want)
		}
	}
}
