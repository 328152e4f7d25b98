package sar

import "github.com/itiny/itiny/catalog"

// catalog.Load's fields, by position.
const (
	loadAvg1 = iota
	loadAvg5
	loadAvg15
	loadRunning
	loadTasks
)

// Load is sar -q: the tasks running or runnable (runq-sz), the tasks in
// all (plist-sz), the load averages, and the tasks blocked on I/O, from
// the cpu record of the same boot (blank before there is one).
var Load = Report{
	Name: "load", Title: "run queue and load averages (sar -q)", Record: &catalog.Load, Also: &catalog.CPU,
	Columns: []Column{
		{"runq-sz", PerSample, 0}, {"plist-sz", PerSample, 0},
		{"ldavg-1", PerSample, 2}, {"ldavg-5", PerSample, 2}, {"ldavg-15", PerSample, 2}, {"blocked", PerSample, 0},
	},
	figures: loadFigures,
}

func loadFigures(s *sample, out []float64) {
	v := s.cur
	out[0] = v[loadRunning]
	out[1] = v[loadTasks]
	out[2] = v[loadAvg1]
	out[3] = v[loadAvg5]
	out[4] = v[loadAvg15]
	out[5] = nan
	if s.also != nil {
		out[5] = s.also[cpuBlocked]
	}
}
