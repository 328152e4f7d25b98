package view

import (
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// TestWritesRuns feeds the tracker the agent's records and checks how it
// cuts them into runs and what it measures.
func TestWritesRuns(t *testing.T) {
	type rec struct {
		boot  byte
		mono  time.Duration
		name  string // stream.stats of events, or agent.io
		bytes int64  // record_bytes, and every other counter
		why   string // agent.io's write_error
		old   bool   // an agent before these figures: no counters
	}
	ev, io := catalog.StreamStats.Name, catalog.AgentIO.Name
	for _, tc := range []struct {
		name    string
		recs    []rec
		runs    int
		seconds float64
		bytes   int64
		known   bool // agent.io's write_bytes
	}{
		{"one run", []rec{{1, 10 * time.Second, ev, 5, "", false}, {1, 70 * time.Second, ev, 105, "", false}}, 1, 60, 100, false},
		{"a restart: the counters go down", []rec{{1, 0, ev, 0, "", false}, {1, 60 * time.Second, ev, 100, "", false},
			{1, 90 * time.Second, ev, 10, "", false}, {1, 120 * time.Second, ev, 60, "", false}}, 2, 90, 150, false},
		{"another boot, the counters higher", []rec{{1, 0, ev, 0, "", false}, {1, 60 * time.Second, ev, 100, "", false},
			{2, 5 * time.Second, ev, 200, "", false}, {2, 35 * time.Second, ev, 300, "", false}}, 2, 90, 200, false},
		{"a run of one record measures nothing", []rec{{1, 0, ev, 0, "", false}, {1, 60 * time.Second, ev, 100, "", false},
			{2, 5 * time.Second, ev, 7, "", false}}, 1, 60, 100, false},
		{"an older agent's records", []rec{{1, 0, ev, 0, "", true}, {1, 60 * time.Second, ev, 100, "", true}}, 0, 0, 0, false},
		{"agent.io", []rec{{1, 0, io, 0, "", false}, {1, 60 * time.Second, io, 100, "", false}}, 1, 60, 100, true},
		{"agent.io without /proc/self/io at times", []rec{{1, 0, io, 0, "", false}, {1, 30 * time.Second, io, 50, "permission denied", false},
			{1, 60 * time.Second, io, 100, "", false}}, 1, 60, 100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tr writesTracker
			for _, x := range tc.recs {
				c := catalog.Lookup(x.name)
				r := codec.Record{Boot: codec.BootID{x.boot}, BootCount: uint32(x.boot), Mono: int64(x.mono), Wall: time.Unix(1764000000, 0).Add(x.mono),
					Source: catalog.SelfSource, Name: x.name}
				for _, f := range c.Fields {
					v := codec.Int(x.bytes)
					switch {
					case f.Key == "stream":
						v = codec.String(catalog.StreamEvents)
					case f.Key == "write_error":
						v = codec.String(x.why)
					case f.Key == "write_bytes" && x.why != "":
						v = codec.Int(0)
					case f.Kind != catalog.Counter:
						continue
					case x.old && f.Key != "syncs":
						continue
					}
					r.Fields = append(r.Fields, codec.Field{Key: f.Key, Value: v})
				}
				tr.see(&r)
			}
			got := tr.result()
			if tc.runs == 0 {
				if len(got) != 0 {
					t.Fatalf("figures of records without counters: %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d figures", len(got))
			}
			w := got[0]
			if w.Runs != tc.runs || w.Seconds != tc.seconds || w.RecordBytes != tc.bytes || w.HandedBytes != tc.bytes || w.WriteKnown != tc.known {
				t.Fatalf("%+v; want %d runs, %v s, %d bytes, write known %v", w, tc.runs, tc.seconds, tc.bytes, tc.known)
			}
			if want := float64(tc.bytes) * 86400 / tc.seconds; w.BytesPerDay != want { // handed, or written where known: equal here
				t.Errorf("bytes per day %v, want %v", w.BytesPerDay, want)
			}
			if tc.known && (w.WriteBytes != tc.bytes || w.KernelAmplification != 1) || !tc.known && (w.WriteBytes != 0 || w.KernelAmplification != 0) {
				t.Errorf("write bytes %d, kernel amplification %v", w.WriteBytes, w.KernelAmplification)
			}
			if x := tc.recs[1]; x.name == io && !tc.known && w.WriteError != x.why {
				t.Errorf("write error %q, want %q", w.WriteError, x.why)
			}
		})
	}
}
