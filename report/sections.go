// The report's sections after the summary: the events, the charts, the
// agent's own figures and configuration, verify's details, the boots and
// the gaps.

package report

import (
	"encoding/hex"
	"sort"
	"strconv"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

// events lists the event streams' records a row per name, source and
// level, the most severe first: a table per level, which the filter's
// radio buttons hide by CSS alone.
func (p *page) events(e *events) {
	p.raw("<section id=\"events\"><h2>Events</h2>\n<p class=\"note\">")
	p.raw(plural(e.count, "record", "records") + " of the other streams than metrics in the window, in " + plural(len(e.order), "row", "rows") + ": one per name, source and level, with the count, the first and last times and the last record's fields; the most severe first.")
	if e.overGroups > 0 {
		p.raw(" " + plural(e.overGroups, "record", "records") + " of further names are left out (at most ")
		p.int(int64(e.max))
		p.raw(" rows; itiny-read shows them).")
	}
	p.raw("</p>\n")
	if len(e.order) == 0 {
		p.raw("</section>\n")
		return
	}
	for i, f := range filters {
		p.raw("<input type=\"radio\" name=\"lvf\" class=\"lvf\" id=\"" + f.id + "\"")
		if i == 0 {
			p.raw(" checked=\"checked\"")
		}
		p.raw("/>")
	}
	p.raw("\n<p class=\"lvbar\">Show: ")
	for _, f := range filters {
		p.raw("<label for=\"" + f.id + "\">" + f.label + "</label>")
	}
	p.raw("</p>\n")
	gs := append([]*group(nil), e.order...)
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].level < gs[j].level })
	for i := 0; i < len(gs); {
		l := min(gs[i].level, codec.LevelDebug)
		j := i
		for j < len(gs) && min(gs[j].level, codec.LevelDebug) == l {
			j++
		}
		n := 0
		for _, g := range gs[i:j] {
			n += g.count
		}
		p.raw("<div class=\"lvt lvt" + strconv.Itoa(int(l)) + "\"><h3>")
		p.level(l)
		p.raw(" " + plural(n, "record", "records") + "</h3>\n<div class=\"tw\"><table><tr><th>count</th><th>first</th><th>last</th><th>stream</th><th>level</th><th>source</th><th>name</th><th>last fields</th></tr>\n")
		for _, g := range gs[i:j] {
			p.raw("<tr><td class=\"n\">")
			p.int(int64(g.count))
			p.raw("</td><td class=\"t\">" + p.whenMarked(g.first.t, g.first.clock) + "</td><td class=\"t\">")
			if g.count > 1 {
				p.raw(p.whenMarked(g.last.t, g.last.clock))
			}
			p.raw("</td><td>")
			p.text(g.stream)
			p.raw("</td><td>")
			p.level(g.level)
			p.raw("</td><td>")
			p.text(g.src)
			p.raw("</td><td>")
			p.text(g.name)
			p.raw("</td><td class=\"f\">")
			p.buf = appendEscaped(p.buf[:0], string(g.fields))
			p.bytes(p.buf)
			p.raw("</td></tr>\n")
		}
		p.raw("</table></div></div>\n")
		i = j
	}
	p.raw("</section>\n")
}

func (p *page) verify(rings []*view.Health) {
	p.raw("<section id=\"verify\"><h2>Verify</h2>\n<div class=\"tw\"><table><tr><th>verdict</th><th>stream</th><th>ring</th><th>records</th><th>seq</th><th>segments</th><th>bytes</th><th>oldest record</th><th>newest record</th><th>retired</th><th>missing</th><th>damage</th><th>corrupt</th></tr>\n")
	var probs int
	for _, r := range rings {
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
		p.raw("</td><td class=\"t\">" + p.whenSec(stamp{t: r.First.Time}) + "</td><td class=\"t\">" + p.whenSec(stamp{t: r.Last.Time}) + "</td><td class=\"n\">" + u64(r.Retired) + "</td><td class=\"n\">" + r.LossText() + "</td><td>")
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
	p.raw("</table></div>\n")
	if probs == 0 {
		p.raw("<p class=\"note\">No damage: every checksum verifies.</p></section>\n")
		return
	}
	p.raw("<h3>Damage</h3>\n<div class=\"tw\"><table><tr><th>stream</th><th>kind</th><th>segment</th><th>offset</th><th>length</th><th>detail</th></tr>\n")
	n := 0
	for _, r := range rings {
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
	p.raw("</table></div>\n")
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
		p.raw(plural(d.samples, "record", "records") + " of the metrics stream).</p></section>\n")
		return
	}
	p.raw("<p class=\"note\">")
	p.raw(plural(d.samples, "record", "records") + " of the metrics stream. The agent's figures are itiny-read sar's, by its rule of rates: lines break where sar marks a reboot, an agent restart, a gap or a counter's reset, never drawn across; dashed lines mark boots. Each line keeps the lowest and highest value of each short span of time, so spikes show. Markers on the time axis (their times and what they are in their tooltips):")
	for k := range nMarkKinds {
		p.raw(" <span class=\"sw\" style=\"height:8px;width:8px;background:" + markColors[k] + "\"></span>" + markNames[k])
	}
	if d.ev.overMarks > 0 {
		p.raw(" (the first ")
		p.int(maxMarks)
		p.raw(" of them)")
	}
	p.raw(".</p>\n")
	if len(d.tiers) > 0 {
		// Rollup tiers: say which one each part of the charts is from.
		p.raw("<p class=\"note\">Read from the rollup tiers of the metrics (raw: the samples; 1m, 1h: summaries of a minute, an hour, their means and rates), each part of the window from one: ")
		for i, t := range d.tiers {
			if i > 0 {
				p.raw("; ")
			}
			p.text(t)
		}
		p.raw(".</p>\n")
	}
	p.raw("<div class=\"charts\">\n")
	for _, c := range d.charts {
		p.chart(c, boots, d.ev.marks)
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

// clock says what the rings tell of a boot's clock: when it was first
// synchronised and whether earlier times are repaired, that it never
// was, or that the rings no longer tell.
func (p *page) clock(b *view.BootInfo) string {
	switch {
	case b.FirstClock == view.TimeAsIs:
		return "-"
	case b.FirstClock == view.TimeUnknown:
		return "not known: the rings do not hold the clock.sync records of its start; times untrusted (?)"
	case !b.Sync.Synced:
		return "never synchronised: times untrusted (?)"
	case b.FirstClock == view.TimeCorrected:
		return "synchronised at " + p.when(b.Sync.Wall) + ", " + view.ShortDuration(time.Duration(b.Sync.Mono)) + " after boot: earlier times repaired (~)"
	}
	return "synchronised at " + p.when(b.Sync.Wall)
}

func (p *page) boots(boots []view.BootInfo, rings []*view.Health) {
	p.raw("<section id=\"boots\"><h2>Boots and gaps</h2>\n<div class=\"tw\"><table><tr><th>idx</th><th>boot</th><th>id</th><th>first record</th><th>last record</th><th>clock</th><th>uptime</th><th>records</th><th>streams</th><th>gaps</th><th>ended</th><th>evidence</th></tr>\n")
	for i, b := range boots {
		p.raw("<tr><td class=\"n\">")
		p.int(int64(i - len(boots) + 1))
		p.raw("</td><td class=\"n\">")
		p.int(int64(b.N))
		p.raw("</td><td class=\"f\">")
		p.bytes(hex.AppendEncode(p.buf[:0], b.ID[:]))
		p.raw("</td><td class=\"t\">" + p.whenMarked(b.First, b.FirstClock) + "</td><td class=\"t\">" + p.whenMarked(b.Last, b.LastClock) + "</td><td>")
		p.text(p.clock(&b))
		p.raw("</td><td class=\"n\">")
		p.text(view.ShortDuration(b.Uptime))
		p.raw("</td><td class=\"n\">")
		p.int(int64(b.Records))
		p.raw("</td><td>")
		p.counts(b.Streams, " ", ":", false)
		p.raw("</td><td>")
		p.text(b.LossText())
		p.raw("</td><td>")
		p.text(b.Ended)
		p.raw("</td><td>")
		p.text(b.Evidence)
		p.raw("</td></tr>\n")
	}
	p.raw("</table></div>\n<h3>Gaps in the numbering</h3>\n")
	n := 0
	for _, r := range rings {
		n += len(r.Gaps)
		if r.Retired > 0 {
			n++
		}
	}
	if n == 0 {
		p.raw("<p class=\"note\">None: every stream is numbered without a gap from its first record.</p></section>\n")
		return
	}
	p.raw("<div class=\"tw\"><table><tr><th>stream</th><th>ring</th><th>numbers</th><th>what they were, and why</th></tr>\n")
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
	for _, r := range rings {
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
	p.raw("</table></div>\n")
	if shown > maxGaps {
		p.raw("<p class=\"note\">")
		p.int(int64(shown - maxGaps))
		p.raw(" more: itiny-read verify lists them all.</p>\n")
	}
	p.raw("</section>\n")
}

// agent shows the agent's own records: its figures per stream, in all
// and per sender (stream.stats, agent.io, ingest.peer), the collectors it
// left off and why, and the configuration in effect.
func (p *page) agent(e *events) {
	p.raw("<section id=\"agent\"><h2>The agent</h2>\n<h3>Its figures</h3>\n")
	if len(e.selfOrder) == 0 {
		p.raw("<p class=\"note\">No figures of the agent in the window.</p>\n")
	}
	// A table per record: the streams', the agent's, then the senders'.
	self := append([]*selfStats(nil), e.selfOrder...)
	rank := func(c *catalog.Record) int {
		switch c {
		case &catalog.StreamStats:
			return 0
		case &catalog.AgentIO:
			return 1
		}
		return 2
	}
	sort.SliceStable(self, func(i, j int) bool { return rank(self[i].rec) < rank(self[j].rec) })
	for i := 0; i < len(self); {
		c := self[i].rec
		inst := c.Instance // agent.io has none: it is the agent's in all
		p.raw("<p class=\"note\">The last ")
		p.text(c.Name)
		if inst != "" {
			p.raw(" record of each ")
			p.text(inst)
		} else {
			inst = "agent"
			p.raw(" record")
		}
		p.raw(" (counters count from the agent's start).</p>\n<div class=\"tw\"><table id=\"self-")
		p.text(c.Name)
		p.raw("\"><tr><th>")
		p.text(inst)
		p.raw("</th><th>records</th><th>last</th>")
		for _, f := range c.Fields {
			if f.Key != c.Instance {
				p.raw("<th>")
				p.text(f.Key)
				if u := f.Unit.String(); u != "" && f.Unit != catalog.Count {
					p.raw(" (" + u + ")")
				}
				p.raw("</th>")
			}
		}
		p.raw("</tr>\n")
		for ; i < len(self) && self[i].rec == c; i++ {
			s, name := self[i], self[i].inst
			if c.Instance == "" {
				name = "all"
			}
			p.raw("<tr><td>")
			p.text(name)
			p.raw("</td><td class=\"n\">")
			p.int(int64(s.samples))
			p.raw("</td><td class=\"t\">" + p.whenSec(s.last) + "</td>")
			for _, v := range s.values {
				p.raw("<td class=\"n\">")
				p.text(v)
				p.raw("</td>")
			}
			p.raw("</tr>\n")
		}
		p.raw("</table></div>\n")
	}
	p.raw("<h3>Collectors off</h3>\n")
	if len(e.offOrder) == 0 {
		p.raw("<p class=\"note\" id=\"collectors-off\">No record of a collector left off in the window.</p>\n")
	} else {
		p.raw("<div class=\"tw\"><table id=\"collectors-off\"><tr><th>collector</th><th>why</th><th>records</th><th>first</th><th>last</th></tr>\n")
		for _, name := range e.offOrder {
			c := e.off[name]
			p.raw("<tr><td>")
			p.text(name)
			p.raw("</td><td class=\"f\">")
			p.text(c.why)
			p.raw("</td><td class=\"n\">")
			p.int(int64(c.count))
			p.raw("</td><td class=\"t\">" + p.whenSec(c.first) + "</td><td class=\"t\">" + p.whenSec(c.last) + "</td></tr>\n")
		}
		p.raw("</table></div>\n")
	}
	p.raw("<h3>Configuration in effect</h3>\n")
	if e.configAt.IsZero() {
		p.raw("<p class=\"note\" id=\"config\">No record of the configuration in the window.</p>\n")
	} else {
		p.raw("<p class=\"note\">As the agent recorded it at " + p.whenSec(e.configAt) + ":</p>\n<pre class=\"conf\" id=\"config\">")
		p.text(e.config)
		p.raw("</pre>\n")
	}
	p.raw("</section>\n")
}
