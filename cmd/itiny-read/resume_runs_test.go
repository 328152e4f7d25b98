package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/view"
)

// TestCrashWithBufferedRecords kills the real agent while a periodic
// stream holds a record in memory, as on a device with the default
// metrics stream. The next agent opens that ring first, and the ring
// writes its ring.resume note a moment before agent.start: the note is
// the new writer's, not the killed run's. runs must give the record the
// killed agent wrote last and the downtime from it, and the records view
// must mark the same downtime, not the milliseconds between the note and
// the start. A filtered view holds the gaps the notes explain until it
// shows a record, and says them in the notes' words. The report says the note's gap in its gaps table, and
// charts none of its numbers as if they were metrics.
func TestCrashWithBufferedRecords(t *testing.T) {
	dir := t.TempDir()
	itiny, err := testbin.Build(dir, "../itiny")
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	config := filepath.Join(dir, "itiny.conf")
	if err := os.WriteFile(config, []byte("[stream metrics]\nbudget = 2MiB\nsegment = 64KiB\nmode = periodic\nflush = 1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	emit := func(args ...string) error {
		out, err := exec.Command(itiny, append([]string{"emit", "--data", data}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("itiny emit %v: %v\n%s", args, err, out)
		}
		return nil
	}
	// buffered sends a record of the periodic stream (startAgent returns
	// once the agent logs "running:", when it listens): held in memory
	// until a flush that never comes.
	buffered := func(p *agentProc) {
		p.waitFor(t, "listening", func() bool { return emit("--stream", "metrics", "audit.buffered", "x=1") == nil })
	}
	a := startAgent(t, itiny, data, config)
	buffered(a)
	if err := emit("--level", "crit", "audit.last", "x=2"); err != nil { // stored: the last record of the run
		t.Fatal(err)
	}
	a.stop(syscall.SIGKILL)

	// Twice: the report would chart two notes' numbers as a series.
	b := startAgent(t, itiny, data, config)
	buffered(b)
	b.stop(syscall.SIGKILL)
	c := startAgent(t, itiny, data, config)
	c.waitFor(t, "started", func() bool { return strings.Contains(c.log.String(), "running:") })
	out, _, _ := run(t, "--stream", "metrics", "-o", "json", data)
	if !strings.Contains(out, `"name":"ring.resume"`) {
		t.Fatalf("no ring.resume in the metrics ring: the test does not test what it says\n%s", out)
	}

	runs := runsJSON(t, data, 3)
	killed := runs[0]
	if killed.End != "crashed" || killed.Last.Name != "audit.last" || killed.Last.Stream != "events" {
		t.Errorf("the killed run ended %q, last record %+v; want crashed, the events stream's audit.last", killed.End, killed.Last)
	}
	if want := runs[1].Start.Sub(killed.Last.Wall).Seconds(); killed.Down == nil || *killed.Down < want-0.001 {
		t.Errorf("the killed run was down %v s, want at least %.3f s (from its last record to the next start)", killed.Down, want)
	}

	// The records view: one marker, from the killed run's last record to
	// the next start, by the monotonic clock as runs measures it.
	out, _, _ = run(t, "-o", "json", data)
	var last, start int64 // mono of audit.last and of the second agent.start
	for _, l := range lines(out) {
		var r struct {
			Mono int64  `json:"mono"`
			Name string `json:"name"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		switch {
		case r.Name == "audit.last":
			last = r.Mono
		case r.Name == "agent.start" && last != 0 && start == 0:
			start = r.Mono
		}
	}
	want := view.ShortDuration(time.Duration(start - last))
	if marks := downMarks(t, data); len(marks) != 2 || !strings.Contains(marks[0], " ("+want+"; it crashed or was killed) --") {
		t.Errorf("downtime markers %q, want two, the first of %s, from audit.last to the next start", marks, want)
	}

	// The gaps the notes explain are shown before the next record the
	// filter passes: by then the reader has read on, past the notes.
	if err := emit("audit.late"); err != nil {
		t.Fatal(err)
	}
	out, _, _ = run(t, "--grep", "^audit.late$", data)
	if n := strings.Count(out, "possibly lost: the writer died with records in memory; bound: records of the last 1h0m0s in a 65536-byte memory buffer --"); n != 2 {
		t.Errorf("%d gaps in the notes' words, want 2:\n%s", n, out)
	}

	out, stderr, code := run(t, "report", "-o", "-", data)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "possibly lost: the writer died with records in memory") {
		t.Errorf("the report does not say the metrics ring's gap:\n%s", out)
	}
	if strings.Contains(out, "<h3>ring.resume") {
		t.Errorf("the report charts the ring.resume note's numbers")
	}
	c.stop(syscall.SIGTERM)
}
