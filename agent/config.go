package agent

import (
	_ "embed"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/corespool"
	"github.com/itiny/itiny/internal/order"
	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/size"
	"github.com/itiny/itiny/internal/tinyfmt"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/rollup"
)

// DefaultConfig is the embedded configuration the agent runs on when it is
// given no file.
//
//go:embed default.conf
var DefaultConfig string

// A Mode says when a stream's records reach its ring.
type Mode uint8

const (
	// Continuous writes each record as it comes: it is in the page cache,
	// and survives the death of the agent, when Emit returns.
	Continuous Mode = iota
	// Periodic keeps records in a bounded memory buffer and writes them
	// every Flush interval or when the buffer fills, sparing flash; the
	// death of the agent or a power cut loses the buffer.
	Periodic
)

func (m Mode) String() string {
	if m == Periodic {
		return "periodic"
	}
	return "continuous"
}

// Config is the agent's configuration.
type Config struct {
	Data        string        // data directory; set by --data, not the file
	Cap         int64         // the streams' budgets together may not exceed it
	Socket      string        // ingest socket; relative paths are in Data; "" is off
	SocketMode  os.FileMode   // permissions of the socket
	SocketGroup string        // group name or gid owning the socket; "" keeps the agent's
	MaxRecord   int           // largest record accepted on the socket, in bytes
	RateLimit   int           // records per second per source
	Syslog      string        // unix datagram socket to accept syslog on; "" is off
	LogFile     string        // diagnostic log file; "" is stderr
	LogMaxSize  int           // MiB before the diagnostic log rotates
	ClockStep   time.Duration // wall-clock jump reported as an event
	StatsEvery  time.Duration // interval of the agent's own figures
	Streams     []StreamConfig
	Collectors  map[string]*CollectorConfigSection
	Rules       []RuleConfig
}

// StreamConfig configures one stream's ring.
type StreamConfig struct {
	Name      string
	Budget    int64
	Segment   int64
	Codec     codec.Codec
	Sync      ringlog.SyncPolicy
	SyncEvery time.Duration
	Mode      Mode
	Flush     time.Duration // periodic: the longest a record waits in memory
	Buffer    int           // periodic: memory buffer; continuous: stage size
	// Pack stores each flush as one packed block (ringlog.Options.Pack):
	// by default for periodic MessagePack streams.
	Pack bool
	// WriteBudget bounds the bytes a day the stream hands the kernel, 0
	// none: a periodic stream stretches its flush interval, up to
	// maxStretch times Flush, to stay within it, and the agent records
	// stream.write_budget when it cannot (budget.go).
	WriteBudget int64
	// Tier and Base are set for a tier, a stream named BASE.EVERY
	// (rollup.SplitTier) of a configured stream BASE: it keeps summaries of
	// intervals of Tier (tiers.go).
	Tier time.Duration
	Base string
}

// ringOptions maps a stream's configuration to its ring's.
func (sc *StreamConfig) ringOptions() ringlog.Options {
	o := ringlog.Options{
		Stream: sc.Name, Codec: sc.Codec, Budget: sc.Budget, SegmentSize: sc.Segment,
		StageSize: sc.Buffer, Sync: sc.Sync, SyncEvery: sc.SyncEvery, Pack: sc.Pack,
	}
	if sc.Mode == Periodic {
		o.MemoryStage, o.FlushEvery = true, sc.Flush
	}
	return o
}

// CollectorConfigSection is a [collector NAME] section.
type CollectorConfigSection struct {
	Enabled  bool
	Interval time.Duration
	Options  map[string]string
}

// RuleConfig is a [rule NAME] section: a threshold on a field of a record,
// held for a number of samples, with hysteresis.
type RuleConfig struct {
	Name   string
	Stream string  // stream the watched records go to; "" is any
	Record string  // record name to watch
	Field  string  // numeric field to test
	Match  string  // optional "key=value" another field must have
	Above  bool    // fire when the value is above Limit (else below)
	Limit  float64 //
	Clear  float64 // the value back on the safe side of Clear clears it
	For    int     // samples the condition must hold
	Level  codec.Level
	Off    bool // enabled = false: the rule is kept but does not run

	limitSet bool
}

// multiInstance lists the collectors that may run as several instances,
// each in a [collector NAME.INSTANCE] section.
var multiInstance = map[string]bool{"snapshot": true}

var defaultIntervals = map[string]time.Duration{"filesystem": time.Minute, "thermal": 30 * time.Second, "uptime": time.Minute, "flash": time.Hour}

const defaultInterval = 10 * time.Second

// A ConfigError names the file, line and key of a bad setting.
type ConfigError struct {
	File string
	Line int
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line == 0 {
		return tinyfmt.Sprintf("config %s: %s", e.File, e.Msg)
	}
	return tinyfmt.Sprintf("config %s:%d: %s", e.File, e.Line, e.Msg)
}

// ParseConfig parses a configuration file's text; name is used in errors.
// Global settings the text leaves out keep their defaults. Its [stream X]
// and [rule X] sections replace the embedded default's of the same name;
// the default's other streams and rules are kept, since collectors write to
// the built-in streams.
func ParseConfig(name, text string) (*Config, error) {
	p, err := parseText(name, text)
	if err != nil {
		return nil, err
	}
	if text != DefaultConfig {
		def, err := parseText("(default)", DefaultConfig)
		if err != nil {
			return nil, err
		}
		// The default's streams the file does not set, and the default's
		// tiers of those only: a file that sizes metrics itself sizes its
		// tiers too, or has none.
		set := map[string]bool{}
		for _, s := range p.c.Streams {
			set[s.Name] = true
		}
		for _, s := range def.c.Streams {
			base, _, tier := rollup.SplitTier(s.Name)
			if !set[s.Name] && !(tier && set[base]) {
				p.c.Streams = append(p.c.Streams, s)
			}
		}
		for _, r := range def.c.Rules {
			if !p.hasRule(r.Name) {
				p.c.Rules = append(p.c.Rules, r)
			}
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.c, nil
}

// maxConfigFile bounds a configuration file: the default is 2 KB.
const maxConfigFile = 1 << 20

// LoadConfig reads and parses a configuration file; "" means the embedded
// default. Only a regular file of at most 1 MiB is read (file.go).
func LoadConfig(path string) (*Config, error) {
	if path == "" {
		return ParseConfig("(default)", DefaultConfig)
	}
	b, err := regular.ReadFile(path, maxConfigFile)
	if err != nil {
		return nil, tinyfmt.Errorf("config: %w", err)
	}
	return ParseConfig(path, string(b))
}

// dataNames are the names the data directory uses itself, beside its
// streams' rings, with what each is.
var dataNames = map[string]string{
	bootFile: "boot counter", bootFile + ".tmp": "boot counter's temporary file",
	crashFile:      "crash file",
	pstoreSeenFile: "list of stored pstore entries", pstoreSeenFile + ".tmp": "list of stored pstore entries' temporary file",
	corespool.Dir: "core spool",
}

// stateSuffix ends the name of the state file of the collector of a
// [collector SECTION] in the data directory, SECTION.state
// (CollectorConfig.state); with ".tmp" after, its temporary file
// (replaceFile).
const stateSuffix = ".state"

// dataName says what the data directory's own file of that name is: one
// of dataNames, or a collector's state file; "" for none.
func (c *Config) dataName(name string) string {
	if what := dataNames[name]; what != "" {
		return what
	}
	file, tmp := strings.CutSuffix(name, ".tmp")
	section, ok := strings.CutSuffix(file, stateSuffix)
	switch {
	case !ok || c.Collectors[section] == nil:
		return ""
	case tmp:
		return "collector state file's temporary file"
	}
	return "collector state file"
}

// pstoreSeenFile, in the data directory, lists the pstore entries stored
// and still present (pstoreseen_linux.go). Here, not there: a build
// without the collector refuses the name too.
const pstoreSeenFile = "pstore-stored"

// SocketPath returns the ingest socket's path: Socket, in Data when it is
// relative; "" when the socket is off.
func (c *Config) SocketPath() string {
	if c.Socket == "" || filepath.IsAbs(c.Socket) {
		return c.Socket
	}
	return filepath.Join(c.Data, c.Socket)
}

// Check checks what needs the data directory, c.Data: that the socket,
// the syslog socket and the log file land on none of the data directory's
// own files (a ring, the boot counter), nor on the directory, nor on one
// another, and that socket_group names a group. New and Reload run it,
// and so does itiny config check: a file the agent would refuse fails the
// check. (socket = boot once replaced the boot counter, and the next
// start counted a device boot that was not.)
func (c *Config) Check() error {
	cwd, err := syscall.Getwd()
	if err != nil {
		return tinyfmt.Errorf("config: %w", err)
	}
	abs := func(p string) string {
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		return filepath.Clean(p)
	}
	data := abs(c.Data)
	seen := map[string]string{}
	for _, f := range [...]struct{ key, given, path string }{{"socket", c.Socket, c.SocketPath()}, {"syslog", c.Syslog, c.Syslog}, {"log_file", c.LogFile, c.LogFile}} {
		if f.path == "" {
			continue
		}
		p := abs(f.path)
		if prev := seen[p]; prev != "" {
			return tinyfmt.Errorf("config: %s and %s are the same file, %s", prev, f.key, p)
		}
		seen[p] = f.key
		rel, in := strings.CutPrefix(p, data+"/")
		if !in && p != data {
			continue // outside the data directory
		}
		first, _, _ := strings.Cut(rel, "/")
		what := "the data directory " + data
		switch {
		case p == data:
		case c.dataName(first) != "":
			what = "the data directory's " + c.dataName(first)
		case c.Stream(first) != nil:
			what = "the ring of stream " + first
		default:
			continue
		}
		return tinyfmt.Errorf("config: %s = %s lands on %s", f.key, f.given, what)
	}
	if c.SocketGroup != "" && c.Socket != "" {
		if _, err := lookupGroup(c.SocketGroup); err != nil {
			return tinyfmt.Errorf("config: socket_group: %w", err)
		}
	}
	// Again for a Config an embedding program builds itself.
	for _, r := range c.Rules {
		if err := checkRuleField(r.Record, r.Field); err != nil && !r.Off {
			return tinyfmt.Errorf("config: [rule %s] %w", r.Name, err)
		}
	}
	return nil
}

// sortedKeys returns the names of collectors' sections in order.
func sortedKeys(m map[string]*CollectorConfigSection) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	order.Strings(names)
	return names
}

// Stream returns the named stream's configuration, or nil.
func (c *Config) Stream(name string) *StreamConfig {
	for i := range c.Streams {
		if c.Streams[i].Name == name {
			return &c.Streams[i]
		}
	}
	return nil
}

// String prints the effective configuration in the file format.
func (c *Config) String() string {
	var b strings.Builder
	tinyfmt.Fprintf(&b, "cap = %s\nsocket = %s\nsocket_mode = %04o\n", size.Format(c.Cap), c.Socket, uint32(c.SocketMode))
	if c.SocketGroup != "" {
		tinyfmt.Fprintf(&b, "socket_group = %s\n", c.SocketGroup)
	}
	syslog := c.Syslog
	if syslog == "" {
		syslog = "off"
	}
	tinyfmt.Fprintf(&b, "max_record = %s\nrate_limit = %d\nsyslog = %s\n", size.Format(int64(c.MaxRecord)), c.RateLimit, syslog)
	tinyfmt.Fprintf(&b, "log_file = %s\nlog_max_size = %d\n", c.LogFile, c.LogMaxSize)
	tinyfmt.Fprintf(&b, "clock_step = %s\nstats_every = %s\n", formatDuration(c.ClockStep), formatDuration(c.StatsEvery))
	var total int64
	for _, s := range c.Streams {
		total += s.Budget
		tinyfmt.Fprintf(&b, "\n[stream %s]\nbudget = %s\nsegment = %s\ncodec = %s\nsync = %s\n", s.Name, size.Format(s.Budget), size.Format(s.Segment), s.Codec, s.Sync)
		if s.Sync == ringlog.SyncInterval && s.SyncEvery != 0 {
			tinyfmt.Fprintf(&b, "sync_every = %s\n", formatDuration(s.SyncEvery))
		}
		tinyfmt.Fprintf(&b, "mode = %s\n", s.Mode)
		if s.Mode == Periodic {
			tinyfmt.Fprintf(&b, "flush = %s\n", formatDuration(s.Flush))
		}
		tinyfmt.Fprintf(&b, "buffer = %s\npack = %t\n", size.Format(int64(s.Buffer)), s.Pack)
		if s.WriteBudget > 0 {
			tinyfmt.Fprintf(&b, "write_budget = %s\n", size.Format(s.WriteBudget))
		}
	}
	for _, n := range sortedKeys(c.Collectors) {
		col := c.Collectors[n]
		tinyfmt.Fprintf(&b, "\n[collector %s]\nenabled = %t\ninterval = %s\n", n, col.Enabled, formatDuration(col.Interval))
		keys := make([]string, 0, len(col.Options))
		for k := range col.Options {
			keys = append(keys, k)
		}
		order.Strings(keys)
		for _, k := range keys {
			tinyfmt.Fprintf(&b, "%s = %s\n", k, col.Options[k])
		}
	}
	for _, r := range c.Rules {
		dir := "below"
		if r.Above {
			dir = "above"
		}
		tinyfmt.Fprintf(&b, "\n[rule %s]\nstream = %s\nrecord = %s\nfield = %s\n", r.Name, r.Stream, r.Record, r.Field)
		if r.Match != "" {
			tinyfmt.Fprintf(&b, "match = %s\n", r.Match)
		}
		if r.limitSet { // an off rule may have none
			tinyfmt.Fprintf(&b, "%s = %v\n", dir, r.Limit)
		}
		tinyfmt.Fprintf(&b, "clear = %v\nfor = %d\nlevel = %s\n", r.Clear, r.For, r.Level)
		if r.Off {
			b.WriteString("enabled = false\n")
		}
	}
	tinyfmt.Fprintf(&b, "\n# budgets: %s of cap %s\n", size.Format(total), size.Format(c.Cap))
	return b.String()
}
