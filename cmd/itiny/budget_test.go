package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// TestWriteBudget runs the real agent with write budgets no stream can
// keep: the periodic metrics stream stretches its flush interval to 16
// times its flush before it says it is over (flush_s 1.6), the
// continuous events stream, fed through the socket, says so at its first
// look (flush_s 0).
func TestWriteBudget(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(t.TempDir(), "itiny.conf")
	os.WriteFile(conf, []byte(`socket = itiny.sock
stats_every = 50ms
[stream metrics]
budget = 2MiB
segment = 64KiB
mode = periodic
flush = 100ms
write_budget = 1KiB
[stream events]
budget = 1MiB
segment = 64KiB
write_budget = 1KiB
[collector load]
interval = 50ms
`), 0o644)
	p := start(t, data, conf)
	defer p.stop()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		c, err := agent.Dial(p.sock)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if _, err := c.Send(&codec.Record{Source: "appd", Name: "tick", Level: codec.LevelInfo}); err != nil {
				return
			}
		}
	}()
	got := map[string]codec.Record{}
	for _, stream := range []string{"metrics", "events"} {
		r, _ := waitRecord(t, data, "itiny", stream+"'s stream.write_budget", 0, func(r codec.Record, f map[string]codec.Value) bool {
			return r.Name == catalog.StreamWriteBudget.Name && f["stream"].Str() == stream
		})
		got[stream] = r
	}
	// The stretch shows in the metrics stream's own figures too.
	waitRecord(t, data, "metrics", "stream.stats at the stretch's end", 0, func(r codec.Record, f map[string]codec.Value) bool {
		return r.Name == catalog.StreamStats.Name && f["stream"].Str() == "metrics" && f["flush_s"].Float() == 1.6 && f["seg_writes"].Int() > 0
	})
	for stream, flush := range map[string]float64{"metrics": 1.6, "events": 0} {
		r := got[stream]
		f := procFields(r)
		if r.Level != codec.LevelWarning || !f["over"].Bool() || f["budget_bytes"].Int() != 1024 || f["bytes_per_day"].Int() <= 1024 || f["flush_s"].Float() != flush {
			t.Errorf("%s: %v %v; want over at warning, flush_s %v", stream, r.Level, f, flush)
		}
	}
}
