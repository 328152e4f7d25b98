// Package report writes itiny-read's report: one self-contained HTML page
// about a device's rings for a field engineer, that leads with the
// problems. It reads the rings through view (merged, verified) and the
// agent's records through the catalogue.
//
// The files are by role: report.go reads the records into what the page
// needs, with events.go (the event streams: groups, the summary's
// figures), figures.go (the metrics: sar's figures, as lines) and
// chart.go (lines and charts); svg.go draws a chart;
// page.go and sections.go write the HTML.
package report

import (
	"bufio"
	"io"
	"strings"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/view"
)

// Options shape a report. The zero value reports everything, times in
// UTC.
type Options struct {
	Title        string         // the page's heading; default "itiny report"
	Since, Until time.Time      // the window of the charts and the events; zero: open
	Location     *time.Location // times are shown in; nil: UTC
	Generated    time.Time      // shown in the heading when set
	Generator    string         // e.g. "itiny-read 0.1.0", shown when set
	Problems     []string       // met opening the inputs (a bundle's changed files)
	MaxCharts    int            // default 12
	MaxPoints    int            // per line of a chart; default 600
	MaxEvents    int            // rows of the events table (a row per name, source and level); default 2000
}

func (o *Options) defaults() {
	if o.Title == "" {
		o.Title = "itiny report"
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.MaxCharts <= 0 {
		o.MaxCharts = 12
	}
	if o.MaxPoints < 4 {
		o.MaxPoints = 600
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = 2000
	}
}

// Write writes one self-contained HTML page about srcs for a field
// engineer: a summary of the problems (levels, crashes, restarts, alarms,
// verify and loss), the events most severe first with repeats grouped,
// charts of the metrics with markers of what happened, the agent's own
// figures and configuration, and verify's, boots' and gaps' details. It
// needs no network, no other file and no JavaScript: CSS and SVG are
// inline. Every string read from a ring is escaped.
//
// It reads each ring four times: verify (view.Check), boots
// (view.ListBoots), runs (view.ListRuns), and the window's records for
// the rest.
func Write(w io.Writer, srcs []*view.Source, o Options) error {
	o.defaults()
	var rings []*view.Health
	for _, s := range srcs {
		h, err := view.Check(s)
		if err != nil {
			return err
		}
		rings = append(rings, h)
	}
	boots, err := view.ListBoots(srcs)
	if err != nil {
		return err
	}
	runs, err := view.ListRuns(srcs)
	if err != nil {
		return err
	}
	view.EndBoots(boots, runs)
	d, err := collect(srcs, &o)
	if err != nil {
		return err
	}
	p := &page{w: bufio.NewWriterSize(w, 64<<10), o: &o}
	p.write(srcs, rings, boots, runs, d)
	if p.err != nil {
		return p.err
	}
	return p.w.Flush()
}

// reportData is what the pass over the window's records gathered.
type reportData struct {
	charts    []*chart // to draw, in order
	leftOut   []string // worth a chart, beyond MaxCharts
	untracked int      // series beyond maxTracked, not even gathered
	samples   int      // metrics records in the window
	tiers     []string // which rollup tier of the metrics each part of the window is from (view.Tiers.Parts)
	ev        *events
}

// Bounds on what one report holds in memory and prints.
const (
	maxTracked  = 96    // charts gathered (the metrics of 96 mounts, disks, interfaces...)
	compactAt   = 16384 // points of a line held before it is downsampled
	compactTo   = 4096
	maxName     = 300  // runes of a record's name in a table
	maxSrc      = 64   // runes of a record's source
	maxFields   = 1000 // bytes of a record's fields as text
	maxProblems = 200  // damage rows
	maxGaps     = 200  // gap rows
)

// collect reads the window's records once, merged: the metrics stream
// into charts and the agent's own figures, the other streams into events
// (and watched processes into charts too). The charts read the metrics'
// rollup tiers (metrics.1m, metrics.1h) where the window is long: the
// coarsest that still gives a line MaxPoints points, finer ones where it
// has no records yet (view.PlanTiers).
func collect(srcs []*view.Source, o *Options) (*reportData, error) {
	clocks, err := view.LearnClocks(srcs)
	if err != nil {
		return nil, err
	}
	tiers, err := view.PlanTiers(srcs, clocks, view.TierOptions{Points: o.MaxPoints, Since: o.Since, Until: o.Until})
	if err != nil {
		return nil, err
	}
	m, err := view.NewMerger(tiers.Sources(srcs), o.Since)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	m.Clocks = clocks
	tiers.PassOver(m)
	f := view.Filter{Since: o.Since, Until: o.Until, Tiers: tiers}
	acc := newMetrics()
	ev := newEvents(o.MaxEvents)
	d := &reportData{ev: ev, tiers: tiers.Parts(catalog.StreamMetrics)}
	for {
		it, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if it.Kind != view.KindRecord || !f.Keep(it.Source.Stream, it.Rec) {
			continue // boots, gaps and damage have their sections
		}
		r := it.Rec
		every := tiers.Every(it.Source.Stream)
		if err := acc.read(r, every); err != nil {
			return nil, err
		}
		if base, _ := view.ParseTier(it.Source.Stream); base == catalog.StreamMetrics {
			d.samples++
			if c := selfRecord(r.Name); c != nil && r.Source == catalog.SelfSource {
				if every == 0 {
					ev.selfStat(c, r, it.Time) // its own figures' section reads samples
				}
				continue
			}
			acc.add(r)
			continue
		}
		if r.Source == catalog.SelfSource && r.Name == catalog.AgentStart.Name {
			acc.restart()
		}
		ev.record(it.Source.Stream, r, it.Time)
	}
	d.charts, d.leftOut = acc.choose(o.MaxCharts, o.MaxPoints)
	d.untracked = len(acc.untracked)
	return d, nil
}

// selfRecord returns the catalogue's record of the agent's own figures
// of that name, nil for another.
func selfRecord(name string) *catalog.Record {
	switch name {
	case catalog.StreamStats.Name:
		return &catalog.StreamStats
	case catalog.IngestPeer.Name:
		return &catalog.IngestPeer
	case catalog.AgentIO.Name:
		return &catalog.AgentIO
	}
	return nil
}

// clip copies s, cut to at most n runes.
func clip(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return strings.Clone(s[:j]) + "…"
		}
		i++
	}
	return strings.Clone(s)
}
