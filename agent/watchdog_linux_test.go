//go:build !nowatchdog

package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/internal/clock"
	"github.com/itiny/itiny/internal/testdir"
)

func TestWatchdogFlags(t *testing.T) {
	for _, tc := range []struct {
		bits uint32
		want string
	}{
		{0, ""},
		{0x0001, "overheat"},
		{0x0002, "fan_fault"},
		{0x0004, "extern1"},
		{0x0008, "extern2"},
		{0x0010, "power_under"},
		{0x0020, "card_reset"},
		{0x0040, "power_over"},
		{0x0024, "extern1,card_reset"},
		{0x007f, "overheat,fan_fault,extern1,extern2,power_under,card_reset,power_over"},
		{0x0120, "card_reset,0x100"}, // WDIOF_MAGICCLOSE is no reset cause
		{0x8000_0000, "0x80000000"},  // nothing known
		{1<<32 - 1, "overheat,fan_fault,extern1,extern2,power_under,card_reset,power_over,0xffffff80"},
	} {
		if got := watchdogFlags(tc.bits); got != tc.want {
			t.Errorf("watchdogFlags(%#x) = %q, want %q", tc.bits, got, tc.want)
		}
	}
}

// watchdogOpts names the fixture's reset-reason file, which the option
// wants as an absolute path.
func watchdogOpts(t *testing.T, path string) map[string]string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"reset_reason": abs}
}

// TestWatchdogCollector: watchdog0 reset the machine (card reset, a
// warning), watchdog1 did not (info); both carry the board's reset
// reason. They are recorded once: later samples write nothing.
func TestWatchdogCollector(t *testing.T) {
	cfg := testCollectorConfig()
	cfg.Options = watchdogOpts(t, "testdata/sys/devices/platform/soc/reset/reset_reason")
	c := mustCollector(t, "watchdog", cfg)
	var e recordingEmitter
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "watchdog", e.out.Bytes())
	out := e.out.String()
	for _, want := range []string{
		`"level":"warning","name":"watchdog.bootstatus","fields":{"watchdog":"watchdog0","identity":"iTCO_wdt","bootstatus":32,"flags":"card_reset","timeout_s":30,"state":"active","reset_reason":"watchdog"}`,
		`"level":"info","name":"watchdog.bootstatus","fields":{"watchdog":"watchdog1","identity":"Software Watchdog","bootstatus":0,"flags":"","timeout_s":60,"state":"inactive","reset_reason":"watchdog"}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
	n := e.count
	checkNoAllocs(t, c)
	if err := c.Update(&e); err != nil || e.count != n {
		t.Errorf("a later Update wrote %d records, %v", e.count-n, err)
	}
}

// writeWatchdog makes /sys/class/watchdog/NAME under sys with the files
// given (name: content).
func writeWatchdog(t *testing.T, sys, name string, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(sys, "class", "watchdog", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, content := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestWatchdogNone: no watchdog is no record and no error, as thermal
// without zones; a watchdog the kernel gives no bootstatus for (no
// CONFIG_WATCHDOG_SYSFS) has the collector off, with why; a reset reason
// without a watchdog is recorded alone.
func TestWatchdogNone(t *testing.T) {
	empty := t.TempDir()
	noClass := t.TempDir()
	os.MkdirAll(filepath.Join(empty, "class", "watchdog"), 0o755)
	for _, sys := range []string{noClass, empty} {
		c := mustCollector(t, "watchdog", CollectorConfig{Sys: sys})
		var e recordingEmitter
		if err := c.Update(&e); err != nil || e.count != 0 {
			t.Errorf("%s: %d records, %v", sys, e.count, err)
		}
	}

	noSysfs := t.TempDir()
	writeWatchdog(t, noSysfs, "watchdog0", map[string]string{"identity": "x\n"})
	_, err := newCollector("watchdog", CollectorConfig{Sys: noSysfs})
	wantErr(t, "no bootstatus", err, "collector watchdog", filepath.Join(noSysfs, "class", "watchdog", "watchdog0"), "CONFIG_WATCHDOG_SYSFS")

	reason := filepath.Join(t.TempDir(), "reset_reason")
	os.WriteFile(reason, []byte("power-on\n"), 0o644)
	for _, sys := range []string{noClass, noSysfs} {
		c := mustCollector(t, "watchdog", CollectorConfig{Sys: sys, Options: map[string]string{"reset_reason": reason}})
		var e recordingEmitter
		if err := c.Update(&e); err != nil {
			t.Fatal(err)
		}
		want := `"fields":{"watchdog":"","identity":"","bootstatus":0,"flags":"","timeout_s":0,"state":"","reset_reason":"power-on"}`
		if e.count != 1 || !strings.Contains(e.out.String(), want) {
			t.Errorf("%s: got %d records:\n%s", sys, e.count, e.out.String())
		}
	}
}

// TestWatchdogHostileBootstatus: a bootstatus that is not a 32-bit
// decimal number, or not a regular file, is refused by name without
// blocking (a FIFO) or reading on (/dev/zero); the other watchdogs are
// still recorded. A watchdog without its optional attributes is recorded
// with them empty.
func TestWatchdogHostileBootstatus(t *testing.T) {
	type tc struct {
		name string
		make func(path string)
		want string
	}
	write := func(b []byte) func(string) {
		return func(p string) { os.WriteFile(p, b, 0o644) }
	}
	cases := []tc{
		{"garbage", write([]byte("card reset\n")), `want a 32-bit decimal number, got "card reset\n"`},
		{"empty", write(nil), "want a 32-bit decimal number"},
		{"negative", write([]byte("-1\n")), "want a 32-bit decimal number"},
		{"hex", write([]byte("0x20\n")), "want a 32-bit decimal number"},
		{"over-32-bits", write([]byte("4294967296\n")), "want a 32-bit decimal number"},
		{"over-64-bits", write([]byte("99999999999999999999999\n")), "want a 32-bit decimal number"},
		{"huge", write([]byte(strings.Repeat("1", 1<<20))), "more than 64 bytes"},
	}
	for _, s := range testdir.Shapes {
		cases = append(cases, tc{s.Name, func(p string) { s.Make(t, p) }, s.Kind + ", not a regular file"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sys := t.TempDir()
			bad := filepath.Join(writeWatchdog(t, sys, "watchdog0", nil), "bootstatus")
			c.make(bad)
			writeWatchdog(t, sys, "watchdog1", map[string]string{"bootstatus": "16\n"})
			col := mustCollector(t, "watchdog", CollectorConfig{Sys: sys})
			var e recordingEmitter
			err := col.Update(&e)
			wantErr(t, c.name, err, bad, c.want)
			want := `"level":"warning","name":"watchdog.bootstatus","fields":{"watchdog":"watchdog1","identity":"","bootstatus":16,"flags":"power_under","timeout_s":0,"state":"","reset_reason":""}`
			if e.count != 1 || !strings.Contains(e.out.String(), want) {
				t.Errorf("got %d records:\n%s", e.count, e.out.String())
			}
		})
	}
}

// TestWatchdogResetReason: the option's file is read as text, a
// NUL-terminated string or bytes in hexadecimal; one that is too large,
// missing or not a regular file leaves reset_reason empty and the
// error names it, and the watchdogs are still recorded.
func TestWatchdogResetReason(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want, err     string
	}{
		{"sysfs", "watchdog\n", "watchdog", ""},
		{"spaces", "  cold boot \n", "cold boot", ""},
		{"dt-string", "wdt\x00", "wdt", ""},
		{"dt-u32", "\x00\x00\x00\x04", "0x00000004", ""},
		{"control", "a\x1bb\n", "0x611b620a", ""},
		{"not-utf8", "\xff\xfe", "0xfffe", ""},
		{"at-limit", strings.Repeat("r", 256), strings.Repeat("r", 256), ""},
		{"over-limit", strings.Repeat("r", 257), "", "more than 256 bytes"},
		{"fifo", "", "", "a FIFO, not a regular file"},
		{"missing", "", "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "reset_reason")
			switch tc.name {
			case "fifo":
				if err := syscall.Mkfifo(path, 0o600); err != nil {
					t.Fatal(err)
				}
			case "missing":
			default:
				os.WriteFile(path, []byte(tc.content), 0o644)
			}
			cfg := testCollectorConfig()
			cfg.Options = map[string]string{"reset_reason": path}
			c := mustCollector(t, "watchdog", cfg)
			var e recordingEmitter
			err := c.Update(&e)
			if tc.err != "" {
				wantErr(t, tc.name, err, "reset_reason", path, tc.err)
			} else if err != nil {
				t.Fatal(err)
			}
			if want := `"reset_reason":"` + tc.want + `"}`; e.count != 2 || strings.Count(e.out.String(), want) != 2 {
				t.Errorf("want 2 records with %s, got %d:\n%s", want, e.count, e.out.String())
			}
		})
	}
}

// TestWatchdogOptions: the configuration refuses what would switch the
// collector off at run time.
func TestWatchdogOptions(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		err  string
	}{
		{map[string]string{"reset_reason": "/proc/device-tree/chosen/reset-reason"}, ""},
		{map[string]string{"reset_reason": "reset_reason"}, "want an absolute path"},
		{map[string]string{"reset_reason": ""}, "want an absolute path"},
		{map[string]string{"reset": "/x"}, `unknown option "reset"`},
	} {
		err := checkCollector("watchdog", tc.opts, nil)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%v: %v, want %q", tc.opts, err, tc.err)
		}
	}
}

// TestWatchdogInAgent: through the agent and its rings, the records land
// in the state stream as the catalogue says, once per start of the
// collector: a reload, which rebuilds it, restates them.
func TestWatchdogInAgent(t *testing.T) {
	reason, err := filepath.Abs("testdata/sys/devices/platform/soc/reset/reset_reason")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, "[collector watchdog]\nreset_reason = "+reason+"\n")
	cfg.Collectors["watchdog"].Enabled = true
	a, err := New(cfg, Options{Log: discard{}, Sys: "testdata/sys"})
	if err != nil {
		t.Fatal(err)
	}
	sample := func() { // a round of Run's, its sleeps aside
		a.mu.Lock()
		defer a.mu.Unlock()
		a.sample = sampleEmitter{a: a, wall: time.Now(), mono: clock.Mono()}
		for _, s := range a.collectors {
			a.update(s)
			a.update(s) // nothing more
		}
	}
	sample()
	if err := a.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	sample()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range readStream(t, cfg.Data, StreamState) {
		if err := catalog.WatchdogBootStatus.Check(StreamState, &r); err != nil {
			t.Error(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s", r.Level, r.Fields[0].Value.Str(), r.Fields[3].Value.Str()))
	}
	want := "warning watchdog0 card_reset,info watchdog1 ,warning watchdog0 card_reset,info watchdog1 "
	if s := strings.Join(got, ","); s != want {
		t.Errorf("state stream: %q, want %q", s, want)
	}
	// A warning in the state stream is also a state.change event, as
	// any state record at notice or worse: the card reset, once a start
	// of the collector. No collector.failing.
	got = got[:0]
	for _, r := range readStream(t, cfg.Data, StreamEvents) {
		if r.Name != catalog.StateChange.Name {
			got = append(got, r.Name)
			continue
		}
		if err := catalog.StateChange.Check(StreamEvents, &r); err != nil {
			t.Error(err)
		}
		got = append(got, fmt.Sprintf("%s %s/%s %s %s", r.Level, r.Fields[0].Value.Str(), r.Fields[1].Value.Str(), r.Fields[2].Value.Str(), r.Fields[5].Value.Str()))
	}
	want = "device.boot,warning watchdog/watchdog.bootstatus watchdog0 card_reset,warning watchdog/watchdog.bootstatus watchdog0 card_reset"
	if s := strings.Join(got, ","); s != want {
		t.Errorf("events stream: %q, want %q", s, want)
	}
}
