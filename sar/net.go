package sar

import "github.com/itiny/itiny/catalog"

// catalog.Net's fields, by position.
const (
	_ = iota // iface
	netRxBytes
	netRxPackets
	netRxErrs
	netRxDrop
	netTxBytes
	netTxPackets
	netTxErrs
	netTxDrop
)

// Net is sar -n DEV and sar -n EDEV in one table: per interface, packets,
// kB (of 1024 bytes), errors and drops per second.
var Net = Report{
	Name: "net", Title: "network interfaces (sar -n DEV, sar -n EDEV)", Record: &catalog.Net, Instance: "IFACE",
	Columns: []Column{
		{"rxpck/s", PerSecond, 2}, {"txpck/s", PerSecond, 2}, {"rxkB/s", PerSecond, 2}, {"txkB/s", PerSecond, 2},
		{"rxerr/s", PerSecond, 2}, {"txerr/s", PerSecond, 2}, {"rxdrop/s", PerSecond, 2}, {"txdrop/s", PerSecond, 2},
	},
	figures: netFigures,
}

func netFigures(s *sample, out []float64) {
	out[0] = s.rate(netRxPackets, 1)
	out[1] = s.rate(netTxPackets, 1)
	out[2] = s.rate(netRxBytes, 1.0/KB)
	out[3] = s.rate(netTxBytes, 1.0/KB)
	out[4] = s.rate(netRxErrs, 1)
	out[5] = s.rate(netTxErrs, 1)
	out[6] = s.rate(netRxDrop, 1)
	out[7] = s.rate(netTxDrop, 1)
}
