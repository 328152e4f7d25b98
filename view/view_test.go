package view

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/bundle"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/ringlog"
)

var t0 = ringtest.Wall

// rec is a record of boot n at monotonic second mono.
func rec(n uint32, mono int, name string, fields ...codec.Field) *codec.Record {
	return ringtest.At(n, mono, name, fields...)
}

// writeRing appends recs to the ring of stream under data, in small
// segments.
func writeRing(t testing.TB, data, stream string, c codec.Codec, recs ...*codec.Record) {
	t.Helper()
	writeRingOpts(t, data, ringlog.Options{Stream: stream, Codec: c, Budget: 1 << 20, SegmentSize: 8 << 10}, recs...)
}

// writeRingOpts appends recs to a new ring under data opened with o.
func writeRingOpts(t testing.TB, data string, o ringlog.Options, recs ...*codec.Record) {
	t.Helper()
	ringtest.Write(t, data, o, recs...)
}

// describe lists the items of a merged read, one line each.
func describe(t *testing.T, srcs []*Source) []string {
	t.Helper()
	m, err := NewMerger(srcs, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var out []string
	for {
		it, err := m.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch it.Kind {
		case KindRecord:
			out = append(out, fmt.Sprintf("%s %d %s", it.Source.Stream, it.Entry.Seq, it.Rec.Name))
		case KindBoot:
			out = append(out, fmt.Sprintf("boot %d", it.Boot.N))
		case KindGap:
			out = append(out, fmt.Sprintf("gap %s %s", it.Source.Stream, it.Gap.AppendText(nil)))
		case KindDamage:
			out = append(out, "damage "+it.Source.Stream)
		default:
			out = append(out, "bad "+it.Source.Stream)
		}
	}
}

func TestMergeOrder(t *testing.T) {
	data := t.TempDir()
	writeRing(t, data, "metrics", codec.Msgpack, rec(1, 1, "m1"), rec(1, 3, "m3"), rec(2, 1, "m-b2"))
	writeRing(t, data, "events", codec.JSON, rec(1, 2, "e2"), rec(1, 3, "e3"), rec(2, 0, "e-b2"), rec(2, 5, "e-b2-late"))
	in, err := Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	got := describe(t, in.Sources)
	want := []string{
		"boot 1", "metrics 1 m1", "events 1 e2", "events 2 e3", "metrics 2 m3",
		"boot 2", "events 3 e-b2", "metrics 3 m-b2", "events 4 e-b2-late",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// Numbers skipped at a restart after a crash show as a gap with its cause.
func TestGapAfterCrash(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "events")
	o := ringlog.Options{Stream: "events", Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 8 << 10, MemoryStage: true, Boot: codec.BootID{1}, BootCount: 1}
	w, err := ringlog.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	w.Append(rec(1, 1, "a"))
	w.Flush()
	// The process dies with a record in its memory stage; the next Open
	// skips to the high-water mark.
	w.Append(rec(1, 2, "lost"))
	dir = crashCopy(t, dir) // the files as the process left them
	w.Close()
	w, err = ringlog.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	w.Append(rec(1, 3, "b"))
	w.Close()
	in, err := Open([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	got := describe(t, in.Sources)
	// The gap says what the numbers were: the writer's note, the record
	// after the gap, bounds the loss by its memory buffer.
	if len(got) != 5 || got[1] != "events 1 a" || got[3] != "events 1025 ring.resume" || got[4] != "events 1026 b" || got[0] != "boot 1" ||
		!strings.HasPrefix(got[2], "gap events 1023 numbers missing (2-1024), up to 1023 records possibly lost: the writer died with records in memory; bound: records of the last 1s in a ") {
		t.Fatalf("got %q", got)
	}
}

// crashCopy copies a ring's files as they are, as if its writer died now.
func crashCopy(t *testing.T, dir string) string {
	dst := filepath.Join(t.TempDir(), filepath.Base(dir))
	os.MkdirAll(dst, 0o750)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dst, e.Name()), b, 0o640)
	}
	return dst
}

func TestInputs(t *testing.T) {
	data := t.TempDir()
	writeRing(t, data, "metrics", codec.Msgpack, rec(1, 1, "m1"), rec(1, 2, "m2"))
	writeRing(t, data, "events", codec.JSON, rec(1, 1, "e1"))
	var buf bytes.Buffer
	if _, err := bundle.Write(&buf, data, "test"); err != nil {
		t.Fatal(err)
	}
	tgz := filepath.Join(t.TempDir(), "b.tar.gz")
	os.WriteFile(tgz, buf.Bytes(), 0o644)
	seg, _ := filepath.Glob(filepath.Join(data, "metrics", "seg-*"))
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{[]string{data}, "events metrics"},
		{[]string{filepath.Join(data, "metrics")}, "metrics"},
		{[]string{seg[0]}, "metrics"},
		{[]string{tgz}, "events metrics"},
		{[]string{filepath.Join(data, "metrics"), tgz}, "events metrics metrics"},
	} {
		in, err := Open(tc.paths)
		if err != nil {
			t.Fatalf("%q: %v", tc.paths, err)
		}
		var names []string
		n := 0
		for _, s := range in.Sources {
			names = append(names, s.Stream)
		}
		for _, line := range describe(t, in.Sources) {
			if !strings.HasPrefix(line, "boot") {
				n++
			}
		}
		if strings.Join(names, " ") != tc.want || len(in.Problems) != 0 {
			t.Fatalf("%q: streams %q, problems %q; want %q", tc.paths, names, in.Problems, tc.want)
		}
		if n == 0 {
			t.Fatalf("%q: no records", tc.paths)
		}
	}
	for _, bad := range []string{t.TempDir(), filepath.Join(data, "nope"), filepath.Join(data, "metrics", "stage")} {
		if _, err := Open([]string{bad}); err == nil {
			t.Errorf("%s: opened", bad)
		}
	}
}

func TestFilter(t *testing.T) {
	r := rec(2, 10, "filesystem", codec.Field{Key: "mount", Value: codec.String("/data")}, codec.Field{Key: "used_pct", Value: codec.Float(93.5)}, codec.Field{Key: "ro", Value: codec.Bool(false)})
	r.Level = codec.LevelWarning
	for _, tc := range []struct {
		f    Filter
		keep bool
	}{
		{Filter{}, true},
		{Filter{Streams: []string{"metrics"}}, true},
		{Filter{Streams: []string{"events"}}, false},
		{Filter{MaxLevel: codec.LevelWarning, LevelSet: true}, true},
		{Filter{MaxLevel: codec.LevelErr, LevelSet: true}, false},
		{Filter{Since: r.Wall}, true},
		{Filter{Since: r.Wall.Add(time.Nanosecond)}, false},
		{Filter{Until: r.Wall}, false},
		{Filter{Until: r.Wall.Add(time.Nanosecond)}, true},
		{Filter{Boots: []uint32{1, 2}}, true},
		{Filter{Boots: []uint32{1}}, false},
		{Filter{Matches: matches(t, "used_pct>90", "mount=/data", "ro=false", "name~^file")}, true},
		{Filter{Matches: matches(t, "used_pct>=93.5", "used_pct<=93.5")}, true},
		{Filter{Matches: matches(t, "used_pct<90")}, false},
		{Filter{Matches: matches(t, "mount!=/data")}, false},
		{Filter{Matches: matches(t, "missing!=x")}, true},
		{Filter{Matches: matches(t, "missing=x")}, false},
		{Filter{Matches: matches(t, "mount>3")}, false},
		{Filter{Grep: mustRe(t, "^/da")}, true},
		{Filter{Grep: mustRe(t, "nothing")}, false},
	} {
		if got := tc.f.Keep("metrics", r); got != tc.keep {
			t.Errorf("%+v: keep %v, want %v", tc.f, got, tc.keep)
		}
	}
	for _, bad := range []string{"x", "=x", "n>abc", "n~(", "k"} {
		if _, err := ParseMatch(bad); err == nil {
			t.Errorf("ParseMatch(%q) passed", bad)
		}
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"now", now},
		{"today", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)},
		{"yesterday", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		{"2h ago", now.Add(-2 * time.Hour)},
		{"-90m", now.Add(-90 * time.Minute)},
		{"1d ago", now.Add(-24 * time.Hour)},
		{"2026-11-25", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)},
		{"2026-11-25 14:00", time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)},
		{"2026-11-25 14:00:05", time.Date(2026, 11, 25, 14, 0, 5, 0, time.UTC)},
		{"2026-11-25T14:00:05.5+01:00", time.Date(2026, 11, 25, 13, 0, 5, 5e8, time.UTC)},
		{"14:02", time.Date(2026, 11, 25, 14, 2, 0, 0, time.UTC)},
		{"14:05:30", time.Date(2026, 11, 25, 14, 5, 30, 0, time.UTC)},
		{"09:00:00.25", time.Date(2026, 11, 25, 9, 0, 0, 25e7, time.UTC)},
		{"yesterday 14:00", time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)},
		{"today 09:00", time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)},
		{"tomorrow", time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)},
		{"10 min ago", now.Add(-10 * time.Minute)},
		{"10 minutes ago", now.Add(-10 * time.Minute)},
		{"1 hour ago", now.Add(-time.Hour)},
		{"1h 30min ago", now.Add(-90 * time.Minute)},
		{"1h30m ago", now.Add(-90 * time.Minute)},
		{"2 weeks ago", now.Add(-14 * 24 * time.Hour)},
		{"1h", now.Add(-time.Hour)},
		{"1.5h", now.Add(-90 * time.Minute)},
		{"45s", now.Add(-45 * time.Second)},
		{"+1h", now.Add(time.Hour)},
		{" 2h ago ", now.Add(-2 * time.Hour)},
	} {
		got, err := ParseTime(tc.in, now, time.UTC)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	// A time without a zone is in the zone given, whatever now's is.
	paris := time.FixedZone("CET", 3600)
	for in, want := range map[string]time.Time{
		"14:02":            time.Date(2026, 11, 25, 13, 2, 0, 0, time.UTC),
		"yesterday 14:00":  time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC),
		"today":            time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC),
		"2026-11-25 14:00": time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC),
	} {
		if got, err := ParseTime(in, now, paris); err != nil || !got.Equal(want) {
			t.Errorf("%q in CET: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"soon", "x ago", "2026-13-01", "25:00", "14:60", "10", "10 parsecs ago", "h", "yesterday noon", "1h ago ago", "99999999999999h", ""} {
		_, err := ParseTime(bad, now, time.UTC)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", strings.TrimSpace(bad))) || !strings.Contains(err.Error(), "10 min ago") {
			t.Errorf("%q: %v; want an error naming it and the forms", bad, err)
		}
	}
}

func mustRe(t *testing.T, s string) *regexp.Regexp {
	re, err := regexp.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return re
}

func matches(t *testing.T, ss ...string) []Match {
	var ms []Match
	for _, s := range ss {
		m, err := ParseMatch(s)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

// seekRing writes a ring of 100 segments, one a minute by both clocks,
// except that the wall clock steps back an hour before segment stepAt
// (0: never).
func seekRing(t *testing.T, stepAt int) (string, []ringlog.SegmentInfo) {
	dir := filepath.Join(t.TempDir(), "metrics")
	minute, seg := 0, 0
	wallOf := func(m int) time.Time {
		w := t0.Add(time.Duration(m) * time.Minute)
		if stepAt > 0 && seg >= stepAt {
			w = w.Add(-time.Hour)
		}
		return w
	}
	o := ringlog.Options{Stream: "metrics", Codec: codec.Msgpack, Budget: 64 << 20, SegmentSize: 4 << 10, StageSize: -1,
		Now: func() (time.Time, int64) { seg++; return wallOf(minute), int64(minute) * 60e9 }}
	w, err := ringlog.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for ; minute < 100; minute++ {
		for i := 0; i < 10; i++ {
			r := rec(1, minute*60+i, "s", codec.Field{Key: "pad", Value: codec.String(strings.Repeat("x", 300))})
			r.Wall = wallOf(minute).Add(time.Duration(i) * time.Second)
			if _, err := w.Append(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.Close()
	r, _ := ringlog.NewReader(dir)
	return dir, r.Segments()
}

func TestSeekSince(t *testing.T) {
	dir, segs := seekRing(t, 0)
	r, _ := ringlog.NewReader(dir)
	since := t0.Add(90 * time.Minute)
	r.Skip(sinceSkips(r.Segments(), since, nil))
	e, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	var got codec.Record
	e.Decode(&got)
	// The first record read is at most one segment before the window.
	if !got.Wall.Before(since) || since.Sub(got.Wall) > 2*time.Minute {
		t.Fatalf("%d segments: first record read at %v, window from %v", len(segs), got.Wall, since)
	}
	// A clock step stops the skipping where it happened.
	dir, segs = seekRing(t, 50)
	r, _ = ringlog.NewReader(dir)
	r.Skip(sinceSkips(r.Segments(), since, nil))
	e, _ = r.Next()
	if e.Segment == "" || e.Seq > segs[50].Header.First {
		t.Fatalf("skipped past a clock step: first seq %d, step at segment starting %d", e.Seq, segs[50].Header.First)
	}
}

// Until stops reading at the first segment wholly after the window, by
// the headers, and never loses a record inside the window, clock step or
// not.
func TestUntil(t *testing.T) {
	count := func(dir string, until time.Time) (read, inside int) {
		in, err := Open([]string{dir})
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewMerger(in.Sources, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if !until.IsZero() {
			m.Until(until)
		}
		for {
			it, err := m.Next()
			if err == io.EOF {
				return read, inside
			}
			if it.Kind == KindGap {
				t.Fatalf("a gap where segments were passed over: %+v", it.Gap)
			}
			if it.Kind == KindRecord {
				read++
				if it.Rec.Wall.Before(t0.Add(10 * time.Minute)) {
					inside++
				}
			}
		}
	}
	until := t0.Add(10 * time.Minute)
	for _, step := range []int{0, 5, 50} {
		dir, _ := seekRing(t, step)
		_, want := count(dir, time.Time{})
		read, inside := count(dir, until)
		if inside != want || want == 0 {
			t.Fatalf("step at %d: %d records inside the window read, want %d", step, inside, want)
		}
		if step == 0 && read > 130 {
			t.Fatalf("read %d records to find the %d before %v", read, inside, until)
		}
		t.Logf("step at segment %d: read %d records for %d in the window", step, read, inside)
	}
}

// The agent's records of a clock step and an unclean shutdown are marker
// lines in text, before the record itself.
func TestAgentMarkers(t *testing.T) {
	data := t.TempDir()
	step := rec(1, 2, "clock.step", codec.Field{Key: "step_ms", Value: codec.Int(-3600000)})
	step.Source = "itiny"
	unclean := rec(1, 1, "agent.unclean_shutdown")
	unclean.Source = "itiny"
	writeRing(t, data, "events", codec.JSON, unclean, step, rec(1, 3, "other"))
	in, err := Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMerger(in.Sources, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var buf bytes.Buffer
	p := NewTextPrinter(&buf, PrintOptions{UTC: true})
	for {
		it, err := m.Next()
		if err != nil {
			break
		}
		p.Print(&it)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[1], "-- unclean shutdown") || !strings.Contains(lines[2], "agent.unclean_shutdown") ||
		lines[3] != "-- wall clock step --" || !strings.Contains(lines[4], "clock.step step_ms=-3600000") || strings.HasPrefix(lines[5], "--") {
		t.Fatalf("text:\n%s", buf.String())
	}
}

// A window in the newest of three boots skips the older boots' segments
// too, each on its own; only segments followed by a boot change are read.
func TestWindowAcrossBoots(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "metrics")
	for b := 1; b <= 3; b++ {
		minute := 0
		start := t0.Add(time.Duration(b) * 24 * time.Hour)
		o := ringlog.Options{Stream: "metrics", Codec: codec.Msgpack, Budget: 64 << 20, SegmentSize: 4 << 10, StageSize: -1,
			Boot: codec.BootID{byte(b)},
			Now:  func() (time.Time, int64) { return start.Add(time.Duration(minute) * time.Minute), int64(minute) * 60e9 }}
		w, err := ringlog.Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		for ; minute < 30; minute++ {
			for i := 0; i < 10; i++ {
				r := rec(uint32(b), minute*60+i, "s", codec.Field{Key: "pad", Value: codec.String(strings.Repeat("x", 300))})
				r.Wall = start.Add(time.Duration(minute)*time.Minute + time.Duration(i)*time.Second)
				if _, err := w.Append(r); err != nil {
					t.Fatal(err)
				}
			}
		}
		w.Close()
	}
	since, until := t0.Add(3*24*time.Hour+10*time.Minute), t0.Add(3*24*time.Hour+20*time.Minute)
	in, err := Open([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMerger(in.Sources, since)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Until(until)
	f := Filter{Since: since, Until: until}
	read, kept := 0, 0
	for {
		it, err := m.Next()
		if err == io.EOF {
			break
		}
		if it.Kind == KindGap {
			t.Fatalf("gap %+v", it.Gap)
		}
		if it.Kind == KindRecord {
			read++
			if f.Keep("metrics", it.Rec) {
				kept++
			}
		}
	}
	if kept != 100 || read > 200 {
		t.Fatalf("read %d of 900 records to keep %d, want 100", read, kept)
	}
	t.Logf("read %d of 900 records for the %d in the window", read, kept)
}
