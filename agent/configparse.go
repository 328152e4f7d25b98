// The configuration file's parser: its sections and keys, the values they
// take (sizes, durations, counts, also used by collectors' options), and
// the checks that span sections.

package agent

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/size"
	"github.com/itiny/itiny/internal/tinyfmt"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/rollup"
)

func parseText(name, text string) (*configParser, error) {
	// The same defaults as default.conf, so a file that leaves a key out
	// gets what the embedded default would give.
	c := &Config{
		Cap: 16 << 20, Socket: "itiny.sock", SocketMode: 0o660, MaxRecord: 16 << 10, RateLimit: 200,
		LogMaxSize: 1, ClockStep: 2 * time.Second, StatsEvery: time.Minute,
		Collectors: map[string]*CollectorConfigSection{},
	}
	p := &configParser{file: name, c: c}
	for i, line := range strings.Split(text, "\n") {
		p.line = i + 1
		if err := p.parseLine(line); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *configParser) hasRule(name string) bool {
	_, ok := p.lines["rule "+name]
	return ok
}

type configParser struct {
	file    string
	line    int
	c       *Config
	section string // "", "stream", "collector", "rule"
	stream  *StreamConfig
	col     *CollectorConfigSection
	rule    *RuleConfig
	seen    map[string]int  // keys in the current section, for duplicates
	lines   map[string]int  // line of each section, for later errors
	globals map[string]int  // line of each global key, for later errors
	set     map[string]bool // "stream.key" for the keys a stream section sets
}

// errorf is not inlined: its 27 copies cost the firmware 4.7 KB
// (docs/DESIGN.md section 14).
//
//go:noinline
func (p *configParser) errorf(format string, args ...any) error {
	return &ConfigError{File: p.file, Line: p.line, Msg: tinyfmt.Sprintf(format, args...)}
}

func (p *configParser) parseLine(line string) error {
	if i := strings.Index(line, "#"); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return nil
	}
	if strings.HasPrefix(line, "[") {
		return p.startSection(line)
	}
	key, val, ok := strings.Cut(line, "=")
	if !ok {
		return p.errorf("want key = value, got %q", line)
	}
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	if prev, dup := p.seen[key]; dup {
		return p.errorf("%q set twice in this section (first on line %d)", key, prev)
	}
	if p.seen == nil {
		p.seen = map[string]int{}
	}
	p.seen[key] = p.line
	if p.section == "" {
		if p.globals == nil {
			p.globals = map[string]int{}
		}
		p.globals[key] = p.line
	}
	var err error
	switch p.section {
	case "":
		err = p.globalKey(key, val)
	case "stream":
		err = p.streamKey(key, val)
	case "collector":
		err = p.collectorKey(key, val)
	case "rule":
		err = p.ruleKey(key, val)
	}
	if err != nil {
		if _, ok := err.(*ConfigError); ok {
			return err
		}
		return p.errorf("%s: %v", key, err)
	}
	return nil
}

func (p *configParser) startSection(line string) error {
	if !strings.HasSuffix(line, "]") {
		return p.errorf("unterminated section header %q", line)
	}
	kind, name, _ := strings.Cut(strings.TrimSpace(line[1:len(line)-1]), " ")
	name = strings.TrimSpace(name)
	if name == "" {
		return p.errorf("section %q needs a name, e.g. [stream metrics]", line)
	}
	if p.lines == nil {
		p.lines = map[string]int{}
	}
	id := kind + " " + name
	if prev, dup := p.lines[id]; dup {
		return p.errorf("[%s] given twice (first on line %d)", id, prev)
	}
	p.lines[id] = p.line
	p.section, p.seen = kind, nil
	switch kind {
	case "stream":
		if !codec.ValidStream(name) {
			return p.errorf("invalid stream name %q: want 1-%d bytes of [a-z0-9_.-]", name, codec.MaxStreamLen)
		}
		p.c.Streams = append(p.c.Streams, StreamConfig{Name: name, Codec: codec.Msgpack, Mode: Continuous, Flush: time.Minute})
		p.stream = &p.c.Streams[len(p.c.Streams)-1]
	case "collector":
		// [collector snapshot.NAME] is one of several instances.
		base, inst, multi := strings.Cut(name, ".")
		if _, ok := registry[base]; !ok {
			return p.errorf("unknown collector %q (built in: %s)", base, strings.Join(collectorNames(), ", "))
		}
		if multi && (!multiInstance[base] || inst == "") {
			return p.errorf("collector %q has no instances (only %s.NAME has)", base, "snapshot")
		}
		p.col = &CollectorConfigSection{Enabled: true, Interval: intervalOf(base), Options: map[string]string{}}
		if multi {
			p.col.Options["name"] = inst
		}
		p.c.Collectors[name] = p.col
	case "rule":
		p.c.Rules = append(p.c.Rules, RuleConfig{Name: name, Stream: StreamMetrics, For: 1, Level: codec.LevelWarning})
		p.rule = &p.c.Rules[len(p.c.Rules)-1]
	default:
		return p.errorf("unknown section kind %q (want stream, collector or rule)", kind)
	}
	return nil
}

func intervalOf(name string) time.Duration {
	if d, ok := defaultIntervals[name]; ok {
		return d
	}
	return defaultInterval
}

func (p *configParser) globalKey(key, val string) error {
	c := p.c
	var err error
	switch key {
	case "cap":
		c.Cap, err = size.Parse(val)
	case "socket":
		c.Socket = val
	case "socket_mode":
		var m uint64
		m, err = strconv.ParseUint(val, 8, 32)
		if err == nil && m > 0o777 {
			err = tinyfmt.Errorf("%q is not a permission mode", val)
		}
		c.SocketMode = os.FileMode(m)
	case "socket_group":
		c.SocketGroup = val
	case "max_record":
		var n int64
		n, err = size.Parse(val)
		if err == nil && (n < 256 || n > 1<<20) {
			err = tinyfmt.Errorf("%s out of range [256B, 1MiB]", val)
		}
		c.MaxRecord = int(n)
	case "rate_limit":
		c.RateLimit, err = parsePositive(val)
	case "syslog":
		if val == "off" {
			val = ""
		}
		c.Syslog = val
	case "log_file":
		c.LogFile = val
	case "log_max_size":
		c.LogMaxSize, err = parsePositive(val)
	case "clock_step":
		c.ClockStep, err = parseDuration(val)
	case "stats_every":
		c.StatsEvery, err = parsePeriod(val)
	default:
		return p.errorf("unknown key %q", key)
	}
	return err
}

func (p *configParser) streamKey(key, val string) error {
	s := p.stream
	if p.set == nil {
		p.set = map[string]bool{}
	}
	p.set[s.Name+"."+key] = true
	var err error
	switch key {
	case "budget":
		s.Budget, err = size.Parse(val)
	case "segment":
		s.Segment, err = size.Parse(val)
	case "codec":
		s.Codec, err = codec.ParseCodec(val)
	case "sync":
		s.Sync, err = ringlog.ParseSyncPolicy(val)
	case "sync_every":
		s.SyncEvery, err = parseDuration(val)
	case "mode":
		switch val {
		case "continuous":
			s.Mode = Continuous
		case "periodic":
			s.Mode = Periodic
		default:
			err = tinyfmt.Errorf("unknown mode %q (want continuous or periodic)", val)
		}
	case "flush":
		s.Flush, err = parseDuration(val)
	case "buffer":
		var n int64
		n, err = size.Parse(val)
		s.Buffer = int(n)
	case "pack":
		s.Pack, err = strconv.ParseBool(val)
	case "write_budget":
		s.WriteBudget, err = size.Parse(val)
	default:
		return p.errorf("unknown key %q in [stream %s]", key, s.Name)
	}
	return err
}

func (p *configParser) collectorKey(key, val string) error {
	var err error
	switch key {
	case "enabled":
		p.col.Enabled, err = strconv.ParseBool(val)
	case "interval":
		p.col.Interval, err = parsePeriod(val)
	default:
		p.col.Options[key] = val // the collector checks its own options
	}
	return err
}

func (p *configParser) ruleKey(key, val string) error {
	r := p.rule
	var err error
	switch key {
	case "stream":
		r.Stream = val
	case "record":
		r.Record = val
	case "field":
		r.Field = val
	case "match":
		if k, v, ok := strings.Cut(val, "="); !ok || k == "" || v == "" {
			err = tinyfmt.Errorf("want key=value, got %q", val)
		}
		r.Match = val
	case "above", "below":
		if _, set := p.seen["above"]; set && key == "below" {
			return p.errorf("a rule has above or below, not both")
		}
		r.Above, r.limitSet = key == "above", true
		r.Limit, err = strconv.ParseFloat(val, 64)
		if _, set := p.seen["clear"]; !set {
			r.Clear = r.Limit
		}
	case "clear":
		r.Clear, err = strconv.ParseFloat(val, 64)
	case "for":
		r.For, err = parsePositive(val)
	case "level":
		r.Level, err = codec.ParseLevel(val)
	case "enabled":
		var on bool
		on, err = strconv.ParseBool(val)
		r.Off = !on
	default:
		return p.errorf("unknown key %q in [rule %s]", key, r.Name)
	}
	return err
}

// tier sets s's Tier and Base when s is a tier of another stream, and
// checks that its interval is a multiple of the next finer tier's, whose
// summaries it folds.
func (p *configParser) tier(s *StreamConfig) error {
	base, every, ok := rollup.SplitTier(s.Name)
	if !ok || p.c.Stream(base) == nil {
		return nil
	}
	if b, _, ok := rollup.SplitTier(base); ok && p.c.Stream(b) != nil {
		return p.errorf("[stream %s]: a tier of tier %s; name it a tier of %s", s.Name, base, b)
	}
	s.Tier, s.Base = every, base
	for _, o := range p.c.Streams {
		if b, e, ok := rollup.SplitTier(o.Name); ok && b == base && e < every && every%e != 0 {
			return p.errorf("[stream %s]: %v is not a multiple of tier %s's %v, whose summaries it folds", s.Name, every, o.Name, e)
		}
	}
	return nil
}

// finish fills stream defaults and checks what spans sections.
func (p *configParser) finish() error {
	c := p.c
	// Enabled-by-default collectors without a section run at their
	// default interval.
	for _, name := range collectorNames() {
		if _, ok := c.Collectors[name]; !ok && registry[name].enabled {
			c.Collectors[name] = &CollectorConfigSection{Enabled: true, Interval: intervalOf(name), Options: map[string]string{}}
		}
	}
	p.line = 0
	var total int64
	for i := range c.Streams {
		s := &c.Streams[i]
		p.line = p.lines["stream "+s.Name]
		if what := c.dataName(s.Name); what != "" {
			return p.errorf("[stream %s]: %s is the data directory's %s; a stream's ring may not take its name", s.Name, s.Name, what)
		}
		if s.Budget == 0 {
			return p.errorf("[stream %s] needs a budget", s.Name)
		}
		if s.Segment == 0 {
			s.Segment = min(256<<10, s.Budget/8)
		}
		if s.Segment < ringlog.MinSegmentSize || s.Segment > ringlog.MaxSegmentSize {
			by := ""
			if !p.set[s.Name+".segment"] {
				by = " (by default, budget/8)"
			}
			return p.errorf("[stream %s] segment %s%s is out of range [%s, %s]", s.Name, size.Format(s.Segment), by, size.Format(ringlog.MinSegmentSize), size.Format(ringlog.MaxSegmentSize))
		}
		if s.Buffer == 0 {
			s.Buffer = int(min(64<<10, s.Segment))
		}
		if !p.set[s.Name+".pack"] {
			s.Pack = s.Codec == codec.Msgpack && s.Mode == Periodic
		}
		if s.Pack && s.Codec != codec.Msgpack {
			return p.errorf("[stream %s] pack = true needs codec = msgpack", s.Name)
		}
		if int64(s.Buffer) > s.Segment {
			return p.errorf("[stream %s] buffer %s is larger than its segment %s", s.Name, size.Format(int64(s.Buffer)), size.Format(s.Segment))
		}
		need := 2*s.Segment + int64(s.Buffer) + 3*4096
		if s.Budget < need {
			return p.errorf("[stream %s] budget %s is below the %s its buffer and two segments need", s.Name, size.Format(s.Budget), size.Format(need))
		}
		// Whatever else the ring would refuse at start.
		if err := s.ringOptions().Check(); err != nil {
			return p.errorf("[stream %s] %v", s.Name, err)
		}
		if err := p.tier(s); err != nil {
			return err
		}
		total += s.Budget
	}
	if total > c.Cap {
		p.line = 0
		return p.errorf("the streams' budgets add up to %s, over cap %s", size.Format(total), size.Format(c.Cap))
	}
	for _, r := range c.Rules {
		p.line = p.lines["rule "+r.Name]
		if r.Off {
			continue
		}
		if r.Record == "" || r.Field == "" {
			return p.errorf("[rule %s] needs record and field", r.Name)
		}
		if !r.limitSet {
			return p.errorf("[rule %s] needs above or below", r.Name)
		}
		if r.Above && r.Clear > r.Limit || !r.Above && r.Clear < r.Limit {
			return p.errorf("[rule %s] clear %v is on the wrong side of the limit %v", r.Name, r.Clear, r.Limit)
		}
		if err := checkRuleField(r.Record, r.Field); err != nil {
			return p.errorf("[rule %s] %v", r.Name, err)
		}
	}
	// A collector's options are checked here, enabled or not, so that
	// one the collector would refuse is not found at run time, when it
	// could only switch the collector off.
	for _, name := range sortedKeys(c.Collectors) {
		p.line = p.lines["collector "+name]
		base, _, _ := strings.Cut(name, ".")
		if err := checkCollector(base, c.Collectors[name].Options, c.Streams); err != nil {
			return p.errorf("[collector %s] %v", name, err)
		}
	}
	return nil
}

// checkRuleField refuses a rule on a field of a catalogued record that
// is not a number: the record lacks it, or it is a label, a flag or
// text, and the rule would never fire. A record the catalogue does not
// know (a component's own) may hold any field.
func checkRuleField(record, field string) error {
	rec := catalog.Lookup(record)
	if rec == nil {
		return nil
	}
	f, i := rec.Field(field)
	if i >= 0 && (f.Kind == catalog.Gauge || f.Kind == catalog.Counter) {
		return nil
	}
	var nums []string
	for _, f := range rec.Fields {
		if f.Kind == catalog.Gauge || f.Kind == catalog.Counter {
			nums = append(nums, f.Key)
		}
	}
	what := "has no field " + field
	if i >= 0 {
		what = "field " + field + " is not a number (a " + f.Kind.String() + ")"
	}
	if len(nums) == 0 {
		return tinyfmt.Errorf("record %s %s, and it has no numeric field", record, what)
	}
	return tinyfmt.Errorf("record %s %s: its numeric fields are %s", record, what, strings.Join(nums, ", "))
}

// minPeriod is the shortest collector interval and stats_every. Each is
// a wake-up of the agent: nine collectors and the stats at 1 ms took 7%
// of a core, at 100 us 33%, at 1 ns all of one (docs/DESIGN.md section 23).
const minPeriod = 50 * time.Millisecond

// parsePeriod parses a duration of at least minPeriod.
func parsePeriod(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err == nil && d < minPeriod {
		err = tinyfmt.Errorf("%s is below the minimum of %s: shorter, the agent spends the device's CPU on itself", s, minPeriod)
	}
	return d, err
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, tinyfmt.Errorf("bad duration %q (want e.g. 500ms, 10s, 5m)", s)
	}
	return d, nil
}

// formatDuration is d as parseDuration reads it, without the zero
// minutes and seconds time's String writes: "1h", not "1h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func parsePositive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, tinyfmt.Errorf("want a positive integer, got %q", s)
	}
	return n, nil
}
