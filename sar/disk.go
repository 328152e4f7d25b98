package sar

import "github.com/itiny/itiny/catalog"

// catalog.Disk's fields, by position.
const (
	_ = iota // device
	diskReads
	_ // reads_merged
	diskSectorsRead
	diskReadMs
	diskWrites
	_ // writes_merged
	diskSectorsWritten
	diskWriteMs
	_ // in_flight
	diskIoMs
	diskWeightedIoMs
)

// Disk is sar -d: per device, transfers (I/O requests completed) per
// second, kB read and written per second, the average request size in kB,
// the average queue length, the average time a request took (await, ms,
// from read_ms and write_ms over the requests) and the share of the
// interval the device was busy (%util, from io_ms; at most 100).
var Disk = Report{
	Name: "disk", Title: "block devices (sar -d)", Record: &catalog.Disk, Instance: "DEV",
	Columns: []Column{
		{"tps", PerSecond, 2}, {"rkB/s", PerSecond, 2}, {"wkB/s", PerSecond, 2}, {"areq-sz", PerRequest, 2},
		{"aqu-sz", PerSecond, 2}, {"await", PerRequest, 2}, {"%util", PerSecond, 2},
	},
	figures:  diskFigures,
	requests: func(s *sample) float64 { return s.delta(diskReads) + s.delta(diskWrites) },
}

func diskFigures(s *sample, out []float64) {
	ios := s.delta(diskReads) + s.delta(diskWrites)
	sectors := s.delta(diskSectorsRead) + s.delta(diskSectorsWritten)
	out[0] = s.rate(diskReads, 1) + s.rate(diskWrites, 1)
	out[1] = s.rate(diskSectorsRead, float64(catalog.SectorBytes)/KB)
	out[2] = s.rate(diskSectorsWritten, float64(catalog.SectorBytes)/KB)
	out[3], out[5] = 0, 0 // no request: sar prints 0.00
	if ios > 0 {
		out[3] = sectors * catalog.SectorBytes / KB / ios
		out[5] = (s.delta(diskReadMs) + s.delta(diskWriteMs)) / ios
	}
	out[4] = s.rate(diskWeightedIoMs, 1.0/1000)
	out[6] = min(s.rate(diskIoMs, 100.0/1000), 100)
	if !s.ok {
		out[3], out[5] = nan, nan
	}
}
