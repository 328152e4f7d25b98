package report

import (
	"testing"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

// TestProcRestarts: a watched process's restarts in a window, whether the
// agent counts them within a boot (across its own restarts) or, as it did
// before issue 14, from its own start; and how the last one ended.
func TestProcRestarts(t *testing.T) {
	f := func(k string, v codec.Value) codec.Field { return codec.Field{Key: k, Value: v} }
	start := func(s int, deviceBoot bool) *codec.Record {
		r := rec(1, s, catalog.AgentStart.Name, f("version", codec.String("test")), f("bootn", codec.Uint(1)),
			f("device_boot", codec.Bool(deviceBoot)), f("clean", codec.Bool(true)), f("pid", codec.Int(1)))
		r.Source = catalog.SelfSource
		return r
	}
	proc := func(s, restarts, pid int, running bool, end ...codec.Field) *codec.Record {
		r := rec(1, s, catalog.Process.Name, append([]codec.Field{f("process", codec.String("web")), f("running", codec.Bool(running)),
			f("pid", codec.Int(int64(pid))), f("restarts", codec.Uint(uint64(restarts)))}, end...)...)
		r.Source, r.Level = catalog.Process.Source, codec.LevelNotice
		if !running {
			r.Level = codec.LevelWarning
		}
		return r
	}
	exited := func(code int) []codec.Field {
		return []codec.Field{f("reason", codec.String("exited")), f("exit_code", codec.Int(int64(code))), f("signal", codec.String("")), f("core", codec.Bool(false))}
	}
	for _, tc := range []struct {
		name  string
		recs  []*codec.Record
		count int
		how   string
	}{
		{"counted in the boot, across the agent's restarts", []*codec.Record{
			proc(1, 3, 10, true), proc(2, 3, 10, false, exited(3)...), proc(3, 4, 11, true), start(4, false),
			proc(5, 4, 11, true), proc(6, 5, 12, true)}, 2, ""},
		{"counted from the agent's start, before issue 14", []*codec.Record{
			proc(1, 3, 10, true), proc(2, 4, 11, true), start(4, false), proc(5, 0, 11, true), proc(6, 1, 12, true)}, 2, ""},
		{"a device boot in the window", []*codec.Record{
			start(0, true), proc(1, 0, 10, true), proc(2, 1, 11, true), start(4, true), proc(5, 0, 20, true), proc(6, 1, 21, true)}, 2, ""},
		{"ended", []*codec.Record{proc(1, 0, 10, true), proc(2, 0, 10, false, exited(3)...)}, 0, "exited with code 3"},
	} {
		e := newEvents(100)
		for _, r := range tc.recs {
			stream := catalog.StreamState
			if r.Source == catalog.SelfSource {
				stream = catalog.StreamSelf
			}
			e.record(stream, r, view.TimeAsIs)
		}
		p := e.procs["web"]
		if p == nil || p.count != tc.count || p.down.how != tc.how {
			t.Errorf("%s: %+v, want %d restarts, end %q", tc.name, p, tc.count, tc.how)
		}
	}
}
