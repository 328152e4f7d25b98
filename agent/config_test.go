package agent

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/ringlog"
)

func TestDefaultConfig(t *testing.T) {
	c, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{StreamMetrics, StreamState, StreamEvents, StreamSelf} {
		if c.Stream(name) == nil {
			t.Errorf("default config lacks stream %s", name)
		}
	}
	if m := c.Stream(StreamMetrics); m.Mode != Periodic || m.Codec != codec.Msgpack || m.Flush != time.Minute {
		t.Errorf("metrics: %+v", m)
	}
	if e := c.Stream(StreamEvents); e.Codec != codec.JSON || e.Sync != ringlog.SyncInterval || e.Mode != Continuous {
		t.Errorf("events: %+v", e)
	}
	if col := c.Collectors["load"]; col == nil || !col.Enabled || col.Interval != 10*time.Second {
		t.Errorf("load collector: %+v", col)
	}
	names := make([]string, len(c.Rules))
	for i, r := range c.Rules {
		names[i] = r.Name
	}
	if strings.Join(names, " ") != "filesystem-full flash-life-80 flash-life-90 flash-reserve-80 flash-reserve-90" ||
		c.Rules[0].Limit != 90 || c.Rules[0].Clear != 85 || !c.Rules[0].Above || c.Rules[2].Level != codec.LevelErr {
		t.Errorf("rules: %+v", c.Rules)
	}
}

// TestConfigStringRoundTrip: what `itiny config check` prints parses back
// to the same configuration: the default, and one that sets every global
// key, switches collectors off, gives options and instances, and turns a
// rule off.
func TestConfigStringRoundTrip(t *testing.T) {
	for _, text := range []string{DefaultConfig, `
cap = 20MiB
socket = /run/itiny/ingest.sock
socket_mode = 0620
socket_group = appd
max_record = 8KiB
rate_limit = 50
syslog = /dev/log
log_file = /var/log/itiny.log
log_max_size = 4
clock_step = 500ms
stats_every = 50ms
[stream events]
budget = 5MiB
sync = always
[stream audit]
budget = 1MiB
codec = json
sync = interval
sync_every = 250ms
mode = periodic
flush = 5s
buffer = 8KiB
[collector cpu]
enabled = false
[collector thermal]
enabled = false
interval = 2m
[collector filesystem]
include_tmpfs = true
mounts = /, /data
[collector kmsg]
all = true
[collector snapshot.routes]
command = ip route
timeout = 2s
[collector snapshot.hosts]
enabled = false
file = /etc/hosts
[rule filesystem-full]
enabled = false
[rule hot]
stream =
record = thermal
field = temp_c
match = type=cpu
above = 80
clear = 75
for = 2
level = crit
`, "log_max_size = 3\n"} {
		c, err := ParseConfig("given", text)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ParseConfig("printed", c.String())
		if err != nil {
			t.Fatalf("%v\n%s", err, c)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip differs:\n%s\n---\n%s", c, c2)
		}
	}
}

func TestConfigOverrides(t *testing.T) {
	c, err := ParseConfig("site.conf", `
cap = 32MiB
[stream events]
budget = 8MiB
codec = msgpack
sync = always
[stream audit]          # a new stream for ingest
budget = 2MiB
[rule filesystem-full]
enabled = false
[collector process]
interval = 2s
watch = nginx
`)
	if err != nil {
		t.Fatal(err)
	}
	if e := c.Stream("events"); e.Budget != 8<<20 || e.Codec != codec.Msgpack || e.Sync != ringlog.SyncAlways {
		t.Errorf("events not overridden: %+v", e)
	}
	if c.Socket != "itiny.sock" {
		t.Errorf("a file without socket = has socket %q, want the default's", c.Socket)
	}
	if c.Stream("metrics") == nil || c.Stream("audit") == nil {
		t.Errorf("streams: %+v", c.Streams)
	}
	if len(c.Rules) != 5 || !c.Rules[0].Off || c.Rules[1].Off {
		t.Errorf("rule not disabled: %+v", c.Rules)
	}
	if l := c.Collectors["process"]; l.Interval != 2*time.Second || l.Options["watch"] != "nginx" {
		t.Errorf("collector process: %+v", l)
	}
	c, err = ParseConfig("snap.conf", "[collector snapshot.routes]\ncommand = ip route\n[collector snapshot.hosts]\nfile = /etc/hosts\n")
	if err != nil {
		t.Fatal(err)
	}
	if r, h := c.Collectors["snapshot.routes"], c.Collectors["snapshot.hosts"]; r.Options["name"] != "routes" || h.Options["file"] != "/etc/hosts" {
		t.Errorf("snapshot instances: %+v %+v", r, h)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"bogus = 1", `x.conf:1: unknown key "bogus"`},
		{"\n\ncap = 12 parsecs", `x.conf:3: cap: size "12 parsecs": unknown unit "parsecs"`},
		{"cap = 1MiB\ncap = 2MiB", `x.conf:2: "cap" set twice in this section (first on line 1)`},
		{"rate_limit = -4", `x.conf:1: rate_limit: want a positive integer, got "-4"`},
		{"socket_mode = 9999", `x.conf:1: socket_mode`},
		{"clock_step = soon", `x.conf:1: clock_step: bad duration "soon"`},
		{"just words", `x.conf:1: want key = value, got "just words"`},
		{"[stream Bad]", `x.conf:1: invalid stream name "Bad"`},
		{"[stream]", `x.conf:1: section "[stream]" needs a name`},
		{"[gadget x]", `x.conf:1: unknown section kind "gadget"`},
		{"[collector flux]", `x.conf:1: unknown collector "flux" (built in: `},
		{"[stream events]\nbudget = 1MiB\ncolour = red", `x.conf:3: unknown key "colour" in [stream events]`},
		{"[stream events]\nbudget = 1MiB\nmode = sometimes", `x.conf:3: mode: unknown mode "sometimes"`},
		{"[stream events]\nbudget = 1MiB\ncodec = xml", `x.conf:3: codec: codec: unknown codec "xml"`},
		{"[stream events]\nsegment = 64KiB", `x.conf:1: [stream events] needs a budget`},
		{"[stream events]\nbudget = 100KiB\nsegment = 64KiB", `x.conf:1: [stream events] budget 100KiB is below the`},
		{"[stream events]\nbudget = 1MiB\nsegment = 64KiB\nbuffer = 128KiB", `[stream events] buffer 128KiB is larger than its segment 64KiB`},
		{"[stream events]\nbudget = 1MiB\ncodec = json\npack = true", `x.conf:1: [stream events] pack = true needs codec = msgpack`},
		{"[stream state]\nbudget = 1MiB\npack = maybe", `x.conf:3: pack: strconv.ParseBool`},
		{"cap = 4MiB", `the streams' budgets add up to 15872KiB, over cap 4MiB`},
		{"[rule r]\nrecord = cpu\nfield = x", `x.conf:1: [rule r] needs above or below`},
		{"[rule r]\nrecord = cpu\nfield = x\nabove = 5\nclear = 9", `[rule r] clear 9 is on the wrong side of the limit 5`},
		{"[rule r]\nrecord = cpu\nabove = 5\nbelow = 2", `x.conf:4: a rule has above or below, not both`},
		{"[rule r]\nlevel = loud", `x.conf:2: level: codec: unknown level "loud"`},
		{"[collector cpu.two]", `x.conf:1: collector "cpu" has no instances`},
		{"[collector snapshot.]", `x.conf:1: collector "snapshot" has no instances`},
		// What the ring refuses at start, the config refuses.
		{"[stream events]\nbudget = 1MiB\nsegment = 1", `x.conf:1: [stream events] segment 1B is out of range [4KiB, 64MiB]`},
		{"[stream events]\nbudget = 1MiB\nsegment = 2KiB", `x.conf:1: [stream events] segment 2KiB is out of range [4KiB, 64MiB]`},
		{"cap = 1GiB\n[stream events]\nbudget = 512MiB\nsegment = 128MiB", `x.conf:2: [stream events] segment 128MiB is out of range [4KiB, 64MiB]`},
		{"[stream events]\nbudget = 16KiB", `x.conf:1: [stream events] segment 2KiB (by default, budget/8) is out of range`},
		// Names the data directory uses.
		{"[stream boot]\nbudget = 1MiB", `x.conf:1: [stream boot]: boot is the data directory's boot counter`},
		{"[stream boot.tmp]\nbudget = 1MiB", `x.conf:1: [stream boot.tmp]: boot.tmp is the data directory's boot counter's temporary file`},
		{"[stream process.state]\nbudget = 1MiB", `x.conf:1: [stream process.state]: process.state is the data directory's collector state file`},
		{"[collector snapshot.x]\nfile = /etc/hosts\n[stream snapshot.x.state.tmp]\nbudget = 1MiB", `x.conf:3: [stream snapshot.x.state.tmp]: snapshot.x.state.tmp is the data directory's collector state file's temporary file`},
		// Periods that would spin a core.
		{"stats_every = 1ns", `x.conf:1: stats_every: 1ns is below the minimum of 50ms`},
		{"\n[collector cpu]\ninterval = 1ns", `x.conf:3: interval: 1ns is below the minimum of 50ms`},
		{"[collector load]\ninterval = 49ms", `x.conf:2: interval: 49ms is below the minimum of 50ms`},
		// Collector options: refused by the check, not at run time.
		{"[collector filesystem]\ninclude_tmpfs = maybe", `x.conf:1: [collector filesystem] option include_tmpfs: want true or false, got "maybe"`},
		{"[collector cpu]\ncolour = red", `x.conf:1: [collector cpu] unknown option "colour" for collector cpu (it has none)`},
		{"[collector netdev]\ncolour = red", `[collector netdev] unknown option "colour" for collector netdev (known: include_lo)`},
		{"[collector kmsg]\nenabled = false\nall = perhaps", `x.conf:1: [collector kmsg] option all: want true or false`},
		{"[collector process]\nwatch = pidfile:run/x.pid", `[collector process] option watch: pidfile path "run/x.pid" is not absolute`},
		{"[collector snapshot.x]\ntimeout = 2s", `x.conf:1: [collector snapshot.x] snapshot: set either option command or option file`},
		{"[collector snapshot.x]\nfile = /etc/hosts\nmax_output = 2MiB", `[collector snapshot.x] option max_output: want a size from 1B to 1MiB`},
	} {
		_, err := ParseConfig("x.conf", tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %s", tc.text, err, tc.want)
		}
	}
}

// TestRuleFields: a rule on a record of the catalogue watches one of its
// numeric fields; on a label, a flag, text or a field the record lacks it
// would never fire, so the config is refused, naming the rule, the record,
// the field and the fields it could watch. A component's own record may
// hold anything.
func TestRuleFields(t *testing.T) {
	rule := func(record, field string) string {
		return "[rule r]\nrecord = " + record + "\nfield = " + field + "\nabove = 1\n"
	}
	for _, tc := range []struct{ text, want string }{
		{rule("process", "running"), `x.conf:1: [rule r] record process field running is not a number (a flag): its numeric fields are restarts, rss_bytes, cpu_ticks, fds, runtime_s, exit_code`},
		{rule("filesystem", "mount"), `[rule r] record filesystem field mount is not a number (a label): its numeric fields are size_bytes, free_bytes, avail_bytes, used_pct, files, files_free`},
		{rule("kernel.log", "msg"), `[rule r] record kernel.log field msg is not a number (a text): its numeric fields are usec`},
		{rule("cpu", "busy"), `[rule r] record cpu has no field busy: its numeric fields are user, nice, system, idle, iowait,`},
		{rule("agent.config", "text"), `[rule r] record agent.config field text is not a number (a text), and it has no numeric field`},
		{"\n\n" + rule("load", "load1") + "[rule s]\nrecord = memory\nfield = mem_free\nbelow = 1\n[rule t]\nrecord = thermal\nfield = zone\nabove = 1\n", `x.conf:11: [rule t] record thermal field zone is not a number (a label)`},
		{rule("load", "load1"), ""},
		{rule("process", "restarts"), ""},
		{rule("netdev", "rx_errs"), ""},
		{rule("appd.queue", "depth"), ""},                                      // a component's record: not the catalogue's
		{rule("appd.queue", "status"), ""},                                     // whatever it holds
		{"[rule r]\nrecord = process\nfield = running\nenabled = false\n", ""}, // off: kept, never run
	} {
		_, err := ParseConfig("x.conf", tc.text)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q:\n got %v\nwant %q", tc.text, err, tc.want)
		}
	}
	// A Config an embedding program builds is refused by New as well.
	cfg := testConfig(t, "")
	cfg.Rules = append(cfg.Rules, RuleConfig{Name: "up", Record: "process", Field: "running", Above: true, Limit: 0})
	if a, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), "config: [rule up] record process field running is not a number (a flag)") {
		if a != nil {
			a.Close()
		}
		t.Errorf("New with a rule on a flag: %v", err)
	}
}

// TestConfigCheck: paths the config gives never land on the data
// directory's own files, nor on each other (Config.Check, which New,
// Reload and itiny config check run).
func TestConfigCheck(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"socket = boot", "config: socket = boot lands on the data directory's boot counter"},
		{"socket = boot.tmp", "lands on the data directory's boot counter's temporary file"},
		{"socket = crash", "lands on the data directory's crash file"},
		{"socket = pstore-stored.tmp", "lands on the data directory's list of stored pstore entries' temporary file"},
		{"socket = process.state", "lands on the data directory's collector state file"},
		{"log_file = /d/process.state.tmp", "lands on the data directory's collector state file's temporary file"},
		{"syslog = /d/process.state\n[collector process]\nenabled = false", "lands on the data directory's collector state file"},
		{"socket = events", "config: socket = events lands on the ring of stream events"},
		{"socket = ./metrics/stage", "socket = ./metrics/stage lands on the ring of stream metrics"},
		{"socket = .", "socket = . lands on the data directory /d"},
		{"socket = /d/state", "socket = /d/state lands on the ring of stream state"},
		{"[stream itiny.sock]\nbudget = 512KiB", "socket = itiny.sock lands on the ring of stream itiny.sock"},
		{"syslog = /d/itiny/stage", "syslog = /d/itiny/stage lands on the ring of stream itiny"},
		{"log_file = /d/boot", "log_file = /d/boot lands on the data directory's boot counter"},
		{"log_file = /d/../d/events/x.log", "lands on the ring of stream events"},
		{"log_file = /d/itiny.sock", "config: socket and log_file are the same file, /d/itiny.sock"},
		{"socket = /dev/log\nsyslog = /dev/log", "socket and syslog are the same file"},
		{"socket = /run/itiny.sock\nsyslog = /dev/log\nlog_file = /d/itiny.log", ""},
		{"socket = ../itiny.sock\nlog_file = /d/logs/itiny.log", ""},
		{"socket =", ""},
	} {
		c, err := ParseConfig("x.conf", tc.text)
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		c.Data = "/d"
		err = c.Check()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: %v, want %q", tc.text, err, tc.want)
		}
	}
}

// TestConfigAcceptedStarts: a config at the edges of what the check
// accepts opens its rings: the check refuses everything the rings would.
func TestConfigAcceptedStarts(t *testing.T) {
	for _, text := range []string{
		"[stream events]\nbudget = 24KiB\nsegment = 4KiB",
		"[stream events]\nbudget = 24KiB\nsegment = 4KiB\ncodec = json\nmode = periodic",
		"[stream events]\nbudget = 24KiB\nsegment = 4KiB\nmode = periodic\npack = true",
		"[stream events]\nbudget = 32KiB",
		"[stream events]\nbudget = 20481\nsegment = 4KiB\nbuffer = 1\nsync = always",
		"cap = 1GiB\n[stream events]\nbudget = 129MiB\nsegment = 64MiB",
	} {
		c, err := ParseConfig("edge.conf", "socket =\n"+text)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		for _, col := range c.Collectors {
			col.Enabled = false
		}
		c.Data = testdir.TempDir(t)
		a, err := New(c, Options{Log: discard{}})
		if err != nil {
			t.Errorf("%q passes the check, but the agent refuses it: %v", text, err)
			continue
		}
		a.Close()
	}
}

type discard struct{}

func (discard) Printf(string, ...any) {}

// TestFormatDuration: durations print as a person writes them, and read
// back as themselves.
func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", time.Minute: "1m", 10 * time.Second: "10s", 90 * time.Minute: "1h30m",
		time.Hour + 5*time.Second: "1h0m5s", 500 * time.Millisecond: "500ms", 2*time.Hour + time.Minute: "2h1m",
	} {
		got := formatDuration(d)
		back, err := parseDuration(got)
		if got != want || err != nil || back != d {
			t.Errorf("%v: %q, read back %v, %v; want %q", d, got, back, err, want)
		}
	}
}
