package view

import (
	"encoding/hex"
	"io"
	"os"
	"strings"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// A RunEnd says how a run of the agent ended.
type RunEnd uint8

const (
	// RunStopped: agent.stop closed it.
	RunStopped RunEnd = iota
	// RunCrashed: the agent started again in the same device boot with
	// no stop before: it crashed or was killed.
	RunCrashed
	// RunPowerLoss: the device booted before the next start, with no
	// stop: it rebooted or lost power with the agent running.
	RunPowerLoss
	// RunRunning: the last run, and an agent holds its rings now.
	RunRunning
	// RunDied: the last run, with no stop, and no agent holds its rings,
	// which are on this machine, in the boot the run was of: it died
	// and has not started again.
	RunDied
	// RunNoStop: the last run, with no stop, where the rings cannot tell
	// more: a copy or a bundle (it ran when they were taken, or died
	// after), or rings of an earlier boot of this machine with no start
	// since (it ended with that boot, cleanly or not).
	RunNoStop
)

var runEnds = [...]string{"stopped", "crashed", "device rebooted", "running", "died", "no stop"}

func (e RunEnd) String() string { return runEnds[e] }

// A RunRecord names one record of a run.
type RunRecord struct {
	Wall   time.Time // the device's wall clock when it was written, repaired as Clock says
	Clock  TimeMark
	Stream string
	Name   string
}

// A CollectorOff is a collector the configuration enabled that the agent
// could not start, and why (catalog.CollectorOff).
type CollectorOff struct {
	Name  string
	Error string
}

// A Run is one run of the agent: from an agent.start to its agent.stop,
// or to the next start when there is none.
type Run struct {
	Boot    Boot
	Start   time.Time // the wall time of its agent.start, repaired as StartClock says
	Version string
	PID     int64
	// Clean is the start's: false when a ring was found open, as the run
	// before it left them.
	Clean bool
	End   RunEnd
	// Reason is agent.stop's (SIGTERM, error, closed) or, for a run
	// crashed, the first line of the agent.crash a later start recorded
	// ("panic: ...", "SIGABRT: abort").
	Reason string
	// Last is the run's last record in any stream: its agent.stop, or
	// the last thing the agent wrote before it died.
	Last RunRecord
	// Length runs from the start to Last, by the monotonic clock: a step
	// of the wall clock within the run does not change it.
	Length time.Duration
	// Down runs from Last to the next start: by the monotonic clock
	// within a boot; across a reboot (Rebooted) by the wall clock, and
	// then DownKnown is false, and DownUnknown says why, if either time
	// is untrusted (TimeMark.Untrusted) or it went back. For a crash, the
	// agent may have lived a little past Last: Down is the most it was
	// down.
	Down        time.Duration
	DownKnown   bool
	DownUnknown string
	Rebooted    bool
	Reloads     []time.Time // wall times of its agent.reload records
	// Config is the configuration in effect at the run's end, as its
	// last agent.config has it, and Off the collectors then off;
	// ConfigCut is set when the agent cut the text to its bound.
	Config     string
	ConfigCut  bool
	Off        []CollectorOff
	Records    int // of every stream
	StartClock TimeMark
}

// ListRuns reads every record of srcs and returns the agent's runs,
// oldest first, in the merged order: by boot and monotonic time, never by
// wall time alone. Records before the first agent.start the rings hold
// (its itiny ring turned over since) belong to no run, and so do those
// of a boot with no start. Wall times are repaired (Clocks).
func ListRuns(srcs []*Source) ([]Run, error) {
	m, err := newRepairedMerger(srcs)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	var runs []Run
	var cur *Run // the run the records go to; nil in a boot with no start
	var start, last stamp
	// The name of cur's last record, copied: a record's strings are views
	// of bytes the merge reads into again. Copied into cur.Last once the
	// run has its last record, not at every record.
	var lastName []byte
	settle := func() {
		if cur != nil {
			cur.Last.Name = string(lastName)
		}
	}
	for {
		it, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if it.Kind != KindRecord {
			continue
		}
		r := it.Rec
		at := stampOf(r, it.Time)
		if cur != nil && at.boot != cur.Boot {
			settle()
			cur = nil // a boot whose records do not say the agent started
		}
		if r.Source == catalog.SelfSource && r.Name == catalog.AgentStart.Name {
			settle()
			if n := len(runs); n > 0 {
				prev := &runs[n-1]
				prev.Rebooted = at.boot != prev.Boot || boolField(r, keyDeviceBoot)
				prev.End = endBefore(r, prev.End == RunStopped, prev.Rebooted)
				prev.Down, prev.DownUnknown = last.until(at)
				prev.DownKnown = prev.DownUnknown == ""
			}
			runs = append(runs, Run{Boot: at.boot, Start: r.Wall, StartClock: it.Time, Version: strings.Clone(strField(r, keyVersion)),
				PID: intField(r, keyPID), Clean: boolField(r, keyClean), End: RunNoStop})
			cur, start = &runs[len(runs)-1], at
		}
		if cur == nil || ringNote(r) {
			continue
		}
		cur.Records++
		cur.Last = RunRecord{Wall: r.Wall, Clock: it.Time, Stream: it.Source.Stream}
		lastName = append(lastName[:0], r.Name...)
		cur.Length = time.Duration(at.mono - start.mono)
		last = at
		if r.Source != catalog.SelfSource {
			continue
		}
		switch r.Name {
		case catalog.AgentStop.Name:
			cur.End, cur.Reason = RunStopped, strings.Clone(strField(r, keyReason))
		case catalog.AgentCrash.Name:
			if intField(r, keyCrashPart) == 1 {
				text, _, _ := strings.Cut(strField(r, keyCrashText), "\n")
				crashed(runs[:len(runs)-1], intField(r, keyCrashPID), text)
			}
		case catalog.AgentReload.Name:
			cur.Reloads = append(cur.Reloads, r.Wall)
		case catalog.AgentConfig.Name:
			cur.Config, cur.ConfigCut, cur.Off = strings.Clone(strField(r, keyConfig)), boolField(r, keyConfigCut), nil
		case catalog.CollectorOff.Name:
			cur.Off = append(cur.Off, CollectorOff{strings.Clone(strField(r, keyOffCollector)), strings.Clone(strField(r, keyOffError))})
		}
	}
	settle()
	if n := len(runs); n > 0 && runs[n-1].End == RunNoStop && liveSelf(srcs) {
		switch {
		case writing(srcs):
			runs[n-1].End = RunRunning
		case runs[n-1].Boot.ID == thisBoot():
			// Not a copy from another device, nor a run this machine's
			// reboot ended: the agent died in this boot.
			runs[n-1].End = RunDied
		}
	}
	return runs, nil
}

// crashed marks the run of pid that the agent.crash of a later run tells
// of, the latest that did not stop, as crashed, with what the runtime
// said first: "panic: ...", "fatal error: ...", "SIGABRT: abort". The
// crash file proves the crash, even when the device rebooted after it.
func crashed(runs []Run, pid int64, what string) {
	for i := len(runs) - 1; i >= 0; i-- {
		if r := &runs[i]; r.PID == pid && r.End != RunStopped {
			r.End, r.Reason = RunCrashed, strings.Clone(what)
			return
		}
	}
}

// endBefore says how the run before the agent.start r ended: stopped if
// it wrote agent.stop, or if r found every ring closed (the stop was not
// recorded: the itiny ring was unavailable); else the device rebooted, or
// the agent died.
func endBefore(r *codec.Record, stopped, rebooted bool) RunEnd {
	switch {
	case stopped || boolField(r, keyClean):
		return RunStopped
	case rebooted:
		return RunPowerLoss
	}
	return RunCrashed
}

// Cause says why the run ended, for people: "stopped by SIGTERM", "it
// crashed or was killed".
func (r *Run) Cause() string { return cause(r.End, r.Reason, r.Rebooted) }

func cause(end RunEnd, reason string, rebooted bool) string {
	var s string
	switch end {
	case RunStopped:
		switch {
		case reason == "" || reason == "closed":
			s = "stopped"
		case strings.HasPrefix(reason, "error"): // "error: " and the error
			s = "stopped on an " + reason
		default:
			s = "stopped by " + reason
		}
		if rebooted {
			s += "; the device rebooted"
		}
	case RunCrashed:
		s = "it crashed or was killed"
		if reason != "" { // its agent.crash's first line
			s = "it crashed: " + reason
		}
	case RunPowerLoss:
		s = "the device rebooted or lost power"
	case RunDied:
		s = "it crashed or was killed and has not started again"
	case RunNoStop:
		s = "its end is not in the rings: they were copied, or the device rebooted since"
	default:
		s = end.String()
	}
	return s
}

// ShortDuration rounds d for people: to the second from a minute up, to
// the tenth of a second from a second, to the millisecond below.
func ShortDuration(d time.Duration) string {
	switch abs := max(d, -d); {
	case abs >= time.Minute:
		return d.Round(time.Second).String()
	case abs >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// A downMarker follows the records the text view reads, to say at each
// agent.start for how long the agent was not running and why, as
// journalctl marks a boot: its see must see every record, shown or not.
type downMarker struct {
	last    stamp
	seen    bool
	stopped bool     // the last record was agent.stop
	reason  string   // its reason
	pending []string // the markers to show before the next record shown
}

// see notes r, the next record in the merged order, its time so marked.
func (d *downMarker) see(r *codec.Record, mark TimeMark, utc bool) {
	if ringNote(r) {
		return
	}
	at := stampOf(r, mark)
	if d.seen && r.Source == catalog.SelfSource && r.Name == catalog.AgentStart.Name {
		rebooted := at.boot != d.last.boot || boolField(r, keyDeviceBoot)
		end := endBefore(r, d.stopped, rebooted)
		down, unknown := d.last.until(at)
		how := "duration unknown: " + unknown
		if unknown == "" {
			how = ShortDuration(down)
		}
		d.pending = append(d.pending, "itiny not running "+clockSpan(d.last, at, utc)+" ("+how+"; "+cause(end, d.reason, rebooted)+")")
	}
	d.seen, d.last = true, at
	d.stopped = r.Source == catalog.SelfSource && r.Name == catalog.AgentStop.Name
	if d.stopped {
		d.reason = strings.Clone(strField(r, keyReason))
	}
}

// take returns the markers to show, once: they are valid until the next
// see.
func (d *downMarker) take() []string {
	m := d.pending
	d.pending = d.pending[:0]
	return m
}

// clockSpan writes "14:02:05 to 14:03:10", with the dates when the two
// are not of one day, each time followed by its sign if it is repaired
// (~) or untrusted (?).
func clockSpan(from, to stamp, utc bool) string {
	f, t := from.wall.Local(), to.wall.Local()
	if utc {
		f, t = from.wall.UTC(), to.wall.UTC()
	}
	layout := "15:04:05"
	if f.YearDay() != t.YearDay() || f.Year() != t.Year() {
		layout = "2006-01-02 15:04:05"
	}
	b := f.AppendFormat(nil, layout)
	if c := from.clock.Sign(); c > ' ' {
		b = append(b, c)
	}
	b = t.AppendFormat(append(b, " to "...), layout)
	if c := to.clock.Sign(); c > ' ' {
		b = append(b, c)
	}
	return string(b)
}

// ringNote reports whether r is a ring's own ring.resume note, which the
// next writer appends when it opens the ring: after the crash it
// explains, before that writer's agent.start. It is of no run, and
// neither ends one nor starts its downtime.
func ringNote(r *codec.Record) bool {
	return r.Source == ringlog.ResumeSource && r.Name == ringlog.ResumeName
}

// liveSelf reports whether the itiny stream's ring is on this machine,
// where an agent may be writing it.
func liveSelf(srcs []*Source) bool {
	for _, s := range srcs {
		if s.Stream == catalog.StreamSelf && s.Live {
			return true
		}
	}
	return false
}

// thisBoot returns the id of this machine's boot, zero if the kernel
// does not say; a variable for tests.
var thisBoot = func() codec.BootID {
	var id codec.BootID
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		hex.Decode(id[:], []byte(strings.ReplaceAll(strings.TrimSpace(string(b)), "-", "")))
	}
	return id
}

// writing reports whether an agent holds the itiny stream's ring now.
func writing(srcs []*Source) bool {
	for _, s := range srcs {
		if s.Stream == catalog.StreamSelf && s.Live {
			if r, err := s.Reader(); err == nil && r.Writing() {
				return true
			}
		}
	}
	return false
}

// A stamp is when a record was written: its boot and both clocks, and
// how the view came to the wall time.
type stamp struct {
	boot  Boot
	wall  time.Time
	mono  int64
	clock TimeMark
}

func stampOf(r *codec.Record, clock TimeMark) stamp {
	return stamp{Boot{r.BootCount, r.Boot}, r.Wall, r.Mono, clock}
}

// Why a time from one boot to another is not known.
const (
	spanUnsynced  = "the clock was not synchronised"
	spanClockBack = "the clock went back"
)

// until returns the time from s to t, a later record in the merged order:
// by the monotonic clock within a boot, which never goes back; across
// boots by the wall clock, and then, if either time is untrusted or it
// went back, not known: 0, and unknown says why ("" when known).
func (s stamp) until(t stamp) (d time.Duration, unknown string) {
	if s.boot == t.boot {
		return time.Duration(max(t.mono-s.mono, 0)), ""
	}
	d = t.wall.Sub(s.wall)
	switch {
	case s.clock.Untrusted() || t.clock.Untrusted():
		return 0, spanUnsynced
	case d < 0:
		return 0, spanClockBack
	}
	return d, ""
}

func field(r *codec.Record, key string) (codec.Value, bool) {
	for _, f := range r.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return codec.Value{}, false
}

func strField(r *codec.Record, key string) string {
	if v, ok := field(r, key); ok && v.Kind() == codec.KindString {
		return v.Str()
	}
	return ""
}

func boolField(r *codec.Record, key string) bool {
	v, ok := field(r, key)
	return ok && v.Kind() == codec.KindBool && v.Bool()
}

func intField(r *codec.Record, key string) int64 {
	v, ok := field(r, key)
	switch {
	case !ok:
		return 0
	case v.Kind() == codec.KindInt:
		return v.Int()
	case v.Kind() == codec.KindUint:
		return int64(v.Uint())
	}
	return 0
}

// The fields runs reads, named by the catalogue.
var (
	keyVersion      = catalog.AgentStart.Key("version")
	keyPID          = catalog.AgentStart.Key("pid")
	keyClean        = catalog.AgentStart.Key("clean")
	keyDeviceBoot   = catalog.AgentStart.Key("device_boot")
	keyReason       = catalog.AgentStop.Key("reason")
	keyConfig       = catalog.AgentConfig.Key("text")
	keyConfigCut    = catalog.AgentConfig.Key("truncated")
	keyOffCollector = catalog.CollectorOff.Key("collector")
	keyOffError     = catalog.CollectorOff.Key("error")
	keyCrashPID     = catalog.AgentCrash.Key("pid")
	keyCrashPart    = catalog.AgentCrash.Key("part")
	keyCrashText    = catalog.AgentCrash.Key("text")
)
