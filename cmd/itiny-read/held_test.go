package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/ringlog"
)

// TestCSVLast: -o csv -n N writes the last N rows (samples, here of two
// records each), with the columns those rows have; -r writes the rows
// newest first, under the header.
func TestCSVLast(t *testing.T) {
	data := t.TempDir()
	var recs []codec.Record
	for k := range 5 {
		at := func(name string, f codec.Fields) codec.Record {
			return codec.Record{BootCount: 1, Wall: t0.Add(time.Duration(k) * time.Second), Mono: int64(k), Level: codec.LevelInfo, Name: name, Fields: f}
		}
		recs = append(recs, at("cpu", codec.Fields{{Key: "user", Value: codec.Int(int64(k))}}), at("mem", codec.Fields{{Key: "used", Value: codec.Int(int64(10 * k))}}))
		if k == 0 {
			recs = append(recs, at("first", codec.Fields{{Key: "x", Value: codec.Int(7)}}))
		}
	}
	writeRecords(t, data, "metrics", recs...)
	row := func(k int) string { return fmt.Sprintf("2026-11-25T10:00:0%d.000000000Z,1,%d,%d,%d", k, k, k, 10*k) }
	row3 := func(k int) string { return row(k) + "," } // with first.x, which only sample 0 has
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-n", "2"}, []string{"wall,boot,mono,cpu.user,mem.used", row(3), row(4)}},
		{[]string{"-n2", "-r"}, []string{"wall,boot,mono,cpu.user,mem.used", row(4), row(3)}},
		{[]string{"-r", "-n", "4"}, []string{"wall,boot,mono,cpu.user,mem.used", row(4), row(3), row(2), row(1)}},
		{[]string{"-r"}, []string{"wall,boot,mono,cpu.user,mem.used,first.x", row3(4), row3(3), row3(2), row3(1), row(0) + ",7"}},
		{[]string{"-n", "all"}, []string{"wall,boot,mono,cpu.user,mem.used,first.x", row(0) + ",7", row3(1), row3(2), row3(3), row3(4)}},
		{[]string{"-n", "0"}, []string{"wall,boot,mono"}},
	} {
		out, errOut, code := run(t, append(append([]string{"-o", "csv"}, tc.args...), data)...)
		if got := lines(out); code != 0 || !slices.Equal(got, tc.want) {
			t.Errorf("-o csv %q: exit %d (%s):\n%s\nwant:\n%s", tc.args, code, errOut, out, strings.Join(tc.want, "\n"))
		}
	}
}

// TestCSVStrings: the string cells of a table are the records' own, not
// what the bytes they were read from hold later (they were, past the
// first batch read).
func TestCSVStrings(t *testing.T) {
	data := t.TempDir()
	var recs []codec.Record
	for i := range 3000 {
		recs = append(recs, codec.Record{BootCount: 1, Wall: t0.Add(time.Duration(i) * time.Second), Mono: int64(i), Level: codec.LevelInfo, Name: "r",
			Fields: codec.Fields{{Key: "n", Value: codec.Int(int64(i))}, {Key: "s", Value: codec.String(fmt.Sprintf("v%05d", i))}}})
	}
	writeRecords(t, data, "metrics", recs...)
	out, errOut, code := run(t, "-o", "csv", data)
	got := lines(out)
	if code != 0 || len(got) != 3001 || got[0] != "wall,boot,mono,r.n,r.s" {
		t.Fatalf("exit %d, %d lines (%s), header %q", code, len(got), errOut, got[0])
	}
	for i, l := range got[1:] {
		if want := fmt.Sprintf(",%d,%d,v%05d", i, i, i); !strings.HasSuffix(l, want) {
			t.Fatalf("row %d: %q, want it to end %q", i, l, want)
		}
	}
}

// TestHeld: -r and -o csv hold what they show until the end, and stop
// with an error past 32 MiB (maxHeld), printing nothing; -n N holds N
// records (rows), so that -r -n 10 reads a selection over the bound
// within a fraction of it, printing the newest 10 newest first.
func TestHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 40 MB")
	}
	data := t.TempDir()
	w, err := ringlog.Open(filepath.Join(data, "events"), ringlog.Options{Stream: "events", Codec: codec.Msgpack, Budget: 64 << 20, SegmentSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	const n, size = 1300, 32 << 10 // 1300 records of 32 KiB: over maxHeld in every view
	blob := codec.String(strings.Repeat("x", size))
	for i := range n {
		r := codec.Record{BootCount: 1, Wall: t0.Add(time.Duration(i) * time.Second), Mono: int64(i), Level: codec.LevelInfo, Name: fmt.Sprint("r", i),
			Fields: codec.Fields{{Key: "i", Value: codec.Int(int64(i))}, {Key: "blob", Value: blob}}}
		if _, err := w.Append(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		err  string // in stderr, exit 1 and no output; "": exit 0
		want int    // records (or rows) printed
	}{
		{[]string{"-r", "--utc"}, "-r holds what it shows in memory until the end, and this is over 32 MiB: show less with -n N", 0},
		{[]string{"-r", "-o", "json"}, "-r holds", 0},
		{[]string{"-r", "-n", "all", "-o", "json"}, "-r holds", 0},
		{[]string{"-o", "csv"}, "-o csv holds what it shows in memory until the end, and this is over 32 MiB", 0},
		{[]string{"-o", "csv", "-r"}, "-o csv holds", 0},
		{[]string{"-r", "-n", "10", "-o", "json"}, "", 10},
		{[]string{"-n", "10", "-o", "json"}, "", 10},
		{[]string{"-o", "csv", "-r", "-n", "10"}, "", 11}, // and the header
		{[]string{"-o", "json"}, "", n},                   // streamed: no bound
	} {
		r := testbin.Run(t, nil, binary, append(tc.args, data)...)
		t.Logf("%q: exit %d, peak RSS %.1f MiB", tc.args, r.Code, float64(r.MaxRSS)/(1<<20))
		if tc.err != "" {
			if r.Code != 1 || !strings.Contains(r.Stderr, tc.err) || r.Stdout != "" {
				t.Errorf("%q: exit %d, %d bytes out, stderr %q; want 1, nothing, %q", tc.args, r.Code, len(r.Stdout), r.Stderr, tc.err)
			}
			continue
		}
		got := lines(r.Stdout)
		if r.Code != 0 || len(got) != tc.want {
			t.Errorf("%q: exit %d, %d lines; want %d (%.200s)", tc.args, r.Code, len(got), tc.want, r.Stderr)
			continue
		}
		if tc.want == 10 {
			// The newest 10, newest first with -r, held and no more.
			want := []string{"r1290", "r1291", "r1292", "r1293", "r1294", "r1295", "r1296", "r1297", "r1298", "r1299"}
			if tc.args[0] == "-r" {
				slices.Reverse(want)
			}
			if ns := recordNames(r.Stdout); !slices.Equal(ns, want) {
				t.Errorf("%q: %q, want %q", tc.args, ns, want)
			}
		}
		if tc.want < 100 && r.MaxRSS > maxHeld {
			t.Errorf("%q: peak RSS %.1f MiB: over the bound, for %d records", tc.args, float64(r.MaxRSS)/(1<<20), tc.want)
		}
	}
}
