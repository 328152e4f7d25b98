package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestReportCmd(t *testing.T) {
	data := reportData(t, true, false)
	for _, tc := range []struct {
		args        []string
		code        int
		want, not   []string // in standard output
		errContains string
	}{
		{[]string{"report", "-o", "-", "--utc", data}, 0, []string{"<!DOCTYPE html>", "<title>itiny report: ", "event.0", "event.3", "<svg "}, nil, ""},
		// Windows: boot 1's records are from 11:00, boot 2's from 12:00.
		{[]string{"report", "-o", "-", "--utc", "--since", "2026-11-25 12:00", data}, 0, []string{"event.2", "event.3"}, []string{"event.0", "event.1"}, ""},
		{[]string{"report", "-o", "-", "--utc", "--until", "2026-11-25 12:00", data}, 0, []string{"event.0", "event.1"}, []string{"event.2", "event.3"}, ""},
		{[]string{"report", "-o", "-", "--utc", "-S", "2026-11-25 12:00", data}, 0, []string{"event.2", "event.3"}, []string{"event.0", "event.1"}, ""},
		{[]string{"report", "-o", "-", "--utc", "-U", "2026-11-25 12:00", data}, 0, []string{"event.0", "event.1"}, []string{"event.2", "event.3"}, ""},
		{[]string{"report", "--since", "soon", data}, 2, nil, nil, `-S/--since: time "soon"`},
		{[]string{"report", "-U", "soon", data}, 2, nil, nil, `-U/--until: time "soon"`},
		{[]string{"report", "-o", "-", filepath.Join(data, "nope")}, 1, nil, nil, "no such file"},
		{[]string{"report", "-h"}, 0, []string{"usage: itiny-read report [-o FILE] [--since T]"}, nil, ""}, // help: standard output
	} {
		out, errOut, code := run(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.errContains) {
			t.Errorf("%q: exit %d, stderr %q; want %d, %q", tc.args, code, errOut, tc.code, tc.errContains)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%q: %q not in the output", tc.args, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(out, w) {
				t.Errorf("%q: %q in the output", tc.args, w)
			}
		}
	}

	// Without -o: a new file named after the host and the time, here.
	dir := t.TempDir()
	cmd := exec.Command(binary, "report", data)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("report: %v: %s", err, out)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || !regexp.MustCompile(`^itiny-report-.+-\d{8}-\d{6}\.html$`).MatchString(ents[0].Name()) {
		t.Fatalf("files %v", ents)
	}
}
