package view

import (
	"bytes"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/ringlog"
)

// epoch is where the clock of a device without a real-time clock starts.
var epoch = time.Unix(0, 0).UTC()

// from1970 stamps r with such a clock at its monotonic time.
func from1970(r *codec.Record) *codec.Record { return at(r, epoch.Add(time.Duration(r.Mono))) }

// TestClocksCorrect: a boot's records before its first synchronised
// clock.sync are repaired to its monotonic time plus the offset then,
// unless their own time is within a second of that; the rest are trusted
// from it on; never synchronised when its clock.sync records from the
// agent's start at the device's boot never say so; not known when the
// rings hold none of its boot from that start; as they are where the
// rings hold no clock.sync at all.
func TestClocksCorrect(t *testing.T) {
	sync := at(ringtest.ClockSync(1, 70, true), t0) // boot 1: synchronised at 70 s
	c := &Clocks{boots: map[codec.BootID]SyncPoint{}}
	for _, r := range []*codec.Record{
		at(ringtest.ClockSync(1, 200, true), t0.Add(time.Hour)), // a later one: the first counts, whatever the order read
		from1970(ringtest.ClockSync(1, 5, false)),
		from1970(start(1, 5, 1, true, true)),
		sync,
		from1970(start(2, 5, 2, true, true)), from1970(ringtest.ClockSync(2, 5, false)), // boot 2: never
		from1970(rec(3, 5, catalog.ClockSync.Name)), // not the agent's: boot 3 has none
		// Boot 4: retention took its start and first sync; a flap an
		// hour later says not synchronised.
		from1970(ringtest.ClockSync(4, 3700, false)),
		// Boot 5: its first start's records are gone; the agent's
		// restart in it finds the clock not synchronised.
		from1970(start(5, 900, 5, false, false)), from1970(ringtest.ClockSync(5, 900, false)),
		// Boot 6: a start at the device's boot, after its first
		// clock.sync (not the one written at it).
		from1970(ringtest.ClockSync(6, 5, false)), from1970(start(6, 7, 6, true, true)),
		// Boot 7: an agent that wrote no clock.sync started at its boot;
		// its upgrade finds the clock not synchronised.
		from1970(start(7, 5, 7, true, true)), from1970(start(7, 9000, 8, true, false)), from1970(ringtest.ClockSync(7, 9000, false)),
	} {
		c.Learn(r)
	}
	off := t0.Add(-70 * time.Second) // boot 1's wall time at 0 s
	for _, tc := range []struct {
		name string
		boot uint32
		mono time.Duration
		wall time.Time
		want time.Time
		mark TimeMark
	}{
		{"before the sync, in 1970", 1, 20 * time.Second, epoch.Add(20 * time.Second), off.Add(20 * time.Second), TimeCorrected},
		{"before the sync, over a second off", 1, 69 * time.Second, off.Add(70*time.Second + time.Millisecond), off.Add(69 * time.Second), TimeCorrected},
		{"before the sync, right already", 1, 69 * time.Second, off.Add(69*time.Second + 900*time.Millisecond), off.Add(69*time.Second + 900*time.Millisecond), TimeSynced},
		{"at the sync", 1, 70 * time.Second, t0, t0, TimeSynced},
		{"after it, as it is whatever it says", 1, 300 * time.Second, epoch, epoch, TimeSynced},
		{"never synchronised", 2, 10 * time.Second, epoch.Add(10 * time.Second), epoch.Add(10 * time.Second), TimeUnsynced},
		{"no clock.sync of its boot", 3, 10 * time.Second, epoch, epoch, TimeUnknown},
		{"the earliest clock.sync a flap", 4, 10 * time.Second, t0, t0, TimeUnknown},
		{"the earliest clock.sync at a restart", 5, 10 * time.Second, epoch, epoch, TimeUnknown},
		{"the earliest clock.sync before the start", 6, 10 * time.Second, epoch, epoch, TimeUnknown},
		{"the earliest clock.sync after an upgrade", 7, 10 * time.Second, epoch, epoch, TimeUnknown},
		{"a boot the rings never named", 99, 10 * time.Second, epoch, epoch, TimeUnknown},
	} {
		w, mark := c.Correct(codec.BootID{byte(tc.boot)}, tc.wall, int64(tc.mono))
		if !w.Equal(tc.want) || mark != tc.mark {
			t.Errorf("%s: %s %v, want %s %v", tc.name, w, mark, tc.want, tc.mark)
		}
	}
	if p := c.Point(codec.BootID{1}); !p.Synced || p.Mono != sync.Mono || !p.Wall.Equal(t0) || p.Offset() != time.Duration(off.UnixNano()) {
		t.Errorf("boot 1's sync point: %+v", p)
	}
	var none *Clocks
	if w, mark := none.Correct(codec.BootID{1}, epoch, 5); !w.Equal(epoch) || mark != TimeAsIs {
		t.Errorf("nil Clocks: %s %v", w, mark)
	}
	// An older agent's rings: starts, no clock.sync anywhere.
	old := &Clocks{boots: map[codec.BootID]SyncPoint{}}
	old.Learn(from1970(start(1, 5, 1, true, true)))
	if w, mark := old.Correct(codec.BootID{1}, epoch, 5); !w.Equal(epoch) || mark != TimeAsIs {
		t.Errorf("no clock.sync anywhere: %s %v", w, mark)
	}
}

// TestClocksHostile: a clock.sync whose times no device has (a corrupt
// or hostile ring) is no sync point, and a repair that would leave
// 2000-9999 (or overflow) shows the record's own time, untrusted: the
// view never writes a time RFC 3339 cannot.
func TestClocksHostile(t *testing.T) {
	c := &Clocks{boots: map[codec.BootID]SyncPoint{}}
	for _, r := range []*codec.Record{
		from1970(start(1, 5, 1, true, true)), at(ringtest.ClockSync(1, 70, true), time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)),
		from1970(start(2, 5, 2, true, true)), at(ringtest.ClockSync(2, 70, true), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)),
		from1970(start(3, 5, 3, true, true)), at(ringtest.ClockSync(3, 0, true), t0),
		from1970(start(4, 5, 4, true, true)), at(ringtest.ClockSync(4, 70, true), time.Date(2000, 1, 1, 0, 5, 0, 0, time.UTC)),
		from1970(start(5, 5, 5, true, true)), at(ringtest.ClockSync(5, 70, true), time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)),
	} {
		c.Learn(r)
	}
	for _, tc := range []struct {
		name string
		boot uint32
		mono int64
		mark TimeMark
	}{
		{"a sync point in 1900", 1, 20e9, TimeUnsynced},
		{"a sync point in 12000", 2, 20e9, TimeUnsynced},
		{"a sync point at mono 0, before the start", 3, -20e9, TimeUnknown},
		{"repaired to before 2000", 4, -3600e9, TimeUnsynced},
		{"mono overflowing the difference", 4, math.MinInt64 + 5, TimeUnsynced},
		{"repaired within range", 4, 20e9, TimeCorrected},
		{"a sync point near 9999, after it", 5, 1 << 62, TimeSynced},
	} {
		w, mark := c.Correct(codec.BootID{byte(tc.boot)}, epoch, tc.mono)
		if mark != tc.mark || mark != TimeCorrected && !w.Equal(epoch) {
			t.Errorf("%s: %s %v, want %v", tc.name, w, mark, tc.mark)
		}
		if b := codec.AppendWall(nil, w); len(b) != len("2026-11-25T10:00:00.000000000Z") {
			t.Errorf("%s: shown as %s", tc.name, b)
		}
	}
}

// TestClocksSlept: the time suspended before the sync point is kept, and
// the legend says repaired times may be that much late.
func TestClocksSlept(t *testing.T) {
	c := &Clocks{boots: map[codec.BootID]SyncPoint{}}
	sync := at(ringtest.ClockSync(1, 70, true), t0)
	sync.Fields[4].Value = codec.Float(300.5)
	c.Learn(from1970(start(1, 5, 1, true, true)))
	c.Learn(sync)
	if p := c.Point(codec.BootID{1}); p.Slept != 300500*time.Millisecond {
		t.Errorf("slept %v", p.Slept)
	}
	boot, _ := clockItems()
	boot.Sync = c.Point(codec.BootID{1})
	var out bytes.Buffer
	NewTextPrinter(&out, PrintOptions{UTC: true}).Print(&boot)
	if want := "; the device was suspended for 5m1s before, which the monotonic clock does not count: a time marked ~ taken before a suspend is up to that much late --\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("legend:\n%s\nwant it to end\n%s", out.String(), want)
	}
}

// TestClocksFollow: following, a boot not synchronised yet is shown as
// such; once its clock.sync says synchronised, the records written after
// are trusted (those printed before cannot be repaired).
func TestClocksFollow(t *testing.T) {
	data := t.TempDir()
	w, err := ringlog.Open(filepath.Join(data, "itiny"), ringlog.Options{Stream: "itiny", Codec: codec.JSON, Budget: 1 << 20, SegmentSize: 8 << 10, StageSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	add := func(rs ...*codec.Record) {
		for _, r := range rs {
			if _, err := w.Append(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	add(from1970(start(1, 5, 1, true, true)), from1970(ringtest.ClockSync(1, 5, false)), from1970(rec(1, 10, "r")))
	in, err := Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	clocks, err := LearnClocks(in.Sources)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMerger(in.Sources, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Follow, m.Clocks = true, clocks
	marks := func() string {
		var s []string
		for {
			it, err := m.Next()
			if err == io.EOF {
				return strings.Join(s, " ")
			}
			if err != nil {
				t.Fatal(err)
			}
			if it.Kind == KindRecord && it.Rec.Name != catalog.AgentStart.Name {
				s = append(s, it.Rec.Name+":"+it.Time.String()+":"+it.Rec.Wall.Format(time.TimeOnly))
			}
		}
	}
	if got, want := marks(), "clock.sync:unsynced:00:00:05 r:unsynced:00:00:10"; got != want {
		t.Errorf("before the sync: %s, want %s", got, want)
	}
	add(at(ringtest.ClockSync(1, 70, true), t0), at(rec(1, 80, "r"), t0.Add(10*time.Second)))
	if got, want := marks(), "clock.sync:synced:10:00:00 r:synced:10:00:10"; got != want {
		t.Errorf("after it: %s, want %s", got, want)
	}
}

// clockItems are a boot's marker and a record of it, repaired.
func clockItems() (boot, record Item) {
	r := rec(1, 20, "cpu", codec.Field{Key: "user", Value: codec.Int(5)})
	raw := epoch.Add(20 * time.Second)
	sync := SyncPoint{Known: true, Synced: true, Wall: t0, Mono: 70e9}
	boot = Item{Kind: KindBoot, Boot: Boot{1, r.Boot}, Time: TimeCorrected, Sync: sync}
	record = Item{Kind: KindRecord, Source: &Source{Stream: "metrics"}, Rec: r, Time: TimeCorrected, Raw: raw}
	r.Wall = t0.Add(-50 * time.Second)
	return boot, record
}

// TestClockPrinters: text marks a repaired time ~ and explains it under
// the boot's marker; JSON and MessagePack keep the record's own wall,
// JSON adds the view's; CSV has a clock column. Printing costs no
// allocation.
func TestClockPrinters(t *testing.T) {
	boot, it := clockItems()
	var out bytes.Buffer
	tp := NewTextPrinter(&out, PrintOptions{UTC: true})
	tp.Print(&boot)
	tp.Print(&it)
	it.Time = TimeUnsynced
	tp.Print(&it)
	if got, want := out.String(), `-- boot 1 (01000000000000000000000000000000) --
-- clock synchronised at 2026-11-25 10:00:00.000, 1m10s after boot: earlier times, marked ~, are repaired: monotonic time plus the offset then, not the device's clock --
2026-11-25 09:59:10.000~ metrics  info     test       cpu user=5
2026-11-25 09:59:10.000? metrics  info     test       cpu user=5
`; got != want {
		t.Errorf("text:\n%s\nwant\n%s", got, want)
	}

	_, it = clockItems()
	out.Reset()
	jp := NewJSONPrinter(&out, PrintOptions{})
	jp.Print(&it)
	if got, want := out.String(), `"wall":"1970-01-01T00:00:20.000000000Z"`; !strings.Contains(got, want) || !strings.HasSuffix(got, `"fields":{"user":5},"clock":"corrected","wall_corrected":"2026-11-25T09:59:10.000000000Z"}`+"\n") {
		t.Errorf("JSON: %s", got)
	}
	out.Reset()
	NewMsgpackPrinter(&out, PrintOptions{}).Print(&it)
	var r codec.Record
	if err := codec.Msgpack.Decode(out.Bytes(), &r); err != nil || !r.Wall.Equal(it.Raw) || !it.Rec.Wall.Equal(t0.Add(-50*time.Second)) {
		t.Errorf("MessagePack: wall %s (%v); the view's still %s", r.Wall, err, it.Rec.Wall)
	}
	out.Reset()
	cp := NewCSVPrinter(&out, PrintOptions{})
	cp.Print(&it)
	cp.Flush()
	if got, want := out.String(), "wall,boot,mono,clock,cpu.user\n2026-11-25T09:59:10.000000000Z,1,20000000000,corrected,5\n"; got != want {
		t.Errorf("CSV:\n%s\nwant\n%s", got, want)
	}

	for name, p := range map[string]Printer{"text": tp, "json": jp} {
		if n := testing.AllocsPerRun(100, func() {
			it.Rec.Mono++
			p.Print(&it)
		}); n != 0 {
			t.Errorf("%s: %v allocations a record", name, n)
		}
	}
}

// TestClockMergeZeroAllocs: repairing a record's time in the merge costs
// no allocation.
func TestClockMergeZeroAllocs(t *testing.T) {
	c := &Clocks{boots: map[codec.BootID]SyncPoint{}}
	c.Learn(at(ringtest.ClockSync(1, 70, true), t0))
	r := from1970(rec(1, 20, "cpu"))
	if n := testing.AllocsPerRun(100, func() {
		r.Wall = epoch
		c.correct(r)
	}); n != 0 {
		t.Errorf("%v allocations a record", n)
	}
}
