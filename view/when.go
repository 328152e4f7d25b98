package view

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeForms lists the forms ParseTime takes, for usage and errors.
const TimeForms = `2026-11-25 14:00[:05], 14:02[:30] (today), today, yesterday 14:00, now, 2h ago, "10 min ago", -90m, 1h (that long ago), RFC 3339`

// ParseTime parses a point in time as journalctl and sar accept them:
// "now", "today", "yesterday", either followed by a time of day
// ("yesterday 14:00"), a time of day alone for today ("14:02",
// "14:05:30"), an absolute time ("2026-11-25", "2026-11-25 14:00",
// "2026-11-25T14:00:05Z", RFC 3339), or a span that long ago ("2h ago",
// "10 min ago", "-90m", "1h", "1d"; units s, m, h, d, w, as letters or
// words). Times without a zone are in loc.
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	// at is the time of day c on now's day, days later: by the calendar,
	// as a day of a clock change is not 24 hours.
	at := func(days int, c [3]int) time.Time {
		y, m, d := now.In(loc).Date()
		return time.Date(y, m, d+days, c[0], c[1], c[2], 0, loc)
	}
	word, clock, _ := strings.Cut(s, " ")
	switch strings.ToLower(word) {
	case "now":
		if clock == "" {
			return now, nil
		}
	case "today", "yesterday":
		days := 0
		if strings.EqualFold(word, "yesterday") {
			days = -1
		}
		if clock == "" {
			return at(days, [3]int{}), nil
		}
		if c, ok := timeOfDay(strings.TrimSpace(clock)); ok {
			return at(days, c), nil
		}
		return time.Time{}, badTime(s)
	}
	if c, ok := timeOfDay(s); ok {
		return at(0, c), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	span, ago := strings.CutSuffix(s, " ago")
	if !ago {
		span = strings.TrimPrefix(span, "-")
	}
	if d, err := parseSpan(strings.TrimSpace(span)); err == nil {
		return now.Add(-d), nil
	} else if ago || span != s {
		return time.Time{}, fmt.Errorf("time %q: %v", s, err)
	}
	return time.Time{}, badTime(s)
}

func badTime(s string) error {
	return fmt.Errorf("time %q: want one of %s", s, TimeForms)
}

// timeOfDay parses H:MM, HH:MM or HH:MM:SS into hours, minutes, seconds.
func timeOfDay(s string) (c [3]int, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return c, false
	}
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || len(p) != 2 && !(i == 0 && len(p) == 1) || v < 0 || v >= [3]int{24, 60, 60}[i] {
			return c, false
		}
		c[i] = v
	}
	return c, true
}

// spanUnits are the units of a span, as systemd.time(7) names them; "m"
// is minutes (there are no months).
var spanUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
}

// parseSpan parses a span: numbers each followed by a unit, with or
// without spaces: 90m, 2h, 1d, 1h30m, "10 min", "1 hour 30 min".
func parseSpan(s string) (time.Duration, error) {
	bad := fmt.Errorf("bad span %q (want e.g. 90s, 15m, 2h, 1d, \"10 min\")", s)
	var d time.Duration
	for rest := s; ; {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			if s == "" {
				return 0, bad
			}
			return d, nil
		}
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return 0, bad
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		rest = strings.TrimLeft(rest[i:], " ")
		j := strings.IndexFunc(rest, func(r rune) bool { return r < 'a' || r > 'z' })
		if j < 0 {
			j = len(rest)
		}
		unit, ok := spanUnits[rest[:j]]
		if err != nil || !ok || n*float64(unit) > float64(100*365*24*time.Hour) {
			return 0, bad
		}
		d += time.Duration(n * float64(unit))
		rest = rest[j:]
	}
}
