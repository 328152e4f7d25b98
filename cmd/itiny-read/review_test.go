package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/ringlog"
)

// TestCSVLast: -n N keeps the last N records in CSV too (one row each
// here, as each record of the fixture's metrics is a sample of its own).
func TestCSVLast(t *testing.T) {
	t.Skip("defect: -o csv ignores -n (and -e's 1000): the CSV printer holds every row and dump writes its whole table at the end")
	data := fixture(t)
	out, errOut, code := run(t, "-o", "csv", "-n", "3", "--stream", "metrics", data)
	got := lines(out)
	if code != 0 || len(got) != 4 || !strings.HasPrefix(got[1], "2026-11-25T10:17:00") || !strings.HasPrefix(got[3], "2026-11-25T10:19:00") {
		t.Errorf("-o csv -n 3: exit %d (%s), %d lines, want the header and the last 3 rows:\n%s", code, errOut, len(got), out)
	}
}

// TestReverseMemory: -r, newest first, reads in bounded memory as
// journalctl -r does, not holding the whole output: its peak resident
// memory on 300,000 records (36 MB of text) stays within 32 MiB of
// a forward read's.
func TestReverseMemory(t *testing.T) {
	t.Skip("defect: -r without -n keeps every record's output in memory (recordBuffer, max -1): 174 MiB resident for the 36 MB of text of this ring, which reads forward in 11 MiB; some 55 MB of text goes past --bundle-memory's 256 MiB")
	if testing.Short() {
		t.Skip("writes and reads 300,000 records")
	}
	data := testdir.TempDir(t)
	recs := make([]*codec.Record, 300000)
	for i := range recs {
		recs[i] = &codec.Record{BootCount: 1, Boot: codec.BootID{1}, Wall: t0.Add(time.Duration(i) * time.Second), Mono: int64(i) * 1e9, Source: "app", Level: codec.LevelInfo, Name: "app.event",
			Fields: codec.Fields{{Key: "msg", Value: codec.String(fmt.Sprintf("something happened, number %d, with some text", i))}}}
	}
	ringtest.Write(t, data, ringlog.Options{Stream: "events", Codec: codec.Msgpack, Budget: 96 << 20, SegmentSize: 1 << 20}, recs...)
	fwd := testbin.Run(t, nil, binary, "--no-pager", "--utc", data)
	rev := testbin.Run(t, nil, binary, "--no-pager", "--utc", "-r", data)
	if fwd.Code != 0 || rev.Code != 0 || len(rev.Stdout) != len(fwd.Stdout) {
		t.Fatalf("exit %d and %d, %d and %d bytes: %s%s", fwd.Code, rev.Code, len(fwd.Stdout), len(rev.Stdout), fwd.Stderr, rev.Stderr)
	}
	t.Logf("peak RSS: forward %.0f MiB, -r %.0f MiB, for %.0f MB of text", float64(fwd.MaxRSS)/(1<<20), float64(rev.MaxRSS)/(1<<20), float64(len(fwd.Stdout))/1e6)
	if rev.MaxRSS > fwd.MaxRSS+32<<20 {
		t.Errorf("-r peak RSS %d bytes, forward %d", rev.MaxRSS, fwd.MaxRSS)
	}
}
