package jexport

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

func record(src string, n uint64) *codec.Record {
	return &codec.Record{
		Wall:   time.Date(2026, 12, 4, 1, 2, 3, 456789000, time.UTC),
		Mono:   12_345_678_901,
		Boot:   codec.BootID{0xd5, 0xa4, 0x3c, 0x4e, 0x19, 0x93, 0x4b, 0x82, 0x8f, 0x63, 0x48, 0x6d, 0x4b, 0x92, 0xa9, 0x2d},
		Source: src,
		Level:  codec.LevelWarning,
		Name:   "app.request",
		Fields: codec.Fields{
			{Key: "latency_ms", Value: codec.Float(0.173)},
			{Key: "rx_bytes", Value: codec.Uint(n)},
			{Key: "queue_delta", Value: codec.Int(-10)},
			{Key: "ok", Value: codec.Bool(true)},
			{Key: "route", Value: codec.String("/api/v1/status")},
		},
	}
}

func TestAppend(t *testing.T) {
	got := string(Append([]byte("keep"), record("loadgen-0", 1500)))
	want := "keep" +
		"__REALTIME_TIMESTAMP=1796346123456789\n" +
		"__MONOTONIC_TIMESTAMP=12345678\n" +
		"_BOOT_ID=d5a43c4e19934b828f63486d4b92a92d\n" +
		"MESSAGE=app.request\n" +
		"PRIORITY=4\n" +
		"SYSLOG_IDENTIFIER=loadgen-0\n" +
		"LATENCY_MS=0.173\n" +
		"RX_BYTES=1500\n" +
		"QUEUE_DELTA=-10\n" +
		"OK=true\n" +
		"ROUTE=/api/v1/status\n" +
		"\n"
	if got != want {
		t.Errorf("Append:\n%s\nwant:\n%s", got, want)
	}
}

// TestJournalRemoteReads feeds two records to Debian's
// systemd-journal-remote and reads them back with journalctl: the peer
// the benchmarks compare with stores what Append wrote, field by field.
func TestJournalRemoteReads(t *testing.T) {
	const jremote = "/lib/systemd/systemd-journal-remote"
	if _, err := os.Stat(jremote); err != nil {
		t.Skip("systemd-journal-remote not installed")
	}
	if _, err := exec.LookPath("journalctl"); err != nil {
		t.Skip("journalctl not installed")
	}
	var in []byte
	in = Append(in, record("loadgen-0", 1500))
	in = Append(in, record("loadgen-1", 3000))
	file := filepath.Join(t.TempDir(), "x.journal")
	cmd := exec.Command(jremote, "--split-mode=none", "-o", file, "-")
	cmd.Stdin = bytes.NewReader(in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", jremote, err, out)
	}
	out, err := exec.Command("journalctl", "--file", file, "-o", "export", "--no-pager").Output()
	if err != nil {
		t.Fatalf("journalctl: %v", err)
	}
	entries := strings.Split(strings.TrimSpace(string(out)), "\n\n")
	if len(entries) != 2 {
		t.Fatalf("journalctl read %d entries, want 2:\n%s", len(entries), out)
	}
	for i, src := range []string{"loadgen-0", "loadgen-1"} {
		have := map[string]bool{}
		for _, l := range strings.Split(entries[i], "\n") {
			have[l] = true
		}
		want := strings.Split(strings.TrimSpace(string(Append(nil, record(src, 1500*uint64(i+1))))), "\n")
		for _, l := range want {
			if !have[l] {
				t.Errorf("entry %d: no %q in what journalctl read:\n%s", i, l, entries[i])
			}
		}
	}
}
