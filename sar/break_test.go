package sar

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
)

// A row after a dropped interval of its series, and only such a row,
// has Break: a chart breaks its line where the marks say, per series.
func TestBreak(t *testing.T) {
	start := func(boot uint32, sec float64) step { return step{boot, sec, catalog.AgentStart.Name, nil} }
	n := func(boot uint32, sec float64, iface string, rxb int) step {
		return step{boot, sec, "net", net(iface, rxb, 0, 0, 0, 0, 0, 0, 0)}
	}
	both := func(boot uint32, sec float64, rx0, rx1 int) []step {
		return []step{n(boot, sec, "eth0", rx0), n(boot, sec, "eth1", rx1)}
	}
	var steps []step
	for _, s := range [][]step{
		{start(1, 0)}, both(1, 1, 0, 0), both(1, 11, 10240, 10240),
		// eth0's counter goes back, eth1's does not: eth0 alone breaks.
		both(1, 21, 0, 20480), both(1, 31, 10240, 30720),
		// A gap, then the agent's restart, then a reboot: both break.
		both(1, 131, 20480, 40960), both(1, 141, 30720, 51200),
		{start(1, 200)}, both(1, 201, 40960, 61440), both(1, 211, 51200, 71680),
		{start(2, 0)}, both(2, 1, 0, 0), both(2, 11, 10240, 10240),
	} {
		steps = append(steps, s...)
	}
	for _, every := range []time.Duration{0, 10 * time.Second} {
		var got []string
		for _, r := range run(t, &Net, every, steps) {
			switch {
			case r.Kind == Mark:
				got = append(got, r.Why)
			case r.Kind == Sample:
				got = append(got, fmt.Sprintf("%v %s %v", r.Time.Sub(t0), r.Instance, r.Break))
			}
		}
		want := []string{
			"11s eth0 false", "11s eth1 false",
			"reset", "21s eth1 false", "31s eth0 true", "31s eth1 false",
			"gap", "2m21s eth0 true", "2m21s eth1 true",
			"agent restart", "3m31s eth0 true", "3m31s eth1 true",
			"reboot", "11s eth0 true", "11s eth1 true",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("every %v: rows\n%s\nwant\n%s", every, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// A watched process's CPU share: over any interval between its records
// (written on change, not sampled), never across a new pid.
func TestProcess(t *testing.T) {
	p := func(sec float64, pid, ticks, rss int) step {
		return step{1, sec, catalog.Process.Name, []any{"process", "web", "pid", pid, "restarts", 0, "rss_bytes", rss, "cpu_ticks", ticks}}
	}
	check(t, run(t, &Process, 0, []step{
		p(5, 100, 0, 1<<20), p(15, 100, 50, 2<<20), // 50 ticks in 10 s: 5 %
		p(315, 100, 350, 2<<20), // 300 ticks in 300 s: 1 %, no gap
		p(325, 200, 900, 3<<20), // a new process: its ticks are not the old one's
		p(335, 200, 920, 3<<20), // 20 ticks in 10 s
	}), []string{
		"5s web - 1024.00", // RSS is a gauge: a row at once
		"15s web 5.00 2048.00",
		"5m15s web 1.00 2048.00",
		"5m25s reset (web: pid 100 to 200)",
		"5m25s web - 3072.00",
		"5m35s web 2.00 3072.00",
		// %CPU by time: (5×10 + 1×300 + 2×10) / 320; RSS by sample.
		"avg web 1.16 2252.80",
	})
}
