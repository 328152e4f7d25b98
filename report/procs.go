// Watched processes' restarts, and how each process before ended, from
// their records in the state stream (catalog.Process): the agent writes
// one when a process starts, restarts (notice), ends cleanly (notice) or
// otherwise (warning), saying how (its reason, exit code or signal); an
// agent before that said it only by the level.

package report

import (
	"sort"
	"strconv"
	"strings"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// procRestarts is a watched process's restarts: the agent's count, and
// the last few with how the process before ended.
type procRestarts struct {
	count  int
	last   stamp
	base   float64       // the agent's count at the last record
	pid    string        // of the last record while it ran
	down   procEnd       // how it ended since it last ran; zero while it runs
	recent []procRestart // the last maxProcRestarts, oldest first
}

// A procEnd is how a watched process ended.
type procEnd struct {
	at  stamp
	how string
	pid string
}

// A procRestart is a new process of a watch.
type procRestart struct {
	at  stamp
	pid string
	end procEnd // how the one before ended; zero when no record saw it down
}

// maxProcRestarts are the restarts of a process the summary lists.
const maxProcRestarts = 5

var (
	procCount  = field(&catalog.Process, "restarts")
	procPid    = field(&catalog.Process, "pid")
	procReason = field(&catalog.Process, "reason")
	procCode   = field(&catalog.Process, "exit_code")
	procSignal = field(&catalog.Process, "signal")
	procCore   = field(&catalog.Process, "core")
)

// procUnseen is the end of a process down at the agent's start.
const procUnseen = "down when the agent started"

// procHow says how a watched process ended: by its record's reason, or
// for an agent that did not say, by its level.
func procHow(r *codec.Record) string {
	switch reason := procReason.str(r); reason {
	case "exited":
		code, _ := procCode.num(r)
		return "exited with code " + strconv.FormatFloat(code, 'f', -1, 64)
	case "killed":
		how := "killed by " + clip(procSignal.str(r), maxSrc)
		if core, _ := procCore.flag(r); core {
			how += ", core dumped"
		}
		return how
	case "stopped", "vanished":
		return reason
	}
	switch {
	case r.Level <= codec.LevelWarning:
		return "died"
	case r.Level == codec.LevelNotice:
		return "stopped"
	}
	return procUnseen // its first state: no end was seen
}

// process follows a watched process's records. The agent counts a new
// process as a restart, within a boot (an agent before issue 14's, from
// its own start): a count lower than the last is a reset.
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
		// it is not this window's, unless the device booted in it.
		p = &procRestarts{base: n}
		if e.nBoot > 0 {
			p.base = 0
		}
		e.procs[strings.Clone(name)] = p
	}
	running, _ := procUp.flag(r)
	if !running && p.down.at.IsZero() {
		p.down = procEnd{at: e.now, how: procHow(r), pid: clip(procPid.str(r), maxSrc)}
	}
	if n < p.base {
		p.base = 0 // a reset: a device boot, or an agent that counted from its start
	}
	if n > p.base {
		p.count += int(n - p.base)
		p.last = e.now
		if running {
			if len(p.recent) == maxProcRestarts {
				p.recent = append(p.recent[:0], p.recent[1:]...)
			}
			end := p.down
			if end.at.IsZero() {
				end.pid = p.pid
			}
			p.recent = append(p.recent, procRestart{at: e.now, pid: clip(procPid.str(r), maxSrc), end: end})
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
		if p.count > 0 || p.down.how != "" && p.down.how != procUnseen {
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
		" of each, and how the one before ended: its exit code or the signal that killed it where the agent had the kernel's word; else stopped when it removed its pidfile, vanished (died, for an older agent) when it did not or was watched by name.</p>\n" +
		"<div class=\"tw\"><table id=\"proc-restarts\"><tr><th>process</th><th>pid</th><th>ended</th><th>how</th><th>restarted</th><th>new pid</th></tr>\n")
	row := func(name string, end procEnd, at stamp, pid string) {
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
			row(k, pr.down, stamp{}, "")
		}
	}
	p.raw("</table></div>\n")
}
