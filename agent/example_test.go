package agent_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// Example hosts the agent in a Go program: it emits two events, runs the
// agent, closes it, and reads the events stream back.
func Example() {
	cfg, err := agent.LoadConfig("") // the embedded default
	if err != nil {
		log.Fatal(err)
	}
	cfg.Data, _ = os.MkdirTemp("", "itiny")
	defer os.RemoveAll(cfg.Data)
	cfg.Socket = "" // no ingest socket in this example
	// An empty sysfs root: on the host's /sys the pstore collector would
	// store, and remove, the machine's crash logs. A device leaves Sys
	// empty: /sys.
	sys, _ := os.MkdirTemp("", "itiny-sys")
	defer os.RemoveAll(sys)
	a, err := agent.New(cfg, agent.Options{Sys: sys, Log: log.New(io.Discard, "", 0)})
	if err != nil {
		log.Fatal(err)
	}
	rec := codec.Record{Level: codec.LevelWarning, Source: "appd", Name: "link.down",
		Fields: codec.Fields{{Key: "iface", Value: codec.String("eth0")}}}
	a.Emit(agent.StreamEvents, &rec)
	rec.Level, rec.Name = codec.LevelNotice, "link.up"
	a.Emit(agent.StreamEvents, &rec)

	// Run samples the collectors and applies the rules, whose events
	// would take numbers between those two had it started first.
	ctx, cancel := context.WithCancel(context.Background())
	go a.Run(ctx) // until cancelled or closed
	cancel()
	a.Close()

	r, _ := ringlog.NewReader(filepath.Join(cfg.Data, agent.StreamEvents))
	for {
		e, err := r.Next()
		if err != nil {
			break
		}
		var got codec.Record
		e.Decode(&got)
		if got.Source == "appd" {
			fmt.Println(got.Seq, got.Level, got.Name, got.Fields[0].Value.Str())
		}
	}
	// Output:
	// 2 warning link.down eth0
	// 3 notice link.up eth0
}
