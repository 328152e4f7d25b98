// The report's HTML: the page writer and its escaping, the style sheet,
// the heading and the summary. sections.go writes the other sections.

package report

import (
	"bufio"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

// page writes the HTML. Fixed markup goes through raw; every string that
// came from a ring or a path goes through text, which escapes it.
type page struct {
	w   *bufio.Writer
	o   *Options
	err error
	buf []byte
}

// raw writes s unless an earlier write failed. Out of line: inlined, it
// was code at its 253 call sites, 17 KB of the reader.
//
//go:noinline
func (p *page) raw(s string) {
	if p.err == nil {
		_, p.err = p.w.WriteString(s)
	}
}

func (p *page) bytes(b []byte) {
	if p.err == nil {
		_, p.err = p.w.Write(b)
	}
}

func (p *page) text(s string) {
	p.buf = appendEscaped(p.buf[:0], s)
	p.bytes(p.buf)
}

func (p *page) int(n int64) { p.raw(strconv.FormatInt(n, 10)) }

// when formats a wall time in the report's zone.
func (p *page) when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(p.o.Location).Format("2006-01-02 15:04:05.000")
}

// A stamp is a record's wall time as the view shows it, and how the view
// came to it: the page writes it with its sign.
type stamp struct {
	t     time.Time
	clock view.TimeMark
}

func (s stamp) IsZero() bool { return s.t.IsZero() }

// whenMarked is when, followed by the sign of how the view came to the
// time (view.TimeMark.Sign: ~ repaired, ? untrusted).
func (p *page) whenMarked(t time.Time, mark view.TimeMark) string {
	return signed(p.when(t), mark)
}

// signed is s, a time, followed by mark's sign; none for a trusted one.
func signed(s string, mark view.TimeMark) string {
	if c := mark.Sign(); c > ' ' {
		return s + string(c)
	}
	return s
}

// repaired reports whether a boot's times are repaired, or untrusted.
func repaired(boots []view.BootInfo) bool {
	for _, b := range boots {
		if b.FirstClock == view.TimeCorrected || b.FirstClock.Untrusted() {
			return true
		}
	}
	return false
}

// whenSec is when to the second, followed by its sign.
func (p *page) whenSec(s stamp) string {
	if s.t.IsZero() {
		return "-"
	}
	return signed(s.t.In(p.o.Location).Format("2006-01-02 15:04:05"), s.clock)
}

// appendEscaped escapes s for HTML text and quoted attributes, and for
// XML (the SVG): control characters and invalid UTF-8 become U+FFFD.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '<':
				b = append(b, "&lt;"...)
			case c == '>':
				b = append(b, "&gt;"...)
			case c == '&':
				b = append(b, "&amp;"...)
			case c == '"':
				b = append(b, "&#34;"...)
			case c == '\'':
				b = append(b, "&#39;"...)
			case c < ' ' && c != '\t' && c != '\n' || c == 0x7f:
				b = append(b, "\uFFFD"...)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r >= 0x80 && r < 0xa0 || r == 0xfffe || r == 0xffff {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}

// span is a chart's time axis caption: its dates and zone.
func (p *page) span(t0, t1 int64) string {
	a, b := time.Unix(0, t0).In(p.o.Location), time.Unix(0, t1).In(p.o.Location)
	s := a.Format("2006-01-02 15:04:05") + " to "
	if a.YearDay() == b.YearDay() && a.Year() == b.Year() {
		s += b.Format("15:04:05")
	} else {
		s += b.Format("2006-01-02 15:04:05")
	}
	return s + " " + zoneName(p.o.Location, a)
}

// zoneName names the zone of the report's times.
func zoneName(loc *time.Location, t time.Time) string {
	if loc == time.UTC {
		return "UTC"
	}
	return t.In(loc).Format("MST (UTC-07:00)")
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// plural writes n and its noun, one or many: "1 boot", "2 boots".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// The level filter: a radio button per threshold, before the tables of
// the levels they hide, so that CSS alone (:checked and ~) filters: no
// script needed.
var filters = []struct {
	id    string
	label string
	max   codec.Level // the least severe level shown
}{
	{"lv-all", "all", codec.LevelDebug},
	{"lv-5", "notice and worse", codec.LevelNotice},
	{"lv-4", "warning and worse", codec.LevelWarning},
	{"lv-3", "err and worse", codec.LevelErr},
	{"lv-2", "crit and worse", codec.LevelCrit},
}

// filterCSS hides, for each threshold checked, the tables of the levels
// less severe, and marks its label.
func filterCSS() string {
	var b strings.Builder
	for _, f := range filters {
		sep := ""
		for l := f.max + 1; l <= codec.LevelDebug; l++ {
			b.WriteString(sep + "#" + f.id + ":checked~.lvt" + strconv.Itoa(int(l)))
			sep = ","
		}
		if sep != "" {
			b.WriteString("{display:none}\n")
		}
		b.WriteString("#" + f.id + ":checked~.lvbar label[for=" + f.id + "]{background:#333;color:#fff}\n")
	}
	return b.String()
}

const reportCSS = `body{font:13px/1.4 system-ui,sans-serif;margin:16px 20px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:13px;margin:10px 0 2px}nav a{margin-right:14px;color:#333}
table{border-collapse:collapse;font-size:12px;margin:4px 0 8px}th,td{padding:2px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}td.t{white-space:nowrap;font-variant-numeric:tabular-nums}
td.w{word-break:break-all;min-width:12em}
td.f{font-family:ui-monospace,monospace;word-break:break-all;white-space:pre-wrap}
.badge{display:inline-block;padding:1px 8px;border-radius:3px;font-weight:bold;color:#fff;font-size:12px}
.ok{background:#2e7d32}.bad{background:#c62828}.note{color:#666}.warn{color:#b26a00}
.sum{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}.sum dt{font-weight:600}.sum dd{margin:0;min-width:0;overflow-wrap:anywhere}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:12px 16px}
figure{margin:0;border:1px solid #e3e3e3;padding:6px 6px 2px}figure svg{display:block;width:100%;height:auto}.legend{font-size:11px;color:#444}
.sw{display:inline-block;width:14px;height:3px;vertical-align:middle;margin:0 4px 0 8px}
.lv{display:inline-block;min-width:52px;padding:0 4px;border-radius:2px}
.lv0,.lv1,.lv2{background:#8e0000;color:#fff;font-weight:bold}.lv3{color:#e53935;font-weight:bold}
.lv4{color:#b26a00;font-weight:bold}.lv5{font-weight:bold}.lv7{color:#999}
.tw{overflow-x:auto;max-width:100%}.lvt table{width:100%}.lvt td.f{width:45%}
.lvf{position:absolute;opacity:0;pointer-events:none}
.lvbar label{display:inline-block;border:1px solid #999;border-radius:3px;padding:0 8px;margin-right:6px;cursor:pointer}
pre.conf{background:#f7f7f7;border:1px solid #e3e3e3;padding:6px;max-height:40em;overflow:auto;white-space:pre-wrap}
`

func (p *page) write(srcs []*view.Source, rings []*view.Health, boots []view.BootInfo, runs []view.Run, d *reportData) {
	o := p.o
	p.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width\"/>\n<title>")
	p.text(o.Title)
	p.raw("</title>\n<style>\n" + reportCSS + filterCSS() + "</style></head>\n<body>\n<header><h1>")
	p.text(o.Title)
	p.raw("</h1>\n<p class=\"note\">")
	if !o.Generated.IsZero() {
		p.raw("Generated " + p.when(o.Generated))
		if o.Generator != "" {
			p.raw(" by ")
			p.text(o.Generator)
		}
		p.raw(". ")
	}
	p.raw("Times in ")
	p.text(zoneName(o.Location, time.Now()))
	p.raw(", as the device's wall clock wrote them")
	if repaired(boots) {
		p.raw(", but for the records of a boot taken before its clock was first synchronised: their times are repaired, the monotonic clock plus the offset at that sync (marked ~); a boot never synchronised, or whose clock the rings no longer tell, has its clock's times, untrusted (marked ?); Boots and gaps says which")
	}
	p.raw(". Window of the summary, events and charts: ")
	if o.Since.IsZero() && o.Until.IsZero() {
		p.raw("everything in the rings")
	}
	if !o.Since.IsZero() {
		p.raw("from " + p.when(o.Since) + " ")
	}
	if !o.Until.IsZero() {
		p.raw("until " + p.when(o.Until))
	}
	p.raw(" (verify, boots and gaps cover the whole rings).</p>\n<p>")
	corrupt, bad := 0, 0
	for _, r := range rings {
		corrupt += r.Corrupt
		if r.Corrupt > 0 {
			bad++
		}
	}
	if corrupt > 0 {
		p.raw("<span class=\"badge bad\">CORRUPT</span> ")
		p.raw(plural(corrupt, "problem", "problems") + " in " + strconv.Itoa(bad) + " of ")
	} else {
		p.raw("<span class=\"badge ok\">OK</span> ")
	}
	p.raw(plural(len(rings), "ring", "rings") + ": ")
	for i, s := range srcs {
		if i > 0 {
			p.raw(", ")
		}
		p.text(s.Stream)
		p.raw(" <span class=\"note\">")
		p.text(s.Where)
		p.raw("</span>")
	}
	p.raw("</p>\n")
	if len(o.Problems) > 0 {
		p.raw("<p class=\"warn\">Problems met reading the inputs:</p><ul class=\"warn\">")
		for _, pr := range o.Problems {
			p.raw("<li>")
			p.text(pr)
			p.raw("</li>")
		}
		p.raw("</ul>\n")
	}
	p.raw("<nav><a href=\"#summary\">Summary</a><a href=\"#events\">Events</a><a href=\"#metrics\">Metrics</a><a href=\"#agent\">Agent</a><a href=\"#verify\">Verify</a><a href=\"#boots\">Boots and gaps</a></nav>\n</header>\n")
	a := newAgentRuns(runs, o)
	d.ev.marks = append(p.runMarks(a), d.ev.marks...) // a crash first: its tooltip's
	p.summary(rings, boots, a, d)
	p.events(d.ev)
	p.metrics(d, boots)
	p.agent(d.ev)
	p.verify(rings)
	p.boots(boots, rings)
	p.raw("</body></html>\n")
}

// summary leads the page: what a field engineer asks first. Each item is
// a dt (what) and a dd (how many, when), with an id the tests find.
func (p *page) summary(rings []*view.Health, boots []view.BootInfo, a *agentRuns, d *reportData) {
	e := d.ev
	p.raw("<section id=\"summary\"><h2>Summary</h2>\n<dl class=\"sum\">\n")
	item := func(id, what string) {
		p.raw("<dt>" + what + "</dt><dd id=\"sum-" + id + "\">")
	}

	// Verify, and loss as verify words it.
	item("verify", "Verify")
	for i, r := range rings {
		if i > 0 {
			p.raw("<br/>")
		}
		if r.Corrupt > 0 || r.Unsupported > 0 {
			p.raw("<span class=\"badge bad\">")
		} else {
			p.raw("<span class=\"badge ok\">")
		}
		p.text(r.Verdict())
		p.raw("</span> ")
		p.text(r.Stream)
		p.raw(" <span class=\"note\">")
		p.text(r.Where)
		p.raw("</span>")
	}
	p.raw("</dd>\n")
	item("loss", "Loss")
	any := false
	for _, r := range rings {
		if r.LossText() == "none" && r.Retired == 0 {
			continue
		}
		if any {
			p.raw("<br/>")
		}
		any = true
		p.text(r.Stream)
		p.raw(": ")
		p.text(r.LossText())
		if t := r.RetiredText(); t != "" {
			p.raw("; retired: ")
			p.text(t)
		}
	}
	if !any {
		p.raw("none: every stream is numbered without a gap")
	}
	p.raw("</dd>\n")

	// Levels and sources.
	item("levels", "Records by level")
	p.raw(plural(e.count, "record", "records") + " of the event streams:")
	for l, n := range e.levels {
		if n > 0 {
			p.raw(" <span class=\"lv lv" + strconv.Itoa(l) + "\">" + codec.Level(l).String() + "</span> ")
			p.int(int64(n))
		}
	}
	p.raw("</dd>\n")
	item("sources", "Records by source")
	p.counts(e.sources, ", ", " ", true)
	if e.overSrc > 0 {
		p.raw(", other sources ")
		p.int(int64(e.overSrc))
	}
	p.raw("</dd>\n")

	// Runs of the agent, as view.ListRuns tells them, and boots of the
	// device.
	item("crashes", "Crashes")
	p.raw(plural(len(a.unclean)+a.overUnclean, "unclean end", "unclean ends") + " of the agent's runs (it crashed or was killed, or the device rebooted or lost power under it), at the last record each wrote")
	for i, u := range a.unclean {
		p.raw(map[bool]string{true: ": ", false: "; "}[i == 0] + p.whenSec(stamp{u.run.Last.Wall, u.run.Last.Clock}) + " (")
		p.text(p.uncleanText(u))
		p.raw(")")
	}
	if a.overUnclean > 0 {
		p.raw("; " + plural(a.overUnclean, "more", "more") + ": itiny-read runs lists them")
	}
	if n := e.kernel[catalog.KernelPanic.Name]; n > 0 {
		p.raw("; " + plural(n, "kernel panic", "kernel panics"))
	}
	p.raw("</dd>\n")
	item("boots", "Boots")
	p.raw(plural(len(boots), "boot", "boots") + " in the rings; " +
		plural(e.nBoot, "agent start", "agent starts") + " at a device boot in the window")
	for i, t := range e.bootStarts {
		p.raw(map[bool]string{true: ": ", false: ", "}[i == 0] + p.whenSec(t))
	}
	if len(boots) > 1 {
		// How the boots before the last ended: why the device rebooted.
		ended := map[string]int{}
		for _, b := range boots[:len(boots)-1] {
			ended[b.Ended]++
		}
		p.raw("; how they ended: ")
		p.counts(ended, ", ", " ", true)
	}
	p.raw("</dd>\n")
	item("restarts", "Agent restarts")
	p.raw(plural(len(a.restarts)+a.overRestart, "start", "starts") + " of the agent within a boot")
	for i, r := range a.restarts {
		p.raw(map[bool]string{true: ": ", false: "; "}[i == 0] + p.whenSec(stamp{r.next.Start, r.next.StartClock}) + " (")
		p.text(restartText(r))
		p.raw(")")
	}
	p.raw("; " + plural(a.stops, "clean stop", "clean stops") + "; " + plural(a.reloads, "configuration reload", "configuration reloads") + "</dd>\n")
	if len(e.kernel) > 0 {
		item("kernel", "Kernel")
		p.counts(e.kernel, ", ", " ", false)
		p.raw("</dd>\n")
	}

	// Rule alarms and watched processes.
	item("alarms", "Rule alarms")
	p.raw(plural(len(e.alarms)+e.overAlarms, "alarm", "alarms") + " in the window</dd>\n")
	item("procs", "Process restarts")
	procs := e.procNames()
	p.procItem(e, procs)
	p.raw("</dd>\n</dl>\n")
	p.alarms(e)
	p.procTable(e, procs)
	p.raw("</section>\n")
}

// counts writes m's names and counts, name eq count, apart by sep: the
// largest first when byCount, else by name.
func (p *page) counts(m map[string]int, sep, eq string, byCount bool) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if a, b := m[names[i]], m[names[j]]; byCount && a != b {
			return a > b
		}
		return names[i] < names[j]
	})
	for i, k := range names {
		if i > 0 {
			p.raw(sep)
		}
		p.text(k)
		p.raw(eq)
		p.int(int64(m[k]))
	}
}

// alarms lists the rules' alarms: when each fired and when it cleared.
func (p *page) alarms(e *events) {
	if len(e.alarms) == 0 {
		return
	}
	p.raw("<div class=\"tw\"><table id=\"alarms\"><tr><th>rule</th><th>instance</th><th>level</th><th>fired</th><th>value</th><th>limit</th><th>cleared</th></tr>\n")
	for _, a := range e.alarms {
		p.raw("<tr><td>")
		p.text(a.rule)
		p.raw("</td><td>")
		p.text(a.inst)
		p.raw("</td><td>")
		p.level(a.level)
		p.raw("</td><td class=\"t\">")
		if a.fired.IsZero() {
			p.raw("before the window")
		} else {
			p.raw(p.whenSec(a.fired))
		}
		p.raw("</td><td class=\"n\">")
		p.text(a.value)
		p.raw("</td><td class=\"n\">")
		p.text(a.limit)
		p.raw("</td><td class=\"t\">")
		switch {
		case a.cleared.IsZero():
			p.raw("<span class=\"warn\">not cleared</span>")
		case a.clearedBy != "":
			p.raw(p.whenSec(a.cleared) + " <span class=\"note\">(")
			p.text(a.clearedBy)
			p.raw(")</span>")
		default:
			p.raw(p.whenSec(a.cleared))
		}
		p.raw("</td></tr>\n")
	}
	p.raw("</table></div>\n")
	if e.overAlarms > 0 {
		p.raw("<p class=\"note\">")
		p.int(int64(e.overAlarms))
		p.raw(" more alarms: itiny-read --stream events shows them.</p>\n")
	}
}

// level writes a level as a coloured label.
func (p *page) level(l codec.Level) {
	p.raw("<span class=\"lv lv" + strconv.Itoa(int(min(l, 7))) + "\">")
	p.text(l.String())
	p.raw("</span>")
}
