package main

import (
	"strings"
	"testing"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/ringlog"
)

// TestBootsEnded: boots says how each boot ended, and by what evidence:
// a stop by SIGTERM, the next boot's pstore panic and watchdog reset.
func TestBootsEnded(t *testing.T) {
	data := t.TempDir()
	start := func(n uint32, clean bool) *codec.Record {
		return ringtest.Of(n, 1, &catalog.AgentStart, codec.Field{Key: "version", Value: codec.String("v1")},
			codec.Field{Key: "bootn", Value: codec.Uint(uint64(n))}, codec.Field{Key: "device_boot", Value: codec.Bool(true)},
			codec.Field{Key: "clean", Value: codec.Bool(clean)}, codec.Field{Key: "pid", Value: codec.Int(int64(n) * 10)})
	}
	ring := func(stream string, recs ...*codec.Record) {
		ringtest.Write(t, data, ringlog.Options{Stream: stream, Codec: codec.JSON, Budget: 1 << 20, SegmentSize: 8 << 10}, recs...)
	}
	ring("itiny", start(1, true), ringtest.Of(1, 90, &catalog.AgentStop, codec.Field{Key: "reason", Value: codec.String("SIGTERM")}),
		start(2, true), start(3, false), start(4, false))
	ring("events", ringtest.Pstore(3, 2, &catalog.PstorePanic, "Panic#1 Part1", 1, 1, "<0>[ 7.5] Kernel panic - not syncing: VFS: Unable to mount root fs\n"))
	ring("state", ringtest.Watchdog(4, 2, 32, "card_reset"), ringtest.At(4, 3725, "cpu"))
	out, errOut, code := run(t, "boots", "--utc", data)
	got := lines(out)
	if code != 0 || len(got) != 5 {
		t.Fatalf("boots: exit %d\n%s\nstderr: %s", code, out, errOut)
	}
	for i, want := range []string{
		" UPTIME   RECORDS  STREAMS               GAPS                  ENDED                  EVIDENCE",
		"  1m30s         2  itiny:2               none                  clean shutdown         agent.stop reason SIGTERM",
		"     1s         1  itiny:1               none                  kernel panic           Panic#1 Part1: Kernel panic - not syncing: VFS: Unable to mount root fs",
		"     2s         2  events:1 itiny:1      none                  watchdog reset         flags card_reset",
		" 1h2m5s         3  itiny:1 state:2       none                  no stop                its end is not in the rings",
	} {
		if !strings.Contains(got[i], want) {
			t.Errorf("boots line %d:\n%s\nwant it to hold\n%s", i, got[i], want)
		}
	}
}
