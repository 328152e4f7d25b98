package catalog_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// TestGolden reads every record of the agent's golden collector output
// through the catalogue: each is in it, in its stream, with its fields in
// order and of their kinds. A collector that renames or adds a field
// without the catalogue fails here (its golden file changes with it).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("../agent/testdata/golden/*.jsonl")
	if err != nil || len(files) < 10 {
		t.Fatalf("golden files: %d, %v", len(files), err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			var head struct{ Stream string }
			if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			var rec codec.Record
			if err := codec.DecodeJSON(sc.Bytes(), &rec); err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			c := catalog.Lookup(rec.Name)
			if c == nil {
				t.Errorf("%s:%d: record %q is not in the catalogue", path, n, rec.Name)
				continue
			}
			if err := c.Check(head.Stream, &rec); err != nil {
				t.Errorf("%s:%d: %v", path, n, err)
			}
			seen[c.Name] = true
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Every collector's record is in the golden output, so each entry
	// above the events was checked against what the agent writes. The
	// forwarder's is checked against what it sends, in
	// cmd/itiny-migrate's TestFollowAgentStatus.
	for _, r := range catalog.All() {
		if r.Stream != catalog.StreamEvents && r.Source != catalog.SelfSource && r != &catalog.ForwardStatus && !seen[r.Name] {
			t.Errorf("catalogue record %q: no golden output checks it", r.Name)
		}
	}
}

// TestCatalogue checks the catalogue's own rules: distinct names, the
// instance first, units only on numbers.
func TestCatalogue(t *testing.T) {
	names := map[string]bool{}
	for _, r := range catalog.All() {
		if r.Name != "" {
			if names[r.Name] {
				t.Errorf("record %q twice", r.Name)
			}
			names[r.Name] = true
			if catalog.Lookup(r.Name) != r {
				t.Errorf("Lookup(%q) is another entry", r.Name)
			}
		}
		if r.Instance != "" && (len(r.Fields) == 0 || r.Fields[0].Key != r.Instance || r.Fields[0].Kind != catalog.Label) {
			t.Errorf("record %q: instance %q is not its first field, a label", r.Name, r.Instance)
		}
		keys := map[string]bool{}
		for _, f := range r.Fields {
			if keys[f.Key] {
				t.Errorf("record %q: field %q twice", r.Name, f.Key)
			}
			keys[f.Key] = true
			if f.Unit != catalog.None && f.Kind != catalog.Gauge && f.Kind != catalog.Counter {
				t.Errorf("record %q: field %q is a %v with a unit", r.Name, f.Key, f.Kind)
			}
			if f.Kind == catalog.Counter && f.Unit == catalog.None {
				t.Errorf("record %q: counter %q has no unit", r.Name, f.Key)
			}
			if strings.TrimSpace(f.Key) != f.Key || f.Key == "" {
				t.Errorf("record %q: bad key %q", r.Name, f.Key)
			}
		}
	}
	if catalog.Lookup("no.such") != nil {
		t.Error("Lookup of an unknown name")
	}
}
