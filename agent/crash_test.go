package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// panicOutput is what the Go runtime prints for a panic.
const panicOutput = `panic: runtime error: index out of range [3] with length 3

goroutine 12 [running]:
github.com/itiny/itiny/agent.(*Agent).update(0xc000120000, 0xc0001a2000)
	/src/agent/agent.go:530 +0x1d4
created by github.com/itiny/itiny/agent.(*Agent).Run in goroutine 1
	/src/agent/agent.go:470 +0x8c
`

func TestParseCrashes(t *testing.T) {
	h := func(v string, pid int) string { return fmt.Sprintf("%s%s pid %d\n", crashHeader, v, pid) }
	for _, tc := range []struct {
		name string
		file string
		cut  int64
		want []crash
		last bool // the last run crashed
	}{
		{"empty", "", 0, nil, false},
		{"a run that did not crash", h("0.1.0", 7), 0, nil, false},
		{"a crash, then a run that did not", h("0.1.0", 7) + panicOutput + h("0.1.0", 8), 0, []crash{{"0.1.0", 7, strings.TrimSpace(panicOutput), 0}}, false},
		{"a panic", h("0.1.0", 7) + panicOutput, 0, []crash{{"0.1.0", 7, strings.TrimSpace(panicOutput), 0}}, true},
		{"cut past the head", h("0.1.0", 7) + panicOutput, 900, []crash{{"0.1.0", 7, strings.TrimSpace(panicOutput), 900}}, true},
		{"runs that crashed before the stream took the first", h("0.1.0", 7) + "fatal error: out of memory\n" + h("0.1.0", 8) + h("0.2.0", 9) + panicOutput,
			0, []crash{{"0.1.0", 7, "fatal error: out of memory", 0}, {"0.2.0", 9, strings.TrimSpace(panicOutput), 0}}, true},
		{"no header", panicOutput, 0, []crash{{"", 0, strings.TrimSpace(panicOutput), 0}}, true},
		{"a bad header", crashHeader + "garbage\n" + panicOutput, 0, []crash{{"", 0, strings.TrimSpace(panicOutput), 0}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, last := parseCrashes(tc.file, tc.cut); !slices.Equal(got, tc.want) || last != tc.last {
				t.Errorf("got %+v, last run crashed %v\nwant %+v, %v", got, last, tc.want, tc.last)
			}
		})
	}
}

func TestCrashParts(t *testing.T) {
	long := strings.Repeat("goroutine 1 [running]:\n", 2000) // 46,000 bytes
	for _, tc := range []struct {
		name  string
		text  string
		limit int
		parts []string
		cut   int64
	}{
		{"one part", "panic: x\n", 100, []string{"panic: x\n"}, 0},
		{"at line ends", "aaaa\nbbbb\ncc", 6, []string{"aaaa\n", "bbbb\n", "cc"}, 0},
		{"a line longer than a part", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}, 0},
		{"not inside a rune", "ab\u00e9\u00e9", 3, []string{"ab", "\u00e9", "\u00e9"}, 0},
		{"invalid UTF-8 replaced", "a\xffb", 100, []string{"a\uFFFDb"}, 0},
		{"at most MaxCrashParts, the head kept", long, catalog.MaxCrashText, nil, int64(len(long) - catalog.MaxCrashParts*(catalog.MaxCrashText/23*23))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts, cut := crashParts(tc.text, tc.limit)
			if tc.parts == nil { // the long one
				if len(parts) != catalog.MaxCrashParts || !strings.HasPrefix(tc.text, strings.Join(parts, "")) {
					t.Fatalf("%d parts, not the text's head", len(parts))
				}
			} else if !slices.Equal(parts, tc.parts) {
				t.Errorf("parts %q, want %q", parts, tc.parts)
			}
			for _, p := range parts {
				if len(p) > tc.limit {
					t.Errorf("a part of %d bytes, over %d", len(p), tc.limit)
				}
			}
			if cut != tc.cut {
				t.Errorf("cut %d, want %d", cut, tc.cut)
			}
		})
	}
}

// startWithCrashFile starts and closes an agent keeping its crashes, on a
// data directory whose crash file setup makes, and returns its events
// and its log.
func startWithCrashFile(t *testing.T, setup func(path string)) (*Config, []codec.Record, *lockedLog) {
	t.Helper()
	t.Cleanup(func() { debug.SetCrashOutput(nil, debug.CrashOptions{}) })
	cfg := testConfig(t, "")
	setup(filepath.Join(cfg.Data, crashFile))
	var log lockedLog
	a, err := New(cfg, Options{Log: &log, KeepCrash: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var crashes []codec.Record
	for _, r := range readStream(t, cfg.Data, StreamEvents) {
		if r.Name == catalog.AgentCrash.Name {
			crashes = append(crashes, r)
		}
	}
	return cfg, crashes, &log
}

func thisHeader() string { return fmt.Sprintf("%s%s pid %d\n", crashHeader, Version, os.Getpid()) }

// TestCrashRecorded: a crash the file holds becomes agent.crash, with the
// crashed run's version and pid, at crit, valid by the catalogue; the
// file is then emptied, but for this run's header.
func TestCrashRecorded(t *testing.T) {
	cfg, crashes, _ := startWithCrashFile(t, func(path string) {
		os.WriteFile(path, []byte(crashHeader+"0.0.9 pid 4242\n"+panicOutput), 0o640)
	})
	if len(crashes) != 1 {
		t.Fatalf("%d agent.crash records, want 1", len(crashes))
	}
	r := crashes[0]
	if err := catalog.AgentCrash.Check(StreamEvents, &r); err != nil {
		t.Error(err)
	}
	if r.Level != codec.LevelCrit || field(r, "version").Str() != "0.0.9" || field(r, "pid").Int() != 4242 ||
		field(r, "part").Int() != 1 || field(r, "parts").Int() != 1 || field(r, "cut").Int() != 0 ||
		field(r, "text").Str() != strings.TrimSpace(panicOutput) {
		t.Errorf("agent.crash: %v", r)
	}
	b, err := os.ReadFile(filepath.Join(cfg.Data, crashFile))
	if err != nil || string(b) != thisHeader() {
		t.Errorf("crash file after the record: %q, %v; want only this run's header", b, err)
	}
}

// TestCrashFileBounded: of a huge crash file the agent reads, records and
// keeps the head only, and says how much it cut.
func TestCrashFileBounded(t *testing.T) {
	const huge = 64 << 20
	cfg, crashes, _ := startWithCrashFile(t, func(path string) {
		os.WriteFile(path, []byte(crashHeader+"0.0.9 pid 4242\n"+panicOutput), 0o640)
		os.Truncate(path, huge) // zeros past the panic: NUL is valid UTF-8
	})
	if len(crashes) != catalog.MaxCrashParts {
		t.Fatalf("%d agent.crash records, want %d", len(crashes), catalog.MaxCrashParts)
	}
	var stored int64
	for i, r := range crashes {
		if field(r, "part").Int() != int64(i+1) || field(r, "parts").Int() != catalog.MaxCrashParts {
			t.Errorf("part %d: %v", i+1, r)
		}
		stored += int64(len(field(r, "text").Str()))
	}
	if !strings.HasPrefix(field(crashes[0], "text").Str(), "panic: runtime error") {
		t.Errorf("the first part does not begin with the panic: %.80q", field(crashes[0], "text").Str())
	}
	header := int64(len(crashHeader + "0.0.9 pid 4242\n"))
	if cut := field(crashes[0], "cut").Int(); cut != huge-header-stored {
		t.Errorf("cut %d, want %d (of %d bytes, %d stored)", cut, huge-header-stored, huge, stored)
	}
	if st, err := os.Stat(filepath.Join(cfg.Data, crashFile)); err != nil || st.Size() != int64(len(thisHeader())) {
		t.Errorf("crash file after the record: %v, %v", st.Size(), err)
	}
}

// TestCrashFileNotRegular: a FIFO or a symbolic link where the crash file
// goes is refused, logged, and left alone; the agent starts, and the
// file a link points to is not touched.
func TestCrashFileNotRegular(t *testing.T) {
	target := filepath.Join(t.TempDir(), "precious")
	for _, tc := range []struct {
		name string
		make func(path string) error
		want string
	}{
		{"FIFO", func(path string) error { return syscall.Mkfifo(path, 0o640) }, "a FIFO, not a regular file"},
		{"symbolic link", func(path string) error {
			os.WriteFile(target, []byte(crashHeader+"0.0.9 pid 1\n"+panicOutput), 0o640)
			return os.Symlink(target, path)
		}, "a symbolic link, not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, crashes, log := startWithCrashFile(t, func(path string) {
				if err := tc.make(path); err != nil {
					t.Fatal(err)
				}
			})
			if len(crashes) != 0 {
				t.Errorf("%d agent.crash records from a %s", len(crashes), tc.name)
			}
			log.wait(t, "crash file not kept, the agent's crashes go to stderr only: open ")
			log.wait(t, tc.want)
		})
	}
	if b, _ := os.ReadFile(target); string(b) != crashHeader+"0.0.9 pid 1\n"+panicOutput {
		t.Errorf("the link's target was changed: %q", b)
	}
}

// TestCrashKeptUntilStored: a crash found while the events stream is
// unavailable stays in the file, this run's header after it, until the
// stream takes its record.
func TestCrashKeptUntilStored(t *testing.T) {
	t.Cleanup(func() { debug.SetCrashOutput(nil, debug.CrashOptions{}) })
	cfg := testConfig(t, "")
	path := filepath.Join(cfg.Data, crashFile)
	old := crashHeader + "0.0.9 pid 4242\n" + panicOutput
	os.WriteFile(path, []byte(old), 0o640)
	full := fullEvents(t)
	var log lockedLog
	a, err := New(cfg, Options{Log: &log, KeepCrash: true})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != old+thisHeader() {
		t.Errorf("crash file while events is unavailable: %q", b)
	}
	full.Store(false)
	if err := a.retryStorage(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != thisHeader() {
		t.Errorf("crash file once events took the crash: %q", b)
	}
	a.Close()
	var n int
	for _, r := range readStream(t, cfg.Data, StreamEvents) {
		if r.Name == catalog.AgentCrash.Name && field(r, "pid").Int() == 4242 {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d agent.crash records, want 1", n)
	}
}
