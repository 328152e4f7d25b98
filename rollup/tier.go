package rollup

import (
	"strconv"
	"strings"
	"time"
)

// A tier is a stream of summaries of another stream's samples: the stream
// named BASE.N UNIT (metrics.1m, metrics.1h) holds the summaries of
// intervals of N units of the stream BASE, N a whole number from 1 to
// 65,535 and UNIT s, m, h or d. The agent keeps them and the readers pick
// among a stream's tiers; this is the one place the name's grammar is.

// SplitTier returns the base stream and interval of the tier named name;
// ok is false when name is not a tier's.
func SplitTier(name string) (base string, every time.Duration, ok bool) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || len(name)-i < 3 || name[i+1] < '1' || name[i+1] > '9' {
		return "", 0, false
	}
	var unit time.Duration
	switch name[len(name)-1] {
	case 's':
		unit = time.Second
	case 'm':
		unit = time.Minute
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	default:
		return "", 0, false
	}
	n, err := strconv.ParseUint(name[i+1:len(name)-1], 10, 16)
	if err != nil {
		return "", 0, false
	}
	return name[:i], time.Duration(n) * unit, true
}

// Interval writes every as a tier's name ends, in the largest unit that
// divides it: 1m, 90m, 1h, 1d.
func Interval(every time.Duration) string {
	for _, u := range [...]struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if every >= u.d && every%u.d == 0 {
			return strconv.FormatInt(int64(every/u.d), 10) + u.s
		}
	}
	return every.String()
}

// TierName returns the name of base's tier of intervals of every.
func TierName(base string, every time.Duration) string {
	return base + "." + Interval(every)
}
