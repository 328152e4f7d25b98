package rollup

import (
	"strings"
	"time"
)

// A tier is a stream of summaries of another stream's samples: the stream
// named BASE.EVERY (metrics.1m, metrics.1h) holds the summaries of
// intervals of EVERY of the stream BASE, a Go duration of whole seconds.
// The agent keeps them, and the readers pick among a stream's tiers; this
// is the one place the name's grammar is.

// SplitTier returns the base stream and interval of the tier named name;
// ok is false when name is not a tier's.
func SplitTier(name string) (base string, every time.Duration, ok bool) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 || name[i+1] < '0' || name[i+1] > '9' {
		return "", 0, false
	}
	d, err := time.ParseDuration(name[i+1:])
	if err != nil || d < time.Second || d%time.Second != 0 {
		return "", 0, false
	}
	return name[:i], d, true
}

// TierName returns the name of base's tier of intervals of every:
// metrics.1h, not time's metrics.1h0m0s.
func TierName(base string, every time.Duration) string {
	s := every.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return base + "." + s
}
