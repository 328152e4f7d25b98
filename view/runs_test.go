package view

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/ringlog"
)

// self is one of the agent's records, of boot n at monotonic second mono.
func self(n uint32, mono int, c *catalog.Record, fields ...codec.Field) *codec.Record {
	return ringtest.Of(n, mono, c, fields...)
}

func start(n uint32, mono int, pid int64, clean, deviceBoot bool) *codec.Record {
	return self(n, mono, &catalog.AgentStart,
		codec.Field{Key: "version", Value: codec.String("v1")}, codec.Field{Key: "bootn", Value: codec.Uint(uint64(n))},
		codec.Field{Key: "device_boot", Value: codec.Bool(deviceBoot)}, codec.Field{Key: "clean", Value: codec.Bool(clean)},
		codec.Field{Key: "pid", Value: codec.Int(pid)})
}

func str(k, v string) codec.Field { return codec.Field{Key: k, Value: codec.String(v)} }

// at sets r's wall time: a clock that stepped.
func at(r *codec.Record, wall time.Time) *codec.Record {
	r.Wall = wall
	return r
}

// runsData writes an agent's history in three rings:
//
//	boot 1: run 100 crashes (a reload, a collector off), run 101 stops by
//	SIGTERM, run 102 dies with the device;
//	boot 2: run 200, whose wall clock steps back an hour, still open.
func runsData(t *testing.T) string {
	data := t.TempDir()
	config := func(n uint32, mono int, text string) *codec.Record {
		return self(n, mono, &catalog.AgentConfig, str("text", text), codec.Field{Key: "truncated", Value: codec.Bool(false)})
	}
	writeRing(t, data, "itiny", codec.JSON,
		start(1, 10, 100, true, true), config(1, 10, "cap = 16MiB\n"),
		self(1, 10, &catalog.CollectorOff, str("collector", "thermal"), str("error", "no zones")),
		self(1, 40, &catalog.AgentReload), config(1, 40, "cap = 8MiB\n"),
		self(1, 40, &catalog.CollectorOff, str("collector", "pressure"), str("error", "no PSI")),
		start(1, 100, 101, false, false), self(1, 120, &catalog.AgentStop, str("reason", "SIGTERM")),
		start(1, 200, 102, true, false),
		start(2, 5, 200, false, true))
	writeRing(t, data, "metrics", codec.Msgpack,
		rec(1, 20, "cpu"), rec(1, 50, "cpu"), rec(1, 110, "cpu"),
		rec(2, 10, "cpu"), at(rec(2, 60, "cpu"), t0.Add(time.Hour))) // the clock stepped back: before the start's wall
	writeRing(t, data, "events", codec.JSON, rec(1, 210, "appd.crash"), self(2, 30, &catalog.ClockStep))
	return data
}

func listRuns(t *testing.T, data string) []Run {
	t.Helper()
	in, err := Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := ListRuns(in.Sources)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func TestListRuns(t *testing.T) {
	runs := listRuns(t, runsData(t))
	var got []string
	for _, r := range runs {
		down := "?"
		if r.DownKnown {
			down = r.Down.String()
		}
		var off []string
		for _, o := range r.Off {
			off = append(off, o.Name+":"+o.Error)
		}
		got = append(got, fmt.Sprintf("boot %d pid %d clean %t: %s (%s) last %s/%s length %s down %s rebooted %t reloads %d config %q off %v records %d",
			r.Boot.N, r.PID, r.Clean, r.End, r.Cause(), r.Last.Stream, r.Last.Name, r.Length, down, r.Rebooted, len(r.Reloads), r.Config, off, r.Records))
	}
	want := []string{
		`boot 1 pid 100 clean true: crashed (it crashed or was killed) last metrics/cpu length 40s down 50s rebooted false reloads 1 config "cap = 8MiB\n" off [pressure:no PSI] records 8`,
		`boot 1 pid 101 clean false: stopped (stopped by SIGTERM) last itiny/agent.stop length 20s down 1m20s rebooted false reloads 0 config "" off [] records 3`,
		// Across the reboot, by the wall clock: boot 2 is an hour later.
		`boot 1 pid 102 clean true: device rebooted (the device rebooted or lost power) last events/appd.crash length 10s down 56m35s rebooted true reloads 0 config "" off [] records 2`,
		// The wall clock stepped back within the run: its length is by
		// the monotonic clock.
		`boot 2 pid 200 clean false: no stop (its end is not in the rings: they were copied, or the device rebooted since) last metrics/cpu length 55s down ? rebooted false reloads 0 config "" off [] records 4`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("runs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := runs[3]; !r.Last.Wall.Before(r.Start) || r.Length < 0 {
		t.Errorf("the fixture's clock step is not within the last run: start %v, last %v", r.Start, r.Last.Wall)
	}
}

// TestRunsCrashRecorded: a run whose crash a later start recorded
// (agent.crash, of its pid) crashed, by the runtime's first line, even
// when the device rebooted after it; a crash of a pid no run has changes
// nothing.
func TestRunsCrashRecorded(t *testing.T) {
	data := t.TempDir()
	crash := func(n uint32, mono int, pid int64, part int64, text string) *codec.Record {
		return self(n, mono, &catalog.AgentCrash, str("version", "v1"), codec.Field{Key: "pid", Value: codec.Int(pid)},
			codec.Field{Key: "part", Value: codec.Int(part)}, codec.Field{Key: "parts", Value: codec.Int(2)},
			str("text", text), codec.Field{Key: "cut", Value: codec.Int(0)})
	}
	writeRing(t, data, "itiny", codec.JSON, start(1, 10, 1, true, true), start(1, 20, 2, false, false), start(2, 5, 3, false, true))
	writeRing(t, data, "events", codec.JSON,
		crash(1, 21, 1, 1, "panic: boom\n\ngoroutine 7 [running]:\n"), crash(1, 21, 1, 2, "second part\n"),
		crash(1, 22, 99, 1, "panic: not ours"),
		crash(2, 6, 2, 1, "fatal error: out of memory\n"))
	var got []string
	for _, r := range listRuns(t, data) {
		got = append(got, fmt.Sprintf("pid %d: %s (%s)", r.PID, r.End, r.Cause()))
	}
	want := []string{
		"pid 1: crashed (it crashed: panic: boom)",
		"pid 2: crashed (it crashed: fatal error: out of memory)",
		"pid 3: no stop (its end is not in the rings: they were copied, or the device rebooted since)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("runs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A reboot whose wall clock is behind the last boot's (no RTC, no time
// sync yet): the downtime is unknown, never negative.
func TestRunsClockBackAcrossBoot(t *testing.T) {
	data := t.TempDir()
	writeRing(t, data, "itiny", codec.JSON, start(1, 10, 1, true, true), at(start(2, 5, 2, false, true), t0.Add(-24*time.Hour)))
	runs := listRuns(t, data)
	if len(runs) != 2 || runs[0].DownKnown || runs[0].End != RunPowerLoss || !runs[0].Rebooted {
		t.Fatalf("runs: %+v", runs)
	}
	if got := markers(t, data, nil); len(got) != 1 || !strings.Contains(got[0], "(duration unknown: the clock went back; the device rebooted or lost power)") {
		t.Errorf("markers: %q", got)
	}
}

// TestRunsUnsyncedAcrossBoot: a downtime across a reboot by a clock not
// synchronised, or whose synchronisation the rings no longer tell, is
// unknown, whichever way that clock went; between synchronised clocks it
// is by the wall clock, repaired.
func TestRunsUnsyncedAcrossBoot(t *testing.T) {
	data := t.TempDir()
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	writeRing(t, data, "itiny", codec.JSON,
		at(start(1, 10, 1, true, true), h(1)), at(ringtest.ClockSync(1, 10, true), h(1)),
		// Boot 2 starts in 1970 and never syncs.
		from1970(start(2, 5, 2, false, true)), from1970(ringtest.ClockSync(2, 5, false)),
		// Boot 3 syncs at 30 s: its start is repaired, an hour after boot 1's end.
		from1970(start(3, 5, 3, false, true)), from1970(ringtest.ClockSync(3, 5, false)), at(ringtest.ClockSync(3, 30, true), h(2).Add(25*time.Second)),
		// Boot 4's clock.sync records are gone: its clock says 2027.
		at(start(4, 5, 4, false, true), h(9000)),
		// Boot 5 has a real-time clock, right from its start.
		at(start(5, 5, 5, false, true), h(9001)), at(ringtest.ClockSync(5, 5, true), h(9001)), at(rec(5, 6, "r"), h(9001).Add(time.Second)),
		at(start(6, 5, 6, false, true), h(9002)), at(ringtest.ClockSync(6, 5, true), h(9002)))
	var got []string
	for _, r := range listRuns(t, data)[:5] {
		got = append(got, fmt.Sprintf("%s %v %q", r.Down, r.DownKnown, r.DownUnknown))
	}
	want := []string{
		`0s false "the clock was not synchronised"`, // to 1970
		`0s false "the clock was not synchronised"`, // from 1970, to 2026 repaired
		`0s false "the clock was not synchronised"`, // to a clock not known
		`0s false "the clock was not synchronised"`, // from it
		`59m59s true ""`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("downtimes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantMarkers := []string{
		"-- itiny not running 2026-11-25 11:00:00 to 1970-01-01 00:00:05? (duration unknown: the clock was not synchronised; the device rebooted or lost power) --",
		"-- itiny not running 1970-01-01 00:00:05? to 2026-11-25 12:00:00~ (duration unknown: the clock was not synchronised; the device rebooted or lost power) --",
		"-- itiny not running 2026-11-25 12:00:25 to 2027-12-05 10:00:00? (duration unknown: the clock was not synchronised; the device rebooted or lost power) --",
		"-- itiny not running 10:00:00? to 11:00:00 (duration unknown: the clock was not synchronised; the device rebooted or lost power) --",
		"-- itiny not running 11:00:01 to 12:00:00 (59m59s; the device rebooted or lost power) --",
	}
	if got := markers(t, data, nil); strings.Join(got, "\n") != strings.Join(wantMarkers, "\n") {
		t.Errorf("markers:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantMarkers, "\n"))
	}
}

// The last run is running while a writer holds the itiny ring, and died
// once none does and there is no stop.
func TestRunsRunning(t *testing.T) {
	data := t.TempDir()
	w, err := ringlog.Open(filepath.Join(data, "itiny"), ringlog.Options{Stream: "itiny", Codec: codec.JSON, Budget: 1 << 20, SegmentSize: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Append(start(1, 10, 1, true, true)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	defer func(f func() codec.BootID) { thisBoot = f }(thisBoot)
	thisBoot = func() codec.BootID { return start(1, 10, 1, true, true).Boot }
	for _, want := range []RunEnd{RunRunning, RunDied} {
		if runs := listRuns(t, data); len(runs) != 1 || runs[0].End != want {
			t.Errorf("runs %+v, want one %s", runs, want)
		}
		w.Close()
	}
	// Rings of another boot (copied from another device, or this one
	// rebooted since): the run's end is not known, it did not die here.
	thisBoot = func() codec.BootID { return codec.BootID{0xee} }
	if runs := listRuns(t, data); len(runs) != 1 || runs[0].End != RunNoStop {
		t.Errorf("runs %+v of another boot, want one %s", runs, RunNoStop)
	}
}

// markers prints the records of data as the text view does, those of
// the streams in show only (all when nil; the others are seen, as
// itiny-read's filter does), and returns the downtime marker lines.
func markers(t *testing.T, data string, show []string) []string {
	t.Helper()
	in, err := Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	m, err := newRepairedMerger(in.Sources)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var out bytes.Buffer
	p := NewTextPrinter(&out, PrintOptions{UTC: true})
	for {
		it, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.Kind != KindRecord {
			continue
		}
		if show != nil && !strings.Contains(strings.Join(show, " "), it.Source.Stream) {
			p.See(&it)
			continue
		}
		if err := p.Print(&it); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "-- itiny not running") {
			got = append(got, l)
		}
	}
	return got
}

// TestDowntimeMarkers: the text view marks each time the agent was not
// running, from the last record the rings hold of a run to the next
// start, with why, whatever records the filter shows.
func TestDowntimeMarkers(t *testing.T) {
	data := runsData(t)
	want := []string{
		"-- itiny not running 11:00:50 to 11:01:40 (50s; it crashed or was killed) --",
		"-- itiny not running 11:02:00 to 11:03:20 (1m20s; stopped by SIGTERM) --",
		"-- itiny not running 11:03:30 to 12:00:05 (56m35s; the device rebooted or lost power) --",
	}
	for _, show := range [][]string{nil, {"metrics"}} {
		got := markers(t, data, show)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("showing %v:\n%s\nwant\n%s", show, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// Remembering each record for the downtime markers costs the text view
// no allocation.
func TestTextPrinterZeroAllocs(t *testing.T) {
	p := NewTextPrinter(io.Discard, PrintOptions{UTC: true})
	it := Item{Kind: KindRecord, Source: &Source{Stream: "metrics"}, Rec: rec(1, 1, "cpu", codec.Field{Key: "user", Value: codec.Int(5)})}
	p.Print(&it)
	if n := testing.AllocsPerRun(100, func() {
		it.Rec.Mono++
		p.Print(&it)
		p.See(&it)
	}); n != 0 {
		t.Errorf("%v allocations a record", n)
	}
}

func TestShortDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{19 * time.Millisecond, "19ms"}, {1615 * time.Millisecond, "1.6s"}, {-1615 * time.Millisecond, "-1.6s"},
		{65*time.Second + 400*time.Millisecond, "1m5s"}, {3395 * time.Second, "56m35s"},
	} {
		if got := ShortDuration(tc.d); got != tc.want {
			t.Errorf("ShortDuration(%v) = %s, want %s", tc.d, got, tc.want)
		}
	}
}
