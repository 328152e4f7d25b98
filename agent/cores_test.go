//go:build !nocores

package agent

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/corespool"
	"github.com/itiny/itiny/ringlog"
)

// coresConfig is the cores collector's configuration in data directory
// data: a cores stream of 16 KiB segments, so 4 KiB parts.
func coresConfig(t *testing.T, data string, opts map[string]string) CollectorConfig {
	t.Helper()
	return CollectorConfig{Proc: "testdata/proc", Data: data, Options: opts, Streams: []StreamConfig{
		{Name: StreamCores, Budget: 256 << 10, Segment: 16 << 10, Buffer: 16 << 10, Codec: codec.Msgpack},
	}}
}

// noPid is past PID_MAX_LIMIT: no process's, whose memory itiny core
// would read for the shared libraries' list.
const noPid = 1<<22 + 1

// spoolCrash leaves a crash in data's spool as itiny core does: the
// real core in minicore's testdata, cut to n bytes.
func spoolCrash(t *testing.T, data string, pid int64, n int) string {
	t.Helper()
	core, err := os.ReadFile("../minicore/testdata/x86_64.core")
	if err != nil {
		t.Fatal(err)
	}
	c := corespool.Crash{Pid: pid, Tid: pid + 1, Signal: 11, Time: 1796331474, Exe: "appd", Boot: "another boot", Mono: 1e9}
	name, err := corespool.Capture(data, c, bytes.NewReader(core[:n]), corespool.Limits{ThreadBytes: 4096, Threads: 16, PerHour: 100, Size: 1 << 20, Spool: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// seqEmitter numbers records as a ring would, per stream.
type seqEmitter struct {
	validatingEmitter
	next map[string]uint64
	fail string // a stream that refuses records
	room int    // records fail takes before it refuses them
}

func (e *seqEmitter) Emit(stream string, r *codec.Record) error {
	if stream == e.fail && e.room > 0 {
		e.room--
	} else if stream == e.fail {
		return errors.New("stream " + stream + " unavailable")
	}
	e.next[stream]++
	r.Seq = e.next[stream]
	return e.validatingEmitter.Emit(stream, r)
}

func newSeqEmitter(t *testing.T) *seqEmitter {
	return &seqEmitter{validatingEmitter: validatingEmitter{t: t, counts: map[string]int{}}, next: map[string]uint64{}}
}

// TestCoresCollector stores a crash the handler left, truncated (as a
// kernel's dump cut short by a kill would be): its minidump of the notes
// that came in parts, then its event naming the first, and removes its
// file; an empty spool then costs no allocation.
func TestCoresCollector(t *testing.T) {
	data := t.TempDir()
	name := spoolCrash(t, data, noPid, 9000)
	c := mustCollector(t, "cores", coresConfig(t, data, nil))
	defer c.(*coresCollector).Close()
	e := newSeqEmitter(t)
	if err := c.Update(e); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "cores", e.out.Bytes())
	if _, err := os.Stat(filepath.Join(data, corespool.Dir, name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("crash file left: %v", err)
	}
	mini, crash := stored(t, e)
	if string(mini[:4]) != "\x7fELF" || len(mini) < 4<<10 || crash.Level != codec.LevelCrit || crash.Fields[7].Value.Int() != 1 ||
		!strings.Contains(crash.Fields[9].Value.Str(), "core truncated at offset 9000") {
		t.Errorf("a %d-byte minidump; %+v", len(mini), crash)
	}
	checkNoAllocs(t, c)
}

// stored returns the minidump and the process.crash event e holds,
// checking that they are one crash stored whole, each part once: parts
// 1 to P in order, naming the first, each checksum the minidump's up to
// its end, the event naming the first part.
func stored(t *testing.T, e *seqEmitter) (mini []byte, crash codec.Record) {
	t.Helper()
	var first, part, crashes int64
	for line := range strings.SplitSeq(strings.TrimSpace(e.out.String()), "\n") {
		var r codec.Record
		if err := codec.DecodeJSON([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		switch f := r.Fields; r.Name {
		case catalog.ProcessCore.Name:
			part++
			if part == 1 {
				first = int64(r.Seq)
			}
			if n, want := f[1].Value.Int(), part; n != want || part > 1 && f[3].Value.Int() != first {
				t.Errorf("seq %d: part %d naming %d, want part %d naming %d", r.Seq, n, f[3].Value.Int(), want, first)
			}
			mini = append(mini, f[6].Value.Str()...)
			if sum := f[5].Value.Uint(); uint32(sum) != crc32.Checksum(mini, crc32.MakeTable(crc32.Castagnoli)) {
				t.Errorf("crc %x, the minidump's %x", sum, crc32.Checksum(mini, crc32.MakeTable(crc32.Castagnoli)))
			}
		case catalog.ProcessCrash.Name:
			crash = r
			crashes++
		}
	}
	if f := crash.Fields; crashes != 1 || f[7].Value.Int() != first || f[6].Value.Int() != int64(len(mini)) {
		t.Errorf("%d events, the minidump %d of %d bytes; %d parts from %d", crashes, f[7].Value.Int(), f[6].Value.Int(), part, first)
	}
	return mini, crash
}

// TestCoresResume: a minidump whose parts the cores stream refuses
// partway is resumed at the part that failed, at the next sample, or
// after a restart (from the mark in the spool file): each part is stored
// once.
func TestCoresResume(t *testing.T) {
	for _, restart := range []bool{false, true} {
		data := t.TempDir()
		name := spoolCrash(t, data, noPid+3, 35872)
		cfg := coresConfig(t, data, nil)
		cfg.Streams[0].Sync = ringlog.SyncAlways
		c := mustCollector(t, "cores", cfg)
		e := newSeqEmitter(t)
		e.fail, e.room = StreamCores, 2
		if err := c.Update(e); err == nil || e.next[StreamCores] != 2 {
			t.Fatalf("restart %v: %d parts stored, %v; want 2 and an error", restart, e.next[StreamCores], err)
		}
		c.(*coresCollector).Close()
		if restart { // a new process knows the file's mark alone
			storedAs(name, corespool.Progress{})
		}
		c = mustCollector(t, "cores", cfg)
		e.fail = ""
		if err := c.Update(e); err != nil {
			t.Fatal(err)
		}
		c.(*coresCollector).Close()
		if mini, _ := stored(t, e); e.next[StreamCores] < 4 || len(mini) < 8<<10 {
			t.Errorf("restart %v: %d parts, %d bytes", restart, e.next[StreamCores], len(mini))
		}
		if spooled, _ := filepath.Glob(filepath.Join(data, corespool.Dir, "core-*")); len(spooled) != 0 {
			t.Errorf("restart %v: %v left", restart, spooled)
		}
	}
}

// TestCoresUnmarked: an agent killed between storing a record of a crash
// and marking it stored leaves its mark one record behind; started
// again, it finds the record at the end of its ring and stores it, and
// the crash, once.
func TestCoresUnmarked(t *testing.T) {
	for _, last := range []string{StreamCores, StreamEvents} {
		data := t.TempDir()
		name := spoolCrash(t, data, noPid+4, 35872)
		path := filepath.Join(data, corespool.Dir, name)
		cfg := coresConfig(t, data, nil)
		cfg.Streams[0].Sync = ringlog.SyncAlways
		e := newSeqEmitter(t)
		e.fail, e.room = StreamCores, 2
		if last == StreamEvents {
			e.fail, e.room = StreamEvents, 0
		}
		c := mustCollector(t, "cores", cfg)
		c.Update(e) // the parts the stream takes, marked
		c.(*coresCollector).Close()
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// One more record, then killed before its mark: the file as it
		// was, the record the last of its ring.
		e.room = 1
		if last == StreamEvents {
			e.fail = ""
		}
		c = mustCollector(t, "cores", cfg)
		c.Update(e)
		c.(*coresCollector).Close()
		storedAs(name, corespool.Progress{})
		if err := os.WriteFile(path, before, 0o640); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(e.out.String()), "\n")
		var r codec.Record
		if err := codec.DecodeJSON([]byte(lines[len(lines)-1]), &r); err != nil {
			t.Fatal(err)
		}
		payload, err := codec.Msgpack.Append(nil, &r)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ended = map[string]*ringlog.Entry{last: {Seq: r.Seq, Payload: payload, Codec: codec.Msgpack}}

		e.fail = ""
		c = mustCollector(t, "cores", cfg)
		if err := c.Update(e); err != nil {
			t.Fatal(err)
		}
		c.(*coresCollector).Close()
		stored(t, e)
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s last: crash file left: %v", last, err)
		}
	}
}

// TestCoresRetry: a crash the events stream cannot take stays in the
// spool, and at the next sample its event is written, not its parts
// again.
func TestCoresRetry(t *testing.T) {
	data := t.TempDir()
	name := spoolCrash(t, data, noPid+1, 9000)
	c := mustCollector(t, "cores", coresConfig(t, data, nil))
	defer c.(*coresCollector).Close()
	e := newSeqEmitter(t)
	e.fail = StreamEvents
	if err := c.Update(e); err == nil {
		t.Fatal("no error with the events stream down")
	}
	if _, err := os.Stat(filepath.Join(data, corespool.Dir, name)); err != nil {
		t.Fatalf("crash file gone before its event: %v", err)
	}
	parts := e.count
	e.fail = ""
	if err := c.Update(e); err != nil {
		t.Fatal(err)
	}
	if e.count != parts+1 || e.next[StreamEvents] != 1 {
		t.Errorf("%d records after %d parts, want the event alone", e.count, parts)
	}
}

// TestCoresBadFile: a spool file that is not a crash file is told as a
// crash with the error, and removed: never retried forever.
func TestCoresBadFile(t *testing.T) {
	data := t.TempDir()
	c := mustCollector(t, "cores", coresConfig(t, data, nil))
	defer c.(*coresCollector).Close()
	bad := filepath.Join(data, corespool.Dir, "core-0000000000000001-1")
	if err := os.WriteFile(bad, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newSeqEmitter(t)
	if err := c.Update(e); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.out.String(), `"error":"core-spool/core-0000000000000001-1: header: EOF"`) || e.count != 1 {
		t.Errorf("records:\n%s", e.out.String())
	}
	if _, err := os.Stat(bad); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bad file left: %v", err)
	}
}

// TestCoresLimits: the collector tells the handler its limits, a minidump
// bounded by what the cores ring holds; bad options are refused by name.
func TestCoresLimits(t *testing.T) {
	data := t.TempDir()
	c := mustCollector(t, "cores", coresConfig(t, data, map[string]string{"thread_bytes": "8KiB", "threads": "4", "per_hour": "2"}))
	c.(*coresCollector).Close()
	b, err := os.ReadFile(filepath.Join(data, corespool.Dir, "limits"))
	// 256 KiB, less a 16 KiB stage and two 16 KiB segments, is 13
	// segments of four 3808-byte parts: less than minicore.MaxSize.
	if err != nil || string(b) != fmt.Sprintf("thread_bytes 8192\nthreads 4\nper_hour 2\nsize %d\nspool 262144\n", 13*4*3808) {
		t.Errorf("limits %q, %v", b, err)
	}
	def, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	lim, err := CoreLimits(def)
	// The default cores ring holds 9 segments beside its stage and two
	// segments, of four 32480-byte parts each: less than MaxSize.
	if err != nil || lim.Size != 9*4*32480 || lim.Spool != 1536<<10 {
		t.Errorf("default limits %+v, %v", lim, err)
	}
	for opts, want := range map[string]string{
		"thread_bytes=2MiB": "option thread_bytes: want a size from 1B to 1MiB",
		"threads=65":        "option threads: want 0 to 64",
		"per_hour=0":        "option per_hour: want 1 to 1048576",
		"bogus=1":           `unknown option "bogus" for collector cores`,
	} {
		k, v, _ := strings.Cut(opts, "=")
		_, err := newCollector("cores", coresConfig(t, data, map[string]string{k: v}))
		wantErr(t, opts, err, want)
	}
	small := coresConfig(t, data, nil)
	small.Streams[0].Budget = 64 << 10
	_, err = newCollector("cores", small)
	wantErr(t, "a small cores stream", err, "budget 64KiB holds no minidump")
	text := coresConfig(t, data, nil)
	text.Streams[0].Codec = codec.JSON
	_, err = newCollector("cores", text)
	wantErr(t, "a JSON cores stream", err, "[stream cores] codec json: minidumps are stored as bytes")
}

// TestCorePartFraming: a process.core record of a full part, its fields
// at their largest, takes at most corePartFraming bytes beside its data
// in a segment, so that four fill one (corePart).
func TestCorePartFraming(t *testing.T) {
	r := catalogRecord(&catalog.ProcessCore)
	r.Boot, r.BootCount, r.Seq, r.Mono = codec.BootID{0: 0xff, 15: 0xff}, 1<<32-1, 1<<62, 1<<62
	r.Wall = time.Date(2026, 12, 3, 0, 0, 0, 999999999, time.UTC)
	r.Level = codec.LevelInfo
	f := r.Fields
	f[0].Value, f[1].Value, f[2].Value = codec.Int(1<<22), codec.Int(1<<30), codec.Int(1<<30)
	f[3].Value, f[4].Value, f[5].Value = codec.Uint(1<<63), codec.Int(1<<40), codec.Uint(1<<32-1)
	f[6].Value = codec.Bytes(make([]byte, catalog.CorePart))
	b, err := codec.Msgpack.Append(nil, &r)
	const frame = 16 // docs/FORMAT.md, Binary frame
	if framing := frame + len(b) - catalog.CorePart; err != nil || framing > corePartFraming {
		t.Errorf("a part takes %d bytes beside its data, %v; corePartFraming is %d", framing, err, corePartFraming)
	}
}

// BenchmarkCoresIdle is the cost of a sample of an empty spool: an lseek
// and a getdents64.
func BenchmarkCoresIdle(b *testing.B) {
	c := mustCollector(b, "cores", CollectorConfig{Proc: "testdata/proc", Data: b.TempDir(), Streams: []StreamConfig{
		{Name: StreamCores, Budget: 256 << 10, Segment: 16 << 10, Buffer: 16 << 10, Codec: codec.Msgpack},
	}})
	defer c.(*coresCollector).Close()
	d := &discardEmitter{}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Update(d); err != nil {
			b.Fatal(err)
		}
	}
}

// syncEmitter is a seqEmitter whose streams sync on demand, as the
// agent's do, logging the records' names and the syncs in order; a sync
// of failSync fails.
type syncEmitter struct {
	*seqEmitter
	log      []string
	failSync string
}

func (e *syncEmitter) Emit(stream string, r *codec.Record) error {
	e.log = append(e.log, r.Name)
	return e.seqEmitter.Emit(stream, r)
}

func (e *syncEmitter) SyncStream(stream string) error {
	if stream == e.failSync {
		return errors.New("sync of " + stream + " failed")
	}
	e.log = append(e.log, "sync "+stream)
	return nil
}

// TestCoresDurableFirst: a crash file is removed only once its parts
// and then its event are synced, whatever the streams' sync; a sync that
// fails keeps the file, and the next sample syncs again, not writing
// the event twice.
func TestCoresDurableFirst(t *testing.T) {
	data := t.TempDir()
	name := spoolCrash(t, data, noPid+5, 9000)
	c := mustCollector(t, "cores", coresConfig(t, data, nil))
	defer c.(*coresCollector).Close()
	e := &syncEmitter{seqEmitter: newSeqEmitter(t), failSync: StreamEvents}
	if err := c.Update(e); err == nil {
		t.Fatal("no error with the events stream's sync failing")
	}
	if _, err := os.Stat(filepath.Join(data, corespool.Dir, name)); err != nil {
		t.Fatalf("crash file gone before its event was synced: %v", err)
	}
	e.failSync = ""
	if err := c.Update(e); err != nil {
		t.Fatal(err)
	}
	stored(t, e.seqEmitter)
	got := strings.Join(e.log, ", ")
	want := "process.core, process.core, process.core, process.core, sync cores, process.crash, sync cores, sync events"
	if got != want {
		t.Errorf("order %s\nwant  %s", got, want)
	}
	if _, err := os.Stat(filepath.Join(data, corespool.Dir, name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("crash file left: %v", err)
	}
}
