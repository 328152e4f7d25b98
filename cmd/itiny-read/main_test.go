package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/internal/version"
	"github.com/itiny/itiny/ringlog"
)

// The tests run the real binary, built once.
var binary string

func TestMain(m *testing.M) { testbin.Main(m.Run, "itiny-read", &binary) }

// run runs itiny-read and returns its output and exit code.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if x, ok := err.(*exec.ExitError); ok {
		code = x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// fixture writes a data directory: two boots of metrics (msgpack) and
// events (json).
func fixture(t *testing.T) string {
	data := t.TempDir()
	for _, s := range []struct {
		name string
		c    codec.Codec
	}{{"metrics", codec.Msgpack}, {"events", codec.JSON}} {
		w, err := ringlog.Open(filepath.Join(data, s.name), ringlog.Options{Stream: s.name, Codec: s.c, Budget: 1 << 20, SegmentSize: 8 << 10})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			boot := uint32(1 + i/10)
			r := codec.Record{Boot: codec.BootID{0xb0, byte(boot)}, BootCount: boot, Wall: t0.Add(time.Duration(i) * time.Minute), Mono: int64(i%10) * 60e9,
				Source: "test", Level: codec.LevelInfo, Name: s.name[:1] + fmt.Sprint(i)}
			if s.name == "events" && i%5 == 0 {
				r.Level = codec.LevelWarning
			}
			r.Fields = codec.Fields{{Key: "dev", Value: codec.String("vda")}, {Key: "n", Value: codec.Int(int64(i))}}
			if _, err := w.Append(&r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func TestDump(t *testing.T) {
	data := fixture(t)
	for _, tc := range []struct {
		args  []string
		first string // of the output's lines, a substring
		n     int    // lines
	}{
		{[]string{"--utc", data}, "-- boot 1 (b0010000", 42},
		{[]string{"--utc", "--stream", "events", data}, "-- boot 1", 22},
		{[]string{"--utc", "--level", "warning", data}, "-- boot 1", 6},
		{[]string{"--utc", "-n", "3", data}, "m18", 3},
		{[]string{"--utc", "--boot", "-1", "--stream", "metrics", data}, "-- boot 1", 11},
		{[]string{"--utc", "--boot", "2", "--stream", "metrics", data}, "-- boot 2", 11},
		{[]string{"--utc", "--since", "2026-11-25 10:15", "--until", "2026-11-25T10:17:00Z", data}, "-- boot 2", 5},
		{[]string{"--utc", "--grep", "^e1[0-2]$", data}, "-- boot 2", 4},
		{[]string{"--utc", data, "n>=18", "dev=vda"}, "-- boot 2", 5},
		{[]string{"-o", "json", "--stream", "metrics", "--fields", "n", data}, `{"seq":1,"stream":"metrics"`, 20},
		{[]string{"-o", "csv", "--stream", "metrics", data}, "wall,boot,mono,m0[vda].n", 21},
	} {
		out, errOut, code := run(t, tc.args...)
		got := lines(out)
		if code != 0 || len(got) != tc.n || !strings.Contains(got[0], tc.first) {
			t.Errorf("%q: exit %d, %d lines, first %q; want %d lines, first with %q\nstderr: %s", tc.args, code, len(got), got[0], tc.n, tc.first, errOut)
		}
	}
	// JSON output is valid JSON, line by line, with the fields asked for.
	out, _, _ := run(t, "-o", "json", "--fields", "n", data)
	for _, l := range lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("invalid JSON %q: %v", l, err)
		}
		if f := m["fields"].(map[string]any); len(f) != 1 || f["n"] == nil {
			t.Fatalf("fields %v", f)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	data := fixture(t)
	one := t.TempDir() // a ring of one boot
	writeRecords(t, one, "events", codec.Record{BootCount: 1, Wall: t0, Source: "app", Level: codec.LevelInfo, Name: "e"})
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--level", "loud", data}, 2, "--level"},
		{[]string{"--since", "soon", data}, 2, `--since: time "soon"`},
		{[]string{"-o", "xml", data}, 2, `-o "xml"`},
		{[]string{"--colour", data}, 2, "flag provided but not defined: -colour"},
		{[]string{"--boot", "7", data}, 1, "-b 7: no boot with that counter"},
		{[]string{"-b", "-2", data}, 1, "-b -2: the rings hold 2 boots\n"},
		{[]string{"-b", "-1", one}, 1, "-b -1: the rings hold 1 boot\n"},
		{[]string{filepath.Join(data, "missing")}, 1, "no such file"},
		{[]string{"--stream", "nope", data}, 1, "no stream nope"},
	} {
		_, errOut, code := run(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want %d, %q", tc.args, code, errOut, tc.code, tc.msg)
		}
		// A usage error is the message and where to look, as journalctl
		// says it; the full usage is for -h.
		if got := lines(errOut); code == 2 && (len(got) != 2 || got[1] != "try 'itiny-read --help'") {
			t.Errorf("%q: stderr %q; want the error, then try 'itiny-read --help'", tc.args, errOut)
		}
	}
	_, errOut, code := run(t, "report", "--since", "soon", data)
	if got := lines(errOut); code != 2 || len(got) != 2 || got[1] != "try 'itiny-read report --help'" {
		t.Errorf("report --since soon: exit %d, stderr %q", code, errOut)
	}
}

func TestBootsAndBundle(t *testing.T) {
	data := fixture(t)
	out, _, code := run(t, "boots", "--utc", data)
	got := lines(out)
	if code != 0 || len(got) != 3 || !strings.Contains(got[1], "b0010000") || !strings.Contains(got[2], "events:10 metrics:10") {
		t.Fatalf("boots: exit %d\n%s", code, out)
	}
	b := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, errOut, code := run(t, "bundle", "-o", b, data); code != 0 {
		t.Fatalf("bundle: exit %d: %s", code, errOut)
	}
	fromBundle, _, _ := run(t, "--utc", b)
	fromDir, _, _ := run(t, "--utc", data)
	if fromBundle != fromDir || len(lines(fromDir)) != 42 {
		t.Fatalf("the bundle reads differently:\n%s\n---\n%s", fromBundle, fromDir)
	}
	if _, errOut, code := run(t, "bundle", "-o", b, data); code != 1 || !strings.Contains(errOut, "exists") {
		t.Fatalf("bundle over an existing file: exit %d: %s", code, errOut)
	}
}

func TestVerifyStats(t *testing.T) {
	golden := filepath.Join("..", "..", "testdata", "golden")
	for _, tc := range []struct {
		ring string
		code int
		want string
	}{
		{"v1-msgpack", 0, "40 records, seq 1-40, in 2 segments: ok"},
		{"v1-msgpack-damaged", 1, "CORRUPT: 1 problem"},
		{"v1-msgpack-packed", 1, "gap             4 records lost (5-8): damage"},
		{"v1-msgpack-stage-only", 0, "35 records, seq 1-35, in 1 segment: ok"},
		{"v1-msgpack-bad-stage", 1, "bad-stage       ../../testdata/golden/v1-msgpack-bad-stage/stage offset 0 length 128: damaged stage header"},
		{"v1-msgpack-unknown-flag", 1, "UNSUPPORTED: 1 segment written by a newer itiny, not read"},
		{"v1-json-future-version", 1, "gap             26 numbers unread (27-52): in a segment written by a newer itiny"},
	} {
		out, errOut, code := run(t, "verify", filepath.Join(golden, tc.ring))
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("verify %s: exit %d, %q (stderr %q); want %d, %q", tc.ring, code, out, errOut, tc.code, tc.want)
		}
		out, _, code = run(t, "verify", "--json", filepath.Join(golden, tc.ring))
		var reps []map[string]any
		if err := json.Unmarshal([]byte(out), &reps); err != nil || code != tc.code || len(reps) != 1 {
			t.Errorf("verify --json %s: exit %d, %v: %s", tc.ring, code, err, out)
		}
	}
	data := fixture(t)
	out, _, code := run(t, "stats", data)
	if got := lines(out); code != 0 || len(got) != 3 || !strings.HasPrefix(got[1], "events         20") {
		t.Fatalf("stats: exit %d\n%s", code, out)
	}
}

func TestSalvage(t *testing.T) {
	damaged := filepath.Join("..", "..", "testdata", "golden", "v1-msgpack-damaged")
	to := filepath.Join(t.TempDir(), "clean")
	if _, errOut, code := run(t, "salvage", "--to", to, damaged); code != 0 || !strings.Contains(errOut, "38 records salvaged, 2 ranges of damage skipped") {
		t.Fatalf("salvage: exit %d: %s", code, errOut)
	}
	out, _, code := run(t, "verify", to)
	if code != 0 || !strings.Contains(out, "38 records, seq 1-39") {
		t.Fatalf("verify of the salvaged ring: exit %d: %s", code, out)
	}
	want, _, _ := run(t, "-o", "json", damaged)
	got, _, _ := run(t, "-o", "json", to)
	if got != want {
		t.Fatal("the salvaged ring reads differently from the damaged one's intact records")
	}
	js := filepath.Join(t.TempDir(), "out.jsonl")
	if _, errOut, code := run(t, "salvage", "--json", js, damaged); code != 0 {
		t.Fatalf("salvage --json: exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(js); string(b) != want {
		t.Fatal("salvage --json differs from the dump of the intact records")
	}
	if _, _, code := run(t, "salvage", damaged); code != 2 {
		t.Fatalf("salvage without a destination: exit %d", code)
	}
}

// TestFollow runs itiny-read -f on a ring that a writer appends to and
// rotates: every record appears once, in order, as it is written.
func TestFollow(t *testing.T) {
	data := t.TempDir()
	w, err := ringlog.Open(filepath.Join(data, "events"), ringlog.Options{Stream: "events", Codec: codec.JSON, Budget: 1 << 20, SegmentSize: 4 << 10, FlushEvery: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cmd := exec.Command(binary, "-n", "all", "-f", "-o", "json", data)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	const n, batch = 300, 100 // about 15 segments, 5 a batch
	// The writer waits for each batch to be printed before it writes the
	// next: itiny-read follows the ring (polling every 250 ms), it does not
	// read a finished one.
	printed := make(chan struct{}, n/batch)
	go func() {
		for i := 0; i < n; i++ {
			if i > 0 && i%batch == 0 {
				<-printed
			}
			r := codec.Record{Name: fmt.Sprint("e", i), Wall: t0.Add(time.Duration(i) * time.Second), Mono: int64(i) * 1e9, Level: codec.LevelNotice,
				Fields: codec.Fields{{Key: "pad", Value: codec.String(strings.Repeat("x", 150))}}}
			if _, err := w.Append(&r); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	deadline := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for i := 0; i < n; i++ {
		if !sc.Scan() {
			t.Fatalf("output ended after %d records", i)
		}
		var r struct {
			Seq  uint64
			Name string
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Seq != uint64(i+1) || r.Name != fmt.Sprint("e", i) {
			t.Fatalf("line %d: %s (%v)", i, sc.Text(), err)
		}
		if (i+1)%batch == 0 {
			printed <- struct{}{}
		}
	}
	segs, _ := filepath.Glob(filepath.Join(data, "events", "seg-*"))
	if len(segs) < 5 {
		t.Fatalf("%d segments: the test did not rotate", len(segs))
	}
}

// verify on a live ring with a write in progress at the end of its newest
// segment reports nothing: no false alarm on the segment being written.
func TestVerifyLive(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "events")
	w, err := ringlog.Open(dir, ringlog.Options{Stream: "events", Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 64 << 10, StageSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 0; i < 10; i++ {
		if _, err := w.Append(&codec.Record{Name: "e"}); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
	f, err := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0x12, 0x34, 0x56, 0x78, 30, 0, 0, 0}) // half a frame header: a write in progress
	f.Close()
	out, errOut, code := run(t, "verify", data)
	if code != 0 || !strings.Contains(out, "10 records, seq 1-10, in 1 segment: ok\n") {
		t.Fatalf("verify of a live ring: exit %d: %s %s", code, out, errOut)
	}
	w.Close()
	// Once the writer is gone, the same bytes are a torn tail, reported
	// but not corruption.
	out, _, code = run(t, "verify", data)
	if code != 0 || !strings.Contains(out, "torn-tail") {
		t.Fatalf("verify after the writer: exit %d: %s", code, out)
	}
}

// TestVerifyStaleSegment copies a segment of another ring into a ring's
// directory, numbered above the ring's own: verify names it, and the
// records shown are the ring's alone.
func TestVerifyStaleSegment(t *testing.T) {
	data := fixture(t)
	other := t.TempDir()
	w, err := ringlog.Open(other, ringlog.Options{Stream: "metrics", Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; w.Stats().Segments < 3; i++ {
		r := codec.Record{Wall: t0, Source: "other", Level: codec.LevelInfo, Name: "o" + fmt.Sprint(i), Fields: codec.Fields{{Key: "pad", Value: codec.String(strings.Repeat("x", 200))}}}
		if _, err := w.Append(&r); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	segs, _ := filepath.Glob(filepath.Join(other, "seg-*"))
	b, err := os.ReadFile(segs[len(segs)-1])
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(data, "metrics", filepath.Base(segs[len(segs)-1]))
	if err := os.WriteFile(stale, b, 0o640); err != nil {
		t.Fatal(err)
	}
	out, _, code := run(t, "verify", filepath.Join(data, "metrics"))
	if code != 1 || !strings.Contains(out, "stale-segment") || !strings.Contains(out, filepath.Base(stale)) {
		t.Fatalf("verify: exit %d:\n%s", code, out)
	}
	out, _, code = run(t, "-o", "json", filepath.Join(data, "metrics"))
	if got := lines(out); code != 0 || len(got) != 20 || strings.Contains(out, `"src":"other"`) {
		t.Fatalf("-o json: exit %d, %d lines:\n%s", code, len(got), out)
	}
}

// TestOptionsAnywhere: options go before or after paths, as with GNU
// tools, in every command, and "--" ends them: a ring in a directory
// named like an option is read.
func TestOptionsAnywhere(t *testing.T) {
	ring := filepath.Join("..", "..", "testdata", "golden", "v1-msgpack")
	want, _, code := run(t, "-o", "json", ring)
	if code != 0 || len(lines(want)) != 40 {
		t.Fatalf("-o json before the path: exit %d, %d lines", code, len(lines(want)))
	}
	for _, args := range [][]string{
		{ring, "-o", "json"},
		{ring, "--o=json"},
		{"-o", "json", "--", ring},
	} {
		if got, errOut, code := run(t, args...); code != 0 || got != want {
			t.Errorf("itiny-read %v: exit %d, %d lines (stderr %q); want the %d of -o json first", args, code, len(lines(got)), errOut, len(lines(want)))
		}
	}
	if out, _, code := run(t, "verify", ring, "--json"); code != 0 || !strings.HasPrefix(out, "[") {
		t.Errorf("verify PATH --json: exit %d, %.40q", code, out)
	}
	if _, errOut, code := run(t, ring, "--bogus"); code != 2 || !strings.Contains(errOut, "-bogus") {
		t.Errorf("a bad option after the path: exit %d, %q; want 2 naming it", code, errOut)
	}
	// After "--", an argument that looks like an option is a path.
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "-o"), os.DirFS(ring)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "-n", "1", "--", "-o")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || strings.Count(string(out), " cpu i=") != 1 || !strings.Contains(string(out), "cpu i=39") {
		t.Errorf(`itiny-read -n 1 -- -o (a ring named "-o"): %v: %s`, err, out)
	}
}

// TestMatchIsNeverAPath: an argument with a match operator after a key is
// a match, whatever its value holds (mount~^/data, pidfile=/run/x.pid);
// a path with an operator in its name is given with a "/" before it.
func TestMatchIsNeverAPath(t *testing.T) {
	data := fixture(t)
	all, _, _ := run(t, "-o", "json", data)
	for _, tc := range []struct {
		match string
		want  int // records
	}{
		{"dev!=/no/such/dev", len(lines(all))},
		{"dev~^/dev/", 0},
		{"dev=vda", len(lines(all))},
	} {
		out, errOut, code := run(t, "-o", "json", data, tc.match)
		n := len(lines(out))
		if out == "" {
			n = 0
		}
		if code != 0 || n != tc.want {
			t.Errorf("%s: exit %d, %d records (stderr %q); want %d", tc.match, code, n, errOut, tc.want)
		}
	}
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "a=b"), os.DirFS(filepath.Join(data, "events"))); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "-o", "json", "./a=b")
	cmd.Dir = dir
	if out, err := cmd.Output(); err != nil || len(lines(string(out))) != 20 {
		t.Errorf("./a=b, a ring: %v, %d lines", err, len(lines(string(out))))
	}
}

// TestHelpAndVersion: -h, --help and help CMD print the usage and every
// option on standard output and exit 0; --version prints the one version
// string the agent and itiny-migrate print too.
func TestHelpAndVersion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-h"}, []string{"usage: itiny-read [options]", "\n  -o string\n", "\n  --since string\n", "verify", "\n  --version\n        print the version\n",
			"\n  -b    only the records of one boot", `(default "text")`, "(default 256MiB)"}},
		{[]string{"--help"}, []string{"usage: itiny-read [options]", "\n  --match value\n"}},
		{[]string{"help"}, []string{"usage: itiny-read [options]", "\n  --match value\n"}},
		{[]string{"help", "verify"}, []string{"usage: itiny-read verify", "\n  --json\n"}},
		{[]string{"verify", "-h"}, []string{"usage: itiny-read verify", "\n  --json\n"}},
		{[]string{"--version"}, []string{"itiny-read " + version.String + "\n"}},
	} {
		out, errOut, code := run(t, tc.args...)
		for _, w := range tc.want {
			if code != 0 || !strings.Contains(out, w) || errOut != "" {
				t.Errorf("%q: exit %d, stdout %.60q..., stderr %q; want exit 0 and %q on stdout", tc.args, code, out, errOut, w)
			}
		}
	}
	for _, c := range append([]string{""}, "boots", "runs", "verify", "stats", "salvage", "bundle", "sar", "report") {
		out, _, _ := run(t, "help", c)
		checkOptions(t, c, out)
	}
	// A command without a path reads the default data directory: an
	// error if there is none, never a crash.
	cmd := exec.Command(binary, "verify")
	cmd.Env = append(os.Environ(), "ITINY_DATA="+filepath.Join(t.TempDir(), "none"))
	if out, err := cmd.CombinedOutput(); cmd.ProcessState.ExitCode() != 1 || strings.Contains(string(out), "panic") {
		t.Errorf("verify with no path: %v: %s", err, out)
	}
}

// checkOptions checks the options in a command's help as journalctl's
// users read them: --name for a name of more than one letter, -x for one
// letter, each followed by its help, every line of which starts in one
// column (8), in spaces.
func checkOptions(t *testing.T, cmd, help string) {
	t.Helper()
	_, opts, ok := strings.Cut(help, "\noptions (")
	opts, _, _ = strings.Cut(opts, "\n\nenvironment:")
	lines := strings.Split(opts, "\n")[1:]
	if !ok || len(lines) < 2 {
		t.Fatalf("help %s: no options:\n%s", cmd, help)
	}
	const indent = "        "
	helped := true // the option before has its help
	for _, l := range lines {
		if strings.HasPrefix(l, indent) {
			if l[len(indent)] == ' ' || l[len(indent)] == '\t' {
				t.Errorf("help %s: help line %q does not start in column %d", cmd, l, len(indent))
			}
			helped = true
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(l, "  "), " ")
		long := strings.HasPrefix(name, "--") && len(name) > 3
		short := len(name) == 2 && name[0] == '-'
		if !helped || !strings.HasPrefix(l, "  -") || strings.Contains(l, "\t") || !long && !short {
			t.Errorf("help %s: %q: want an option (--name, or -x) after the help of the one before, in spaces", cmd, l)
		}
		// A one-letter option that takes no value has its help on its
		// line, in the same column.
		helped = short && len(l) > len(indent) && l[:len(indent)] == "  "+name+indent[:len(indent)-2-len(name)] && l[len(indent)] != ' '
	}
	if !helped {
		t.Errorf("help %s: the last option has no help", cmd)
	}
}
