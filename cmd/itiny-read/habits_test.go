package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
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
	var ns []string
	for _, l := range lines(out) {
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
