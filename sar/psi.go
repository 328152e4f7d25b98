package sar

import "github.com/itiny/itiny/catalog"

// catalog.Pressure's fields, by position.
const (
	_ = iota // resource
	psiSomeAvg10
	psiSomeAvg60
	psiSomeTotal
	psiFullAvg10
	psiFullAvg60
	psiFullTotal
)

// PSI is sar -q CPU, IO and MEM: per resource, the share of time some
// tasks (or all, full) stalled on it, as the kernel's 10 s and 60 s
// averages and over the interval (from the totals, in µs). sar names the
// columns after the resource (%scpu-10, %sio, %fmem-60); here the
// resource is the instance: %some-10 of cpu is sar's %scpu-10.
var PSI = Report{
	Name: "psi", Title: "pressure stall information (sar -q CPU,IO,MEM)", Record: &catalog.Pressure, Instance: "RESOURCE",
	Columns: []Column{
		{"%some-10", PerSample, 2}, {"%some-60", PerSample, 2}, {"%some", PerSecond, 2},
		{"%full-10", PerSample, 2}, {"%full-60", PerSample, 2}, {"%full", PerSecond, 2},
	},
	figures: psiFigures,
}

// usPct turns µs of stall per second into a share of the time.
const usPct = 100.0 / 1e6

func psiFigures(s *sample, out []float64) {
	v := s.cur
	out[0] = v[psiSomeAvg10]
	out[1] = v[psiSomeAvg60]
	out[2] = s.rate(psiSomeTotal, usPct)
	out[3] = v[psiFullAvg10]
	out[4] = v[psiFullAvg60]
	out[5] = s.rate(psiFullTotal, usPct)
}
