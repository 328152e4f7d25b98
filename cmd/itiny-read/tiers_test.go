package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/tiertest"
	"github.com/itiny/itiny/sar"
)

// tiersEnd is when the samples of tiersFixture stop.
var tiersEnd = time.Date(2026, 12, 31, 23, 37, 30, 0, time.UTC)

// tiersFixture writes a year of hourly summaries, a week of minutes and
// three hours of samples, the newest two hours and ten minutes of the
// tiers not written yet; the interface's counters reset 90 minutes
// before the end, and the device reboots on June 1st.
func tiersFixture(t *testing.T) (string, *tiertest.Truth) {
	data := t.TempDir()
	tr := tiertest.Write(t, data, tiertest.Config{End: tiersEnd, Hours: 365 * 24 * time.Hour, Minutes: 7 * 24 * time.Hour, Raw: 3 * time.Hour,
		HourLag: 2 * time.Hour, MinuteLag: 10 * time.Minute, Reset: tiersEnd.Add(-90 * time.Minute), Reboot: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)})
	return data, tr
}

// A sarRow is a row of itiny-read sar -o json.
type sarRow map[string]any

func (r sarRow) time(t *testing.T) time.Time {
	w, err := time.Parse(time.RFC3339, r["time"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestSarTiers reads a year of rollup tiers through itiny-read sar:
// each row says its tier, the one the rule picks for its time; the
// figures are the summaries'; rates are sane across a counter reset and
// a reboot; and no time is shown twice.
func TestSarTiers(t *testing.T) {
	data, tr := tiersFixture(t)
	minuteFrom := time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC) // the week's first whole hour
	for _, c := range []struct {
		name string
		args []string
		// tiers: the tier of the rows ending at or before each time, in
		// order; rows: how many of each.
		until []time.Time
		tiers []string
		rows  map[string][2]int // at least, at most
	}{
		{"--every 1h over the year reads hours", []string{"--every", "1h"},
			[]time.Time{time.Date(2026, 12, 31, 21, 0, 0, 0, time.UTC), tiersEnd.Add(-10 * time.Minute), tiersEnd},
			[]string{"1h", "1m", "1m+raw"},
			map[string][2]int{"1h": {8757, 8757}, "1m": {2, 2}, "1m+raw": {1, 1}}},
		{"without --every: the finest tier with records", nil,
			[]time.Time{minuteFrom, time.Date(2026, 12, 31, 20, 38, 0, 0, time.UTC), tiersEnd},
			[]string{"1h", "1m", "raw"},
			// raw: the samples from 20:38:10 but the first (no sample
			// before it) and the one after the reset.
			map[string][2]int{"1h": {8592, 8592}, "1m": {9878, 9878}, "raw": {536, 536}}},
		{"--every 5m: minutes, hours before", []string{"--every", "5m"},
			[]time.Time{minuteFrom, time.Date(2026, 12, 31, 23, 25, 0, 0, time.UTC), time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), tiersEnd},
			[]string{"1h", "1m", "1m+raw", "raw"},
			map[string][2]int{"1h": {8592, 8592}, "1m": {2009, 2009}, "1m+raw": {1, 1}, "raw": {2, 2}}},
		{"-S: a day from minutes and samples", []string{"-S", "2026-12-30T23:37:30Z", "--every", "1h"},
			[]time.Time{time.Date(2026, 12, 31, 21, 0, 0, 0, time.UTC), tiersEnd.Add(-10 * time.Minute), tiersEnd},
			[]string{"1h", "1m", "1m+raw"},
			map[string][2]int{"1h": {21, 21}, "1m": {2, 2}, "1m+raw": {1, 1}}},
	} {
		args := append([]string{"sar", "net", "-o", "json", "--utc"}, c.args...)
		out, errOut, code := run(t, append(args, data)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.name, code, errOut)
		}
		count := map[string]int{}
		var last time.Time
		for _, l := range lines(out) {
			var r sarRow
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%s: %v: %s", c.name, err, l)
			}
			if r["mark"] != nil {
				if r["mark"] != "reboot" && r["mark"] != "reset" {
					t.Errorf("%s: mark %s", c.name, l)
				}
				continue
			}
			if r["average"] == true {
				continue
			}
			tier, _ := r["tier"].(string)
			count[tier]++
			at := r.time(t)
			if !at.After(last) {
				t.Fatalf("%s: a row at %v after one at %v: %s", c.name, at, last, l)
			}
			last = at
			i := 0
			for i < len(c.until) && at.After(c.until[i]) {
				i++
			}
			if i == len(c.until) || tier != c.tiers[i] {
				t.Fatalf("%s: row at %v from tier %q, want %q", c.name, at, tier, c.tiers[min(i, len(c.tiers)-1)])
			}
			// 1000 B/s whatever the tier, the reset and the reboot.
			if v := r["rxkB/s"].(float64); v != math.Round(tiertest.RxRate/float64(sar.KB)*100)/100 {
				t.Fatalf("%s: row at %v (%s): rxkB/s %v", c.name, at, tier, v)
			}
		}
		for tier, n := range c.rows {
			if count[tier] < n[0] || count[tier] > n[1] {
				t.Errorf("%s: %d rows from tier %s, want %d to %d", c.name, count[tier], tier, n[0], n[1])
			}
		}
		if len(count) != len(c.rows) {
			t.Errorf("%s: rows by tier %v", c.name, count)
		}
	}
	// The figures are the summaries': ldavg-1 of each hour and minute.
	out, errOut, code := run(t, "sar", "load", "-o", "csv", "--utc", data)
	if code != 0 {
		t.Fatalf("sar load: exit %d: %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := rows[0]
	ld, tierCol := indexOf(head, "ldavg-1"), indexOf(head, "tier")
	if ld < 0 || tierCol != len(head)-1 {
		t.Fatalf("csv header %q", head)
	}
	checked := map[string]int{}
	for _, r := range rows[1:] {
		if r[2] != "sample" {
			continue
		}
		at, err := time.Parse(time.RFC3339, r[0])
		if err != nil {
			t.Fatal(err)
		}
		v, _ := strconv.ParseFloat(r[ld], 64)
		var s *tiertest.Summary
		switch r[tierCol] {
		case "1h":
			s = tr.Hours[at.Add(-time.Hour).Unix()]
		case "1m":
			s = tr.Minutes[at.Add(-time.Minute).Unix()]
		case "raw":
			checked["raw"]++
			continue
		}
		if s == nil || !s.LoadSeen || math.Abs(s.Load1-v) > 0.005+1e-9 { // printed to two decimals
			t.Fatalf("row %q: no summary of its interval, or not its mean (%+v)", r, s)
		}
		checked[r[tierCol]]++
	}
	if checked["1h"] != 8592 || checked["1m"] != 9878 || checked["raw"] != 538 {
		t.Errorf("rows checked against the summaries: %v", checked)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestTierRings checks that tier rings are rings like any other to
// verify, stats and the record listing, which shows each record's
// stream, its tier, and no time from two tiers.
func TestTierRings(t *testing.T) {
	data, tr := tiersFixture(t)
	out, errOut, code := run(t, "verify", data)
	if code != 0 || !strings.Contains(out, "metrics.1h") || !strings.Contains(out, "metrics.1m") {
		t.Errorf("verify: exit %d:\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, "stats", "--json", data)
	if code != 0 {
		t.Fatalf("stats: exit %d: %s", code, errOut)
	}
	want := map[string]int{"metrics": 3 * tr.Raw, "metrics.1m": 3*len(tr.Minutes) + tr.MinuteMarks, "metrics.1h": 3*len(tr.Hours) + tr.HourMarks}
	var stats []struct {
		Stream  string `json:"stream"`
		Records int    `json:"records"`
	}
	if err := json.Unmarshal([]byte(out), &stats); err != nil {
		t.Fatalf("stats: %v:\n%s", err, out)
	}
	for _, s := range stats {
		if n, ok := want[s.Stream]; ok && s.Records != n {
			t.Errorf("stats: %s holds %d records, want %d", s.Stream, s.Records, n)
		}
		delete(want, s.Stream)
	}
	if len(want) != 0 {
		t.Errorf("stats: no figures of %v:\n%s", want, out)
	}
	// The listing: load records, each tier where the rule picks it.
	out, errOut, code = run(t, "-o", "json", "--no-pager", "-t", "load", data)
	if code != 0 {
		t.Fatalf("listing: exit %d: %s", code, errOut)
	}
	count := map[string]int{}
	var end time.Time
	for _, l := range lines(out) {
		var r struct {
			Stream string    `json:"stream"`
			Wall   time.Time `json:"wall"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		count[r.Stream]++
		if r.Wall.Before(end) {
			t.Fatalf("%s record at %v, before the end of the one before, %v", r.Stream, r.Wall, end)
		}
		switch r.Stream {
		case "metrics.1h":
			end = r.Wall.Add(time.Hour)
		case "metrics.1m":
			end = r.Wall.Add(time.Minute)
		default:
			end = r.Wall.Add(1)
		}
	}
	if count["metrics.1h"] != 8592 || count["metrics.1m"] != 9878 || count["metrics"] != 538 {
		t.Errorf("listing: load records by stream %v", count)
	}
	// CSV: a column says each row's tier, where two meet.
	out, errOut, code = run(t, "-o", "csv", "--no-pager", "-t", "load", "-S", "2026-12-31T20:36:00Z", "-U", "2026-12-31T20:39:00Z", data)
	if code != 0 {
		t.Fatalf("listing as CSV: exit %d: %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var tiers []string
	for _, r := range rows {
		tiers = append(tiers, r[3])
	}
	if got := strings.Join(tiers, ","); got != "tier,1m,1m,raw,raw,raw" {
		t.Errorf("listing as CSV: tiers %s:\n%s", got, out)
	}
	// A tier named is shown whole.
	out, _, _ = run(t, "-o", "json", "--no-pager", "-t", "load", "--stream", "metrics.1m", data)
	if n := len(lines(out)); n != len(tr.Minutes) {
		t.Errorf("--stream metrics.1m: %d load records, want %d", n, len(tr.Minutes))
	}
}

// TestTierMarkHidesNoSamples: the agent writes a mark in a tier's ring
// after each interval's summaries, stamped as the sample that ended the
// interval. The samples after it, here the only ones of the raw ring, as
// after the README's agents started in a minute the tier had summed up
// already, are read from the samples: the mark is not a summary of the
// interval it falls in. Counted as one, it gave the minute tier the
// newest part of the time line, and itiny-read showed no sample at all.
func TestTierMarkHidesNoSamples(t *testing.T) {
	data := t.TempDir()
	// Samples every 20 s, at 10, 30 and 50 s past the minute; the raw
	// ring holds the two after the minute the tier summed up last, at
	// whose first (23:37:10) the agent wrote that minute and its mark.
	end := time.Date(2026, 12, 31, 23, 37, 50, 0, time.UTC)
	tr := tiertest.Write(t, data, tiertest.Config{End: end, Hours: 24 * time.Hour, Minutes: 2 * time.Hour, Raw: 50 * time.Second})
	if tr.Raw != 2 || tr.MinuteMarks == 0 {
		t.Fatalf("the fixture: %d samples, %d marks", tr.Raw, tr.MinuteMarks)
	}
	last := end.Add(-20 * time.Second)
	out, errOut, code := run(t, "-o", "json", "--fields", "user,idle", data)
	var walls []string
	for _, l := range strings.FieldsFunc(out, func(c rune) bool { return c == '\n' }) {
		var r struct{ Wall time.Time }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		walls = append(walls, r.Wall.Format(time.TimeOnly))
	}
	if code != 0 || strings.Join(walls, " ") != "23:37:10 23:37:30" {
		t.Errorf("--fields user,idle: exit %d, cpu samples at %q, want 23:37:10 23:37:30\n%s", code, walls, errOut)
	}
	out, errOut, code = run(t, "sar", "cpu", "-b", "-o", "csv", data)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) < 2 {
		t.Fatalf("sar cpu -b: exit %d, %v:\n%s%s", code, err, out, errOut)
	}
	tier := indexOf(rows[0], "tier")
	var raw []string
	for _, r := range rows[1:] {
		if r[0] != "" && r[tier] == "raw" {
			raw = append(raw, r[0])
		}
	}
	if len(raw) == 0 || raw[len(raw)-1] != last.Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("sar cpu -b: rows from the samples at %q, want the last at %v:\n%s", raw, last, out)
	}
}

// TestStatsTierColumns: itiny-read stats on a data directory with rollup
// tiers keeps its columns aligned: a tier's name (metrics.1m) is longer
// than the eight characters the other streams need.
func TestStatsTierColumns(t *testing.T) {
	data := t.TempDir()
	tiertest.Write(t, data, tiertest.Config{End: tiersEnd, Hours: 48 * time.Hour, Minutes: 3 * time.Hour, Raw: time.Hour})
	out, stderr, code := run(t, "stats", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(out, "\n")
	col := strings.Index(lines[0], "RECORDS") + len("RECORDS") // the column's right edge
	rows := 0
	for _, l := range lines[1:] {
		if l == "" {
			break // the table ends
		}
		rows++
		if f := strings.Fields(l); len(l) < col || !strings.HasSuffix(l[:col], f[1]) {
			t.Errorf("row %q: its RECORDS (%s) does not end under the header's, at column %d", l, f[1], col)
		}
	}
	if rows < 3 {
		t.Fatalf("%d rows in:\n%s", rows, out)
	}
}

// TestListTierColumns: the record listing of samples and summaries
// together keeps its level column in one place, a tier's stream name
// being the longest.
func TestListTierColumns(t *testing.T) {
	data := t.TempDir()
	tiertest.Write(t, data, tiertest.Config{End: tiersEnd, Hours: 48 * time.Hour, Minutes: 3 * time.Hour, Raw: time.Hour})
	out, stderr, code := run(t, "--utc", "-n", "all", "--stream", "metrics", "--stream", "metrics.1m", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	col, streams := -1, map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || strings.HasPrefix(l, "--") {
			continue
		}
		streams[f[2]] = true
		at := strings.Index(l, " "+f[3]+" ") + 1 // the level
		if col < 0 {
			col = at
		}
		if at != col {
			t.Fatalf("line %q: its level at column %d, the first line's at %d", l, at, col)
		}
	}
	if !streams["metrics"] || !streams["metrics.1m"] {
		t.Fatalf("streams listed: %v, want metrics and metrics.1m", streams)
	}
}
