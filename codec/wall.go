package codec

import (
	"errors"
	"math"
	"time"
)

// WallLayout is the layout of wall times in JSON for years 0 to 9999:
// always UTC and always nine fractional digits, so the text has a fixed
// width and sorts like the time. AppendWall writes other years with a sign.
const WallLayout = "2006-01-02T15:04:05.000000000Z"

// A wall time is stored as a MessagePack timestamp: whole seconds since
// 1970 in an int64 and nanoseconds. Every such time is a valid wall time,
// about 292 billion years either way: a device's clock may be anywhere,
// and a wrong clock must not make its records unreadable.

// AppendWall appends the wall time t as JSON writes it (docs/FORMAT.md
// section 4.2): WallLayout for years 0 to 9999, and for any other year
// the same with the year as a sign and at least four digits, as ISO 8601's
// expanded years: +12000-01-01T00:00:00.000000000Z,
// -0005-03-01T00:00:00.000000000Z. It writes every time whose Unix seconds
// fit an int64, in the proleptic Gregorian calendar, from t.Unix and
// t.Nanosecond as the MessagePack encoding does, and never fails: it is
// the one format of wall times in every JSON itiny writes (see Time).
func AppendWall(b []byte, t time.Time) []byte {
	sec := t.Unix()
	days, tod := sec/86400, int(sec%86400)
	if tod < 0 {
		days, tod = days-1, tod+86400
	}
	y, mo, d := civil(days)
	if 0 <= y && y <= 9999 {
		b = appendDigits(b, int(y), 4)
	} else {
		u := uint64(y)
		b = append(b, '+')
		if y < 0 {
			u = -u
			b[len(b)-1] = '-'
		}
		n := 4
		for v := u / 10000; v > 0; v /= 10 {
			n++
		}
		b = appendDigitsU(b, u, n)
	}
	b = append(b, '-')
	b = appendDigits(b, mo, 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, tod/3600, 2)
	b = append(b, ':')
	b = appendDigits(b, tod/60%60, 2)
	b = append(b, ':')
	b = appendDigits(b, tod%60, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond(), 9)
	return append(b, 'Z')
}

// appendDigits appends v as exactly n decimal digits.
func appendDigits(b []byte, v, n int) []byte { return appendDigitsU(b, uint64(v), n) }

func appendDigitsU(b []byte, v uint64, n int) []byte {
	start := len(b)
	for i := 0; i < n; i++ {
		b = append(b, 0)
	}
	for i := len(b) - 1; i >= start; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// civil returns the proleptic Gregorian date of a day counted from
// 1970-01-01, for any day of an int64 count of seconds (Howard Hinnant's
// days-to-civil algorithm, in eras of 400 years).
func civil(days int64) (year int64, month, day int) {
	z := days + 719468 // from 0000-03-01
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // day of era, 0-146096
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of era, 0-399
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of the year from March 1st
	mp := (5*doy + 2) / 153                                // month from March, 0-11
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

// daysFrom inverts civil; |year| must be below 10^12.
func daysFrom(year int64, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := year / 400
	if year < 0 && year%400 != 0 {
		era--
	}
	yoe := year - era*400
	mp := int64(month+9) % 12
	doy := (153*mp+2)/5 + int64(day) - 1
	return era*146097 + yoe*365 + yoe/4 - yoe/100 + doy - 719468
}

// daysIn returns the days of a month of the proleptic Gregorian calendar.
func daysIn(year int64, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

var errWall = errors.New("wall: want an RFC 3339 time such as " + WallLayout + ", its year signed outside 0000-9999 (+12000-...)")

// parseWall parses a wall time in JSON (docs/FORMAT.md section 4.2): an
// RFC 3339 date-time, upper-case T and Z, seconds 00-59, any number of
// fractional digits (those past nine dropped), offset Z or ±hh:mm, and a
// year of four digits or a sign and 4 to 12 digits. It rejects a time
// beyond an int64 of seconds, which no MessagePack timestamp holds. What
// AppendWall writes is its common case.
func parseWall(s []byte) (time.Time, error) {
	t, ok := parseWallText(s)
	if !ok {
		return time.Time{}, errWall
	}
	return t, nil
}

func parseWallText(s []byte) (time.Time, bool) {
	ok := true
	num := func(b []byte) int64 { // decimal digits; clears ok on anything else
		v := int64(0)
		for _, c := range b {
			if c < '0' || c > '9' {
				ok = false
			}
			v = v*10 + int64(c-'0')
		}
		return v
	}
	neg, i := false, 0
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg, i = s[0] == '-', 1
	}
	n := i // the year's digits end at the first '-' after them
	for n < len(s) && s[n] != '-' {
		n++
	}
	if d := n - i; d < 4 || d > 12 || d > 4 && i == 0 || len(s)-n < len("-01-02T15:04:05Z") {
		return time.Time{}, false
	}
	year := num(s[i:n])
	r := s[n:] // "-01-02T15:04:05[.9…](Z|±07:00)"
	if r[0] != '-' || r[3] != '-' || r[6] != 'T' || r[9] != ':' || r[12] != ':' {
		return time.Time{}, false
	}
	mo, d := int(num(r[1:3])), int(num(r[4:6]))
	tod := num(r[7:9])*3600 + num(r[10:12])*60 + num(r[13:15])
	if !ok || mo < 1 || mo > 12 || d < 1 || num(r[7:9]) > 23 || num(r[10:12]) > 59 || num(r[13:15]) > 59 {
		return time.Time{}, false
	}
	r = r[15:]
	ns := int64(0)
	if len(r) > 0 && r[0] == '.' {
		k := 1
		for k < len(r) && '0' <= r[k] && r[k] <= '9' {
			if k <= 9 {
				ns = ns*10 + int64(r[k]-'0')
			}
			k++
		}
		if k == 1 {
			return time.Time{}, false
		}
		for j := k; j <= 9; j++ {
			ns *= 10
		}
		r = r[k:]
	}
	off := int64(0)
	switch {
	case len(r) == 1 && r[0] == 'Z':
	case len(r) == 6 && (r[0] == '+' || r[0] == '-') && r[3] == ':':
		h, m := num(r[1:3]), num(r[4:6])
		if !ok || h > 23 || m > 59 {
			return time.Time{}, false
		}
		if off = h*3600 + m*60; r[0] == '-' {
			off = -off
		}
	default:
		return time.Time{}, false
	}
	if neg {
		year = -year
	}
	if d > daysIn(year, mo) {
		return time.Time{}, false
	}
	days, tod := daysFrom(year, mo, d), tod-off // UTC; |off| < a day
	if tod < 0 {
		days, tod = days-1, tod+86400
	} else if tod >= 86400 {
		days, tod = days+1, tod-86400
	}
	u, ok := unixSec(days, tod)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(u, ns).UTC(), true
}

// unixSec returns days*86400 + tod, for 0 <= tod < 86400, reporting false
// when it does not fit an int64.
func unixSec(days, tod int64) (int64, bool) {
	const lim = math.MaxInt64 / 86400
	switch {
	case days > lim || days < -lim-1:
		return 0, false
	case days >= 0:
		s := days * 86400
		return s + tod, s <= math.MaxInt64-tod
	}
	// (days+1)*86400 fits; what is left is negative.
	s, rest := (days+1)*86400, tod-86400
	return s + rest, s >= math.MinInt64-rest
}

// A Time is a time.Time that encoding/json and encoding.TextMarshaler
// users write as AppendWall does, whatever its year, and read back in any
// form parseWall takes. time.Time's own MarshalJSON fails outside years 0
// to 9999, which made a report fail on one record from a wrong clock.
type Time struct{ time.Time }

// MarshalText implements encoding.TextMarshaler; it never fails.
func (t Time) MarshalText() ([]byte, error) { return AppendWall(nil, t.Time), nil }

// MarshalJSON implements json.Marshaler; it never fails.
func (t Time) MarshalJSON() ([]byte, error) {
	return append(AppendWall([]byte{'"'}, t.Time), '"'), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Time) UnmarshalText(b []byte) error {
	w, err := parseWall(b)
	if err != nil {
		return err
	}
	t.Time = w
	return nil
}

// UnmarshalJSON implements json.Unmarshaler; null leaves t unchanged.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errors.New("codec: a time must be a JSON string")
	}
	return t.UnmarshalText(b[1 : len(b)-1])
}
