package agent

import (
	"testing"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// TestOwnRecordsInCatalogue runs an agent through a start, a device
// boot, a collector that is off, a rule's alarm and its clearing, a state
// change, a collector failing and recovering, its statistics, a reload
// (with its configuration) and a stop, then checks every record it wrote
// of its own
// against the catalogue (catalog.Record.Check): the readers interpret
// them by it.
func TestOwnRecordsInCatalogue(t *testing.T) {
	cfg := testConfig(t, "[rule filesystem-full]\nrecord = filesystem\nfield = used_pct\nabove = 90\nclear = 85\nfor = 1\n")
	cfg.Collectors["cpu"].Enabled = true
	a, err := New(cfg, Options{Log: discard{}, Proc: t.TempDir()}) // no /proc/stat: cpu is off
	if err != nil {
		t.Fatal(err)
	}
	for _, pct := range []float64{95, 50} {
		r := catalogRecord(&catalog.Filesystem)
		r.Fields[0].Value = codec.String("/data")
		_, i := catalog.Filesystem.Field("used_pct")
		r.Fields[i].Value = codec.Float(pct)
		if err := a.Emit(StreamMetrics, &r); err != nil {
			t.Fatal(err)
		}
	}
	p := catalogRecord(&catalog.Process)
	p.Level = codec.LevelWarning
	p.Fields[0].Value, p.Fields[1].Value, p.Fields[7].Value = codec.String("appd"), codec.Bool(false), codec.String("")
	if err := a.Emit(StreamState, &p); err != nil {
		t.Fatal(err)
	}
	a.writeStats()
	flap(a, "x...")
	if err := a.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, stream := range []string{StreamSelf, StreamEvents, StreamMetrics, StreamState} {
		for _, r := range readStream(t, cfg.Data, stream) {
			if r.Source != catalog.SelfSource {
				continue
			}
			c := catalog.Lookup(r.Name)
			if c == nil && r.Name == "rule.filesystem-full" {
				c = &catalog.Alarm
			}
			if c == nil {
				t.Errorf("%s: record %q is not in the catalogue", stream, r.Name)
				continue
			}
			if err := c.Check(stream, &r); err != nil {
				t.Errorf("%s: %v", stream, err)
			}
			seen[r.Name] = true
		}
	}
	for _, name := range []string{"agent.start", "agent.stop", "agent.reload", "agent.config", "device.boot", "rule.filesystem-full", "state.change",
		"stream.stats", "agent.io", "collector.off", "collector.failing", "collector.recovered", "clock.sync"} {
		if !seen[name] {
			t.Errorf("no %s record was written to check", name)
		}
	}
}
