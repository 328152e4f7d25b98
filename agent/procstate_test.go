//go:build !noprocess

package agent

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/itiny/itiny/codec"
)

// TestProcessRestartsKept: a watch's restarts and the process it follows
// outlive the collector, as they must an agent's restart or a reload:
// the same process is no restart, a new one while no collector ran is
// one, and so is a pid reused by another process; another boot starts
// the count again.
func TestProcessRestartsKept(t *testing.T) {
	p := newProcTree(t)
	state := filepath.Join(t.TempDir(), "process.state")
	boot := codec.BootID{1, 2, 3}
	collector := func(boot codec.BootID) Collector {
		c := mustCollector(t, "process", CollectorConfig{Proc: p.root, Options: map[string]string{"watch": "my app"}, state: state, boot: boot})
		setProcClock(c, 1000)
		return c
	}
	c := collector(boot)
	p.set(200, "my app", 'S', 1)
	wantRecord(t, "first", processRecords(t, c), "info", map[string]any{"pid": 200.0, "restarts": 0.0})
	p.set(200, "my app", 'Z', 1)
	p.set(300, "my app", 'S', 1)
	wantRecord(t, "restart", processRecords(t, c), "notice", map[string]any{"pid": 300.0, "restarts": 1.0})
	c.(*processCollector).Close()

	steps := []struct {
		name  string
		boot  codec.BootID
		setup func()
		level string
		want  map[string]any
	}{
		{"the same process", boot, func() {}, "info", map[string]any{"pid": 300.0, "restarts": 1.0, "running": true}},
		{"a new one meanwhile", boot, func() { p.set(300, "my app", 'Z', 1); p.set(400, "my app", 'S', 1) }, "notice", map[string]any{"pid": 400.0, "restarts": 2.0}},
		{"its pid reused", boot, func() { p.setStart(400, "my app", 'S', 1, 900) }, "notice", map[string]any{"pid": 400.0, "restarts": 3.0}},
		// Ended while no collector ran: how, the state file cannot say.
		{"none running", boot, func() { p.set(400, "my app", 'Z', 1) }, "warning", map[string]any{"pid": 400.0, "restarts": 3.0, "running": false, "reason": "vanished"}},
		{"still none", boot, func() {}, "info", map[string]any{"pid": 400.0, "running": false, "reason": ""}},
		{"a new one", boot, func() { p.set(450, "my app", 'S', 1) }, "notice", map[string]any{"pid": 450.0, "restarts": 4.0}},
		{"another boot", codec.BootID{9}, func() { p.set(450, "my app", 'Z', 1); p.set(500, "my app", 'S', 1) }, "info", map[string]any{"pid": 500.0, "restarts": 0.0}},
	}
	for _, st := range steps {
		st.setup()
		c := collector(st.boot)
		wantRecord(t, st.name, processRecords(t, c), st.level, st.want)
		c.(*processCollector).Close()
	}
	if b, err := os.ReadFile(state); err != nil || string(b) != "09000000000000000000000000000000\n0 500 500 my app\n" {
		t.Errorf("state file %q, %v", b, err)
	}
	// A file the storage refuses is said, and the samples go on.
	os.Remove(state)
	os.Mkdir(state, 0o755)
	c = collector(boot)
	var e recordingEmitter
	wantErr(t, "state file a directory", c.Update(&e), "process.state")
	if e.count != 1 {
		t.Errorf("%d records", e.count)
	}
}
