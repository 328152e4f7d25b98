package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// writeRecords writes recs to a new ring of stream under data.
func writeRecords(t *testing.T, data, stream string, recs ...codec.Record) {
	t.Helper()
	w, err := ringlog.Open(filepath.Join(data, stream), ringlog.Options{Stream: stream, Codec: codec.Msgpack, Budget: 4 << 20, SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if _, err := w.Append(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// names runs itiny-read -o json with args and returns the names of the
// records printed, in order.
func names(t *testing.T, args ...string) []string {
	t.Helper()
	out, errOut, code := run(t, append([]string{"-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errOut)
	}
	return recordNames(out)
}

// recordNames returns the names of the records in JSON lines.
func recordNames(jsonLines string) []string {
	var ns []string
	for _, l := range lines(jsonLines) {
		if _, rest, ok := strings.Cut(l, `"name":"`); ok {
			n, _, _ := strings.Cut(rest, `"`)
			ns = append(ns, n)
		}
	}
	return ns
}

// TestJournalctlLetters: -b, -p, -r, -e, -S, -U, -t, -n and the long
// forms mean what they mean to journalctl, and the older long forms stay.
func TestJournalctlLetters(t *testing.T) {
	data := fixture(t) // boots 1 and 2, m0-m19 and e0-e19; e0, e5... warning
	levels := t.TempDir()
	var recs []codec.Record
	for l := codec.LevelEmerg; l <= codec.LevelDebug; l++ {
		src := "kernel"
		if l%2 == 1 {
			src = "app"
		}
		recs = append(recs, codec.Record{BootCount: 1, Wall: t0.Add(time.Duration(l) * time.Second), Mono: int64(l), Source: src, Level: l, Name: l.String()})
	}
	writeRecords(t, levels, "events", recs...)
	for _, tc := range []struct {
		args []string
		want string // the names, space-separated
	}{
		{[]string{"-p", "WARN", levels}, "emerg alert crit err warning"},
		{[]string{"-p", "4", levels}, "emerg alert crit err warning"},
		{[]string{"--level", "warning", levels}, "emerg alert crit err warning"},
		{[]string{"--priority=Err", levels}, "emerg alert crit err"},
		{[]string{"-p", "warning..err", levels}, "err warning"},
		{[]string{"-p", "err..warning", levels}, "err warning"},
		{[]string{"-p", "1..notice", levels}, "alert crit err warning notice"},
		{[]string{"-t", "app", levels}, "alert err notice debug"},
		{[]string{"-t", "app", "-t", "kernel", "-p", "crit", levels}, "emerg alert crit"},
		{[]string{"--source", "app,none", levels}, "alert err notice debug"},
		{[]string{"-r", "-p", "err", levels}, "err crit alert emerg"},
		{[]string{"--reverse", "-n", "2", levels}, "debug info"},
		{[]string{"-n", levels}, "emerg alert crit err warning notice info debug"}, // -n alone: 10
		{[]string{levels, "-n", "3"}, "notice info debug"},
		{[]string{"-n", "0", levels}, ""},
		{[]string{"-n", "all", levels}, "emerg alert crit err warning notice info debug"},
		{[]string{"-S", "2026-11-25 10:00:06", "--utc", levels}, "info debug"},
		{[]string{"--since", "2026-11-25 10:00:06", "--utc", levels}, "info debug"},
		{[]string{"-U", "2026-11-25T10:00:01Z", levels}, "emerg"},
		{[]string{"--until=2026-11-25T10:00:01Z", levels}, "emerg"},
		{[]string{"-b", "--stream", "events", "-p", "warning", data}, "e10 e15"},
		{[]string{"-b", "0", "--stream", "events", "-p", "warning", data}, "e10 e15"},
		{[]string{"--stream", "events", "-p", "warning", data, "-b"}, "e10 e15"},
		{[]string{"-b", "-1", "--stream", "events", "-p", "warning", data}, "e0 e5"},
		{[]string{"-b=-1", "--stream", "events", "-p", "warning", data}, "e0 e5"},
		{[]string{"--boot", "1", "--stream", "events", "-p", "warning", data}, "e0 e5"},
		{[]string{"-b", "b002", "--stream", "events", "-p", "warning", data}, "e10 e15"},
		{[]string{"-b", "all", "--stream", "events", "-p", "warning", data}, "e0 e5 e10 e15"},
		// A one-letter option written with its value, as getopt takes it.
		{[]string{"-b-1", "--stream", "events", "-p", "warning", data}, "e0 e5"},
		{[]string{"-b2", "--stream", "events", "-pwarning", data}, "e10 e15"},
		{[]string{"-n3", levels}, "notice info debug"},
		{[]string{levels, "-rn2"}, "debug info"},
		{[]string{"-pwarning..err", "-tapp", levels}, "err"},
		{[]string{"-S2026-11-25 10:00:06", "-utc", levels}, "info debug"},
	} {
		if got := strings.Join(names(t, tc.args...), " "); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.args, got, tc.want)
		}
	}

	// -r in text: each boot's marker above its newest record.
	out, errOut, code := run(t, "--utc", "--no-pager", "-r", "--stream", "metrics", data)
	got := lines(out)
	if code != 0 || len(got) != 22 || !strings.HasPrefix(got[0], "-- boot 2 (b002") || !strings.Contains(got[1], " m19 ") ||
		!strings.Contains(got[10], " m10 ") || !strings.HasPrefix(got[11], "-- boot 1 (b001") || !strings.Contains(got[21], " m0 ") {
		t.Errorf("-r: exit %d (%s):\n%s", code, errOut, out)
	}
	fwd := names(t, "--stream", "metrics", data)
	slices.Reverse(fwd)
	if rev := names(t, "-r", "--stream", "metrics", data); !slices.Equal(rev, fwd) {
		t.Errorf("-r -o json: %q, want %q", rev, fwd)
	}
	// -o csv -r: the rows newest first.
	out, _, _ = run(t, "-o", "csv", "-r", "--stream", "metrics", data)
	if got := lines(out); len(got) != 21 || !strings.HasPrefix(got[1], "2026-11-25T10:19:00") || !strings.HasPrefix(got[20], "2026-11-25T10:00:00") {
		t.Errorf("-o csv -r:\n%s", out)
	}

	// -e: the last 1000 records unless -n says how many.
	many := t.TempDir()
	recs = recs[:0]
	for i := range 1200 {
		recs = append(recs, codec.Record{BootCount: 1, Wall: t0.Add(time.Duration(i) * time.Second), Mono: int64(i), Level: codec.LevelInfo, Name: fmt.Sprint("r", i)})
	}
	writeRecords(t, many, "metrics", recs...)
	if got := names(t, "-e", many); len(got) != 1000 || got[0] != "r200" || got[999] != "r1199" {
		t.Errorf("-e: %d records, %q..%q", len(got), got[0], got[len(got)-1])
	}
	if got := names(t, "--pager-end", "-n", "5", many); strings.Join(got, " ") != "r1195 r1196 r1197 r1198 r1199" {
		t.Errorf("-e -n 5: %q", got)
	}

	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-p", "loud", data}, `-p/--level: level "loud": want`},
		{[]string{"-p", "err..loud", data}, `"loud" is not a level`},
		{[]string{"-r", "-f", data}, "-r and -f"},
		{[]string{"-n", "-3", data}, `-n`},
	} {
		if _, errOut, code := run(t, tc.args...); code != 2 || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%q: exit %d, %q; want 2 and %q", tc.args, code, errOut, tc.msg)
		}
	}
}

// runEnv runs itiny-read with env added and returns its standard output.
func runEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%q %q: %v: %s", env, args, err, errOut.String())
	}
	return string(out)
}

// TestTimes: times of day are today's in the zone shown (local, or UTC
// with --utc), spans are ago, and the text view shows each time's offset
// unless the zone is UTC.
func TestTimes(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip(err)
	}
	tz := []string{"TZ=Europe/Paris"}
	now := time.Now()
	data := t.TempDir()
	var recs []codec.Record
	for _, ago := range []time.Duration{30 * time.Minute, 20 * time.Minute, 5 * time.Minute} {
		recs = append(recs, codec.Record{BootCount: 1, Wall: now.Add(-ago), Mono: int64(-ago), Level: codec.LevelInfo, Name: fmt.Sprint(ago.Minutes(), "m")})
	}
	writeRecords(t, data, "events", recs...)
	for _, tc := range []struct {
		since, want string
	}{
		{"10 min ago", "5m"},
		{"10 minutes ago", "5m"},
		{"25m", "20m 5m"},
		{"1h", "30m 20m 5m"},
		{"-21min", "20m 5m"},
	} {
		if got := strings.Join(names(t, "--since", tc.since, data), " "); got != tc.want {
			t.Errorf("--since %q: %q, want %q", tc.since, got, tc.want)
		}
	}

	// Records at each hour of today, Paris time: a time of day is today's
	// in the zone shown. (If midnight passes during a run, it runs again.)
	for try := 0; ; try++ {
		start := time.Now()
		y, m, d := start.In(paris).Date()
		midnight := time.Date(y, m, d, 0, 0, 0, 0, paris)
		today := t.TempDir()
		recs = recs[:0]
		for h := range 24 {
			recs = append(recs, codec.Record{BootCount: 1, Wall: midnight.Add(time.Duration(h) * time.Hour), Mono: int64(h), Level: codec.LevelInfo, Name: fmt.Sprint("h", h)})
		}
		writeRecords(t, today, "events", recs...)
		// want: the names of the records from since to until.
		want := func(since, until time.Time) string {
			var ns []string
			for _, r := range recs {
				if !r.Wall.Before(since) && r.Wall.Before(until) {
					ns = append(ns, r.Name)
				}
			}
			return strings.Join(ns, " ")
		}
		uy, um, ud := start.UTC().Date()
		for _, tc := range []struct {
			args         []string
			since, until time.Time
		}{
			{[]string{"--since", "14:00", "--until", "16:30:00"}, midnight.Add(14 * time.Hour), midnight.Add(16*time.Hour + 30*time.Minute)},
			{[]string{"--utc", "-S", "14:00", "-U", "16:30"}, time.Date(uy, um, ud, 14, 0, 0, 0, time.UTC), time.Date(uy, um, ud, 16, 30, 0, 0, time.UTC)},
			{[]string{"-S", "yesterday 14:00", "-U", "today 02:00"}, midnight.AddDate(0, 0, -1).Add(14 * time.Hour), midnight.Add(2 * time.Hour)},
		} {
			out := runEnv(t, tz, append(append([]string{"-o", "json"}, tc.args...), today)...)
			got := recordNames(out)
			if y2, m2, d2 := time.Now().In(paris).Date(); y2 != y || m2 != m || d2 != d {
				break // midnight passed
			}
			if w := want(tc.since, tc.until); strings.Join(got, " ") != w || w == "" && tc.args[0] != "--utc" {
				t.Errorf("TZ=Europe/Paris %q: %q, want %q", tc.args, got, w)
			}
		}
		if y2, m2, d2 := time.Now().In(paris).Date(); y2 == y && m2 == m && d2 == d || try > 0 {
			break
		}
	}

	// The text view: each time with its offset, unless UTC.
	ring := filepath.Join("..", "..", "testdata", "golden", "v1-msgpack")
	first := func(env []string, args ...string) string {
		return lines(runEnv(t, env, append(args, "-n", "1", ring)...))[0]
	}
	want := "2025-11-24 17:00:39.000 +0100 metrics"
	if got := first(tz); !strings.HasPrefix(got, want) {
		t.Errorf("TZ=Europe/Paris: %q, want it to start %q", got, want)
	}
	for _, c := range []struct {
		env  []string
		args []string
	}{{tz, []string{"--utc"}}, {[]string{"TZ=UTC"}, nil}} {
		if got := first(c.env, c.args...); !strings.HasPrefix(got, "2025-11-24 16:00:39.000 metrics") {
			t.Errorf("%q %q: %q, want UTC without an offset", c.env, c.args, got)
		}
	}
	for _, bad := range []string{"soon", "25:00", "10 parsecs ago"} {
		_, errOut, code := run(t, "-S", bad, data)
		if code != 2 || !strings.Contains(errOut, fmt.Sprintf("-S/--since: time %q: want one of", bad)) || !strings.Contains(errOut, "yesterday 14:00") {
			t.Errorf("-S %q: exit %d: %s", bad, code, errOut)
		}
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestTextView: colours take no width, so that the columns line up as
// without them; a multi-line string prints as indented lines below its
// record in text, and stays one JSON string; -o msgpack refuses a
// terminal.
func TestTextView(t *testing.T) {
	data := fixture(t) // info and warning records: some coloured, some not
	plain, _, _ := run(t, "--utc", "--color", "never", data)
	colour, _, _ := run(t, "--utc", "--color", "always", data)
	if colour == plain || ansi.ReplaceAllString(colour, "") != plain {
		t.Errorf("--color always, without its colours, differs from --color never:\n%s\n---\n%s", colour, plain)
	}

	snap := t.TempDir()
	writeRecords(t, snap, "state", codec.Record{BootCount: 1, Wall: t0, Level: codec.LevelInfo, Source: "snapshot", Name: "snapshot",
		Fields: codec.Fields{{Key: "name", Value: codec.String("routes")}, {Key: "output", Value: codec.String("default via 10.0.0.1\r\n10.0.0.0/8\tdev eth0\n\x1b[31mred\n")}, {Key: "changed", Value: codec.Bool(true)}}})
	out, _, code := run(t, "--utc", "-b", "all", snap)
	want := "2026-11-25 10:00:00.000 state    info     snapshot   snapshot name=routes changed=true\n" +
		"    output:\n      default via 10.0.0.1\n      10.0.0.0/8\tdev eth0\n      \\x1b[31mred\n"
	if got := strings.SplitAfterN(out, "\n", 2); code != 0 || len(got) != 2 || got[1] != want {
		t.Errorf("text: exit %d:\n%s\nwant after the boot line:\n%s", code, out, want)
	}
	out, _, _ = run(t, "-o", "json", snap)
	if !strings.Contains(out, `"output":"default via 10.0.0.1\r\n10.0.0.0/8\tdev eth0\n\u001b[31mred\n"`) || len(lines(out)) != 1 {
		t.Errorf("json: %s", out)
	}

	_, tty := openPTY(t)
	cmd := exec.Command(binary, "-o", "msgpack", data)
	cmd.Stdout = tty
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(errOut.String(), "-o msgpack writes binary records: not to a terminal") {
		t.Errorf("-o msgpack on a terminal: exit %d: %s", code, errOut.String())
	}
	if out, _, code := run(t, "-o", "msgpack", data); code != 0 || len(out) == 0 {
		t.Errorf("-o msgpack to a pipe: exit %d, %d bytes", code, len(out))
	}
}

// TestFields: --fields keeps the records with any of the fields given,
// and shows those, in the order given, in text, JSON and CSV.
func TestFields(t *testing.T) {
	data := t.TempDir()
	i := func(n int64) codec.Value { return codec.Int(n) }
	writeRecords(t, data, "metrics",
		codec.Record{BootCount: 1, Wall: t0, Mono: 1, Level: codec.LevelInfo, Name: "r1", Fields: codec.Fields{{Key: "a", Value: i(1)}, {Key: "b", Value: i(2)}}},
		codec.Record{BootCount: 1, Wall: t0, Mono: 2, Level: codec.LevelInfo, Name: "r2", Fields: codec.Fields{{Key: "b", Value: i(3)}}},
		codec.Record{BootCount: 1, Wall: t0, Mono: 3, Level: codec.LevelInfo, Name: "r3", Fields: codec.Fields{{Key: "b", Value: i(4)}, {Key: "c", Value: i(5)}, {Key: "a", Value: i(6)}}})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--fields", "c,a"}, "r1 a=1\nr3 c=5 a=6\n"},
		{[]string{"--fields", "b"}, "r1 b=2\nr2 b=3\nr3 b=4\n"},
		{[]string{"--fields", "x"}, ""},
		{[]string{"--fields", "c,a", "-o", "json"}, `"name":"r1","fields":{"a":1}}` + "\n" + `"name":"r3","fields":{"c":5,"a":6}}` + "\n"},
		{[]string{"--fields", "c,a", "-o", "csv"}, "wall,boot,mono,r1.a,r3.c,r3.a\n" +
			"2026-11-25T10:00:00.000000000Z,1,1,1,,\n2026-11-25T10:00:00.000000000Z,1,3,,5,6\n"},
		// A field named again counts once, where it came first.
		{[]string{"--fields", "a,c,a"}, "r1 a=1\nr3 a=6 c=5\n"},
		{[]string{"--fields", "c", "--fields", "a,c", "-o", "json"}, `"name":"r1","fields":{"a":1}}` + "\n" + `"name":"r3","fields":{"c":5,"a":6}}` + "\n"},
		{[]string{"--fields", "c,a,c", "-o", "csv"}, "wall,boot,mono,r1.a,r3.c,r3.a\n" +
			"2026-11-25T10:00:00.000000000Z,1,1,1,,\n2026-11-25T10:00:00.000000000Z,1,3,,5,6\n"},
	} {
		out, errOut, code := run(t, append(append([]string{"--utc"}, tc.args...), data)...)
		var got strings.Builder
		for _, l := range lines(out) {
			switch {
			case strings.HasPrefix(l, "--") || l == "":
			case strings.Contains(l, "metrics  info"): // text: from the name on
				got.WriteString(l[strings.Index(l, " r")+1:] + "\n")
			case strings.HasPrefix(l, "{"):
				got.WriteString(l[strings.Index(l, `"name"`):] + "\n")
			default:
				got.WriteString(l + "\n")
			}
		}
		if code != 0 || got.String() != tc.want {
			t.Errorf("%q: exit %d (%s):\n%s\nwant:\n%s", tc.args, code, errOut, got.String(), tc.want)
		}
	}
}

// TestReportReplaces: report -o FILE replaces the file, through a
// temporary file renamed over it, leaving nothing else; a FIFO is written
// as it is.
func TestReportReplaces(t *testing.T) {
	data := fixture(t)
	dir := t.TempDir()
	name := filepath.Join(dir, "r.html")
	if err := os.WriteFile(name, []byte("an older report"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, errOut, code := run(t, "report", "-o", name, data); code != 0 {
			t.Fatalf("report -o over a file: exit %d: %s", code, errOut)
		}
		b, _ := os.ReadFile(name)
		ents, _ := os.ReadDir(dir)
		if !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || len(ents) != 1 {
			t.Fatalf("report -o over a file: %.40q, files %v", b, ents)
		}
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	if _, errOut, code := run(t, "report", "-o", fifo, data); code != 0 {
		t.Fatalf("report -o FIFO: exit %d: %s", code, errOut)
	}
	if b := <-got; !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Errorf("report -o FIFO: %.40q", b)
	}
	if fi, err := os.Stat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
}

// A report that fails half way leaves the file before it as it was, and
// no temporary file.
func TestWriteReplacingFails(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "r.html")
	if err := os.WriteFile(name, []byte("before"), 0o644); err != nil {
		t.Fatal(err)
	}
	fail := fmt.Errorf("failed half way")
	_, err := writeReplacing(name, func(w io.Writer) error {
		w.Write([]byte("half a report"))
		return fail
	})
	b, _ := os.ReadFile(name)
	ents, _ := os.ReadDir(dir)
	if !errors.Is(err, fail) || string(b) != "before" || len(ents) != 1 {
		t.Fatalf("%v: %q, files %v", err, b, ents)
	}
}
