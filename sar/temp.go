package sar

import "github.com/itiny/itiny/catalog"

// catalog.Thermal's fields, by position.
const (
	_ = iota // zone
	tempType
	tempC
)

// Temp is sar -m TEMP: per thermal zone, its temperature in degrees
// Celsius; the zone and its type come last, as sar's DEVICE.
var Temp = Report{
	Name: "temp", Title: "temperatures (sar -m TEMP)", Record: &catalog.Thermal, Instance: "ZONE", Labels: []int{tempType}, InstanceLast: true,
	Columns: []Column{{"degC", PerSample, 1}},
	figures: func(s *sample, out []float64) { out[0] = s.cur[tempC] },
}
