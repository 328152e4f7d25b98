package main

import (
	"bufio"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestRunningMeansListening: once itiny run logs its running: line, the
// agent takes records, so a supervisor or script that waits for the line
// can emit at once. The line used to come before the socket listened:
// itiny emit then failed with "no agent is listening" now and again, so
// the test starts the agent many times and emits the moment the line is
// read, with no wait.
func TestRunningMeansListening(t *testing.T) {
	const starts = 25
	for i := range starts {
		data := t.TempDir()
		cmd := runAgent(t, "--data", data)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(stderr)
		log, line := readUntil(br, "running: ")
		out, emitErr := exec.Command(binary, "emit", "--data", data, "ready.check", "start="+strconv.Itoa(i)).CombinedOutput()
		cmd.Process.Signal(syscall.SIGTERM)
		rest, _ := io.ReadAll(br)
		waitErr := cmd.Wait()
		if line == "" {
			t.Fatalf("start %d: no running: line: %s%s (%v)", i, log, rest, waitErr)
		}
		if emitErr != nil {
			t.Fatalf("start %d: itiny emit just after %q: %v: %s", i, line, emitErr, out)
		}
		if waitErr != nil {
			t.Fatalf("start %d: %v: %s%s", i, waitErr, log, rest)
		}
		for _, want := range []string{"socket " + filepath.Join(data, "itiny.sock") + ", syslog off,", "pid " + strconv.Itoa(cmd.Process.Pid)} {
			if !strings.Contains(line, want) {
				t.Fatalf("running: line %q does not say %q", line, want)
			}
		}
		var got []int64
		for _, r := range readRing(t, filepath.Join(data, "events")) {
			if r.Name == "ready.check" {
				got = append(got, field(r, "start").Int())
			}
		}
		if len(got) != 1 || got[0] != int64(i) {
			t.Fatalf("start %d: ready.check records in the ring: %v", i, got)
		}
	}
}

// readUntil reads br line by line up to the first line containing s, and
// returns what it read before and that line ("" if br ended first).
func readUntil(br *bufio.Reader, s string) (before, line string) {
	var b strings.Builder
	for {
		l, err := br.ReadString('\n')
		if strings.Contains(l, s) {
			return b.String(), l
		}
		b.WriteString(l)
		if err != nil {
			return b.String(), ""
		}
	}
}
