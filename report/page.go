// The report's HTML: the page writer and its escaping, the style sheet,
// and each section of the page.

package report

import (
	"bufio"
	"encoding/hex"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

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

// whenSec is when to the second.
func (p *page) whenSec(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(p.o.Location).Format("2006-01-02 15:04:05")
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

const reportCSS = `body{font:13px/1.4 system-ui,sans-serif;margin:16px 20px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:13px;margin:0}nav a{margin-right:14px;color:#333}
table{border-collapse:collapse;font-size:12px;margin:4px 0 8px}th,td{padding:2px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}td.t{white-space:nowrap;font-variant-numeric:tabular-nums}
td.w{word-break:break-all;min-width:12em}
td.f{font-family:ui-monospace,monospace;word-break:break-all}
.badge{display:inline-block;padding:1px 8px;border-radius:3px;font-weight:bold;color:#fff;font-size:12px}
.ok{background:#2e7d32}.bad{background:#c62828}.note{color:#666}.warn{color:#b26a00}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(562px,1fr));gap:12px 16px}
figure{margin:0;border:1px solid #e3e3e3;padding:6px 6px 2px}.legend{font-size:11px;color:#444}
.sw{display:inline-block;width:14px;height:3px;vertical-align:middle;margin:0 4px 0 8px}
.lv{display:inline-block;min-width:52px;padding:0 4px;border-radius:2px}
.lv0,.lv1,.lv2{background:#8e0000;color:#fff;font-weight:bold}.lv3{color:#e53935;font-weight:bold}
.lv4{color:#b26a00;font-weight:bold}.lv5{font-weight:bold}.lv7{color:#999}
tr.mark td{color:#00796b;font-style:italic;background:#f7fbfa}`

func (p *page) write(srcs []*view.Source, reps []*view.Health, boots []view.BootInfo, d *reportData) {
	o := p.o
	p.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width\"/>\n<title>")
	p.text(o.Title)
	p.raw("</title>\n<style>\n" + reportCSS + "\n</style></head>\n<body>\n<header><h1>")
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
	zone := "UTC"
	if o.Location != time.UTC {
		zone = time.Now().In(o.Location).Format("MST (UTC-07:00)")
	}
	p.raw("Times in ")
	p.text(zone)
	p.raw(", as the device's wall clock wrote them. Window of the charts and events: ")
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
	corrupt, rings := 0, 0
	for _, r := range reps {
		corrupt += r.Corrupt
		if r.Corrupt > 0 {
			rings++
		}
	}
	if corrupt > 0 {
		p.raw("<span class=\"badge bad\">CORRUPT</span> ")
		p.int(int64(corrupt))
		p.raw(" problems in ")
		p.int(int64(rings))
		p.raw(" of ")
	} else {
		p.raw("<span class=\"badge ok\">OK</span> ")
	}
	p.int(int64(len(reps)))
	p.raw(" rings: ")
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
	p.raw("<nav><a href=\"#verify\">Verify</a><a href=\"#metrics\">Metrics</a><a href=\"#boots\">Boots and gaps</a><a href=\"#events\">Events</a></nav>\n</header>\n")
	p.verify(reps)
	p.metrics(d, boots)
	p.boots(boots, reps)
	p.events(d)
	p.raw("</body></html>\n")
}

func (p *page) verify(reps []*view.Health) {
	p.raw("<section id=\"verify\"><h2>Verify</h2>\n<table><tr><th>verdict</th><th>stream</th><th>ring</th><th>records</th><th>seq</th><th>segments</th><th>bytes</th><th>oldest record</th><th>newest record</th><th>retired</th><th>missing</th><th>damage</th><th>corrupt</th></tr>\n")
	var probs int
	for _, r := range reps {
		p.raw("<tr><td>")
		if r.Corrupt > 0 {
			p.raw("<span class=\"badge bad\">CORRUPT</span>")
		} else {
			p.raw("<span class=\"badge ok\">OK</span>")
		}
		p.raw("</td><td>")
		p.text(r.Stream)
		p.raw("</td><td class=\"w\">")
		p.text(r.Where)
		p.raw("</td><td class=\"n\">")
		p.int(int64(r.Records))
		p.raw("</td><td class=\"n\">")
		if r.Records > 0 {
			p.raw(u64(r.FirstSeq) + "-" + u64(r.LastSeq))
		}
		p.raw("</td><td class=\"n\">")
		p.int(int64(r.Segments))
		p.raw("</td><td class=\"n\">")
		p.int(r.Bytes)
		p.raw("</td><td class=\"t\">" + p.whenSec(r.First.Time) + "</td><td class=\"t\">" + p.whenSec(r.Last.Time) + "</td><td class=\"n\">" + u64(r.Retired) + "</td><td class=\"n\">" + r.LossText() + "</td><td>")
		kinds := map[string]int{}
		var names []string
		for _, pr := range r.Damage {
			if kinds[pr.Kind] == 0 {
				names = append(names, pr.Kind)
			}
			kinds[pr.Kind]++
		}
		sort.Strings(names)
		for i, k := range names {
			if i > 0 {
				p.raw(", ")
			}
			p.text(k)
			p.raw(" ")
			p.int(int64(kinds[k]))
		}
		if len(names) > 0 && r.Corrupt == 0 {
			p.raw(" <span class=\"note\">(what a crash leaves)</span>")
		}
		p.raw("</td><td class=\"n\">")
		p.int(int64(r.Corrupt))
		p.raw("</td></tr>\n")
		probs += len(r.Damage)
	}
	p.raw("</table>\n")
	if probs == 0 {
		p.raw("<p class=\"note\">No damage: every checksum verifies.</p></section>\n")
		return
	}
	p.raw("<h3>Damage</h3>\n<table><tr><th>stream</th><th>kind</th><th>segment</th><th>offset</th><th>length</th><th>detail</th></tr>\n")
	n := 0
	for _, r := range reps {
		for _, pr := range r.Damage {
			if n++; n > maxProblems {
				continue
			}
			p.raw("<tr><td>")
			p.text(r.Stream)
			p.raw("</td><td>")
			p.text(pr.Kind)
			p.raw("</td><td>")
			p.text(pr.Segment)
			p.raw("</td><td class=\"n\">")
			p.int(pr.Offset)
			p.raw("</td><td class=\"n\">")
			p.int(pr.Length)
			p.raw("</td><td>")
			p.text(pr.Detail)
			p.raw("</td></tr>\n")
		}
	}
	p.raw("</table>\n")
	if n > maxProblems {
		p.raw("<p class=\"note\">")
		p.int(int64(n - maxProblems))
		p.raw(" more: itiny-read verify lists them all.</p>\n")
	}
	p.raw("</section>\n")
}

func (p *page) metrics(d *reportData, boots []view.BootInfo) {
	p.raw("<section id=\"metrics\"><h2>Metrics</h2>\n")
	if len(d.charts) == 0 {
		p.raw("<p class=\"note\">No metrics to chart in the window (")
		p.int(int64(d.samples))
		p.raw(" records of the metrics stream).</p></section>\n")
		return
	}
	p.raw("<p class=\"note\">")
	p.int(int64(d.samples))
	p.raw(" records of the metrics stream. Rates are counter changes over monotonic time; lines break at boots and pauses; dashed lines mark boots. Each line keeps the lowest and highest value of each short span of time, so spikes show.</p>\n<div class=\"charts\">\n")
	for _, c := range d.charts {
		p.chart(c, boots)
	}
	p.raw("</div>\n")
	if len(d.leftOut) > 0 || d.untracked > 0 {
		p.raw("<p class=\"note\">Not charted (at most ")
		p.int(int64(p.o.MaxCharts))
		p.raw(" charts): ")
		for i, t := range d.leftOut {
			if i == 20 {
				p.raw(", …")
				break
			}
			if i > 0 {
				p.raw(", ")
			}
			p.text(t)
		}
		if d.untracked > 0 {
			p.raw("; ")
			p.int(int64(d.untracked))
			p.raw(" further series")
		}
		p.raw(". itiny-read -o csv --stream metrics has every value.</p>\n")
	}
	p.raw("</section>\n")
}

func (p *page) boots(boots []view.BootInfo, reps []*view.Health) {
	p.raw("<section id=\"boots\"><h2>Boots and gaps</h2>\n<table><tr><th>idx</th><th>boot</th><th>id</th><th>first record</th><th>last record</th><th>records</th><th>streams</th><th>gaps</th></tr>\n")
	for i, b := range boots {
		p.raw("<tr><td class=\"n\">")
		p.int(int64(i - len(boots) + 1))
		p.raw("</td><td class=\"n\">")
		p.int(int64(b.N))
		p.raw("</td><td class=\"f\">")
		p.bytes(hex.AppendEncode(p.buf[:0], b.ID[:]))
		p.raw("</td><td class=\"t\">" + p.when(b.First) + "</td><td class=\"t\">" + p.when(b.Last) + "</td><td class=\"n\">")
		p.int(int64(b.Records))
		p.raw("</td><td>")
		var names []string
		for s := range b.Streams {
			names = append(names, s)
		}
		sort.Strings(names)
		for j, s := range names {
			if j > 0 {
				p.raw(" ")
			}
			p.text(s)
			p.raw(":")
			p.int(int64(b.Streams[s]))
		}
		p.raw("</td><td>")
		p.text(b.LossText())
		p.raw("</td></tr>\n")
	}
	p.raw("</table>\n<h3>Gaps in the numbering</h3>\n")
	n := 0
	for _, r := range reps {
		n += len(r.Gaps)
		if r.Retired > 0 {
			n++
		}
	}
	if n == 0 {
		p.raw("<p class=\"note\">None: every stream is numbered without a gap from its first record.</p></section>\n")
		return
	}
	p.raw("<table><tr><th>stream</th><th>ring</th><th>numbers</th><th>what they were, and why</th></tr>\n")
	row := func(r *view.Health, g *view.Gap) {
		p.raw("<tr><td>")
		p.text(r.Stream)
		p.raw("</td><td class=\"w\">")
		p.text(r.Where)
		p.raw("</td><td class=\"n\">" + u64(g.From) + "-" + u64(g.To) + "</td><td>")
		p.text(string(g.AppendText(nil)))
		p.raw("</td></tr>\n")
	}
	shown := 0
	for _, r := range reps {
		if r.Retired > 0 {
			row(r, &view.Gap{From: 1, To: r.Retired, Loss: view.LossLost, Lost: r.Retired, Cause: view.CauseRetention + " (the segments before the oldest; some numbers may have been skipped in them)"})
			shown++
		}
		for i := range r.Gaps {
			if shown++; shown <= maxGaps {
				row(r, &r.Gaps[i])
			}
		}
	}
	p.raw("</table>\n")
	if shown > maxGaps {
		p.raw("<p class=\"note\">")
		p.int(int64(shown - maxGaps))
		p.raw(" more: itiny-read verify lists them all.</p>\n")
	}
	p.raw("</section>\n")
}

func (p *page) events(d *reportData) {
	p.raw("<section id=\"events\"><h2>Events</h2>\n<p class=\"note\">")
	p.int(int64(d.eventCount))
	p.raw(" records of the other streams (events, state, itiny...) in the window, oldest first")
	if d.rowsLeft > 0 {
		p.raw("; the earliest ")
		p.int(int64(d.rowsLeft))
		p.raw(" rows are left out, the last ")
		p.int(int64(p.o.MaxEvents))
		p.raw(" shown (itiny-read --since shows them)")
	}
	p.raw(".</p>\n")
	if len(d.rows) == 0 {
		p.raw("</section>\n")
		return
	}
	p.raw("<table><tr><th>time</th><th>stream</th><th>level</th><th>source</th><th>name</th><th>fields</th></tr>\n")
	for _, r := range d.rows {
		if r.mark != "" {
			p.raw("<tr class=\"mark\"><td colspan=\"6\">")
			p.text(r.mark)
			p.raw("</td></tr>\n")
			continue
		}
		p.raw("<tr><td class=\"t\">" + p.when(r.when) + "</td><td>")
		p.text(r.stream)
		p.raw("</td><td><span class=\"lv lv")
		p.int(int64(min(r.level, 7)))
		p.raw("\">")
		p.text(r.level.String())
		p.raw("</span></td><td>")
		p.text(r.src)
		p.raw("</td><td>")
		p.text(r.name)
		p.raw("</td><td class=\"f\">")
		p.text(r.fields)
		p.raw("</td></tr>\n")
	}
	p.raw("</table></section>\n")
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }
