// Package sar turns the records the itiny agent writes into the figures
// sysstat's sar shows: per interval, CPU utilisation (sar -u), memory and
// swap (-r, -S), network interfaces (-n DEV, -n EDEV), disks (-d),
// filesystems (-F), the run queue and load (-q), pressure stall
// information (-q CPU, IO, MEM) and temperatures (-m TEMP), with sar's
// names and units.
//
// A Reader takes the records in the merged order of the rings (boot
// counter, then monotonic time) and hands rows to a Writer: text aligned
// as sar prints it, JSON lines, or CSV. Rates come from two samples of one
// series (a record name and instance) in one boot and one run of the
// agent; an interval across a reboot, an agent restart, a gap in the
// samples or a counter that went back is dropped and a mark row says why
// (docs/DESIGN.md, "Rates and resets"). A rollup tier's summaries
// (Reader.AddFrom) carry their own rates and means: their rows need no
// sample before them, and say their tier (Row.Tier).
package sar

import (
	"fmt"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/view"
)

// A Report is one of sar's tables: which records it reads and the figures
// it computes from them.
type Report struct {
	Name  string // cpu, mem, net, disk, fs, load, psi, temp
	Title string // what it shows, and sar's option for it
	// Record drives the rows: a row per sample of it (per instance).
	Record *catalog.Record
	// Also is a record whose latest sample in the same boot the figures
	// read beside Record's (the load report's blocked tasks are in cpu).
	Also *catalog.Record
	// Instance heads the instance column ("" when the record has one
	// instance); Labels head the columns of Record's other labels, shown
	// after it.
	Instance string
	Labels   []int // indexes of Record's label fields shown
	// InstanceLast puts the instance and labels after the figures, as
	// sar -F does for names of any length.
	InstanceLast bool
	Columns      []Column
	// figures computes a row's figures into out (len(Columns)) from the
	// sample's values; s.ok is false without an interval before it, and
	// rate figures are then NaN.
	figures func(s *sample, out []float64)
	// requests returns the I/O requests of the sample's interval, the
	// weight of PerRequest figures.
	requests func(s *sample) float64
	// unsampled is set for a record written on change rather than at a
	// steady interval: a long interval is no gap in its samples.
	unsampled bool
	// restart is a label field whose change means the counters started
	// again (a process's pid): the interval is dropped as a reset.
	restart string
}

// Column returns the place of the figure named name (sar's: %busy,
// rxkB/s) in the report's rows, -1 when it has none.
func (r *Report) Column(name string) int {
	for i, c := range r.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// A Column is one figure of a report.
type Column struct {
	Name string // sar's: %user, rxkB/s, await
	Avg  Weight // how rows of it are averaged
	Prec int    // decimals in text, as sar prints it
}

// A Weight says how a figure is averaged over rows (--every, Average), so
// that the average is the figure of the rows' intervals taken as one, as
// sar computes it.
type Weight uint8

const (
	PerSample  Weight = iota // a gauge: the mean of its samples
	PerSecond                // a figure over an interval: weighted by its length
	PerRequest               // a figure per I/O request (await): weighted by the requests
)

// Reports are the reports in the order of the help text.
var Reports = []*Report{&CPU, &Memory, &Net, &Disk, &Filesystem, &Load, &PSI, &Temp}

// Lookup returns the report named name, or nil.
func Lookup(name string) *Report {
	for _, r := range Reports {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// A RowKind says what a Row is.
type RowKind uint8

const (
	Sample  RowKind = iota // figures over an interval (or of a sample, for gauges)
	Average                // an instance's figures over every row before it
	Mark                   // a reboot, agent restart, gap or counter reset
)

// A Row is one line of a report.
type Row struct {
	Kind RowKind
	// Time is the wall time of the last sample the row covers (of the
	// record that marks, for a Mark); zero for Average. Clock says how
	// the view came to it (AddMarked): repaired, untrusted, or as is.
	Time     time.Time
	Clock    view.TimeMark
	Boot     uint32
	Instance string
	Labels   []string
	Values   []float64 // NaN: not available
	// Why tells a Mark: "reboot", "agent restart", "gap", "reset".
	Why  string
	Note string // a Mark's detail: the boot, the span, the instance
	// Break is set on a Sample row that follows a dropped interval of its
	// series: a mark stands between it and the series' row before, and a
	// chart breaks its line there (the writers do not print it).
	Break bool
	// Tier says what the row's figures come from (view.TierName): "raw"
	// samples, or a rollup tier's summaries, "1m", "1h"; tiers joined by
	// "+" for a row over several (a span of Options.Every, an Average).
	Tier string
}

// A Writer writes a report's rows.
type Writer interface {
	Write(r *Row) error
	Flush() error
}

// Options are the options of a Reader.
type Options struct {
	// Every averages the rows over spans of wall time this long, aligned
	// to the zone's midnight; 0 keeps a row per sample interval.
	Every    time.Duration
	Location *time.Location // for Every's alignment; nil is UTC
}

// maxEvery bounds Every: a day.
const maxEvery = 24 * time.Hour

// ParseEvery parses --every: a span of whole seconds from 1s to 24h,
// such as 1m, 5m or 1h.
func ParseEvery(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("--every %q: want a span such as 1m, 5m, 1h", s)
	case d < time.Second || d > maxEvery || d%time.Second != 0:
		return 0, fmt.Errorf("--every %q: want whole seconds from 1s to 24h", s)
	}
	return d, nil
}
