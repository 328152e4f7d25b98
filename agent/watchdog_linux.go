//go:build !nowatchdog

package agent

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/hex"
	"github.com/itiny/itiny/internal/tinyfmt"
)

func init() { registerCollector("watchdog", true, newWatchdogCollector) }

// watchdogCollector records, once, what each hardware watchdog in
// /sys/class/watchdog says of the device's last reset: its bootstatus
// (a reset by the watchdog itself, a power fault...), with the board's
// reset-reason file if the option reset_reason names one. It reads the
// sysfs attributes only: opening /dev/watchdogN would start the timer.
//
// The record goes to the state stream: it is a fact of this boot, worth
// keeping when no flag is set too (the boot was not a watchdog reset),
// and a reload that rebuilds the collector restates it as any state. A
// set flag makes it a warning, which the agent also writes to the events
// stream as a state.change.
//
// A machine without a watchdog (most VMs) gets no record and no error, as
// thermal without zones. One whose kernel lacks the sysfs attributes
// (CONFIG_WATCHDOG_SYSFS) has the collector off, with why.
type watchdogCollector struct {
	dir         string   // /sys/class/watchdog
	names       []string // the watchdogs with a bootstatus: watchdog0...
	resetReason string   // the board's reset-reason file, "" for none
	done        bool     // recorded: Update does nothing more
}

// Bounds on what is read: sysfs gives each attribute's size as a page,
// whatever it holds, so each is read up to its bound.
const (
	maxWatchdogAttr = 64  // bootstatus, identity (32 bytes in the kernel), timeout, state
	maxResetReason  = 256 // a reason's name or a few bytes of device-tree property
)

func newWatchdogCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("watchdog", c.Options, "reset_reason"); err != nil {
		return nil, err
	}
	w := &watchdogCollector{dir: filepath.Join(c.Sys, "class", "watchdog")}
	if v, ok := c.Options["reset_reason"]; ok {
		w.resetReason = strings.TrimSpace(v)
		if !filepath.IsAbs(w.resetReason) {
			return nil, tinyfmt.Errorf("option reset_reason: want an absolute path, got %q", v)
		}
	}
	if c.check {
		return nil, nil
	}
	nums, err := numberedEntries(w.dir, "watchdog")
	if err != nil {
		return nil, err
	}
	for _, n := range nums {
		name := "watchdog" + strconv.Itoa(n)
		if _, err := os.Stat(filepath.Join(w.dir, name, "bootstatus")); err == nil {
			w.names = append(w.names, name)
		}
	}
	if len(nums) > 0 && len(w.names) == 0 && w.resetReason == "" {
		return nil, tinyfmt.Errorf("no bootstatus in %s/watchdog%d: a kernel without CONFIG_WATCHDOG_SYSFS", w.dir, nums[0])
	}
	return w, nil
}

// Update records the watchdogs' boot status the first time it is called,
// and does nothing after. A watchdog whose bootstatus cannot be read is
// left out, and the error returned names it; a reset-reason file that
// cannot be read leaves reset_reason empty.
func (w *watchdogCollector) Update(e Emitter) error {
	if w.done {
		return nil
	}
	w.done = true
	var first error
	reason := ""
	if w.resetReason != "" {
		reason, first = readResetReason(w.resetReason)
	}
	names := w.names
	if len(names) == 0 && w.resetReason != "" {
		names = []string{""} // the reason alone, the watchdog's fields empty
	}
	rec := catalogRecord(&catalog.WatchdogBootStatus)
	for _, name := range names {
		var bits uint32
		var identity, timeout, state string
		if name != "" {
			dir := filepath.Join(w.dir, name)
			var err error
			if bits, err = readBootStatus(filepath.Join(dir, "bootstatus")); err != nil {
				if first == nil {
					first = err
				}
				continue
			}
			// identity, timeout and state are optional: a driver may
			// lack them, and their absence hides nothing of the reset.
			identity, timeout, state = readWatchdogAttr(dir, "identity"), readWatchdogAttr(dir, "timeout"), readWatchdogAttr(dir, "state")
		}
		t, _ := strconv.ParseUint(timeout, 10, 32) // 0 when absent
		rec.Level = codec.LevelInfo
		if bits != 0 {
			rec.Level = codec.LevelWarning
		}
		f := rec.Fields
		f.SetString(0, name)
		f.SetString(1, identity)
		f.SetUint(2, uint64(bits))
		f.SetString(3, watchdogFlags(bits))
		f.SetUint(4, t)
		f.SetString(5, state)
		f.SetString(6, reason)
		if err := e.Emit(StreamState, &rec); err != nil {
			return err
		}
	}
	return first
}

// wdiofCardReset is WDIOF_CARDRESET: the watchdog itself reset the CPU.
const wdiofCardReset = 0x0020

// wdiofFlags names the bits of a watchdog's bootstatus: the WDIOF_* flags
// of linux/watchdog.h that tell why the last reset happened.
var wdiofFlags = [...]struct {
	bit  uint32
	name string
}{
	{0x0001, "overheat"},           // WDIOF_OVERHEAT: CPU overheat
	{0x0002, "fan_fault"},          // WDIOF_FANFAULT
	{0x0004, "extern1"},            // WDIOF_EXTERN1: external relay 1
	{0x0008, "extern2"},            // WDIOF_EXTERN2: external relay 2
	{0x0010, "power_under"},        // WDIOF_POWERUNDER: power bad, power fault
	{wdiofCardReset, "card_reset"}, // WDIOF_CARDRESET: the watchdog reset the CPU
	{0x0040, "power_over"},         // WDIOF_POWEROVER: over voltage
}

// watchdogFlags names the bits set in a bootstatus, comma-separated in
// the order of their values; bits linux/watchdog.h gives no reset cause
// follow in hexadecimal ("card_reset,0x100"). "" when none is set.
func watchdogFlags(bits uint32) string {
	var b []byte
	for _, f := range wdiofFlags {
		if bits&f.bit != 0 {
			b = append(b, ',')
			b = append(b, f.name...)
			bits &^= f.bit
		}
	}
	if bits != 0 {
		b = append(b, ",0x"...)
		b = strconv.AppendUint(b, uint64(bits), 16)
	}
	if len(b) == 0 {
		return ""
	}
	return string(b[1:])
}

// readBootStatus reads a watchdog's bootstatus: the kernel writes it as
// an unsigned decimal ("32\n").
func readBootStatus(path string) (uint32, error) {
	b, more, err := readBounded(path, maxWatchdogAttr)
	if err != nil {
		return 0, err
	}
	if more {
		return 0, malformed(path, "want a decimal number, got more than %d bytes", maxWatchdogAttr)
	}
	v, err := parseUint(trimSpace(b))
	if err != nil || v > 1<<32-1 {
		return 0, malformed(path, "want a 32-bit decimal number, got %s", quoteLine(b))
	}
	return uint32(v), nil
}

// readWatchdogAttr returns an optional attribute of a watchdog, trimmed,
// or "" if it is absent, unreadable, too long or not UTF-8.
func readWatchdogAttr(dir, name string) string {
	b, more, err := readBounded(filepath.Join(dir, name), maxWatchdogAttr)
	if err != nil || more || !utf8.Valid(b) {
		return ""
	}
	return string(trimSpace(b))
}

// readResetReason reads the board's reset-reason file: text (a sysfs
// attribute, "watchdog\n"), or a device-tree property, which may be a
// NUL-terminated string or a binary number; one that is not text is
// given in hexadecimal ("0x00000004"). A file of more than
// maxResetReason bytes is refused.
func readResetReason(path string) (string, error) {
	b, more, err := readBounded(path, maxResetReason)
	if err != nil {
		return "", tinyfmt.Errorf("option reset_reason: %w", err)
	}
	if more {
		return "", tinyfmt.Errorf("option reset_reason: %s: more than %d bytes, larger than a reset reason", path, maxResetReason)
	}
	t := trimSpace([]byte(strings.TrimRight(string(b), "\x00")))
	if utf8.Valid(t) && !strings.ContainsFunc(string(t), isControl) {
		return string(t), nil
	}
	return "0x" + hex.EncodeToString(b), nil
}

func isControl(r rune) bool { return r < ' ' && r != '\t' && r != '\n' || r == 0x7f }

// bootEnd says the boot before ended in a watchdog reset when a
// watchdog's bootstatus has card_reset; the evidence names it and its
// flags, with the board's reset reason if configured.
func (w *watchdogCollector) bootEnd() (ended, evidence string) {
	for _, name := range w.names {
		bits, err := readBootStatus(filepath.Join(w.dir, name, "bootstatus"))
		if err != nil || bits&wdiofCardReset == 0 {
			continue
		}
		evidence = name + " flags " + watchdogFlags(bits)
		if w.resetReason != "" {
			if reason, err := readResetReason(w.resetReason); err == nil && reason != "" {
				evidence += ", reset_reason " + reason
			}
		}
		return catalog.EndedWatchdog, evidence
	}
	return "", ""
}
