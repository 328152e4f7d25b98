package sar

import "github.com/itiny/itiny/catalog"

// catalog.Filesystem's fields, by position.
const (
	_ = iota // mount
	_        // fstype
	fsSize
	fsFree
	fsAvail
	_ // used_pct
	fsFiles
	fsFilesFree
)

// mB is sar -F's megabyte.
const mB = 1 << 20

// Filesystem is sar -F: per mounted filesystem, free and used space in
// MB (of 2^20 bytes), the share used of all blocks (%fsused) and of those
// a user may have (%ufsused, counting the blocks reserved for root as
// used), free inodes, used inodes and their share. As sar -F, the mount
// comes last, so that a long one does not break the columns.
var Filesystem = Report{
	Name: "fs", Title: "filesystems (sar -F)", Record: &catalog.Filesystem, Instance: "FILESYSTEM", InstanceLast: true,
	Columns: []Column{
		{"MBfsfree", PerSample, 0}, {"MBfsused", PerSample, 0}, {"%fsused", PerSample, 2}, {"%ufsused", PerSample, 2},
		{"Ifree", PerSample, 0}, {"Iused", PerSample, 0}, {"%Iused", PerSample, 2},
	},
	figures: fsFigures,
}

func fsFigures(s *sample, out []float64) {
	v := s.cur
	used := max(v[fsSize]-v[fsFree], 0)
	iused := max(v[fsFiles]-v[fsFilesFree], 0)
	out[0] = v[fsFree] / mB
	out[1] = used / mB
	out[2] = pct(used, v[fsSize])
	out[3] = pct(max(v[fsSize]-v[fsAvail], 0), v[fsSize])
	out[4] = v[fsFilesFree]
	out[5] = iused
	out[6] = pct(iused, v[fsFiles])
}
