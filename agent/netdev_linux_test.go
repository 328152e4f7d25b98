//go:build !nonetdev

package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseNetdevLine(t *testing.T) {
	const path = "/proc/net/dev"
	for _, tc := range []struct {
		name, in, iface string
		want            netStat
		err             string
	}{
		{"eth0", "  eth0: 91712058    2662    0    0    0     0          0         0   198233    1983    0    0    0     0       0          0",
			"eth0", netStat{91712058, 2662, 0, 0, 198233, 1983, 0, 0}, ""},
		{"old kernel", "eth1:1234 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19", "eth1", netStat{1234, 5, 6, 7, 12, 13, 14, 15}, ""},
		{"no colon", "  eth0 1 2 3", "", netStat{}, `no interface name: "  eth0 1 2 3"`},
		{"no name", "  : 1 2 3", "", netStat{}, "empty interface name"},
		{"short", "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", "", netStat{}, "15 counters, want 16"},
		{"bad counter", "eth0: 1 2 3 4 5 6 7 8 9 x 11 12 13 14 15 16", "", netStat{}, "counter 10"},
	} {
		_, name, got, err := parseNetdevLine(path, nil, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.name, err, path, tc.err)
			continue
		}
		if err != nil || got != tc.want || string(name) != tc.iface {
			t.Errorf("%s: got %s %v, %v", tc.name, name, got, err)
		}
	}
}

func TestNetdevCollector(t *testing.T) {
	for _, tc := range []struct {
		golden string
		opts   map[string]string
	}{
		{"netdev", nil},
		{"netdev-lo", map[string]string{"include_lo": "true"}},
	} {
		cfg := testCollectorConfig()
		cfg.Options = tc.opts
		c := mustCollector(t, "netdev", cfg)
		var e recordingEmitter
		if err := c.Update(&e); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, tc.golden, e.out.Bytes())
		checkNoAllocs(t, c)
	}
}

// TestNetdevChanges: interfaces come and go, operstate changes, a missing
// operstate is reported once.
func TestNetdevChanges(t *testing.T) {
	root := t.TempDir()
	proc, sys := filepath.Join(root, "proc"), filepath.Join(root, "sys")
	os.MkdirAll(filepath.Join(proc, "net"), 0o755)
	const header = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n"
	const eth0 = "  eth0: 1 2 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n"
	const wwan0 = " wwan0: 5 6 0 0 0 0 0 0 7 8 0 0 0 0 0 0\n"
	write := func(path, s string) {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dev := filepath.Join(proc, "net", "dev")
	oper := func(name, state string) { write(filepath.Join(sys, "class", "net", name, "operstate"), state+"\n") }
	write(dev, header+eth0)
	oper("eth0", "up")
	c := mustCollector(t, "netdev", CollectorConfig{Proc: proc, Sys: sys})
	update := func() (string, error) {
		var e recordingEmitter
		err := c.Update(&e)
		return e.out.String(), err
	}
	if out, err := update(); err != nil || !strings.Contains(out, `"iface":"eth0","rx_bytes":1,"rx_packets":2`) || !strings.Contains(out, `"oper":"up"`) {
		t.Fatalf("%v: %s", err, out)
	}
	oper("eth0", "lowerlayerdown")
	write(dev, header+eth0+wwan0) // wwan0 has no operstate yet
	out, err := update()
	wantErr(t, "missing operstate", err, filepath.Join(sys, "class", "net", "wwan0", "operstate"))
	if !strings.Contains(out, `"oper":"lowerlayerdown"`) || !strings.Contains(out, `"iface":"wwan0","rx_bytes":5`) || !strings.Contains(out, `"tx_packets":8,"tx_errs":0,"tx_drop":0,"oper":"unknown"`) {
		t.Errorf("got %s", out)
	}
	if _, err = update(); err != nil {
		t.Errorf("error reported again: %v", err)
	}
	write(dev, header+wwan0) // eth0 goes
	if out, _ = update(); strings.Contains(out, "eth0") || len(c.(*netdevCollector).ifaces) != 1 {
		t.Errorf("eth0 still there: %s", out)
	}
	oper("eth0", "dormant")
	write(dev, header+eth0+wwan0) // and comes back
	if out, _ = update(); !strings.Contains(out, `"iface":"eth0","rx_bytes":1,"rx_packets":2,"rx_errs":0,"rx_drop":0,"tx_bytes":3,"tx_packets":4,"tx_errs":0,"tx_drop":0,"oper":"dormant"`) {
		t.Errorf("eth0 not back: %s", out)
	}
	write(dev, header+"eth0: 1 2\n")
	_, err = update()
	wantErr(t, "malformed", err, dev, "2 counters, want 16")
}
