package sar

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/view"
)

// writeSteps reads steps through rep and writes them with the writer mk
// makes, in UTC.
func writeSteps(t *testing.T, rep *Report, mk func(*bytes.Buffer) Writer, steps []step) string {
	t.Helper()
	var b bytes.Buffer
	r := NewReader(rep, mk(&b), Options{})
	for _, s := range steps {
		if err := r.Add(s.record()); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// netSteps: two interfaces over two boots.
var netSteps = []step{
	{1, 0, "net", net("eth0", 0, 0, 0, 0, 0, 0, 0, 0)},
	{1, 0, "net", net("wlan0", 0, 0, 0, 0, 0, 0, 0, 0)},
	{1, 10, "net", net("eth0", 102400, 500, 0, 0, 20480, 100, 0, 0)},
	{1, 10, "net", net("wlan0", 10240, 50, 0, 0, 0, 0, 0, 0)},
	{2, 0, "net", net("eth0", 0, 0, 0, 0, 0, 0, 0, 0)},
	{2, 10, "net", net("eth0", 51200, 250, 0, 0, 0, 0, 0, 0)},
}

func TestText(t *testing.T) {
	got := writeSteps(t, &Net, func(b *bytes.Buffer) Writer { return NewTextWriter(b, &Net, time.UTC) }, netSteps)
	want := `network interfaces (sar -n DEV, sar -n EDEV)  2026-11-25 UTC

10:00:10     IFACE   rxpck/s   txpck/s    rxkB/s    txkB/s   rxerr/s   txerr/s  rxdrop/s  txdrop/s
10:00:10      eth0     50.00     10.00     10.00      2.00      0.00      0.00      0.00      0.00
10:00:10     wlan0      5.00      0.00      1.00      0.00      0.00      0.00      0.00      0.00

10:00:00  -- reboot: boot 2 --

10:00:10     IFACE   rxpck/s   txpck/s    rxkB/s    txkB/s   rxerr/s   txerr/s  rxdrop/s  txdrop/s
10:00:10      eth0     25.00      0.00      5.00      0.00      0.00      0.00      0.00      0.00

Average:     IFACE   rxpck/s   txpck/s    rxkB/s    txkB/s   rxerr/s   txerr/s  rxdrop/s  txdrop/s
Average:      eth0     37.50      5.00      7.50      1.00      0.00      0.00      0.00      0.00
Average:     wlan0      5.00      0.00      1.00      0.00      0.00      0.00      0.00      0.00
`
	if got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
	// A report of one instance: one header, Average straight after; a
	// long zone name after the figures.
	got = writeSteps(t, &Temp, func(b *bytes.Buffer) Writer { return NewTextWriter(b, &Temp, time.UTC) }, []step{
		{1, 0, "thermal", []any{"zone", "thermal_zone0", "type", "x86_pkg_temp", "temp_c", 45.0}},
		{1, 10, "thermal", []any{"zone", "thermal_zone0", "type", "x86_pkg_temp", "temp_c", 47.5}},
	})
	want = `temperatures (sar -m TEMP)  2026-11-25 UTC

10:00:00      degC  ZONE  TYPE
10:00:00      45.0  thermal_zone0  x86_pkg_temp

10:00:10      degC  ZONE  TYPE
10:00:10      47.5  thermal_zone0  x86_pkg_temp

Average:      degC  ZONE  TYPE
Average:      46.2  thermal_zone0  x86_pkg_temp
`
	if got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
}

// TestMarked: rows whose times the view judged carry the sign after the
// time, as itiny-read's records do, in a column one wider, Average: too;
// JSON says how as "clock".
func TestMarked(t *testing.T) {
	clocks := []view.TimeMark{view.TimeCorrected, view.TimeCorrected, view.TimeSynced, view.TimeSynced, view.TimeUnsynced, view.TimeUnsynced}
	write := func(w Writer) string {
		r := NewReader(&Load, w, Options{})
		for i, s := range []step{
			{1, 0, "load", load(1, 90, 0.5)}, {1, 10, "load", load(2, 90, 0.5)},
			{1, 20, "load", load(3, 90, 0.5)}, {1, 30, "load", load(1, 90, 0.5)},
			{2, 0, "load", load(1, 90, 0.5)}, {2, 10, "load", load(1, 90, 0.5)},
		} {
			if err := r.AddMarked(s.record(), clocks[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		return w.(interface{ String() string }).String()
	}
	var b bytes.Buffer
	write(&stringer{NewTextWriter(&b, &Load, time.UTC), &b})
	want := `run queue and load averages (sar -q)  2026-11-25 UTC

10:00:00~   runq-sz  plist-sz   ldavg-1   ldavg-5  ldavg-15   blocked
10:00:00~         1        90      0.50      0.50      0.50         -
10:00:10~         2        90      0.50      0.50      0.50         -
10:00:20          3        90      0.50      0.50      0.50         -
10:00:30          1        90      0.50      0.50      0.50         -

10:00:00?  -- reboot: boot 2 --

10:00:00?   runq-sz  plist-sz   ldavg-1   ldavg-5  ldavg-15   blocked
10:00:00?         1        90      0.50      0.50      0.50         -
10:00:10?         1        90      0.50      0.50      0.50         -
Average:          2        90      0.50      0.50      0.50         -
`
	if got := b.String(); got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
	b.Reset()
	write(&stringer{NewJSONWriter(&b, &Load, time.UTC), &b})
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		var o struct{ Clock string }
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		got = append(got, o.Clock)
	}
	if want := "corrected corrected synced synced unsynced unsynced unsynced "; strings.Join(got, " ") != want {
		t.Errorf("JSON clocks %q, want %q", strings.Join(got, " "), want)
	}
}

// load is a load record's fields.
func load(running int, tasks int, avg float64) []any {
	return []any{"load1", avg, "load5", avg, "load15", avg, "running", running, "tasks", tasks}
}

// stringer is a Writer whose output is in b.
type stringer struct {
	Writer
	b *bytes.Buffer
}

func (s *stringer) String() string { return s.b.String() }

func TestJSON(t *testing.T) {
	got := writeSteps(t, &Net, func(b *bytes.Buffer) Writer { return NewJSONWriter(b, &Net, time.UTC) }, netSteps)
	var objs []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		var o map[string]any
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		objs = append(objs, o)
	}
	if len(objs) != 6 {
		t.Fatalf("%d objects, want 6:\n%s", len(objs), got)
	}
	if o := objs[0]; o["time"] != "2026-11-25T10:00:10.000Z" || o["boot"] != 1.0 || o["instance"] != "eth0" || o["rxkB/s"] != 10.0 || o["rxpck/s"] != 50.0 || o["tier"] != "raw" {
		t.Errorf("first row: %v", o)
	}
	if o := objs[2]; o["mark"] != "reboot" || o["note"] != "boot 2" || o["boot"] != 2.0 {
		t.Errorf("mark: %v", o)
	}
	if o := objs[4]; o["average"] != true || o["instance"] != "eth0" || o["rxkB/s"] != 7.5 || o["time"] != nil {
		t.Errorf("average: %v", o)
	}
	// A figure not available is null.
	got = writeSteps(t, &PSI, func(b *bytes.Buffer) Writer { return NewJSONWriter(b, &PSI, time.UTC) },
		[]step{{1, 0, "pressure", psi("cpu", 1, 2, 3, 4, 5, 6)}})
	if !strings.Contains(got, `"%some-10":1.00,"%some-60":2.00,"%some":null,`) {
		t.Errorf("psi:\n%s", got)
	}
}

func TestCSV(t *testing.T) {
	got := writeSteps(t, &Net, func(b *bytes.Buffer) Writer { return NewCSVWriter(b, &Net, time.UTC) }, netSteps)
	recs, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"time", "boot", "row", "IFACE", "rxpck/s", "txpck/s", "rxkB/s", "txkB/s", "rxerr/s", "txerr/s", "rxdrop/s", "txdrop/s", "note", "tier"},
		{"2026-11-25T10:00:10.000Z", "1", "sample", "eth0", "50.00", "10.00", "10.00", "2.00", "0.00", "0.00", "0.00", "0.00", "", "raw"},
		{"2026-11-25T10:00:10.000Z", "1", "sample", "wlan0", "5.00", "0.00", "1.00", "0.00", "0.00", "0.00", "0.00", "0.00", "", "raw"},
		{"2026-11-25T10:00:00.000Z", "2", "reboot", "", "", "", "", "", "", "", "", "", "boot 2", ""},
		{"2026-11-25T10:00:10.000Z", "2", "sample", "eth0", "25.00", "0.00", "5.00", "0.00", "0.00", "0.00", "0.00", "0.00", "", "raw"},
		{"", "", "average", "eth0", "37.50", "5.00", "7.50", "1.00", "0.00", "0.00", "0.00", "0.00", "", "raw"},
		{"", "", "average", "wlan0", "5.00", "0.00", "1.00", "0.00", "0.00", "0.00", "0.00", "0.00", "", "raw"},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(recs), len(want), got)
	}
	for i := range want {
		if strings.Join(recs[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("row %d: %q\nwant %q", i, recs[i], want[i])
		}
	}
}
