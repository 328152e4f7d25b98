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
// "level synced source maxerror esterror", checked against the catalogue.
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
		got = append(got, fmt.Sprintf("%s %v %s %d %d", r.Level, field(r, "synced").Bool(), field(r, "source").Str(),
			field(r, "maxerror_us").Int(), field(r, "esterror_us").Int()))
	}
	return got
}

// TestClockSync: the agent records the kernel clock's synchronisation at
// its start, its first synchronisation in the run at once, and any other
// change once catalog.SyncHold has passed since the last record; where
// adjtimex fails, systemd-timesyncd's flag file says it is synchronised.
func TestClockSync(t *testing.T) {
	clk := &fakeAdjtimex{}
	clk.set(false, 16000000, 16000000) // a device without a real-time clock, at boot
	flag := filepath.Join(t.TempDir(), "synchronized")
	cfg := testConfig(t, "")
	a, err := New(cfg, Options{Log: discard{}, adjtimex: clk.read, syncFlag: flag})
	if err != nil {
		t.Fatal(err)
	}
	base := clock.Mono()
	hold := time.Duration(catalog.SyncHold) * time.Second
	want := []string{"notice false adjtimex 16000000 16000000"} // at the start
	for _, step := range []struct {
		name  string
		set   func()
		after time.Duration // from the start, by the monotonic clock
		want  string        // the record written, if any
	}{
		{"unchanged", nil, time.Second, ""},
		{"synchronised: at once", func() { clk.set(true, 1500, 200) }, 2 * time.Second, "info true adjtimex 1500 200"},
		{"the error changes: no record", func() { clk.set(true, 900, 100) }, 3 * time.Second, ""},
		{"lost within the hold: waits", func() { clk.set(false, 16000000, 16000000) }, hold / 2, ""},
		{"still lost once the hold is over", nil, hold + 3*time.Second, "notice false adjtimex 16000000 16000000"},
		{"synchronised again within the hold: waits, not being the first", func() { clk.set(true, 2000, 300) }, hold + time.Minute, ""},
		{"and written once it is over", nil, 2*hold + 3*time.Second, "info true adjtimex 2000 300"},
		{"adjtimex refused, no flag file", func() { clk.err = syscall.EPERM }, 3*hold + 3*time.Second, "notice false unknown 0 0"},
		{"adjtimex refused, timesyncd's flag", func() {
			if err := os.WriteFile(flag, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, 4*hold + 3*time.Second, "info true timesyncd 0 0"},
		{"the kernel unsynchronised, the flag there", func() { clk.set(false, 16000000, 16000000) }, 5 * hold, ""},
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
		a.checkSync(base + int64(10*hold))
		if n := testing.AllocsPerRun(100, func() { a.checkSync(base + int64(10*hold)) }); n != 0 {
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
	a, err := New(cfg, Options{Log: discard{}, adjtimex: clk.read, syncFlag: filepath.Join(t.TempDir(), "none")})
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
	if got, want := clockSyncs(t, cfg.Data), []string{"info true adjtimex 1000 10"}; !slices.Equal(got, want) {
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
		return
	}
	t.Error("no clock.sync at the start")
}
