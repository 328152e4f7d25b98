package main

import (
	"strings"
	"testing"
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
