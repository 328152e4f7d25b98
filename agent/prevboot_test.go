package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// bootRig runs the agent in process over boots: each boot a boot_id in a
// procfs root of the test's own, pstore in a sysfs root of its own.
type bootRig struct {
	t         *testing.T
	cfg       *Config
	proc, sys string
}

func newBootRig(t *testing.T, remove bool) *bootRig {
	cfg := testConfig(t, fmt.Sprintf("[collector pstore]\nremove = %v\n", remove))
	cfg.Collectors["pstore"].Enabled = true
	r := &bootRig{t: t, cfg: cfg, proc: t.TempDir(), sys: t.TempDir()}
	os.MkdirAll(filepath.Join(r.sys, "fs/pstore"), 0o755)
	return r
}

// start starts the agent in boot n, as a new process would: what the
// process remembered of pstore entries is gone.
func (r *bootRig) start(n int, keepCrash bool) *Agent {
	r.t.Helper()
	dir := filepath.Join(r.proc, "sys/kernel/random")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "boot_id"), fmt.Appendf(nil, "%08x-0000-0000-0000-000000000000\n", n), 0o644)
	pstoreStored.clear()
	a, err := New(r.cfg, Options{Proc: r.proc, Sys: r.sys, Log: discard{}, KeepCrash: keepCrash})
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

// sample runs a's collectors once: the pstore collector stores its entries.
func (r *bootRig) sample(a *Agent) {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	for deadline := time.Now().Add(eventWait); ; time.Sleep(5 * time.Millisecond) {
		a.mu.Lock()
		sampled := len(a.collectors) > 0 && a.collectors[0].sampled
		a.mu.Unlock()
		if sampled {
			break
		}
		if time.Now().After(deadline) {
			r.t.Fatal("the collectors did not sample")
		}
	}
	cancel()
	<-done
}

// verdicts returns the device.boot records' prev_ended and prev_evidence.
func (r *bootRig) verdicts() []string {
	var v []string
	for _, rec := range readStream(r.t, r.cfg.Data, StreamEvents) {
		if rec.Name == catalog.DeviceBoot.Name {
			v = append(v, field(rec, "prev_ended").Str()+": "+field(rec, "prev_evidence").Str())
		}
	}
	return v
}

func (r *bootRig) count(name string) int {
	n := 0
	for _, rec := range readStream(r.t, r.cfg.Data, StreamEvents) {
		if rec.Name == name {
			n++
		}
	}
	return n
}

const testPanicLog = "Panic#1 Part1\n<0>[ 7.5] Kernel panic - not syncing: Fatal exception\n"

// TestPrevBootUnremovablePstore: a panic log the agent cannot remove (a
// read-only pstore) is stored once and is the evidence of the boot it
// ended only.
func TestPrevBootUnremovablePstore(t *testing.T) {
	t.Cleanup(func() { pstoreRemove = os.Remove })
	pstoreRemove = func(string) error { return syscall.EROFS }
	r := newBootRig(t, true)
	r.start(1, false).Shutdown("SIGKILL-like")
	os.WriteFile(filepath.Join(r.sys, "fs/pstore/dmesg-ramoops-0"), []byte(testPanicLog), 0o644)
	a := r.start(2, false)
	r.sample(a)
	a.Shutdown("SIGTERM")
	r.start(3, false).Shutdown("SIGTERM")
	want := []string{": ", "kernel panic: pstore Panic#1 Part1: Kernel panic - not syncing: Fatal exception", "clean shutdown: agent.stop reason SIGTERM"}
	if got := r.verdicts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("verdicts %q, want %q", got, want)
	}
	if n := r.count(catalog.PstorePanic.Name); n != 1 {
		t.Errorf("pstore.panic stored %d times, want once", n)
	}
}

// TestPrevBootSelfRingDown: where the itiny ring cannot be opened at the
// start (a full disk), the agent does not know how its last run ended,
// and says so rather than "did not stop".
func TestPrevBootSelfRingDown(t *testing.T) {
	r := newBootRig(t, true)
	r.start(1, false).Shutdown("SIGTERM")
	t.Cleanup(func() { openRing = ringlog.Open })
	openRing = func(dir string, o ringlog.Options) (*ringlog.Writer, error) {
		if o.Stream == StreamSelf {
			return nil, fmt.Errorf("ringlog: stream itiny: %w", syscall.ENOSPC)
		}
		return ringlog.Open(dir, o)
	}
	r.start(2, false).Close()
	want := []string{": ", catalog.EndedUnknown + ": the itiny ring could not be read at start"}
	if got := r.verdicts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("verdicts %q, want %q", got, want)
	}
}

// TestPrevBootEarlierCrash: a crash of an earlier run of the boot, still
// in the crash file (the events ring was full then), is not how the boot
// ended when its last run stopped by SIGTERM. (A last run that crashed
// is: TestDeviceBootEnded's SIGABRT, with the real binary.)
func TestPrevBootEarlierCrash(t *testing.T) {
	t.Cleanup(func() { debug.SetCrashOutput(nil, debug.CrashOptions{}) })
	r := newBootRig(t, true)
	path := filepath.Join(r.cfg.Data, crashFile)
	r.start(1, true).Shutdown("SIGTERM")
	b, _ := os.ReadFile(path)
	os.WriteFile(path, append([]byte(crashHeader+"0.0.9 pid 41\npanic: boom\n"), b...), 0o640)
	r.start(2, true).Close()
	want := []string{": ", "clean shutdown: agent.stop reason SIGTERM"}
	if got := r.verdicts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("verdicts %q, want %q", got, want)
	}
	if n := r.count(catalog.AgentCrash.Name); n != 1 {
		t.Errorf("%d agent.crash records, want the earlier run's", n)
	}
}

// TestPrevBootCounterNotSaved: an agent that restarts in a boot whose
// counter it could not save (a full disk) finds its own records of the
// boot in the rings: no second device.boot, agent.start's device_boot
// false.
func TestPrevBootCounterNotSaved(t *testing.T) {
	r := newBootRig(t, true)
	r.start(1, false).Shutdown("SIGTERM")
	saved, _ := os.ReadFile(filepath.Join(r.cfg.Data, bootFile))
	r.start(2, false).Shutdown("SIGTERM")
	os.WriteFile(filepath.Join(r.cfg.Data, bootFile), saved, 0o640) // as if boot 2's was never saved
	r.start(2, false).Close()
	if got := r.verdicts(); len(got) != 2 {
		t.Errorf("%d device.boot records (%q), want 2", len(got), got)
	}
	starts := readStream(t, r.cfg.Data, StreamSelf)
	var last codec.Record
	for _, s := range starts {
		if s.Name == catalog.AgentStart.Name {
			last = s
		}
	}
	if v := field(last, "device_boot"); v.Bool() {
		t.Errorf("the restart in boot 2: agent.start device_boot %v, want false", v.Bool())
	}
}
