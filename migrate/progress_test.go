package migrate

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	var out bytes.Buffer
	p := NewProgress(&out, 1_000_000)
	t0 := p.start
	now := t0
	p.now = func() time.Time { return now }
	for _, tc := range []struct {
		after time.Duration
		add   uint64
		want  string // the bar drawn, "" for none
	}{
		{100 * time.Millisecond, 10_000, "[                        ] 10,000/1,000,000 messages  100,000/s  ETA 10s  (metrics)"},
		{2 * time.Second, 240_000, "[######                  ] 250,000/1,000,000 messages  125,000/s  ETA 6s  (metrics)"},
		{2*time.Second + 50*time.Millisecond, 1, ""}, // within Every of the last: not redrawn
		{4 * time.Second, 749_999, "[########################] 1,000,000/1,000,000 messages  250,000/s  ETA 0s  (metrics)"},
	} {
		out.Reset()
		now = t0.Add(tc.after)
		p.add("metrics", tc.add)
		got := strings.TrimPrefix(out.String(), "\r\x1b[K")
		if got != tc.want {
			t.Errorf("after %v: drew %q, want %q", tc.after, got, tc.want)
		}
	}
}

func TestGroup(t *testing.T) {
	for n, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 123456789: "123,456,789"} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q, want %q", n, got, want)
		}
	}
}
