package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The records of testdata/clock (clockdevice_test.go) through the real
// itiny-read: boot 1 starts in 1970 and steps to 2026 when its clock is
// synchronised, boot 2 never is, boot 3's clock is right from the start,
// boot 4's the rings do not tell (its itiny ring was closed).

// clockRecord is a record of itiny-read -o json, with the view's keys.
type clockRecord struct {
	Seq           uint64
	Stream        string
	BootN         uint32
	Wall          time.Time
	Mono          int64
	Name          string
	Clock         string
	WallCorrected *time.Time `json:"wall_corrected"`
	line          string
}

// shown is the time the view shows, and selects by.
func (r *clockRecord) shown() time.Time {
	if r.WallCorrected != nil {
		return *r.WallCorrected
	}
	return r.Wall
}

func clockJSON(t *testing.T, args ...string) []clockRecord {
	t.Helper()
	out, errOut, code := run(t, append([]string{"--no-pager", "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errOut)
	}
	var rs []clockRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		r := clockRecord{line: sc.Text()}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%q: %v: %s", args, err, sc.Text())
		}
		rs = append(rs, r)
	}
	return rs
}

// TestClockJSON: every record keeps its own wall; those of boot 1 taken
// before the step are corrected (wall_corrected is the monotonic time
// plus the offset the sync set), the rest of boot 1 and boot 3 are
// synced, boot 2's are unsynced, boot 4's unknown.
func TestClockJSON(t *testing.T) {
	rs := clockJSON(t, clockData)
	var n [5]int
	for _, r := range rs {
		mono := time.Duration(r.Mono)
		var wall time.Time // what the device's clock said
		want := "synced"
		switch {
		case r.BootN == 1 && mono < clockStepMono:
			wall, want = time.Unix(0, r.Mono).UTC(), "corrected"
		case r.BootN == 1:
			wall = clockOffset.Add(mono)
		case r.BootN == 2:
			wall, want = time.Unix(0, r.Mono).UTC(), "unsynced"
		case r.BootN == 4 && mono < 30*time.Second:
			wall, want = time.Unix(0, r.Mono).UTC(), "unknown"
		case r.BootN == 4:
			wall, want = clockBoot4.Add(mono-30*time.Second), "unknown"
		default:
			wall = clockBoot3.Add(mono)
		}
		switch {
		case !r.Wall.Equal(wall) || r.Clock != want:
			t.Errorf("wall %s, clock %q; want %s, %q: %s", r.Wall, r.Clock, wall, want, r.line)
		case want == "corrected" && (r.WallCorrected == nil || !r.WallCorrected.Equal(clockOffset.Add(mono))):
			t.Errorf("wall_corrected %v, want %s: %s", r.WallCorrected, clockOffset.Add(mono), r.line)
		case want != "corrected" && r.WallCorrected != nil:
			t.Errorf("wall_corrected where the time is not repaired: %s", r.line)
		}
		n[r.BootN]++
	}
	if n[1] < 90 || n[2] < 50 || n[3] < 30 || n[4] < 20 {
		t.Fatalf("records per boot: %v", n)
	}
}

// TestClockText: repaired times are marked ~, unsynchronised and unknown
// ones ?, before the zone; each boot of such records says so under its
// marker. A downtime from or to an untrusted time is not known, and its
// times are marked too.
func TestClockText(t *testing.T) {
	out, errOut, code := run(t, "--no-pager", "--utc", clockData)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := lines(out)
	for _, want := range [][]string{
		{"-- boot 1 (b0010000000000000000000000000000) --",
			"-- clock synchronised at 2026-03-14 09:00:10.001, 1m10s after boot: earlier times, marked ~, are repaired: monotonic time plus the offset then, not the device's clock --",
			"2026-03-14 08:59:05.000~ itiny    notice   itiny      agent.start version=0.1.0 bootn=1 device_boot=true clean=true pid=101 process_exits=netlink write_path=\"events=mapped\""},
		{"2026-03-14 08:59:30.000~ events   notice   appd       appd.ready"},
		{"2026-03-14 09:00:05.000  events   notice   appd       appd.connected"}, // after the step, before the agent saw it: right already
		{"2026-03-14 09:00:10.001  itiny    info     itiny      clock.sync synced=true source=adjtimex maxerror_us=1500 esterror_us=200 slept_s=0.0"},
		{"-- boot 2 (b0020000000000000000000000000000) --",
			"-- clock never synchronised in this boot, as far as the rings tell: times marked ? are the device's clock, untrusted --",
			"-- itiny not running 2026-03-14 09:02:05 to 1970-01-01 00:00:05? (duration unknown: the clock was not synchronised; stopped by SIGTERM; the device rebooted) --"},
		{"1970-01-01 00:00:40.000? events   err      appd       appd.error"},
		{"-- boot 3 (b0030000000000000000000000000000) --", // no legend: nothing to repair
			"-- itiny not running 1970-01-01 00:01:40? to 2026-03-15 08:00:05 (duration unknown: the clock was not synchronised; the device rebooted or lost power) --",
			"2026-03-15 08:00:05.000  itiny    notice   itiny      agent.start version=0.1.0 bootn=3 device_boot=true clean=false pid=103 process_exits=netlink write_path=\"events=mapped\""},
		{"-- boot 4 (b0040000000000000000000000000000) --",
			"-- clock not known in this boot: the rings do not hold the clock.sync records of its start (retention took them, or the itiny ring was closed): times marked ? are the device's clock, untrusted --"},
		{"1970-01-01 00:00:10.000? events   err      appd       appd.error"},
		{"2026-03-16 10:00:10.000? events   err      appd       appd.error"},
	} {
		if i := slices.Index(got, want[0]); i < 0 || !slices.Equal(got[i:min(i+len(want), len(got))], want) {
			t.Errorf("no lines\n%s", strings.Join(want, "\n"))
		}
	}
	boot2 := slices.Index(got, "-- boot 2 (b0020000000000000000000000000000) --")
	for _, l := range got[:boot2] {
		if strings.HasPrefix(l, "1970") {
			t.Errorf("boot 1's time not repaired: %s", l)
		}
	}

	// In local time, the sign comes before the zone.
	cmd := exec.Command(binary, "--no-pager", "--grep", "appd.ready", clockData)
	cmd.Env = append(os.Environ(), "TZ=Europe/Paris")
	b, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "2026-03-14 09:59:30.000~ +0100 events   notice   appd       appd.ready\n"; !strings.Contains(string(b), want) {
		t.Errorf("in Paris:\n%s\nwant a line\n%s", b, want)
	}
}

// TestClockWindow: -S and -U select by the times the view shows: boot 1's
// records in 2026, repaired; boot 2's by their own time, in 1970. The
// segments passed over by their headers' times (the metrics ring has
// eight) lose none of them.
func TestClockWindow(t *testing.T) {
	all := clockJSON(t, clockData)
	for _, w := range []struct{ since, until string }{
		{"2026-03-14 08:59:20", "2026-03-14 09:00:20"}, // across the sync
		{"2026-03-14 08:59:10", "2026-03-14 08:59:40"}, // before it: repaired times only
		{"2026-03-14 09:00:30", ""},
		{"", "2026-03-14 08:59:30"},
		{"1970-01-01 00:00:00", "1970-01-02 00:00:00"}, // boots 2 and 4, untrusted: boot 1's 1970 is repaired
	} {
		args := []string{"--utc"}
		var since, until time.Time
		if w.since != "" {
			args = append(args, "-S", w.since)
			since, _ = time.Parse(time.DateTime, w.since)
		}
		if w.until != "" {
			args = append(args, "-U", w.until)
			until, _ = time.Parse(time.DateTime, w.until)
		}
		var want []string
		boots := map[uint32]bool{}
		for _, r := range all {
			if t := r.shown(); (since.IsZero() || !t.Before(since)) && (until.IsZero() || t.Before(until)) {
				want = append(want, r.line)
				boots[r.BootN] = true
			}
		}
		var got []string
		for _, r := range clockJSON(t, append(args, clockData)...) {
			got = append(got, r.line)
		}
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("-S %q -U %q: %d records, want %d (boots %v)", w.since, w.until, len(got), len(want), boots)
		}
		if w.since == "1970-01-01 00:00:00" && (len(boots) != 2 || !boots[2] || !boots[4]) {
			t.Errorf("1970: boots %v, want boots 2 and 4", boots)
		}
	}
}

// TestClockRunsBoots: runs and boots show the repaired times, marked.
func TestClockRunsBoots(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string // substrings of the lines after the heading, in order
	}{
		{[]string{"runs", "--utc"}, []string{
			"1  2026-03-14 08:59:05.000~  0.1.0          101      3m0s  stopped (SIGTERM)   -                                            ? reboot ",
			"2  1970-01-01 00:00:05.000?  0.1.0          102     1m35s  device rebooted     1970-01-01 00:01:40.000? metrics load        ? reboot ",
			"3  2026-03-15 08:00:05.000   0.1.0          103       55s  no stop             2026-03-15 08:01:00.000  metrics load        - "}},
		{[]string{"boots", "--utc"}, []string{
			"b0010000000000000000000000000000  2026-03-14 08:59:05.000~  2026-03-14 09:02:05.000        3m5s       100",
			"b0020000000000000000000000000000  1970-01-01 00:00:05.000?  1970-01-01 00:01:40.000?      1m40s        52",
			"b0030000000000000000000000000000  2026-03-15 08:00:05.000   2026-03-15 08:01:00.000        1m0s        32",
			"b0040000000000000000000000000000  1970-01-01 00:00:05.002?  2026-03-16 10:00:20.000?        50s        27"}},
	} {
		out, errOut, code := run(t, append(tc.args, clockData)...)
		got := lines(out)
		if code != 0 || len(got) != len(tc.want)+1 {
			t.Fatalf("%q: exit %d\n%s\n%s", tc.args, code, out, errOut)
		}
		if !strings.Contains(got[0], "START                     VERSION") && !strings.Contains(got[0], "FIRST RECORD              LAST RECORD") {
			t.Errorf("%q: heading not as wide as the marked times:\n%s", tc.args, got[0])
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i+1], w) {
				t.Errorf("%q line %d:\n%s\nwant it to hold\n%s", tc.args, i+1, got[i+1], w)
			}
		}
	}

	var runs []struct {
		Start      time.Time
		StartClock string `json:"start_clock"`
		Last       struct {
			Wall  time.Time
			Clock string
		} `json:"last_record"`
		Down        *float64 `json:"down_s"`
		DownUnknown string   `json:"down_unknown"`
	}
	out, _, _ := run(t, "runs", "--json", clockData)
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		t.Fatal(err)
	}
	// The downtimes from and to boot 2's clock, never synchronised, are
	// not known: null, and why.
	want := []string{
		"2026-03-14T08:59:05Z corrected 2026-03-14T09:02:05Z synced <nil> the clock was not synchronised",
		"1970-01-01T00:00:05Z unsynced 1970-01-01T00:01:40Z unsynced <nil> the clock was not synchronised",
		"2026-03-15T08:00:05Z synced 2026-03-15T08:01:00Z synced <nil> "}
	for i, r := range runs {
		if got := fmt.Sprint(r.Start.Format(time.RFC3339), " ", r.StartClock, " ", r.Last.Wall.Format(time.RFC3339), " ", r.Last.Clock, " ", r.Down, " ", r.DownUnknown); i >= len(want) || got != want[i] {
			t.Errorf("runs --json run %d: %s", i, got)
		}
	}
	if len(runs) != len(want) {
		t.Errorf("runs --json: %d runs, want %d", len(runs), len(want))
	}
}

// clockReport returns the report itiny-read writes of testdata/clock, in
// UTC, with args.
func clockReport(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "r.html")
	if _, errOut, code := run(t, append(append([]string{"report", "-o", out, "--utc"}, args...), clockData)...); code != 0 {
		t.Fatalf("report %q: exit %d: %s", args, code, errOut)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestClockReport: the report's window and times are the repaired ones,
// and its boots say what each clock did.
func TestClockReport(t *testing.T) {
	page := clockReport(t, "-S", "2026-03-14 08:59:40", "-U", "2026-03-14 09:00:00")
	for _, want := range []string{
		"as the device's wall clock wrote them, but for the records of a boot taken before its clock was first synchronised",
		`<td class="t">2026-03-14 08:59:05.000~</td><td class="t">2026-03-14 09:02:05.000</td><td>synchronised at 2026-03-14 09:00:10.001, 1m10s after boot: earlier times repaired (~)</td>`,
		`<td class="t">1970-01-01 00:00:05.000?</td><td class="t">1970-01-01 00:01:40.000?</td><td>never synchronised: times untrusted (?)</td>`,
		`<td class="t">2026-03-15 08:00:05.000</td><td class="t">2026-03-15 08:01:00.000</td><td>synchronised at 2026-03-15 08:00:05.001</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks\n%s", want)
		}
	}
	// The window holds boot 1's appd.error at 08:59:50 (repaired), and
	// neither its appd.ready at 08:59:30 nor boot 2's error in 1970.
	rows := regexp.MustCompile(`<tr[^>]*><td class="n">(\d+)</td><td class="t">([^<]*)</td>.*?<td>(appd\.[a-z]+)</td>`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, r := range rows {
		got = append(got, r[3]+" "+r[1]+" "+r[2])
	}
	if want := []string{"appd.error 1 2026-03-14 08:59:50.000~"}; !slices.Equal(got, want) {
		t.Errorf("events rows %q, want %q", got, want)
	}
}

// TestClockReportMarks: every time the report shows of a record carries
// its sign, as the text view's: the summary's crashes and starts, the
// events table, the charts' markers; a downtime from a clock never
// synchronised is not known.
func TestClockReportMarks(t *testing.T) {
	page := clockReport(t)
	for _, want := range []string{
		// Crashes: the device rebooted under run 2, in 1970 by its clock.
		"at the last record each wrote: 1970-01-01 00:01:40? (the device rebooted or lost power; last record: metrics load; started again 2026-03-15 08:00:05, down for a time not known: the clock was not synchronised)",
		"agent starts at a device boot in the window: 2026-03-14 08:59:05~, 1970-01-01 00:00:05?, 2026-03-15 08:00:05;",
		`<td class="t">2026-03-14 08:59:50.000~</td><td class="t">2026-03-16 10:00:10.000?</td><td>events</td>`,
		"<title>1970-01-01 00:01:40.000? agent: the device rebooted or lost power;",
		"<title>2026-03-14 08:59:50.000~ err: appd appd.error",
		`<td class="t">1970-01-01 00:00:05.002?</td><td class="t">2026-03-16 10:00:20.000?</td><td>not known: the rings do not hold the clock.sync records of its start; times untrusted (?)</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks\n%s", want)
		}
	}
	if strings.Contains(page, "492655h") {
		t.Error("the page shows a downtime by a clock never synchronised")
	}
}

// TestClockSar: sar's time column carries the records' signs, one wider,
// its Average rows too; JSON says how as "clock".
func TestClockSar(t *testing.T) {
	cmd := exec.Command(binary, "sar", "load", clockData)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	b, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	got := lines(string(b))
	for _, want := range []string{
		"08:59:06~         1        90      0.50      0.25      0.10         -",
		"09:00:10          1        90      0.50      0.25      0.10         -",
		"00:00:05?  -- reboot: boot 2 --",
		"00:00:06?         1        90      0.50      0.25      0.10         -",
		"10:00:02?         1        90      0.50      0.25      0.10         -",
		"Average:          1        90      0.50      0.25      0.10         -",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("sar load lacks a line\n%s", want)
		}
	}
	out, errOut, code := run(t, "sar", "load", "-o", "json", clockData)
	if code != 0 {
		t.Fatalf("sar -o json: exit %d: %s", code, errOut)
	}
	n := map[string]int{}
	for _, l := range lines(out) {
		var row struct {
			Boot  int
			Clock string
		}
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		n[fmt.Sprint(row.Boot, row.Clock)]++
	}
	for _, k := range []string{"1corrected", "1synced", "2unsynced", "3synced", "4unknown"} {
		if n[k] == 0 {
			t.Errorf("no sar rows of boot and clock %s: %v", k, n)
		}
	}
}
