// The report's events as data: the records of every stream but the
// metrics, grouped and counted, and what the summary tells of them (the
// agent's runs, crashes, rule alarms, process restarts), read through the
// catalogue.

package report

import (
	"strings"
	"unicode/utf8"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

// The agent's records of its configuration: the collectors it left off
// and why, and the configuration in effect.
var (
	collectorOffName = catalog.CollectorOff.Name
	collectorOffKey  = catalog.CollectorOff.Key("collector")
	collectorOffWhy  = catalog.CollectorOff.Key("error")
	agentConfigName  = catalog.AgentConfig.Name
	agentConfigKey   = catalog.AgentConfig.Key("text")
)

// A group is the records of one name, source and level: repeats are one
// row.
type group struct {
	name, src, stream string
	level             codec.Level
	count             int
	first, last       stamp
	fields            []byte // the last record's, as text
}

type groupKey struct {
	name, src string
	level     codec.Level
}

// An alarm is a rule's event and the one that cleared it.
type alarm struct {
	rule, inst   string
	level        codec.Level
	fired        stamp // zero: fired before the window
	value, limit string
	cleared      stamp  // zero: not cleared in the window
	clearedBy    string // "": by the rule's own event
}

type alarmKey struct{ rule, inst string }

// A collector the agent left off.
type collectorOff struct {
	why         string
	count       int
	first, last stamp
}

// selfStats is the agent's last figures of one stream or sender.
type selfStats struct {
	rec     *catalog.Record
	inst    string
	samples int
	last    stamp
	values  []string // by the catalogue's fields
}

// A markKind says what a chart's marker is.
type markKind uint8

const (
	markCrash   markKind = iota // the last record of a run that crashed, a kernel panic
	markAlarm                   // a rule fired
	markCleared                 // a rule's alarm cleared
	markEvent                   // an event at err or worse
	markStart                   // a start of the agent within a boot after a stop
	nMarkKinds
)

// A mark is a marker on the charts' time axis.
type mark struct {
	t     int64 // wall time, ns
	clock view.TimeMark
	kind  markKind
	text  string
}

// events gathers the records of the event streams.
type events struct {
	max        int // groups kept
	groups     map[groupKey]*group
	order      []*group
	overGroups int // records of groups beyond max
	count      int
	levels     [8]int // by level, 7 for any beyond debug
	sources    map[string]int
	overSrc    int     // records of sources beyond maxSources
	bootStarts []stamp // the agent's starts at a device boot, up to maxListed
	nBoot      int     // and their count
	kernel     map[string]int
	alarms     []alarm
	overAlarms int
	open       map[alarmKey]int
	procs      map[string]*procRestarts
	off        map[string]*collectorOff
	offOrder   []string
	config     string
	configAt   stamp
	now        stamp // the wall time of the record being read, as the view shows it
	self       map[string]*selfStats
	selfOrder  []*selfStats
	marks      []mark
	overMarks  int
	run        int
}

// Bounds on what the summary and the charts keep.
const (
	maxSources = 200
	maxListed  = 200  // starts, alarms: listed in the summary
	maxMarks   = 4000 // markers on the charts
	maxConfig  = 64 << 10
)

func newEvents(max int) *events {
	return &events{max: max, groups: map[groupKey]*group{}, sources: map[string]int{}, kernel: map[string]int{},
		open: map[alarmKey]int{}, procs: map[string]*procRestarts{}, off: map[string]*collectorOff{}, self: map[string]*selfStats{}}
}

// The fields the summary reads.
var (
	startDevice = field(&catalog.AgentStart, "device_boot")
	alarmRule   = field(&catalog.Alarm, "rule")
	alarmInst   = field(&catalog.Alarm, "instance")
	alarmValue  = field(&catalog.Alarm, "value")
	alarmLimit  = field(&catalog.Alarm, "limit")
	alarmClear  = field(&catalog.Alarm, "cleared")
)

// kernelCrash names the kernel's records that are a crash.
var kernelCrash = catalog.KernelPanic.Name

// record takes one record of an event stream (events, state, itiny, or
// another), its wall time as the view came to it.
func (e *events) record(stream string, r *codec.Record, clock view.TimeMark) {
	e.now = stamp{r.Wall, clock}
	e.count++
	e.levels[min(r.Level, 7)]++
	if n, ok := e.sources[r.Source]; ok || len(e.sources) < maxSources {
		if !ok {
			e.sources[strings.Clone(r.Source)] = 0
		}
		e.sources[r.Source] = n + 1
	} else {
		e.overSrc++
	}
	e.group(stream, r)
	t := r.Wall.UnixNano()
	self := r.Source == catalog.SelfSource
	switch {
	case self && r.Name == catalog.AgentStart.Name:
		e.agentStart(r)
	case self && r.Name == collectorOffName:
		e.collectorOff(r)
	case self && r.Name == agentConfigName:
		if v, ok := findField(r, agentConfigKey); ok && v.Kind() == codec.KindString {
			e.config, e.configAt = clipBytes(v.Str(), maxConfig), e.now
		}
	case self && stream == catalog.Alarm.Stream && isAlarm(r):
		e.alarm(r)
	case r.Source == catalog.KernelLog.Source && strings.HasPrefix(r.Name, "kernel."):
		if n, ok := e.kernel[r.Name]; ok || len(e.kernel) < maxSources {
			if !ok {
				e.kernel[strings.Clone(r.Name)] = 0
			}
			e.kernel[r.Name] = n + 1
		}
		if r.Name == kernelCrash {
			e.mark(t, markCrash, "kernel panic")
			return
		}
	case r.Name == catalog.Process.Name && r.Source == catalog.Process.Source:
		e.process(r)
	}
	if r.Level <= codec.LevelErr && !(self && r.Name == catalog.AgentStart.Name) && !(self && isAlarm(r)) {
		e.mark(t, markEvent, r.Level.String()+": "+clip(r.Source, maxSrc)+" "+clip(r.Name, maxName))
	}
}

func (e *events) group(stream string, r *codec.Record) {
	g := e.groups[groupKey{r.Name, r.Source, r.Level}]
	if g == nil {
		if len(e.groups) >= e.max {
			e.overGroups++
			return
		}
		g = &group{name: clip(r.Name, maxName), src: clip(r.Source, maxSrc), stream: strings.Clone(stream), level: r.Level, first: e.now}
		e.groups[groupKey{strings.Clone(r.Name), strings.Clone(r.Source), r.Level}] = g
		e.order = append(e.order, g)
	}
	g.count++
	g.last = e.now
	g.fields = appendFields(g.fields[:0], r.Fields)
}

// appendFields writes fields as key=value text, cut at maxFields bytes.
func appendFields(b []byte, fs codec.Fields) []byte {
	for i, f := range fs {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, f.Key...)
		b = append(b, '=')
		b = view.AppendValue(b, f.Value)
		if len(b) > maxFields {
			n := maxFields
			for n > 0 && !utf8.RuneStart(b[n]) {
				n--
			}
			return append(b[:n], " …"...)
		}
	}
	return b
}

// agentStart notes a start of the agent; view.ListRuns tells the runs,
// their ends and downtimes.
func (e *events) agentStart(r *codec.Record) {
	e.run++
	if boot, _ := startDevice.flag(r); boot {
		e.nBoot++
		if len(e.bootStarts) < maxListed {
			e.bootStarts = append(e.bootStarts, e.now)
		}
	}
	// A rule's state does not outlive the agent: what was firing ends here.
	for k, i := range e.open {
		e.alarms[i].cleared, e.alarms[i].clearedBy = e.now, "the agent's restart"
		delete(e.open, k)
	}
}

// isAlarm reports whether r is a rule's event: the catalogue's Alarm has
// no name (the configuration gives it), so its fields tell it.
func isAlarm(r *codec.Record) bool {
	_, rule := alarmRule.value(r)
	_, ok := alarmClear.flag(r)
	return rule && ok
}

func (e *events) alarm(r *codec.Record) {
	k := alarmKey{alarmRule.str(r), alarmInst.str(r)}
	cleared, _ := alarmClear.flag(r)
	t := r.Wall.UnixNano()
	label := clip(k.rule, maxName)
	if k.inst != "" {
		label += " (" + clip(k.inst, maxName) + ")"
	}
	if cleared {
		e.mark(t, markCleared, "cleared: "+label)
		if i, ok := e.open[k]; ok {
			e.alarms[i].cleared = e.now
			delete(e.open, k)
			return
		}
		e.addAlarm(alarm{rule: clip(k.rule, maxName), inst: clip(k.inst, maxName), level: r.Level, cleared: e.now})
		return
	}
	e.mark(t, markAlarm, "alarm: "+label)
	if _, ok := e.open[k]; ok {
		return // fired again without clearing: the agent restarted meanwhile, or a copy
	}
	if e.addAlarm(alarm{rule: clip(k.rule, maxName), inst: clip(k.inst, maxName), level: r.Level, fired: e.now,
		value: clip(alarmValue.str(r), maxName), limit: clip(alarmLimit.str(r), maxName)}) {
		e.open[alarmKey{strings.Clone(k.rule), strings.Clone(k.inst)}] = len(e.alarms) - 1
	}
}

func (e *events) addAlarm(a alarm) bool {
	if len(e.alarms) >= maxListed {
		e.overAlarms++
		return false
	}
	e.alarms = append(e.alarms, a)
	return true
}

func (e *events) collectorOff(r *codec.Record) {
	name := ""
	if v, ok := findField(r, collectorOffKey); ok {
		name = clip(valueText(v), maxName)
	}
	c := e.off[name]
	if c == nil {
		if len(e.off) >= maxSources {
			return
		}
		c = &collectorOff{first: e.now}
		e.off[name] = c
		e.offOrder = append(e.offOrder, name)
	}
	c.count++
	c.last = e.now
	if v, ok := findField(r, collectorOffWhy); ok {
		c.why = clip(valueText(v), maxFields)
	}
}

// selfStat takes one of the agent's own figures (stream.stats,
// ingest.peer), its wall time as the view came to it: the last of each
// stream and sender is shown.
func (e *events) selfStat(c *catalog.Record, r *codec.Record, clock view.TimeMark) {
	inst := instance(c, r)
	k := c.Name + "\x00" + inst
	s := e.self[k]
	if s == nil {
		if len(e.self) >= maxTracked {
			return
		}
		s = &selfStats{rec: c, inst: clip(inst, maxName)}
		e.self[k] = s
		e.selfOrder = append(e.selfOrder, s)
	}
	s.samples++
	s.last = stamp{r.Wall, clock}
	s.values = s.values[:0]
	for _, f := range c.Fields {
		if f.Key == c.Instance {
			continue
		}
		s.values = append(s.values, clip(field(c, f.Key).str(r), maxName))
	}
}

func (e *events) mark(t int64, k markKind, text string) {
	if len(e.marks) >= maxMarks {
		e.overMarks++
		return
	}
	e.marks = append(e.marks, mark{t: t, clock: e.now.clock, kind: k, text: text})
}

// findField returns the value of r's field key.
func findField(r *codec.Record, key string) (codec.Value, bool) {
	for _, f := range r.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return codec.Value{}, false
}

// clipBytes copies s, cut to at most n bytes at a rune's start.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return strings.Clone(s)
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.Clone(s[:n]) + " …"
}
