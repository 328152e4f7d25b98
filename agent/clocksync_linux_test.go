package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
)

// fakeAdjtimex is the kernel's clock status for a test: what adjtimex
// reads, or the error it fails with.
type fakeAdjtimex struct {
	tx  syscall.Timex
	err error
}

func (f *fakeAdjtimex) read(tx *syscall.Timex) (int, error) {
	if f.err != nil {
		return -1, f.err
	}
	*tx = f.tx
	return 0, nil
}

const staNano = 0x2000 // STA_NANO, set on every kernel since 2.6.26

func (f *fakeAdjtimex) set(synced bool, maxerr, esterr int) {
	f.err, f.tx.Status = nil, staNano|0x0001 // STA_PLL: an NTP daemon disciplines it
	if !synced {
		f.tx.Status = staNano | staUnsync
	}
	setInt(&f.tx.Maxerror, maxerr)
	setInt(&f.tx.Esterror, esterr)
}

// setInt sets a field of syscall.Timex, of 32 or 64 bits by architecture.
func setInt[T ~int32 | ~int64](p *T, v int) { *p = T(v) }

// clockSyncs returns the clock.sync records of the itiny stream, each as
// "level synced source maxerror esterror slept", checked against the
// catalogue.
func clockSyncs(t *testing.T, data string) []string {
	t.Helper()
	var got []string
	for _, r := range readStream(t, data, StreamSelf) {
		if r.Name != catalog.ClockSync.Name {
			continue
		}
		if err := catalog.ClockSync.Check(StreamSelf, &r); err != nil {
			t.Error(err)
		}
		got = append(got, fmt.Sprintf("%s %v %s %d %d %g", r.Level, field(r, "synced").Bool(), field(r, "source").Str(),
			field(r, "maxerror_us").Int(), field(r, "esterror_us").Int(), field(r, "slept_s").Float()))
	}
	return got
}

// TestClockSync: the agent records the kernel clock's synchronisation at
// its start, its first synchronisation in the run at once, and any other
// change once catalog.SyncHold has passed since the last record; where
// adjtimex fails, systemd-timesyncd's flag file says it is synchronised,
// and the errors are the kernel's bound, 16 s, not a perfect 0. Each
// record says how long the device was suspended since boot.
func TestClockSync(t *testing.T) {
	clk := &fakeAdjtimex{}
	clk.set(false, 16000000, 16000000) // a device without a real-time clock, at boot
	flag := filepath.Join(t.TempDir(), "synchronized")
	cfg := testConfig(t, "")
	var sleep int64 // nanoseconds suspended
	a, err := New(cfg, Options{Log: discard{}, adjtimex: clk.read, syncFlag: flag, slept: func() int64 { return sleep }})
	if err != nil {
		t.Fatal(err)
	}
	base := clock.Mono()
	hold := time.Duration(catalog.SyncHold) * time.Second
	want := []string{"notice false adjtimex 16000000 16000000 0"} // at the start
	for _, step := range []struct {
		name  string
		set   func()
		after time.Duration // from the start, by the monotonic clock
		want  string        // the record written, if any
	}{
		{"unchanged", nil, time.Second, ""},
		{"synchronised after a suspend: at once", func() { clk.set(true, 1500, 200); sleep = 90e9 }, 2 * time.Second, "info true adjtimex 1500 200 90"},
		{"the error changes: no record", func() { clk.set(true, 900, 100) }, 3 * time.Second, ""},
		{"lost within the hold: waits", func() { clk.set(false, 16000000, 16000000) }, hold / 2, ""},
		{"still lost once the hold is over", nil, hold + 3*time.Second, "notice false adjtimex 16000000 16000000 90"},
		{"synchronised again within the hold: waits, not being the first", func() { clk.set(true, 2000, 300) }, hold + time.Minute, ""},
		{"and written once it is over", nil, 2*hold + 3*time.Second, "info true adjtimex 2000 300 90"},
		{"adjtimex refused, no flag file", func() { clk.err = syscall.EPERM }, 3*hold + 3*time.Second, "notice false unknown 16000000 16000000 90"},
		{"adjtimex refused, timesyncd's flag", func() {
			if err := os.WriteFile(flag, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, 4*hold + 3*time.Second, "info true timesyncd 16000000 16000000 90"},
		{"the kernel unsynchronised, the flag there", func() { clk.set(false, 16000000, 16000000) }, 5 * hold, ""},
		{"the flag gone", func() {
			if err := os.Remove(flag); err != nil {
				t.Fatal(err)
			}
		}, 6 * hold, "notice false adjtimex 16000000 16000000 90"},
		{"chrony without rtcsync: STA_UNSYNC set, its error bound written", func() {
			clk.tx.Status = staNano | staUnsync
			setInt(&clk.tx.Maxerror, 17288)
			setInt(&clk.tx.Esterror, 41)
		}, 7 * hold, "info true adjtimex 17288 41 90"},
		{"a step (settimeofday, chronyd -q): the kernel's 16 s again", func() { clk.set(false, 16000000, 16000000) }, 8 * hold, "notice false adjtimex 16000000 16000000 90"},
		{"the bound grown to 16 s, less a microsecond: still disciplined", func() {
			clk.tx.Status = staNano | staUnsync
			setInt(&clk.tx.Maxerror, 15999999)
		}, 9 * hold, "info true adjtimex 15999999 16000000 90"},
	} {
		if step.set != nil {
			step.set()
		}
		before := len(clockSyncs(t, cfg.Data))
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
		a.checkSync(base + int64(step.after))
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
		got := clockSyncs(t, cfg.Data)
		switch {
		case step.want == "" && len(got) != before:
			t.Errorf("%s: wrote %q", step.name, got[before:])
		case step.want != "" && (len(got) != before+1 || got[before] != step.want):
			t.Errorf("%s: wrote %q, want %q", step.name, got[before:], step.want)
		}
		if step.want != "" {
			want = append(want, step.want)
		}
	}
	// Each round reads the clock: without allocating, synchronised or not.
	for _, synced := range []bool{true, false} {
		clk.set(synced, 100, 100)
		a.checkSync(base + int64(20*hold))
		if n := testing.AllocsPerRun(100, func() { a.checkSync(base + int64(20*hold)) }); n != 0 {
			t.Errorf("synced %v: %v allocations a round", synced, n)
		}
	}
	a.Close()
	if got := clockSyncs(t, cfg.Data); !slices.Equal(got[:len(want)], want) {
		t.Errorf("clock.sync records:\n%q\nwant\n%q", got, want)
	}
}

// TestClockSyncWaitsForItsStream: a start whose itiny ring the storage
// refuses records the clock's state once the ring opens.
func TestClockSyncWaitsForItsStream(t *testing.T) {
	full := fullStream(t, StreamSelf)
	clk := &fakeAdjtimex{}
	clk.set(true, 1000, 10)
	cfg := testConfig(t, "")
	a, err := New(cfg, Options{Log: discard{}, adjtimex: clk.read, syncFlag: filepath.Join(t.TempDir(), "none"), slept: func() int64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	a.checkSync(clock.Mono()) // a round while it is down
	full.Store(false)
	if err := a.retryStorage(); err != nil {
		t.Fatal(err)
	}
	a.checkSync(clock.Mono())
	a.checkSync(clock.Mono())
	a.Close()
	if got, want := clockSyncs(t, cfg.Data), []string{"info true adjtimex 1000 10 0"}; !slices.Equal(got, want) {
		t.Errorf("clock.sync records: %q, want %q", got, want)
	}
}

// The records' own clocks are the sync point a reader corrects by: the
// record says synchronised, and its wall and monotonic times are this
// boot's, read together.
func TestClockSyncStamp(t *testing.T) {
	clk := &fakeAdjtimex{}
	clk.set(true, 1000, 10)
	cfg := testConfig(t, "")
	a, err := New(cfg, Options{Log: discard{}, adjtimex: clk.read})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	for _, r := range readStream(t, cfg.Data, StreamSelf) {
		if r.Name != catalog.ClockSync.Name {
			continue
		}
		off := time.Duration(time.Now().UnixNano() - clock.Mono() - (r.Wall.UnixNano() - r.Mono))
		if r.Source != catalog.SelfSource || r.Boot == (codec.BootID{}) || off > time.Second || off < -time.Second {
			t.Errorf("clock.sync %v: wall-mono off by %v from now's", r, off)
		}
		// The time suspended, by the kernel's clocks: at least none, and
		// at most the time since boot suspend included (/proc/uptime).
		b, err := os.ReadFile("/proc/uptime")
		if err != nil {
			t.Fatal(err)
		}
		var up float64
		fmt.Sscan(string(b), &up)
		if s := field(r, "slept_s").Float(); s < 0 || s > up {
			t.Errorf("slept_s %g, uptime %g", s, up)
		}
		return
	}
	t.Error("no clock.sync at the start")
}
