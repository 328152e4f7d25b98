package main

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// A sarRun is one run of the agent in boot 1 of a fixture: its
// agent.start, then CPU samples, at these milliseconds of the monotonic
// clock.
type sarRun struct {
	start   int64
	samples []int64
}

// every returns the milliseconds from first to last in steps of step.
func every(first, last, step int64) []int64 {
	var ms []int64
	for t := first; t <= last; t += step {
		ms = append(ms, t)
	}
	return ms
}

// TestSarRuns runs itiny-read sar cpu on the samples of agents that
// reload and restart in one boot, at 25% user throughout: every interval
// in a run has its row, at 25%, and the marks are the agent's restarts,
// each one.
func TestSarRuns(t *testing.T) {
	for _, c := range []struct {
		name  string
		runs  []sarRun
		rows  int
		marks []string
	}{{
		// A reload restarts the collector, whose first sample is 40 ms
		// after the old one's last: no sampling interval. sar once took
		// it for the series' interval for the rest of the boot, and
		// every interval after it was a "gap", dropped: no figure after
		// a reload. The second run samples every 10 s: its own pace.
		name: "reload, then a run at another interval",
		runs: []sarRun{
			{0, append([]int64{1000, 2000, 3000, 4000, 5000, 5040}, every(6040, 15040, 1000)...)},
			{20000, every(30000, 60000, 10000)},
		},
		rows:  15 + 3,
		marks: []string{"agent restart"},
	}, {
		// Restarts with nothing but rows between them: each is marked
		// (the second and third were once taken for repeats of the
		// first).
		name:  "three restarts",
		runs:  []sarRun{{0, every(1000, 5000, 1000)}, {6000, every(7000, 9000, 1000)}, {10000, every(11000, 13000, 1000)}, {14000, every(15000, 17000, 1000)}},
		rows:  4 + 2 + 2 + 2,
		marks: []string{"agent restart", "agent restart", "agent restart"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			data := sarRunsFixture(t, c.runs)
			out, errOut, code := run(t, "sar", "cpu", "-o", "json", data)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var rows int
			var marks []string
			for _, l := range lines(out) {
				var o struct {
					User    *float64 `json:"%user"`
					Mark    string   `json:"mark"`
					Average bool     `json:"average"`
				}
				if err := json.Unmarshal([]byte(l), &o); err != nil {
					t.Fatalf("%v: %s", err, l)
				}
				switch {
				case o.Mark != "":
					marks = append(marks, o.Mark)
				case o.User == nil || *o.User != 25:
					t.Errorf("a row not at 25%% user: %s", l)
				case !o.Average:
					rows++
				}
			}
			if rows != c.rows || !slices.Equal(marks, c.marks) {
				t.Errorf("%d rows, want %d; marks %q, want %q:\n%s", rows, c.rows, marks, c.marks, out)
			}
		})
	}
}

// sarRunsFixture writes a data directory of one boot and the runs of the
// agent in it: the itiny stream's agent.start records and the CPU samples
// of a CPU 25% user, 75% idle (25 and 75 ticks a second).
func sarRunsFixture(t *testing.T, runs []sarRun) string {
	data := t.TempDir()
	metrics, self := sarRings(t, data)
	append1 := func(w *ringlog.Writer, c *catalog.Record, ms int64, vals ...codec.Value) {
		if _, err := w.Append(catalogRecord(c, 1, time.Duration(ms)*time.Millisecond, ms*1e6, vals...)); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range runs {
		append1(self, &catalog.AgentStart, r.start, codec.String("test"), codec.Uint(1), codec.Bool(i == 0), codec.Bool(true), codec.Uint(100))
		for _, ms := range r.samples {
			append1(metrics, &catalog.CPU, ms, codec.Uint(uint64(25*ms/1000)), codec.Uint(0), codec.Uint(0), codec.Uint(uint64(75*ms/1000)))
		}
	}
	for _, w := range []*ringlog.Writer{metrics, self} {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return data
}
