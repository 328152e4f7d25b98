package main

import (
	"bytes"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// coresFixture writes the cores and events rings as the cores collector
// would: minidumps in parts of 4 KiB, numbered from 50 (the ring turned
// over before), and their events. Minidump 50 is whole; 53 lacks its
// second part; 55's second part's checksum is not its bytes'; 58, the last, lacks its
// last part.
func coresFixture(t *testing.T) (data string, mini []byte) {
	data = t.TempDir()
	mini = bytes.Repeat([]byte("\x7fELF minidump "), 700) // 9,800 bytes: 3 parts
	table := crc32.MakeTable(crc32.Castagnoli)
	cores, err := ringlog.Open(filepath.Join(data, catalog.StreamCores), ringlog.Options{Stream: catalog.StreamCores, Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	seq := uint64(50)
	store := func(pid int64, b []byte, bad bool, skip int) uint64 {
		first := seq
		for part := int64(1); part <= 3; part++ {
			end := min(part*4096, int64(len(b)))
			chunk, crc := b[(part-1)*4096:end], crc32.Checksum(b[:end], table)
			if bad && part == 2 {
				crc++
			}
			r := codec.Record{Seq: seq, Wall: t0, Mono: 1, Source: "cores", Name: catalog.ProcessCore.Name, Level: codec.LevelInfo, Fields: codec.Fields{
				{Key: "pid", Value: codec.Int(pid)}, {Key: "part", Value: codec.Int(part)}, {Key: "parts", Value: codec.Int(3)},
				{Key: "first", Value: codec.Uint(first * uint64(min(part-1, 1)))}, {Key: "size", Value: codec.Int(int64(len(b)))},
				{Key: "crc", Value: codec.Uint(uint64(crc))}, {Key: "data", Value: codec.Bytes(chunk)},
			}}
			if int(part) == skip {
				continue
			}
			if err := cores.AppendSeq(&r); err != nil {
				t.Fatal(err)
			}
			seq++
		}
		return first
	}
	a := store(100, mini, false, 0)
	b := store(101, mini, false, 2)
	c := store(102, mini, true, 0)
	d := store(105, mini, false, 3)
	if err := cores.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := ringlog.Open(filepath.Join(data, catalog.StreamEvents), ringlog.Options{Stream: catalog.StreamEvents, Codec: codec.JSON, Budget: 1 << 20, SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range []struct {
		pid           int64
		seq           uint64
		dropped       int64
		size          int64
		err           string
		threads, kept int64
		boot          string // the crash's, if the event has it
		time          time.Time
	}{
		{100, a, 0, 9800, "", 4, 4, "", time.Time{}},
		// Crashed in the record's boot, 40 s before it was stored.
		{101, b, 0, 9800, "", 4, 4, "00112233-4455-6677-8899-aabbccddeeff", t0.Add(20 * time.Second)},
		{102, c, 2, 9800, "", 1, 1, "", time.Time{}},
		{103, 0, 0, 0, "not an ELF core: no ELF magic at offset 0", 0, 0, "", time.Time{}},
		// Crashed two days before, in another boot: stored at this one's start.
		{104, 7, 0, 9800, "", 2, 1, "1b4e28ba-2fa1-11d2-883f-0016d3cca427", t0.Add(-48 * time.Hour)},
		{105, d, 0, 9800, "", 2, 2, "", time.Time{}},
	} {
		r := codec.Record{Boot: codec.BootID{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff},
			Wall: t0.Add(time.Duration(i) * time.Minute), Mono: int64(i+1) * 60e9, Source: "cores", Name: catalog.ProcessCrash.Name, Level: codec.LevelCrit, Fields: codec.Fields{
				{Key: "exe", Value: codec.String("appd")}, {Key: "pid", Value: codec.Int(e.pid)}, {Key: "tid", Value: codec.Int(e.pid + 1)},
				{Key: "signal", Value: codec.String("SIGSEGV")}, {Key: "threads", Value: codec.Int(e.threads)}, {Key: "stacks", Value: codec.Int(e.kept)},
				{Key: "size", Value: codec.Int(e.size)}, {Key: "minidump", Value: codec.Uint(e.seq)},
				{Key: "dropped", Value: codec.Int(e.dropped)}, {Key: "error", Value: codec.String(e.err)},
			}}
		if e.boot != "" { // older agents' events have neither
			r.Fields = append(r.Fields, codec.Field{Key: "boot", Value: codec.String(e.boot)}, codec.Field{Key: "time", Value: codec.Int(e.time.Unix())})
		}
		if _, err := events.Append(&r); err != nil {
			t.Fatal(err)
		}
	}
	// The last of a storm: three crashes not kept, and none after them.
	lost := codec.Record{Boot: codec.BootID{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff},
		Wall: t0.Add(10 * time.Minute), Mono: 660e9, Source: "cores", Name: catalog.ProcessCrashesDropped.Name, Level: codec.LevelWarning,
		Fields: codec.Fields{{Key: "dropped", Value: codec.Int(3)}}}
	if _, err := events.Append(&lost); err != nil {
		t.Fatal(err)
	}
	if err := events.Close(); err != nil {
		t.Fatal(err)
	}
	return data, mini
}

// TestCores lists the crashes: each with its minidump's SEQ, or why
// there is none, at the crash's own time, and its boot when the agent
// stored it in a later one.
func TestCores(t *testing.T) {
	data, _ := coresFixture(t)
	out, errOut, code := run(t, "cores", "--utc", data)
	want := []string{
		"TIME                     EXE                  PID     TID  SIGNAL   THREADS STACKS      SIZE    SEQ  NOTE",
		"2026-11-25 10:00:00.000  appd                 100     101  SIGSEGV        4      4      9800     50  -",
		"2026-11-25 10:00:20.000  appd                 101     102  SIGSEGV        4      4      9800     53  -",
		"2026-11-25 10:02:00.000  appd                 102     103  SIGSEGV        1      1      9800     55  2 crashes before it not kept",
		"2026-11-25 10:03:00.000  appd                 103     104  SIGSEGV        0      0         0      -  not an ELF core: no ELF magic at offset 0",
		"2026-11-23 10:00:00.000  appd                 104     105  SIGSEGV        2      1      9800      7  minidump gone from the cores stream; crashed in boot 1b4e28ba-2fa1-11d2-883f-0016d3cca427",
		"2026-11-25 10:05:00.000  appd                 105     106  SIGSEGV        2      2      9800     58  -",
		"2026-11-25 10:10:00.000  -                      -       -  -              -      -         -      -  3 crashes not kept (per_hour, the spool full, or busy)",
	}
	if code != 0 || out != strings.Join(want, "\n")+"\n" {
		t.Errorf("exit %d, %s\n%s\nwant\n%s", code, errOut, out, strings.Join(want, "\n"))
	}
}

// TestCoresExtract writes a minidump out whole, or says what is wrong and
// writes nothing.
func TestCoresExtract(t *testing.T) {
	data, mini := coresFixture(t)
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"--extract", "50"}, 0, "minidump 50, 9800 bytes"},
		{[]string{"--extract", "51"}, 1, "no such minidump: seq 51 is part 2 of the minidump at seq 50"},
		{[]string{"--extract", "53"}, 1, "minidump 53: part 3 of 3 where part 2 was due: a part is missing"},
		{[]string{"--extract", "58"}, 1, "minidump 58: part 3 of 3 missing from the cores stream " + filepath.Join(data, "cores") + " (seq 50 to 59)"},
		{[]string{"--extract", "55"}, 1, "minidump 55: part 2 of 3: checksum"},
		{[]string{"--extract", "7"}, 1, "no such minidump: seq 7 is gone, the cores stream " + filepath.Join(data, "cores") + " holds seq 50 to 59"},
		{[]string{"--extract", "999"}, 1, "seq 999 is not a minidump's first part"},
		{[]string{"--extract", "0"}, 2, "--extract takes a SEQ of the list"},
		{[]string{"--extract", "50", "-o", ""}, 2, "-o a FILE"},
	} {
		out := filepath.Join(t.TempDir(), "core")
		args := append([]string{"cores", "-o", out}, tc.args...)
		_, errOut, code := run(t, append(args, data)...)
		if code != tc.code || !strings.Contains(errOut, tc.err) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.err)
		}
		b, err := os.ReadFile(out)
		if tc.code == 0 && !bytes.Equal(b, mini) {
			t.Errorf("%v: %d bytes written, want the minidump's %d (%v)", tc.args, len(b), len(mini), err)
		}
		if tc.code != 0 && err == nil {
			t.Errorf("%v: a file left", tc.args)
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".core.*")); len(left) > 0 {
			t.Errorf("%v: temporary files left: %v", tc.args, left)
		}
	}
}
