package catalog_test

import (
	"strings"
	"testing"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// TestCheck: Check refuses a record that departs from its entry, saying
// how; TestGolden and the agent's TestOwnRecordsInCatalogue only show it
// accepting records that fit, which a Check that always said yes would.
func TestCheck(t *testing.T) {
	f := func(k string, v codec.Value) codec.Field { return codec.Field{Key: k, Value: v} }
	load := func(fs ...codec.Field) *codec.Record {
		return &codec.Record{Source: "load", Name: "load", Fields: fs}
	}
	good := []codec.Field{f("load1", codec.Float(0.2)), f("load5", codec.Float(0.1)), f("load15", codec.Int(0)), f("running", codec.Uint(1)), f("tasks", codec.Uint(80))}
	snap := func(fs ...codec.Field) *codec.Record {
		return &codec.Record{Source: "snapshot", Name: "snapshot", Fields: fs}
	}
	for _, tc := range []struct {
		entry  *catalog.Record
		stream string
		rec    *codec.Record
		err    string // "" for none
	}{
		{&catalog.Load, "metrics", load(good...), ""},
		{&catalog.Load, "", load(good...), ""},
		{&catalog.Load, "events", load(good...), `in stream "events": the catalogue puts it in "metrics"`},
		{&catalog.Load, "metrics", &codec.Record{Source: "load", Name: "loadavg", Fields: good}, `record "loadavg": catalogue entry is "load"`},
		{&catalog.Load, "metrics", &codec.Record{Source: "cpu", Name: "load", Fields: good}, `source "cpu", the catalogue says "load"`},
		{&catalog.Load, "metrics", load(good[:4]...), `field "tasks" missing`},
		{&catalog.Load, "metrics", load(good[1], good[0], good[2], good[3], good[4]), `field 0 is "load5", the catalogue says "load1"`},
		{&catalog.Load, "metrics", load(append(good[:5:5], f("extra", codec.Int(1)))...), `field "extra" is not in the catalogue`},
		{&catalog.Load, "metrics", load(f("load1", codec.String("high")), good[1], good[2], good[3], good[4]), `field "load1" holds a string, not a gauge`},
		{&catalog.Filesystem, "metrics", &codec.Record{Source: "filesystem", Name: "filesystem", Fields: []codec.Field{f("mount", codec.Bool(true))}}, `field "mount" holds a bool, not a label`},
		// A file's snapshot has no exit code; a command's has one.
		{&catalog.Snapshot, "state", snap(f("snapshot", codec.String("f")), f("output", codec.String("x")), f("truncated", codec.Bool(false)), f("changed", codec.Bool(true))), ""},
		{&catalog.Snapshot, "state", snap(f("snapshot", codec.String("c")), f("output", codec.String("x")), f("exit_code", codec.Int(1)), f("truncated", codec.Bool(false)), f("changed", codec.Bool(true))), ""},
		{&catalog.Snapshot, "state", snap(f("snapshot", codec.String("c")), f("output", codec.String("x")), f("exit_code", codec.Int(1))), `field "truncated" missing`},
		// state.change copies its cause's fields after its own.
		{&catalog.StateChange, "events", &codec.Record{Source: "itiny", Name: "state.change", Fields: []codec.Field{f("source", codec.String("process")), f("state", codec.String("process")), f("pid", codec.Int(4))}}, ""},
		{&catalog.StateChange, "events", &codec.Record{Source: "itiny", Name: "state.change", Fields: []codec.Field{f("state", codec.String("process"))}}, `field 0 is "state", the catalogue says "source"`},
		// An alarm's name is the rule's event: any name, its fields fixed.
		{&catalog.Alarm, "events", &codec.Record{Source: "itiny", Name: "rule.disk-full", Fields: []codec.Field{f("rule", codec.String("r")), f("instance", codec.String("/")), f("value", codec.Float(95)), f("limit", codec.Float(90)), f("cleared", codec.Bool(false))}}, ""},
		{&catalog.Alarm, "events", &codec.Record{Source: "itiny", Name: "rule.disk-full", Fields: []codec.Field{f("rule", codec.String("r"))}}, `field "instance" missing`},
	} {
		err := tc.entry.Check(tc.stream, tc.rec)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s %v: %v", tc.stream, tc.rec.Fields, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s %q %v: error %v, want one saying %s", tc.stream, tc.rec.Name, tc.rec.Fields, err, tc.err)
		}
	}
}

// TestKey: a reader naming a field the catalogue lacks panics at once.
func TestKey(t *testing.T) {
	if k := catalog.AgentStart.Key("pid"); k != "pid" {
		t.Fatalf("Key(pid) = %q", k)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Key of a missing field did not panic")
		}
	}()
	catalog.AgentStart.Key("nosuch")
}

// TestLookupEmpty: the rule alarm's entry has no name of its own, and
// Lookup of "" does not return it.
func TestLookupEmpty(t *testing.T) {
	if r := catalog.Lookup(""); r != nil {
		t.Fatalf("Lookup(\"\") = %q", r.Name)
	}
	all := catalog.All()
	all[0] = nil
	if catalog.All()[0] == nil {
		t.Fatal("All returned the catalogue's own slice")
	}
}
