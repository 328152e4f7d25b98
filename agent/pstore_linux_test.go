//go:build !nopstore

package agent

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/testdir"
)

func TestParsePstoreHeader(t *testing.T) {
	for _, tc := range []struct {
		line, reason string
	}{
		{"Panic#1 Part1", "Panic"},
		{"Oops#2 Part3", "Oops"},
		{"Emergency#1 Part1", "Emergency"},
		{"Panic#12 Part10\r", "Panic"},
		{"Panic#1 Part", ""},
		{"Panic#x Part1", ""},
		{"#1 Part1", ""},
		{"Panic 1 Part1", ""},
		{"Pan1c#1 Part1", ""},
		{"<6>[    0.000000] Booting Linux on physical CPU 0x0", ""},
		{"", ""},
	} {
		reason, ok := parsePstoreHeader(tc.line)
		if reason != tc.reason || ok != (tc.reason != "") {
			t.Errorf("%q: got %q, %v; want %q", tc.line, reason, ok, tc.reason)
		}
	}
}

// TestPstoreCuts: parts of at most size bytes, whole runes, the last ones
// kept.
func TestPstoreCuts(t *testing.T) {
	for _, tc := range []struct {
		text      string
		size, max int
		want      []int
	}{
		{"", 4, 2, []int{0, 0}},
		{"abc", 4, 2, []int{0, 3}},
		{"abcd", 4, 2, []int{0, 4}},
		{"abcdefgh", 4, 2, []int{0, 4, 8}},
		{"abcdefghij", 4, 2, []int{2, 6, 10}},    // the head dropped
		{"abcdefghij", 4, 3, []int{0, 2, 6, 10}}, // a short first part
		{"aé€😀b", 4, 9, []int{0, 3, 6, 10, 11}},  // é 2, € 3, 😀 4 bytes
		{"a€€€€€€€", 8, 2, []int{10, 16, 22}},    // a part starts at a rune
		{"ééééé", 5, 1, []int{6, 10}},            // an odd size ends a part early
	} {
		got := pstoreCuts([]byte(tc.text), tc.size, tc.max)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q by %d, at most %d: got %v, want %v", tc.text, tc.size, tc.max, got, tc.want)
			continue
		}
		for i := 1; i < len(got); i++ {
			p := tc.text[got[i-1]:got[i]]
			if len(p) > tc.size || !utf8.ValidString(p) {
				t.Errorf("%q: part %q", tc.text, p)
			}
		}
	}
}

// pstoreDir copies the fixtures to a new /sys and returns it and its
// pstore directory: the collector removes what it stores.
func pstoreDir(t *testing.T) (sys, dir string) {
	t.Helper()
	sys = t.TempDir()
	dir = filepath.Join(sys, "fs", "pstore")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(testCollectorConfig().Sys, "fs", "pstore")
	names, err := readDirNames(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	return sys, dir
}

func pstoreNames(t *testing.T, dir string) string {
	t.Helper()
	names, err := readDirNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return strings.Join(names, " ")
}

func TestPstoreCollector(t *testing.T) {
	sys, dir := pstoreDir(t)
	c := mustCollector(t, "pstore", CollectorConfig{Sys: sys})
	e := &validatingEmitter{t: t, counts: map[string]int{}}
	if err := c.Update(e); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "pstore", e.out.Bytes())
	// Stored, then removed; the ftrace entry is not the collector's.
	if got := pstoreNames(t, dir); got != "ftrace-ramoops-0" {
		t.Errorf("left in pstore: %s", got)
	}
	// Once a start: later Updates store nothing and allocate nothing.
	if err := c.Update(e); err != nil || e.count != 4 {
		t.Errorf("second Update: %d records in all, %v", e.count, err)
	}
	checkNoAllocs(t, c)
}

// TestPstoreKeep: with remove = false the entries stay, and a collector
// built again (a reload) does not store them twice.
func TestPstoreKeep(t *testing.T) {
	sys, dir := pstoreDir(t)
	before := pstoreNames(t, dir)
	cfg := CollectorConfig{Sys: sys, Options: map[string]string{"remove": "false"}}
	var e recordingEmitter
	for i := 0; i < 2; i++ {
		if err := mustCollector(t, "pstore", cfg).Update(&e); err != nil {
			t.Fatal(err)
		}
	}
	if e.count != 4 || pstoreNames(t, dir) != before {
		t.Errorf("%d records, left %s", e.count, pstoreNames(t, dir))
	}
}

// failingEmitter stores ok records, then fails.
type failingEmitter struct {
	recordingEmitter
	ok int
}

var errStorage = errors.New("storage full")

func (e *failingEmitter) Emit(stream string, r *codec.Record) error {
	if e.count == e.ok {
		return errStorage
	}
	return e.recordingEmitter.Emit(stream, r)
}

// TestPstoreRemoveAfterStore: an entry is removed only once all its
// records are stored; one that could not be is kept and stored whole at
// the next Update.
func TestPstoreRemoveAfterStore(t *testing.T) {
	sys, dir := pstoreDir(t)
	c := mustCollector(t, "pstore", CollectorConfig{Sys: sys})
	// console-ramoops-0 is stored, dmesg-ramoops-0 fails.
	e := &failingEmitter{ok: 1}
	if err := c.Update(e); !errors.Is(err, errStorage) {
		t.Fatalf("Update = %v, want %v", err, errStorage)
	}
	if got := pstoreNames(t, dir); got != "dmesg-ramoops-0 dmesg-ramoops-1 ftrace-ramoops-0 pmsg-ramoops-0" {
		t.Errorf("after a failed Emit, left: %s", got)
	}
	e.ok = 100
	if err := c.Update(e); err != nil {
		t.Fatal(err)
	}
	out := e.out.String()
	if e.count != 4 || strings.Count(out, `"pstore.console"`) != 1 || !strings.Contains(out, `"pstore.panic"`) {
		t.Errorf("got %d records:\n%s", e.count, out)
	}
	if got := pstoreNames(t, dir); got != "ftrace-ramoops-0" {
		t.Errorf("left: %s", got)
	}
}

// TestPstoreBounds: a huge entry is read only as far as its records hold,
// from the end, the head dropped and counted; the parts start at a line.
func TestPstoreBounds(t *testing.T) {
	sys := t.TempDir()
	dir := filepath.Join(sys, "fs", "pstore")
	os.MkdirAll(dir, 0o755)
	var log bytes.Buffer
	log.WriteString("Panic#1 Part1\n")
	for i := 0; log.Len() < 4<<20; i++ {
		fmt.Fprintf(&log, "<4>[  %6d.000000] line %d of a long log\n", i, i)
	}
	last := "<0>[  999.000000] ---[ end Kernel panic - not syncing: Fatal exception ]---\n"
	log.WriteString(last)
	if err := os.WriteFile(filepath.Join(dir, "dmesg-efi-170000000000001"), log.Bytes(), 0o444); err != nil {
		t.Fatal(err)
	}
	c := mustCollector(t, "pstore", CollectorConfig{Sys: sys, Options: map[string]string{"max_parts": "3"}})
	var recs []codec.Record
	e := &funcEmitter{func(r *codec.Record) {
		var c codec.Record
		b, _ := codec.AppendJSON(nil, r)
		if err := codec.DecodeJSON(b, &c); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, c)
	}}
	if err := c.Update(e); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	var text strings.Builder
	for i, r := range recs {
		if r.Name != "pstore.panic" || r.Level != codec.LevelCrit {
			t.Errorf("record %d: %s at %v", i, r.Name, r.Level)
		}
		if p := field(r, "part").Uint(); p != uint64(i+1) {
			t.Errorf("record %d: part %d", i, p)
		}
		s := field(r, "text").Str()
		if len(s) > catalog.PstorePart {
			t.Errorf("record %d: %d bytes", i, len(s))
		}
		text.WriteString(s)
	}
	kept := text.String()
	dropped := field(recs[0], "dropped").Int()
	body := log.String()[len("Panic#1 Part1\n"):]
	if !strings.HasSuffix(kept, last) || !strings.HasPrefix(kept, "<4>[") || int(dropped)+len(kept) != len(body) || body[dropped:] != kept {
		t.Errorf("kept %d bytes from %q, dropped %d of %d", len(kept), kept[:40], dropped, len(body))
	}
}

// funcEmitter hands each record to f.
type funcEmitter struct{ f func(*codec.Record) }

func (e *funcEmitter) Emit(stream string, r *codec.Record) error {
	r.Stream = stream
	e.f(r)
	return nil
}

// TestPstoreHostile: binary garbage is stored as valid UTF-8; a FIFO, a
// directory or a device where an entry should be is refused by name,
// never opened, and the others are stored still.
func TestPstoreHostile(t *testing.T) {
	for _, s := range testdir.Shapes {
		t.Run(s.Name, func(t *testing.T) {
			sys := t.TempDir()
			dir := filepath.Join(sys, "fs", "pstore")
			os.MkdirAll(dir, 0o755)
			garbage := []byte("Oops#1 Part1\n\xff\xfe\x00\x80abc\xc3(\xf0\x9f\x98")
			os.WriteFile(filepath.Join(dir, "dmesg-ramoops-0.enc.z"), garbage, 0o444)
			s.Make(t, filepath.Join(dir, "dmesg-ramoops-1"))
			c := mustCollector(t, "pstore", CollectorConfig{Sys: sys})
			e := &validatingEmitter{t: t, counts: map[string]int{}}
			err := c.Update(e)
			if !errors.Is(err, regular.ErrNotRegular) {
				t.Errorf("Update = %v, want %v", err, regular.ErrNotRegular)
			}
			wantErr(t, s.Name, err, filepath.Join(dir, "dmesg-ramoops-1"), s.Kind)
			if want := `"level":"crit","name":"pstore.oops"`; e.count != 1 || !strings.Contains(e.out.String(), want) || !strings.Contains(e.out.String(), `"text":"??\u0000?abc?(???"`) {
				t.Errorf("got %d records, want %s:\n%s", e.count, want, e.out.String())
			}
			if got := pstoreNames(t, dir); got != "dmesg-ramoops-1" {
				t.Errorf("left: %s", got)
			}
		})
	}
}

// TestPstoreOff: no pstore is no error and no record; a pstore that
// cannot be listed switches the collector off, with why.
func TestPstoreOff(t *testing.T) {
	c := mustCollector(t, "pstore", CollectorConfig{Sys: t.TempDir()})
	var e recordingEmitter
	if err := c.Update(&e); err != nil || e.count != 0 {
		t.Errorf("no pstore: %d records, %v", e.count, err)
	}
	sys := t.TempDir()
	os.MkdirAll(filepath.Join(sys, "fs"), 0o755)
	os.WriteFile(filepath.Join(sys, "fs", "pstore"), nil, 0o644)
	_, err := newCollector("pstore", CollectorConfig{Sys: sys})
	wantErr(t, "a file for a directory", err, "collector pstore", filepath.Join(sys, "fs", "pstore"), "not a directory")
	for _, opts := range []map[string]string{{"remove": "maybe"}, {"max_parts": "0"}, {"max_parts": "65"}, {"keep": "true"}} {
		if err := checkCollector("pstore", opts, nil); err == nil {
			t.Errorf("%v: no error", opts)
		}
	}
}

// TestPstoreAgent: in the agent, a panic left in pstore is in the events
// ring, whole, and then gone from pstore; a pstore it cannot read is a
// collector.off.
func TestPstoreAgent(t *testing.T) {
	sys, dir := pstoreDir(t)
	cfg := testConfig(t, "[collector pstore]\n")
	cfg.Collectors["pstore"].Enabled = true
	a, err := New(cfg, Options{Log: discard{}, Sys: sys})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range a.collectors {
		a.sample = sampleEmitter{a: a, mono: 1}
		a.update(s)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(testCollectorConfig().Sys, "fs", "pstore", "dmesg-ramoops-0"))
	var panics int
	for _, r := range readStream(t, cfg.Data, StreamEvents) {
		if r.Name == "pstore.panic" {
			panics++
			if got := field(r, "header").Str() + "\n" + field(r, "text").Str(); got != string(want) {
				t.Errorf("stored %q, want %q", got, want)
			}
		}
	}
	if panics != 1 || pstoreNames(t, dir) != "ftrace-ramoops-0" {
		t.Errorf("%d panics stored, left %s", panics, pstoreNames(t, dir))
	}

	os.RemoveAll(dir)
	os.WriteFile(dir, nil, 0o644)
	cfg = testConfig(t, "[collector pstore]\n")
	cfg.Collectors["pstore"].Enabled = true
	a, err = New(cfg, Options{Log: discard{}, Sys: sys})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	var off string
	for _, r := range readStream(t, cfg.Data, StreamSelf) {
		if r.Name == catalog.CollectorOff.Name {
			off = field(r, "collector").Str() + ": " + field(r, "error").Str()
		}
	}
	if !strings.HasPrefix(off, "pstore: ") || !strings.Contains(off, "not a directory") {
		t.Errorf("collector.off: %q", off)
	}
}
