package view

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/bundle"
)

// FuzzReadPath reads arbitrary bytes as a segment of a ring, the whole
// way itiny-read does: merge, filter, every printer, verify. It never
// panics and ends. It reads without the read-ahead goroutines, which slow
// the fuzzer a thousandfold; TestReadPathSeeds runs the seeds with them.
func FuzzReadPath(f *testing.F) {
	for _, ring := range []string{"v1-msgpack", "v1-json", "v1-msgpack-damaged", "v1-msgpack-packed"} {
		for _, s := range goldenSegments(f, ring) {
			f.Add(s.text, s.data)
		}
	}
	f.Fuzz(func(t *testing.T, text bool, data []byte) { readPath(t, text, data, true) })
}

func TestReadPathSeeds(t *testing.T) {
	for _, s := range goldenSegments(t, "*") {
		for _, cut := range []int{len(s.data), len(s.data) / 2, 200} {
			readPath(t, s.text, s.data[:min(cut, len(s.data))], false)
		}
	}
}

// A goldenSegment is a segment file of a golden ring.
type goldenSegment struct {
	text bool // JSON lines, not MessagePack
	data []byte
}

// goldenSegments reads the segments of the golden rings whose names match
// pattern. Finding none fails the test: it would pass whatever the code
// does.
func goldenSegments(tb testing.TB, pattern string) []goldenSegment {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "golden", pattern, "seg-*"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no segment in the golden rings %s (%v)", pattern, err)
	}
	segs := make([]goldenSegment, len(paths))
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		segs[i] = goldenSegment{filepath.Ext(p) == ".jsonl", b}
	}
	return segs
}

func readPath(t *testing.T, text bool, data []byte, direct bool) {
	name := "seg-0000000000000001.mpk"
	if text {
		name = "seg-0000000000000001.jsonl"
	}
	src := &Source{Stream: "fuzz", Where: "fuzz", fsys: bundle.FS(map[string][]byte{"r/" + name: data}), dir: "r"}
	m, err := NewMerger([]*Source{src}, time.Unix(1, 0))
	if err != nil {
		return
	}
	defer m.Close()
	m.Follow = direct // no read-ahead; ends at io.EOF all the same
	po := PrintOptions{Notes: io.Discard}
	printers := []Printer{NewTextPrinter(io.Discard, po), NewJSONPrinter(io.Discard, po), NewCSVPrinter(io.Discard, po), NewMsgpackPrinter(io.Discard, po)}
	filt := Filter{Matches: []Match{{Key: "n", Op: ">", Num: 1}}}
	for n := 0; ; n++ {
		if n > len(data)+10 {
			t.Fatal("more items than bytes")
		}
		it, err := m.Next()
		if err != nil {
			break
		}
		if it.Kind == KindRecord {
			filt.Keep(it.Source.Stream, it.Rec)
		}
		for _, p := range printers {
			p.Print(&it)
		}
	}
	for _, p := range printers {
		p.Flush()
	}
	Check(src)
}
