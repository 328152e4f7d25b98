package agent

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
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
	if len(c.Rules) != 1 || c.Rules[0].Limit != 90 || c.Rules[0].Clear != 85 || !c.Rules[0].Above {
		t.Errorf("rules: %+v", c.Rules)
	}
}

// TestConfigStringRoundTrip: what `itiny config check` prints parses back
// to the same configuration.
func TestConfigStringRoundTrip(t *testing.T) {
	c, err := LoadConfig("")
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
[collector load]
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
	if len(c.Rules) != 1 || !c.Rules[0].Off {
		t.Errorf("rule not disabled: %+v", c.Rules)
	}
	if l := c.Collectors["load"]; l.Interval != 2*time.Second || l.Options["watch"] != "nginx" {
		t.Errorf("collector load: %+v", l)
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
		{"\n\ncap = 12 parsecs", `x.conf:3: cap: bad size "12 parsecs"`},
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
		{"cap = 4MiB", `the streams' budgets add up to 14MiB, over cap 4MiB`},
		{"[rule r]\nrecord = cpu\nfield = x", `x.conf:1: [rule r] needs above or below`},
		{"[rule r]\nrecord = cpu\nfield = x\nabove = 5\nclear = 9", `[rule r] clear 9 is on the wrong side of the limit 5`},
		{"[rule r]\nrecord = cpu\nabove = 5\nbelow = 2", `x.conf:4: a rule has above or below, not both`},
		{"[rule r]\nlevel = loud", `x.conf:2: level: codec: unknown level "loud"`},
		{"[collector cpu.two]", `x.conf:1: collector "cpu" has no instances`},
		{"[collector snapshot.]", `x.conf:1: collector "snapshot" has no instances`},
	} {
		_, err := ParseConfig("x.conf", tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %s", tc.text, err, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"512": 512, "512B": 512, "64KiB": 64 << 10, "4MiB": 4 << 20, "2GiB": 2 << 30, "3M": 3 << 20, "1KB": 1024} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("%s: %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "MiB", "-1", "1TiB", "1.5MiB", "99999999999GiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
