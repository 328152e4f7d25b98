package view

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/bundle"
	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/ringlog"
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
	for _, s := range clockSegments(f) {
		f.Add(s.text, s.data)
	}
	f.Fuzz(func(t *testing.T, text bool, data []byte) { readPath(t, text, data, true) })
}

func TestReadPathSeeds(t *testing.T) {
	for _, s := range append(goldenSegments(t, "*"), clockSegments(t)...) {
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

// readPath reads data as a segment of the itiny stream, whose clock.sync
// records repair wall times: whatever they hold, a repaired time is one
// RFC 3339 writes.
func readPath(t *testing.T, text bool, data []byte, direct bool) {
	name := "seg-0000000000000001.mpk"
	if text {
		name = "seg-0000000000000001.jsonl"
	}
	src := &Source{Stream: catalog.StreamSelf, Where: "fuzz", fsys: bundle.FS(map[string][]byte{"r/" + name: data}), dir: "r"}
	clocks, err := LearnClocks([]*Source{src})
	if err != nil {
		return
	}
	m, err := NewMerger([]*Source{src}, time.Unix(1, 0))
	if err != nil {
		return
	}
	defer m.Close()
	m.Follow = direct // no read-ahead; ends at io.EOF all the same
	m.Clocks = clocks
	po := PrintOptions{Notes: io.Discard}
	var js bytes.Buffer
	printers := []Printer{NewTextPrinter(io.Discard, po), NewJSONPrinter(&js, po), NewCSVPrinter(io.Discard, po), NewMsgpackPrinter(io.Discard, po)}
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
		js.Reset()
		for _, p := range printers {
			p.Print(&it)
		}
		if _, w, ok := bytes.Cut(js.Bytes(), []byte(`"wall_corrected":"`)); ok {
			if w, _, _ = bytes.Cut(w, []byte(`"`)); !inRange(it.Rec.Wall) {
				t.Fatalf("wall_corrected %s", w)
			} else if _, err := time.Parse(time.RFC3339Nano, string(w)); err != nil {
				t.Fatalf("wall_corrected: %v", err)
			}
		}
	}
	for _, p := range printers {
		p.Flush()
	}
	Check(src)
}

// clockSegments are segments of an itiny ring whose clock.sync records
// say synchronised at times no device has: in year 100 at 285 years of
// uptime, and at a monotonic time that makes the repair overflow.
func clockSegments(tb testing.TB) []goldenSegment {
	tb.Helper()
	var segs []goldenSegment
	for _, c := range []codec.Codec{codec.JSON, codec.Msgpack} {
		dir := tb.TempDir()
		w, err := ringlog.Open(dir, ringlog.Options{Stream: catalog.StreamSelf, Codec: c, Budget: 1 << 20, SegmentSize: 64 << 10, StageSize: -1})
		if err != nil {
			tb.Fatal(err)
		}
		sync1 := at(ringtest.ClockSync(1, 1, true), time.Date(100, 1, 1, 0, 0, 0, 0, time.UTC))
		sync1.Mono = 9e18
		sync2 := at(ringtest.ClockSync(2, 70, true), t0)
		sync2.Mono = 1<<63 - 1
		far := at(rec(2, 0, "r"), t0)
		far.Mono = -1 << 62
		for _, r := range []*codec.Record{
			from1970(start(1, 5, 1, true, true)), sync1, from1970(rec(1, 10, "r")),
			from1970(start(2, 5, 2, true, true)), sync2, at(rec(2, 10, "r"), t0), far,
		} {
			if _, err := w.Append(r); err != nil {
				tb.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			tb.Fatal(err)
		}
		paths, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			segs = append(segs, goldenSegment{c == codec.JSON, b})
		}
	}
	if len(segs) < 2 {
		tb.Fatal("no clock segments written")
	}
	return segs
}
