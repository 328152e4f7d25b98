// The agent's runs as view.ListRuns tells them (one definition of a run):
// the summary's crashes, restarts and downtimes, and the charts' crash
// and restart markers. A crash is shown where the rings can tell it
// happened: at the last record the crashed run wrote, not at the start
// that found it.

package report

import (
	"time"

	"github.com/itiny/itiny/view"
)

// An ending is a run of the window that ended, and the run after it (nil
// for the last).
type ending struct {
	run, next *view.Run
}

// agentRuns is what the report tells of the runs in its window.
type agentRuns struct {
	unclean     []ending // crashed, the device rebooted under it, or died: by the time of their last record
	overUnclean int
	restarts    []ending // followed by a start within the same boot: by that start's time
	overRestart int
	stops       int // ended cleanly
	reloads     int
}

// newAgentRuns takes the runs whose ends (their last records) fall in
// the window, and the restarts in it.
func newAgentRuns(runs []view.Run, o *Options) *agentRuns {
	in := func(t time.Time) bool {
		return (o.Since.IsZero() || !t.Before(o.Since)) && (o.Until.IsZero() || t.Before(o.Until))
	}
	a := &agentRuns{}
	for i := range runs {
		r := &runs[i]
		for _, t := range r.Reloads {
			if in(t) {
				a.reloads++
			}
		}
		e := ending{run: r}
		if i+1 < len(runs) {
			e.next = &runs[i+1]
		}
		switch r.End {
		case view.RunCrashed, view.RunPowerLoss, view.RunDied:
			if in(r.Last.Wall) {
				a.unclean, a.overUnclean = appendBounded(a.unclean, a.overUnclean, e)
			}
		case view.RunStopped:
			if in(r.Last.Wall) {
				a.stops++
			}
		}
		if e.next != nil && !r.Rebooted && in(e.next.Start) {
			a.restarts, a.overRestart = appendBounded(a.restarts, a.overRestart, e)
		}
	}
	return a
}

// appendBounded appends e to s up to maxListed, else counts it in over.
func appendBounded(s []ending, over int, e ending) ([]ending, int) {
	if len(s) >= maxListed {
		return s, over + 1
	}
	return append(s, e), over
}

// downText says for how long the agent was down after e's run: at most,
// after a crash, which the agent may have outlived its last record by.
func downText(e ending) string {
	r := e.run
	switch {
	case e.next == nil:
		return ""
	case !r.DownKnown:
		return "down for a time not known: " + r.DownUnknown
	case r.End == view.RunStopped:
		return "down " + view.ShortDuration(r.Down)
	}
	return "down at most " + view.ShortDuration(r.Down)
}

// uncleanText says how e's run ended, what it wrote last and when it
// started again.
func (p *page) uncleanText(e ending) string {
	s := e.run.Cause() + "; last record: " + clip(e.run.Last.Stream, maxSrc) + " " + clip(e.run.Last.Name, maxName)
	if e.next == nil {
		return s + "; not started again"
	}
	return s + "; started again " + p.whenSec(stamp{e.next.Start, e.next.StartClock}) + ", " + downText(e)
}

// restartText says how the run before a restart ended, and the downtime.
func restartText(e ending) string {
	return "the run before: " + e.run.Cause() + "; " + downText(e)
}

// runMarks are the charts' markers of the runs: a crash at its run's
// last record, a restart after a clean stop at its start (a restart
// after a crash is in the crash's tooltip).
func (p *page) runMarks(a *agentRuns) []mark {
	var ms []mark
	for _, e := range a.unclean {
		ms = append(ms, mark{t: e.run.Last.Wall.UnixNano(), clock: e.run.Last.Clock, kind: markCrash, text: "agent: " + clip(p.uncleanText(e), maxFields)})
	}
	for _, e := range a.restarts {
		if e.run.End == view.RunStopped {
			ms = append(ms, mark{t: e.next.Start.UnixNano(), clock: e.next.StartClock, kind: markStart, text: "agent restart (" + restartText(e) + ")"})
		}
	}
	return ms
}
