package agent

import (
	"errors"
	"strings"
	"testing"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// flaky is a collector whose samples fail where fails says so.
type flaky struct {
	fails []bool
	i     int
}

func (f *flaky) Update(Emitter) error {
	fail := f.fails[f.i]
	f.i++
	if fail {
		return errors.New("sensor timed out")
	}
	return nil
}

// flap runs a flaky collector through pattern ('x' a failure, '.' a
// success), one sample a second by the monotonic clock.
func flap(a *Agent, pattern string) {
	f := &flaky{}
	for _, c := range pattern {
		f.fails = append(f.fails, c == 'x')
	}
	s := &scheduled{name: "thermal", c: f}
	for i := range pattern {
		a.sample = sampleEmitter{a: a, mono: int64(i+1) * 1e9}
		a.update(s)
	}
}

// TestCollectorFailing: a collector failing at run time writes one
// collector.failing when it starts failing and one collector.recovered
// when RecoverAfter samples in a row succeed, whatever the failures in
// between; never one record a failure.
func TestCollectorFailing(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    string // the records' names, with failures and failing_s
	}{
		{"....", ""},
		{"xxxx", "failing"},
		{".xx...", "failing recovered 2 4.0s"},
		{".x.x.x.x...", "failing recovered 4 9.0s"}, // flapping: one spell
		{"x...x...", "failing recovered 1 3.0s failing recovered 1 3.0s"},
		{"x..x..", "failing"},
	} {
		cfg := testConfig(t, "")
		a, err := New(cfg, Options{Log: discard{}})
		if err != nil {
			t.Fatal(err)
		}
		flap(a, tc.pattern)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range readStream(t, cfg.Data, StreamEvents) {
			switch r.Name {
			case catalog.CollectorFailing.Name:
				if field(r, "collector").Str() != "thermal" || field(r, "error").Str() != "sensor timed out" || r.Level != codec.LevelWarning {
					t.Errorf("%s: %v", tc.pattern, r)
				}
				got = append(got, "failing")
			case catalog.CollectorRecovered.Name:
				got = append(got, "recovered", number(field(r, "failures")), number(field(r, "failing_s"))+"s")
			}
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("%s: %q, want %q", tc.pattern, s, tc.want)
		}
	}
}

// number formats a numeric value whatever its kind.
func number(v codec.Value) string {
	b, _ := codec.AppendValueJSON(nil, v)
	return string(b)
}

// TestConfigRecord: agent.config holds the configuration in effect at the
// start and after a reload, with the collectors that are off and why;
// agent.stop says what stopped the agent.
func TestConfigRecord(t *testing.T) {
	cfg := testConfig(t, "rate_limit = 7\n")
	cfg.Collectors["cpu"].Enabled = true
	a, err := New(cfg, Options{Log: discard{}, Proc: t.TempDir()}) // no /proc/stat: cpu is off
	if err != nil {
		t.Fatal(err)
	}
	next := testConfig(t, "rate_limit = 9\n")
	if err := a.Reload(next); err != nil {
		t.Fatal(err)
	}
	if err := a.Shutdown("SIGTERM"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range readStream(t, cfg.Data, StreamSelf) {
		switch r.Name {
		case catalog.AgentConfig.Name:
			text := field(r, "text").Str()
			if text != cfg.String() && text != next.String() || field(r, "truncated").Bool() {
				t.Errorf("agent.config: %v", r)
			}
			got = append(got, r.Name+" rate_limit="+strings.Fields(text[strings.Index(text, "rate_limit"):])[2])
		case catalog.CollectorOff.Name:
			if e := field(r, "error").Str(); !strings.Contains(e, "stat") {
				t.Errorf("collector.off error %q does not say why", e)
			}
			got = append(got, r.Name+" "+field(r, "collector").Str())
		case catalog.AgentStop.Name:
			got = append(got, r.Name+" "+field(r, "reason").Str())
		default:
			got = append(got, r.Name)
		}
	}
	want := "agent.start agent.config rate_limit=7 collector.off cpu clock.sync agent.reload agent.config rate_limit=9 agent.stop SIGTERM"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("itiny stream:\n%s\nwant\n%s", s, want)
	}
}

func TestConfigText(t *testing.T) {
	long := strings.Repeat("key = value\n", 1000) // 12,000 bytes
	for _, tc := range []struct {
		text    string
		limit   int
		wantLen int
		cut     bool
	}{
		{"a = 1\n", 100, 6, false},
		{long, 1 << 20, catalog.MaxConfigText / 12 * 12, true},
		{long, 1000, 996, true},
		{"abc", 2, 2, true}, // no line end to cut at
	} {
		got, cut := configText(tc.text, tc.limit)
		if len(got) != tc.wantLen || cut != tc.cut || !strings.HasPrefix(tc.text, got) {
			t.Errorf("configText(%d bytes, %d): %d bytes, cut %v; want %d, %v", len(tc.text), tc.limit, len(got), cut, tc.wantLen, tc.cut)
		}
	}
}

// TestStopOnError: an agent stopped by an error says which, at err level;
// a signal's stop is a notice.
func TestStopOnError(t *testing.T) {
	for _, tc := range []struct {
		reason string
		level  codec.Level
	}{
		{"error: socket: address in use", codec.LevelErr},
		{"SIGTERM", codec.LevelNotice},
	} {
		cfg := testConfig(t, "")
		a, err := New(cfg, Options{Log: discard{}})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Shutdown(tc.reason); err != nil {
			t.Fatal(err)
		}
		self := readStream(t, cfg.Data, StreamSelf)
		stop := self[len(self)-1]
		if stop.Name != catalog.AgentStop.Name || field(stop, "reason").Str() != tc.reason || stop.Level != tc.level {
			t.Errorf("%s: last record %s %v reason %q", tc.reason, stop.Name, stop.Level, field(stop, "reason").Str())
		}
	}
}
