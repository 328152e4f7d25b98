package sar

import "github.com/itiny/itiny/catalog"

// catalog.CPU's fields, by position.
const (
	cpuUser = iota
	cpuNice
	cpuSystem
	cpuIdle
	cpuIowait
	cpuIrq
	cpuSoftirq
	cpuSteal
	cpuTicks // the number of tick counters; ctxt is here
	_        // intr
	_        // procs_running
	cpuBlocked
)

// CPU is sar -u: the share of the CPUs' time in each state over the
// interval, from /proc/stat's ticks. As in sar -u, %system holds the time
// servicing interrupts (irq, softirq); %busy is what is neither idle nor
// waiting for I/O.
var CPU = Report{
	Name: "cpu", Title: "CPU utilisation (sar -u)", Record: &catalog.CPU,
	Columns: []Column{
		{"%user", PerSecond, 2}, {"%nice", PerSecond, 2}, {"%system", PerSecond, 2}, {"%iowait", PerSecond, 2},
		{"%steal", PerSecond, 2}, {"%idle", PerSecond, 2}, {"%busy", PerSecond, 2},
	},
	figures: cpuFigures,
}

func cpuFigures(s *sample, out []float64) {
	var d [cpuTicks]float64
	total := 0.0
	for i := range d {
		d[i] = s.delta(i)
		total += d[i]
	}
	if !(total > 0) {
		fill(out, nan) // no interval, or no tick in it
		return
	}
	out[0] = pct(d[cpuUser], total)
	out[1] = pct(d[cpuNice], total)
	out[2] = pct(d[cpuSystem]+d[cpuIrq]+d[cpuSoftirq], total)
	out[3] = pct(d[cpuIowait], total)
	out[4] = pct(d[cpuSteal], total)
	out[5] = pct(d[cpuIdle], total)
	out[6] = pct(total-d[cpuIdle]-d[cpuIowait], total)
}

func fill(v []float64, x float64) {
	for i := range v {
		v[i] = x
	}
}
