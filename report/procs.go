// Watched processes' restarts, and how each process before ended, from
// their records in the state stream (catalog.Process): the agent writes
// one when a process starts, restarts (notice), stops cleanly (notice:
// it removed its pidfile) or vanishes (warning: it died).

package report

import (
	"sort"
	"strings"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// procRestarts is a watched process's restarts: the agent's count, and
// the last few with how the process before ended.
type procRestarts struct {
	count  int
	last   time.Time
	base   float64       // the agent's count at the last record
	pid    string        // of the last record while it ran
	down   procEnd       // how it ended since it last ran; zero while it runs
	recent []procRestart // the last maxProcRestarts, oldest first
}

// A procEnd is how a watched process ended.
type procEnd struct {
	at  time.Time
	how string
	pid string
}

// A procRestart is a new process of a watch.
type procRestart struct {
	at  time.Time
	pid string
	end procEnd // how the one before ended; zero when no record saw it down
}

// maxProcRestarts are the restarts of a process the summary lists.
const maxProcRestarts = 5

var (
	procCount = field(&catalog.Process, "restarts")
	procPid   = field(&catalog.Process, "pid")
)

// procHow says how a watched process ended, by its record's level.
func procHow(l codec.Level) string {
	switch {
	case l <= codec.LevelWarning:
		return "died"
	case l == codec.LevelNotice:
		return "stopped"
	}
	return "down when the agent started" // its first state: no end was seen
}

// process follows a watched process's records: the agent counts a new
// process as a restart, from zero at its own start.
func (e *events) process(r *codec.Record) {
	name := instance(&catalog.Process, r)
	n, ok := procCount.num(r)
	if name == "" || !ok {
		return
	}
	p := e.procs[name]
	if p == nil {
		if len(e.procs) >= maxTracked {
			return
		}
		// The first record in the window: what the agent counted before
		// it is not this window's, unless the agent started in it.
		p = &procRestarts{base: n}
		if e.run > 0 {
			p.base = 0
		}
		e.procs[strings.Clone(name)] = p
	}
	running, _ := procUp.flag(r)
	if !running && p.down.at.IsZero() {
		p.down = procEnd{at: r.Wall, how: procHow(r.Level), pid: clip(procPid.str(r), maxSrc)}
	}
	if n > p.base {
		p.count += int(n - p.base)
		p.last = r.Wall
		if running {
			if len(p.recent) == maxProcRestarts {
				p.recent = append(p.recent[:0], p.recent[1:]...)
			}
			end := p.down
			if end.at.IsZero() {
				end.pid = p.pid
			}
			p.recent = append(p.recent, procRestart{at: r.Wall, pid: clip(procPid.str(r), maxSrc), end: end})
		}
	}
	if running {
		p.pid, p.down = clip(procPid.str(r), maxSrc), procEnd{}
	}
	p.base = n
}

// procNames are the processes the summary tells of, by name: those that
// restarted, and those that ended and did not come back.
func (e *events) procNames() []string {
	var names []string
	for k, p := range e.procs {
		if p.count > 0 || p.down.how == "died" || p.down.how == "stopped" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// procItem writes the summary's item: each process's restarts, and when
// it ended if it did not come back.
func (p *page) procItem(e *events, names []string) {
	if len(names) == 0 {
		p.raw("none")
	}
	for i, k := range names {
		pr := e.procs[k]
		if i > 0 {
			p.raw("; ")
		}
		p.text(k)
		p.raw(": " + plural(pr.count, "restart", "restarts"))
		if pr.count > 0 {
			p.raw(" (last " + p.whenSec(pr.last) + ")")
		}
		if !pr.down.at.IsZero() {
			p.raw(", not running since " + p.whenSec(pr.down.at) + " (" + pr.down.how + ")")
		}
	}
}

// procTable lists the last restarts of each process: when and how the
// one before ended, and the new one's pid; and the end of one that did
// not come back.
func (p *page) procTable(e *events, names []string) {
	if len(names) == 0 {
		return
	}
	p.raw("<p class=\"note\">Watched processes: the last " + plural(maxProcRestarts, "restart", "restarts") +
		" of each. A process died when it vanished without removing its pidfile (or was watched by name), stopped when it removed it.</p>\n" +
		"<div class=\"tw\"><table id=\"proc-restarts\"><tr><th>process</th><th>pid</th><th>ended</th><th>how</th><th>restarted</th><th>new pid</th></tr>\n")
	row := func(name string, end procEnd, at time.Time, pid string) {
		p.raw("<tr><td>")
		p.text(name)
		p.raw("</td><td class=\"n\">")
		p.text(end.pid)
		p.raw("</td><td class=\"t\">")
		if end.at.IsZero() {
			p.raw("-</td><td class=\"note\">gone between two samples")
		} else {
			p.raw(p.whenSec(end.at) + "</td><td>")
			p.text(end.how)
		}
		p.raw("</td><td class=\"t\">")
		if at.IsZero() {
			p.raw("<span class=\"warn\">not restarted</span>")
		} else {
			p.raw(p.whenSec(at))
		}
		p.raw("</td><td class=\"n\">")
		p.text(pid)
		p.raw("</td></tr>\n")
	}
	for _, k := range names {
		pr := e.procs[k]
		for _, r := range pr.recent {
			row(k, r.end, r.at, r.pid)
		}
		if !pr.down.at.IsZero() {
			row(k, pr.down, time.Time{}, "")
		}
	}
	p.raw("</table></div>\n")
}
