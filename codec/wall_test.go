package codec

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestAppendWall(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string // "" for what Go's Format writes in WallLayout
	}{
		{time.Time{}, ""},
		{time.Unix(0, 0), ""},
		{time.Unix(0, 1), ""},
		{time.Unix(-1, 999999999), ""},
		{time.Date(2026, 11, 24, 23, 59, 59, 123456789, time.FixedZone("x", 3600)), ""},
		{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), ""},
		{time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC), ""},
		{time.Unix(0, 1<<63-1), ""},
		{time.Unix(0, -1<<63), ""},
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), ""},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "+10000-01-01T00:00:00.000000000Z"},
		{time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), "+12000-01-01T00:00:00.000000000Z"},
		{time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC), "-0001-12-31T23:59:59.999999999Z"},
		{time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC), "-0005-03-01T00:00:00.000000000Z"},
		{time.Date(-10000, 2, 29, 0, 0, 0, 0, time.UTC), "-10000-02-29T00:00:00.000000000Z"},
		{time.Unix(math.MaxInt64, 999999999), "+292277026596-12-04T15:30:07.999999999Z"},
		{time.Unix(math.MinInt64, 0), "-292277022657-01-27T08:29:52.000000000Z"},
	}
	for _, tt := range tests {
		want := tt.want
		if want == "" {
			want = tt.t.UTC().Format(WallLayout)
		}
		got := string(AppendWall([]byte("x"), tt.t))
		if got != "x"+want {
			t.Errorf("AppendWall(%v) = %s, want %s", tt.t, got[1:], want)
		}
		back, err := parseWall([]byte(want))
		if err != nil || back.Unix() != tt.t.Unix() || back.Nanosecond() != tt.t.Nanosecond() {
			t.Errorf("parseWall(%s) = %v (Unix %d), %v; want Unix %d.%09d", want, back, back.Unix(), err, tt.t.Unix(), tt.t.Nanosecond())
		}
	}
}

func TestCivilMatchesTime(t *testing.T) {
	// civil and daysFrom agree with package time wherever it is exact,
	// leap years and centuries included.
	for days := int64(-800000); days <= 3000000; days += 97 {
		tm := time.Unix(days*86400, 0).UTC()
		y, m, d := civil(days)
		if y != int64(tm.Year()) || m != int(tm.Month()) || d != tm.Day() {
			t.Fatalf("civil(%d) = %d-%d-%d, want %v", days, y, m, d, tm)
		}
		if got := daysFrom(y, m, d); got != days {
			t.Fatalf("daysFrom(%d, %d, %d) = %d, want %d", y, m, d, got, days)
		}
		if dim := time.Date(int(y), time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(); daysIn(y, m) != dim {
			t.Fatalf("daysIn(%d, %d) = %d, want %d", y, m, daysIn(y, m), dim)
		}
	}
}

func TestParseWall(t *testing.T) {
	ok := []struct {
		in   string
		want time.Time
	}{
		{"2026-03-14T15:09:26.535897932Z", wall2026},
		{"2026-03-14T16:09:26.535897932+01:00", wall2026},
		{"+2026-03-14T15:09:26.535897932Z", wall2026},
		{"0000-01-01T00:00:00+01:00", time.Date(-1, 12, 31, 23, 0, 0, 0, time.UTC)},
		{"9999-12-31T23:30:00-01:00", time.Date(10000, 1, 1, 0, 30, 0, 0, time.UTC)},
		{"-0000-01-01T00:00:00.000000000Z", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"+000012000-01-01T00:00:00.000000000Z", time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"-0004-02-29T00:00:00.000000000Z", time.Date(-4, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"+12000-01-01T00:00:00Z", time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"+12000-01-01T00:00:00.5+01:00", time.Date(11999, 12, 31, 23, 0, 0, 5e8, time.UTC)},
		{"2026-03-14T15:09:26.53589793299999Z", wall2026}, // digits past nine dropped
		{"2026-03-14T15:09:26.5Z", time.Date(2026, 3, 14, 15, 9, 26, 5e8, time.UTC)},
		{"2026-03-14T15:09:26-00:00", time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)},
		{"2026-03-14T23:59:59-23:59", time.Date(2026, 3, 15, 23, 58, 59, 0, time.UTC)},
		{"+292277026596-12-04T16:30:07.999999999+01:00", time.Unix(math.MaxInt64, 999999999)},
		{"-292277022657-01-27T07:29:52-01:00", time.Unix(math.MinInt64, 0)},
	}
	for _, tt := range ok {
		got, err := parseWall([]byte(tt.in))
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseWall(%s) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"",
		"12000-01-01T00:00:00.000000000Z", // five digits need a sign
		"+123-01-01T00:00:00.000000000Z",  // fewer than four
		"+0000000012000-01-01T00:00:00.000000000Z", // more than twelve
		"+12001-02-29T00:00:00.000000000Z",
		"-0001-02-29T00:00:00.000000000Z", // 2 BC: not a leap year
		"+12000-13-01T00:00:00.000000000Z",
		"+12000-01-01T24:00:00.000000000Z",
		"+12000-01-01T00:00:00.00000000xZ",
		"+292277026596-12-04T15:30:08.000000000Z", // past int64 seconds
		"-292277022657-01-27T08:29:51.999999999Z", // before
		"+999999999999-01-01T00:00:00.000000000Z",
		"-999999999999-01-01T00:00:00.000000000Z",
		"2026-02-30T00:00:00.000000000Z",
		"2026-03-14T15:09:26.000000000",
		"2026-03-14t15:09:26Z", // RFC 3339 allows these; Go and itiny do not
		"2026-03-14T15:09:26z",
		"2026-03-14 15:09:26Z",
		"2026-03-14T15:09:60Z", // no leap second
		"2026-03-14T15:09:26.Z",
		"2026-03-14T15:09:26,5Z", // Go's time.Parse takes these three
		"2026-03-14T15:09:26+24:00",
		"2026-03-14T15:09:26+01:60",
		"2026-03-14T15:09:26+0100",
		"2026-3-14T15:09:26Z",
		"2026-03-14T15:09:26+01:00x",
		"+292277026596-12-04T15:30:07.999999999-00:01", // past int64 seconds
		"-292277022657-01-27T08:29:52+00:01",
	}
	for _, in := range bad {
		if got, err := parseWall([]byte(in)); err == nil {
			t.Errorf("parseWall(%s) = %v, want error", in, got)
		}
	}
}

func TestTimeJSON(t *testing.T) {
	// encoding/json writes a Time as AppendWall does, in every year, and
	// reads back what it wrote, and RFC 3339 written by time.Time.
	var v struct {
		A, B, C Time
		D       *Time
	}
	v.A.Time = time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
	v.B.Time = time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC)
	v.C.Time = wall2026
	b, err := json.Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"A":"+12000-01-01T00:00:00.000000000Z","B":"-0005-03-01T00:00:00.000000000Z","C":"2026-03-14T15:09:26.535897932Z","D":null}`
	if string(b) != want {
		t.Errorf("json.Marshal = %s, want %s", b, want)
	}
	var back struct{ A, B, C Time }
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.A.Equal(v.A.Time) || !back.B.Equal(v.B.Time) || !back.C.Equal(v.C.Time) {
		t.Errorf("json.Unmarshal = %+v, want %+v", back, v)
	}
	old, _ := json.Marshal(struct{ C time.Time }{wall2026.In(time.FixedZone("x", 3600))})
	if err := json.Unmarshal(old, &back); err != nil || !back.C.Equal(wall2026) {
		t.Errorf("json.Unmarshal(%s) = %v, %v", old, back.C, err)
	}
	for _, in := range []string{`{"C":1}`, `{"C":"yesterday"}`, `{"C":"` + strings.Repeat("9", 40) + `"}`} {
		if err := json.Unmarshal([]byte(in), &back); err == nil {
			t.Errorf("json.Unmarshal(%s) succeeded", in)
		}
	}
}
