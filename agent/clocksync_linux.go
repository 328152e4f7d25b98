package agent

import (
	"syscall"
	"unsafe"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// Whether the kernel's clock is synchronised, recorded as clock.sync so
// that a reader can repair the wall times of a boot's records taken
// before: a device without a real-time clock boots in 1970 and steps to
// the right time at its first sync (docs/DESIGN.md section 13).

const (
	staUnsync = 0x0040 // STA_UNSYNC (linux/timex.h): the clock is not synchronised
	// phaseLimit is the kernel's NTP_PHASE_LIMIT, microseconds: the
	// maximum error it sets when the clock is set (settimeofday, a step)
	// and never exceeds, setting STA_UNSYNC when it would. Below it, a
	// daemon that disciplines the clock wrote its own bound (chrony does
	// so, yet leaves STA_UNSYNC set unless configured with rtcsync).
	phaseLimit = 16000000
	// Clock ids of clock_gettime (linux/time.h).
	clockMonotonic = 1
	clockBoottime  = 7
	// timesyncFlag is the file systemd-timesyncd makes at its first sync
	// (in /run: it does not outlive the boot).
	timesyncFlag = "/run/systemd/timesync/synchronized"
)

// clockSync follows the kernel clock's synchronisation. Reading it is an
// adjtimex call (modes 0: it only reads) and, while that says
// unsynchronised, an access check of the time daemon's flag: no
// allocation, so it runs at every scheduler round.
type clockSync struct {
	adjtimex func(*syscall.Timex) (int, error)
	slept    func() int64 // nanoseconds suspended since boot
	flag     []byte       // the flag file's path, NUL-terminated
	tx       syscall.Timex
	noted    bool  // a clock.sync of this run is in the ring
	synced   bool  // what the last one said
	ever     bool  // one said synchronised
	at       int64 // its monotonic time
}

func (c *clockSync) init(o *Options) {
	path := o.syncFlag
	c.adjtimex = o.adjtimex
	if c.adjtimex == nil {
		c.adjtimex = syscall.Adjtimex
	}
	c.slept = o.slept
	if c.slept == nil {
		c.slept = slept
	}
	if path == "" {
		path = timesyncFlag
	}
	c.flag = append([]byte(path), 0)
}

// read asks the kernel, then the time daemon's flag. The kernel's clock
// is synchronised when STA_UNSYNC is clear or its maximum error is below
// phaseLimit: either way a daemon disciplines it. Where adjtimex fails,
// the errors are phaseLimit, as the kernel's own are when nothing does.
func (c *clockSync) read() (synced bool, source string) {
	c.tx = syscall.Timex{}
	_, err := c.adjtimex(&c.tx)
	if err != nil {
		c.tx.Maxerror, c.tx.Esterror = phaseLimit, phaseLimit
	}
	switch {
	case err == nil && (c.tx.Status&staUnsync == 0 || c.tx.Maxerror < phaseLimit):
		return true, "adjtimex"
	case c.flagged():
		return true, "timesyncd"
	case err != nil:
		return false, "unknown"
	}
	return false, "adjtimex"
}

// flagged reports whether the flag file exists.
func (c *clockSync) flagged() bool {
	atFDCWD := -100
	_, _, e := syscall.Syscall(syscall.SYS_FACCESSAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&c.flag[0])), 0)
	return e == 0
}

// slept returns CLOCK_BOOTTIME minus CLOCK_MONOTONIC: the time the
// device was suspended since it booted, which the monotonic clock (the
// records' mono) does not count.
func slept() int64 {
	var boot, mono syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockBoottime, uintptr(unsafe.Pointer(&boot)), 0)
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&mono)), 0)
	return max(boot.Nano()-mono.Nano(), 0)
}

// checkSync writes clock.sync at the start, and when the clock's
// synchronisation changes: at once when it becomes synchronised the first
// time in the run, else once catalog.SyncHold has passed since the last.
// A record the itiny stream cannot take now is tried again next round.
func (a *Agent) checkSync(mono int64) {
	c := &a.sync
	synced, source := c.read()
	if c.noted && (synced == c.synced || !(synced && !c.ever) && mono-c.at < catalog.SyncHold*1e9) {
		return
	}
	level := codec.LevelNotice
	if synced {
		level = codec.LevelInfo
	}
	slept := float64(c.slept()) / 1e9
	f := a.selfFields()
	addBool(f, "synced", synced)
	addString(f, "source", source)
	addInt(f, "maxerror_us", int64(c.tx.Maxerror))
	addInt(f, "esterror_us", int64(c.tx.Esterror))
	addFloat(f, "slept_s", slept)
	if a.noteFields(StreamSelf, catalog.ClockSync.Name, level) == nil {
		c.noted, c.synced, c.ever, c.at = true, synced, c.ever || synced, mono
	}
}
