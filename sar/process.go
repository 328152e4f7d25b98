package sar

import "github.com/itiny/itiny/catalog"

// catalog.Process's fields, by position.
const (
	_ = iota // process
	_        // running
	_        // pid
	_        // restarts
	procRSS
	procCPUTicks
)

// Process is the figures of pidstat -u and -r for a watched process: its
// CPU time over the interval as a share of one CPU (%CPU), and its
// resident memory in kB. It is not one of Reports (sar has none such): the
// report's charts of watched processes take it for the reports' rule of
// rates. The agent writes a process's record when it changes and at each
// snapshot, not at a steady interval, so a long interval is no gap; a new
// pid is a new process, whose counters start again.
var Process = Report{
	Name: "process", Title: "watched processes (pidstat -u, -r)", Record: &catalog.Process, Instance: "PROCESS",
	Columns: []Column{{"%CPU", PerSecond, 2}, {"RSS", PerSample, 0}},
	figures: func(s *sample, out []float64) {
		out[0] = s.rate(procCPUTicks, 100.0/catalog.TicksPerSecond)
		out[1] = s.cur[procRSS] / KB
	},
	unsampled: true,
	restart:   "pid",
}
