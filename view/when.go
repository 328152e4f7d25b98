package view

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeForms lists the forms ParseTime takes, for usage and errors.
const TimeForms = `2026-11-25 14:00[:05], 14:02[:30] (today), today, yesterday 14:00, now, "2h ago", "10 min ago", -90m, 1h (that long ago), RFC 3339`

// ParseTime parses a point in time as journalctl and sar take them:
//
//   - now, today, yesterday, tomorrow, each maybe with a time of day
//     ("yesterday 14:00": midnight without one);
//   - a time of day, today: 14:02, 14:05:30;
//   - a date and maybe a time: 2026-11-25, 2026-11-25 14:00[:05],
//     2026-11-25T14:00:05, RFC 3339 (with its zone);
//   - a span ago: "2h ago", "10 min ago", "1h 30min ago", -90m, or bare:
//     1h; +SPAN is that long ahead. Units: s, sec, second(s), m, min,
//     minute(s), h, hr, hour(s), d, day(s), w, week(s).
//
// Times without a zone are in loc.
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	word, clock, _ := strings.Cut(s, " ")
	days, isDay := map[string]int{"today": 0, "yesterday": -1, "tomorrow": 1}[word]
	if s == "now" {
		return now, nil
	}
	if isDay || isClock(s) {
		if !isDay {
			clock = s
		}
		day := today.AddDate(0, 0, days)
		if clock == "" {
			return day, nil
		}
		if t, ok := timeOfDay(clock, day, loc); ok {
			return t, nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	span, ahead := strings.CutPrefix(s, "+")
	span, ago := strings.CutSuffix(span, " ago")
	if !ago && !ahead {
		span = strings.TrimPrefix(span, "-")
	}
	if d, ok := parseSpan(span); ok {
		if ahead {
			return now.Add(d), nil
		}
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("time %q: want one of %s", s, TimeForms)
}

// isClock reports whether s looks like a time of day: digits and a colon.
func isClock(s string) bool {
	return len(s) >= 4 && strings.IndexByte(s, ':') > 0 && s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "- T")
}

// timeOfDay is the time of day s (15:04, 15:04:05, 15:04:05.000) on day.
func timeOfDay(s string, day time.Time, loc *time.Location) (time.Time, bool) {
	for _, layout := range []string{"15:04", "15:04:05", "15:04:05.999999999"} {
		if c, err := time.Parse(layout, s); err == nil {
			y, m, d := day.Date()
			return time.Date(y, m, d, c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), loc), true
		}
	}
	return time.Time{}, false
}

// spanUnits are the units of a span, as systemd.time(7) names them.
var spanUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
}

// parseSpan parses a span: numbers each with a unit, spaces between them
// or not (90m, 1h30m, "10 min", "1h 30min", 1.5h).
func parseSpan(s string) (time.Duration, bool) {
	var total time.Duration
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	for s != "" {
		i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return 0, false // no number, or no unit
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		s = strings.TrimLeft(s[i:], " ")
		j := strings.IndexFunc(s, func(r rune) bool { return r < 'a' || r > 'z' })
		if j < 0 {
			j = len(s)
		}
		unit, ok := spanUnits[s[:j]]
		if err != nil || !ok {
			return 0, false
		}
		if f := n * float64(unit); f < 1<<62 {
			total += time.Duration(f)
		} else {
			return 0, false
		}
		s = strings.TrimLeft(s[j:], " ")
	}
	return total, true
}
