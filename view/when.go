package view

import (
	"fmt"
	"strings"
	"time"
)

// TimeForms lists the forms ParseTime takes, for usage and errors.
const TimeForms = `2026-11-25 14:00[:05], 14:02[:30] (today), today, yesterday 14:00, now, 2h ago, "10 min ago", -90m, 1h (that long ago), RFC 3339`

// ParseTime parses a point in time as journalctl and sar accept them:
// "now", "today", "yesterday", an absolute time ("2026-11-25",
// "2026-11-25 14:00", "2026-11-25T14:00:05Z", RFC 3339), or a relative one
// ("2h ago", "-90m", "1d ago"; units s, m, h, d). Times without a zone are
// in loc.
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	switch s {
	case "now":
		return now, nil
	case "today":
		return day(now), nil
	case "yesterday":
		return day(now).AddDate(0, 0, -1), nil
	}
	if rel, ok := strings.CutSuffix(s, " ago"); ok || strings.HasPrefix(s, "-") {
		d, err := parseSpan(strings.TrimPrefix(strings.TrimSpace(rel), "-"))
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %v", s, err)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want now, today, yesterday, YYYY-MM-DD[ HH:MM[:SS]], RFC 3339, or a span ago such as \"2h ago\" or -90m", s)
}

// parseSpan parses a span such as 90m, 2h, 1d, 1h30m.
func parseSpan(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok && !strings.ContainsAny(n, "hms") {
		d, err := time.ParseDuration(n + "h")
		return 24 * d, err
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad span %q (want e.g. 90s, 15m, 2h, 1d)", s)
	}
	return d, nil
}
