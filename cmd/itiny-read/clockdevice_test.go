package main

import (
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// The rings of a device without a real-time clock, in ../../testdata/clock,
// written by writeClockDevice with the real ring writer: the records the
// agent writes, stamped by a simulated device's clocks. -clock.create
// writes them where they are missing; TestClockFixture checks that they
// are what writeClockDevice writes.
var createClock = flag.Bool("clock.create", false, "write ../../testdata/clock, the rings of a device without a real-time clock, if missing")

const clockData = "../../testdata/clock"

// The simulated device's timeline. Boot 1 starts in 1970, NTP steps the
// clock at 63 s of uptime to 2026-03-14 09:00:03 UTC, and the agent sees
// it at its next round, at 70 s: clock.step and the first synchronised
// clock.sync. Boot 2 starts in 1970 and never syncs; its power fails.
// Boot 3 has a battery-backed clock, synchronised before the agent
// starts. In boot 4 the storage keeps the itiny ring closed (its
// directory read-only): the other rings have its records, none says how
// its clock was; NTP steps it from 1970 to 2026-03-16 10:00:00 at 30 s.
var (
	clockStep     = time.Date(2026, 3, 14, 9, 0, 3, 0, time.UTC) // at 63 s of boot 1
	clockStepMono = 63 * time.Second
	clockSyncMono = 70 * time.Second
	// clockOffset is boot 1's wall minus mono from the step: what its
	// earlier records' times are repaired by.
	clockOffset = clockStep.Add(-clockStepMono)
	clockBoot3  = time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC)  // its wall at 0 s
	clockBoot4  = time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC) // its wall at 30 s, from the step
)

// A clockDevice writes records into rings as the agent would, stamped by
// its simulated clocks: monotonic time since boot, and the wall clock at
// an offset from it that a step changes.
type clockDevice struct {
	t      *testing.T
	data   string
	w      map[string]*ringlog.Writer
	bootID codec.BootID
	bootN  uint32
	mono   time.Duration
	k      time.Duration // the records written at mono, each a millisecond after the one before
	offset time.Time     // the wall time at mono 0
	// The boot before's id and last record, for device.boot.
	prevID   codec.BootID
	prevWall time.Time
	prevMono int64
	lastWall time.Time
	lastMono int64
	// selfClosed: the storage keeps the itiny ring closed; what the agent
	// writes to it is lost.
	selfClosed bool
}

var clockStreams = []struct {
	name string
	c    codec.Codec
}{{catalog.StreamSelf, codec.JSON}, {catalog.StreamEvents, codec.JSON}, {catalog.StreamMetrics, codec.Msgpack}}

func (d *clockDevice) now() (time.Time, int64) {
	return d.offset.Add(d.mono + d.k), int64(d.mono + d.k)
}

// stamp stamps r with the current time, a millisecond after the record
// before it.
func (d *clockDevice) stamp(r *codec.Record) {
	r.Boot, r.BootCount = d.bootID, d.bootN
	r.Wall, r.Mono = d.now()
	d.lastWall, d.lastMono = r.Wall, r.Mono
	d.k += time.Millisecond
}

// boot starts boot n with its wall clock at wall0, and opens the rings
// as the agent does at its start.
func (d *clockDevice) boot(n uint32, wall0 time.Time) {
	d.prevID, d.prevWall, d.prevMono = d.bootID, d.lastWall, d.lastMono
	d.bootID, d.bootN, d.mono, d.k, d.offset = codec.BootID{0xb0, byte(n)}, n, 0, 0, wall0
	d.w = map[string]*ringlog.Writer{}
	for _, s := range clockStreams {
		if s.name == catalog.StreamSelf && d.selfClosed {
			continue
		}
		w, err := ringlog.Open(filepath.Join(d.data, s.name), ringlog.Options{Stream: s.name, Codec: s.c, Budget: 1 << 20,
			SegmentSize: 4 << 10, StageSize: -1, Boot: d.bootID, BootCount: n, Now: d.now})
		if err != nil {
			d.t.Fatal(err)
		}
		d.w[s.name] = w
	}
}

func (d *clockDevice) shutdown() {
	for _, w := range d.w {
		if err := w.Close(); err != nil {
			d.t.Fatal(err)
		}
	}
}

// emit writes a record of c at the current time.
func (d *clockDevice) emit(c *catalog.Record, level codec.Level, values ...codec.Value) {
	d.t.Helper()
	r := codec.Record{Source: c.Source, Name: c.Name, Level: level}
	d.stamp(&r)
	for i, v := range values {
		r.Fields = append(r.Fields, codec.Field{Key: c.Fields[i].Key, Value: v})
	}
	if err := c.Check(c.Stream, &r); err != nil {
		d.t.Fatal(err)
	}
	if d.w[c.Stream] == nil {
		return // its ring is closed
	}
	if _, err := d.w[c.Stream].Append(&r); err != nil {
		d.t.Fatal(err)
	}
}

// app is an appliance's own event, from its component appd.
func (d *clockDevice) app(name string, level codec.Level) {
	r := codec.Record{Source: "appd", Name: name, Level: level}
	d.stamp(&r)
	if _, err := d.w[catalog.StreamEvents].Append(&r); err != nil {
		d.t.Fatal(err)
	}
}

// start is the agent's start: agent.start, and the clock's state; clean
// is false after a power failure. ended and evidence are device.boot's
// of the boot before ("" for the first).
func (d *clockDevice) start(clean, synced bool, ended, evidence string) {
	d.emit(&catalog.AgentStart, codec.LevelNotice, codec.String("0.1.0"), codec.Uint(uint64(d.bootN)), codec.Bool(true), codec.Bool(clean), codec.Int(100+int64(d.bootN)), codec.String("netlink"), codec.String("events=mapped"))
	d.sync(synced)
	prev, last, uptime := "", "", 0.0
	if ended != "" {
		prev, last, uptime = hex.EncodeToString(d.prevID[:]), d.prevWall.UTC().Format(time.RFC3339Nano), float64(d.prevMono)/1e9
	}
	d.emit(&catalog.DeviceBoot, codec.LevelNotice, codec.Uint(uint64(d.bootN)), codec.String(prev), codec.String(ended),
		codec.String(evidence), codec.String(last), codec.Float(uptime))
}

func (d *clockDevice) sync(synced bool) {
	if synced {
		d.emit(&catalog.ClockSync, codec.LevelInfo, codec.Bool(true), codec.String("adjtimex"), codec.Int(1500), codec.Int(200), codec.Float(0))
		return
	}
	d.emit(&catalog.ClockSync, codec.LevelNotice, codec.Bool(false), codec.String("adjtimex"), codec.Int(16000000), codec.Int(16000000), codec.Float(0))
}

// sample is one round of the load collector.
func (d *clockDevice) sample() {
	d.emit(&catalog.Load, codec.LevelInfo, codec.Float(0.5), codec.Float(0.25), codec.Float(0.1), codec.Uint(1), codec.Uint(90))
}

// run samples every 2 s from the current time to end, calling at[s] at
// second s.
func (d *clockDevice) run(end time.Duration, at map[time.Duration]func()) {
	for ; d.mono <= end; d.mono += time.Second {
		d.k = 0
		if f := at[d.mono]; f != nil {
			f()
		}
		if d.mono%(2*time.Second) == 0 {
			d.sample()
		}
	}
}

// writeClockDevice writes the device's four boots under data.
func writeClockDevice(t *testing.T, data string) {
	d := &clockDevice{t: t, data: data}
	epoch := time.Unix(0, 0).UTC()
	d.boot(1, epoch)
	d.mono = 5 * time.Second
	d.run(185*time.Second, map[time.Duration]func(){
		5 * time.Second:  func() { d.start(true, false, "", "") },
		30 * time.Second: func() { d.app("appd.ready", codec.LevelNotice) },
		50 * time.Second: func() { d.app("appd.error", codec.LevelErr) },
		clockStepMono:    func() { d.offset = clockOffset },
		65 * time.Second: func() { d.app("appd.connected", codec.LevelNotice) },
		clockSyncMono: func() {
			d.emit(&catalog.ClockStep, codec.LevelWarning, codec.Float(float64(clockOffset.Sub(epoch))/1e9), codec.String(clockStep.Add(clockSyncMono-clockStepMono).Format(time.RFC3339Nano)))
			d.sync(true)
		},
		120 * time.Second: func() { d.app("appd.error", codec.LevelErr) },
		185 * time.Second: func() { d.emit(&catalog.AgentStop, codec.LevelNotice, codec.String("SIGTERM")) },
	})
	d.shutdown()

	d.boot(2, epoch)
	d.mono = 5 * time.Second
	d.run(100*time.Second, map[time.Duration]func(){
		5 * time.Second:  func() { d.start(true, false, catalog.EndedShutdown, "agent.stop reason SIGTERM") },
		40 * time.Second: func() { d.app("appd.error", codec.LevelErr) },
	})
	d.shutdown() // no agent.stop: the power failed

	d.boot(3, clockBoot3)
	d.mono = 5 * time.Second
	d.run(60*time.Second, map[time.Duration]func(){
		5 * time.Second:  func() { d.start(false, true, catalog.EndedUnknown, "the agent did not stop") },
		20 * time.Second: func() { d.app("appd.ready", codec.LevelNotice) },
	})
	d.shutdown()

	d.selfClosed = true
	d.boot(4, epoch)
	d.mono = 5 * time.Second
	step := clockBoot4.Add(-30 * time.Second)
	d.run(50*time.Second, map[time.Duration]func(){
		5 * time.Second:  func() { d.start(false, false, catalog.EndedUnknown, "the agent did not stop") },
		10 * time.Second: func() { d.app("appd.error", codec.LevelErr) },
		30 * time.Second: func() { d.offset = step },
		32 * time.Second: func() {
			d.emit(&catalog.ClockStep, codec.LevelWarning, codec.Float(float64(step.Sub(epoch))/1e9), codec.String(clockBoot4.Add(2*time.Second).Format(time.RFC3339Nano)))
		},
		40 * time.Second: func() { d.app("appd.error", codec.LevelErr) },
	})
	d.shutdown()
}

// TestClockFixture writes the fixture with -clock.create, and checks that
// the one in the repository holds the records writeClockDevice writes.
func TestClockFixture(t *testing.T) {
	if _, err := os.Stat(clockData); os.IsNotExist(err) && *createClock {
		writeClockDevice(t, clockData)
	}
	fresh := t.TempDir()
	writeClockDevice(t, fresh)
	want, errOut, code := run(t, "--no-pager", "-o", "json", fresh)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, errOut, code := run(t, "--no-pager", "-o", "json", clockData)
	if code != 0 {
		t.Fatalf("%s: exit %d: %s (go test -run TestClockFixture -clock.create writes it)", clockData, code, errOut)
	}
	if got != want {
		t.Errorf("%s does not hold what writeClockDevice writes: remove it and run go test -run TestClockFixture -clock.create", clockData)
	}
}
