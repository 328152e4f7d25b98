package view

import (
	"bytes"
	"io"
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
// from it on, never synchronised, or as they are where no clock.sync
// tells.
func TestClocksCorrect(t *testing.T) {
	sync := at(ringtest.ClockSync(1, 70, true), t0) // boot 1: synchronised at 70 s
	c := &Clocks{boots: map[codec.BootID]SyncPoint{}}
	for _, r := range []*codec.Record{
		at(ringtest.ClockSync(1, 200, true), t0.Add(time.Hour)), // a later one: the first counts, whatever the order read
		from1970(ringtest.ClockSync(1, 5, false)),
		sync,
		from1970(ringtest.ClockSync(2, 5, false)),   // boot 2: never
		from1970(rec(3, 5, catalog.ClockSync.Name)), // not the agent's: boot 3 is not known
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
		{"no clock.sync", 3, 10 * time.Second, epoch, epoch, TimeAsIs},
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
}

// TestClocksBounded: past MaxClockBoots boots, the others' records are
// shown as they are.
func TestClocksBounded(t *testing.T) {
	c := &Clocks{boots: map[codec.BootID]SyncPoint{}}
	r := ringtest.ClockSync(1, 5, false)
	for i := 0; i <= MaxClockBoots; i++ {
		r.Boot = codec.BootID{byte(i), byte(i >> 8), byte(i >> 16)}
		c.Learn(r)
	}
	if len(c.boots) != MaxClockBoots {
		t.Errorf("%d boots held", len(c.boots))
	}
	if _, mark := c.Correct(r.Boot, epoch, 5); mark != TimeAsIs {
		t.Errorf("the boot past the bound: %v", mark)
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
	add(from1970(ringtest.ClockSync(1, 5, false)), from1970(rec(1, 10, "r")))
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
			if it.Kind == KindRecord {
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
