package sar

import "github.com/itiny/itiny/catalog"

// catalog.Memory's fields, by position.
const (
	memTotal = iota
	memFree
	memAvailable
	memBuffers
	memCached
	memSwapTotal
	memSwapFree
	memDirty
	_ // writeback
	_ // shmem
	memSlab
)

// KB is sar's kilobyte, 1024 bytes: its kB figures times KB are bytes.
const KB = 1024

// Memory is sar -r with sar -S's swap figures, in kB of 1024 bytes.
// kbmemused is what sysstat 12 computes: total less free, buffers,
// cached and slab; %memused is of the total.
var Memory = Report{
	Name: "mem", Title: "memory and swap (sar -r, sar -S)", Record: &catalog.Memory,
	Columns: []Column{
		{"kbmemfree", PerSample, 0}, {"kbavail", PerSample, 0}, {"kbmemused", PerSample, 0}, {"%memused", PerSample, 2},
		{"kbbuffers", PerSample, 0}, {"kbcached", PerSample, 0}, {"kbdirty", PerSample, 0},
		{"kbswpfree", PerSample, 0}, {"kbswpused", PerSample, 0}, {"%swpused", PerSample, 2},
	},
	figures: memFigures,
}

func memFigures(s *sample, out []float64) {
	v := s.cur
	used := max(v[memTotal]-v[memFree]-v[memBuffers]-v[memCached]-v[memSlab], 0)
	swapUsed := max(v[memSwapTotal]-v[memSwapFree], 0)
	out[0] = v[memFree] / KB
	out[1] = v[memAvailable] / KB
	out[2] = used / KB
	out[3] = pct(used, v[memTotal])
	out[4] = v[memBuffers] / KB
	out[5] = v[memCached] / KB
	out[6] = v[memDirty] / KB
	out[7] = v[memSwapFree] / KB
	out[8] = swapUsed / KB
	out[9] = pct(swapUsed, v[memSwapTotal])
}
