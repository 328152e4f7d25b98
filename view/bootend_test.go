package view

import (
	"fmt"
	"strings"
	"testing"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
)

// bootEndsData writes boots that ended each way.
func bootEndsData(t *testing.T) string {
	data := t.TempDir()
	stop := func(n uint32, mono int) *codec.Record {
		return self(n, mono, &catalog.AgentStop, str("reason", "SIGTERM"))
	}
	crash := self(3, 2, &catalog.AgentCrash, str("version", "v1"), codec.Field{Key: "pid", Value: codec.Int(20)},
		codec.Field{Key: "part", Value: codec.Int(1)}, codec.Field{Key: "parts", Value: codec.Int(1)},
		str("text", "panic: boom\n\ngoroutine 1 [running]:\n"), codec.Field{Key: "cut", Value: codec.Int(0)})
	writeRing(t, data, "itiny", codec.JSON,
		start(1, 1, 10, true, true), stop(1, 100), // 1: clean shutdown
		start(2, 1, 20, true, true),               // 2: the agent crashed (boot 3's agent.crash), then the device rebooted
		start(3, 1, 30, false, true),              // 3: a kernel panic, told in two parts, its line cut between them
		start(4, 1, 40, false, true), stop(4, 50), // 4: stopped, but the watchdog reset the device
		start(5, 1, 50, true, true),                // 5: no stop, no evidence
		start(6, 1, 60, false, true),               // 6: an oops
		start(7, 1, 70, false, true), stop(7, 100), // 7: stopped: an oops after it is not the end
		start(8, 1, 80, false, true), // 8: the next boot's device.boot is of another boot
		start(9, 1, 90, false, true)) // 9: the last
	writeRing(t, data, "events", codec.JSON,
		crash,
		ringtest.Pstore(4, 2, &catalog.PstorePanic, "Panic#1 Part1", 1, 2, "<6>[ 1.0] booted\n<0>[ 7.5] Kernel panic - not "),
		ringtest.Pstore(4, 2, &catalog.PstorePanic, "Panic#1 Part1", 2, 2, "syncing: sysrq triggered crash\n<0>[ 7.5] CPU: 0 PID: 1\n"),
		deviceBoot(6, "0500", catalog.EndedCrash, "agent.crash: fatal error: out of memory"),
		ringtest.Pstore(7, 2, &catalog.PstoreOops, "Oops#1 Part1", 1, 1, "<4>[ 3.2] BUG: kernel NULL pointer dereference, address: 0000000000000000\n<4>[ 3.2] Oops: 0002 [#1] SMP\n"),
		deviceBoot(8, "0700", catalog.EndedUnknown, "the itiny ring could not be read at start"),
		ringtest.Pstore(8, 2, &catalog.PstoreOops, "Oops#1 Part1", 1, 1, "<4>[ 3.2] Oops: 0002 [#1] SMP\n"),
		deviceBoot(9, "ff00", catalog.EndedPanic, "pstore Panic#1 Part1"))
	writeRing(t, data, "state", codec.JSON,
		ringtest.Watchdog(5, 2, 32, "card_reset"),
		ringtest.Watchdog(6, 2, 16, "power_under"), // not a reset by the watchdog
		rec(9, 9000, "cpu"))
	return data
}

// deviceBoot is boot n's device.boot, of the boot whose id prev begins.
func deviceBoot(n uint32, prev, ended, evidence string) *codec.Record {
	return self(n, 1, &catalog.DeviceBoot, codec.Field{Key: "bootn", Value: codec.Uint(uint64(n))},
		str("prev_boot", prev+strings.Repeat("0", 32-len(prev))), str("prev_ended", ended), str("prev_evidence", evidence),
		str("prev_last", ""), codec.Field{Key: "prev_uptime_s", Value: codec.Float(0)})
}

func TestBootEnds(t *testing.T) {
	data := bootEndsData(t)
	in, err := Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	boots, err := ListBoots(in.Sources)
	if err != nil {
		t.Fatal(err)
	}
	EndBoots(boots, listRuns(t, data))
	var got []string
	for _, b := range boots {
		got = append(got, fmt.Sprintf("boot %d up %s last %s: %s (%s)", b.N, b.Uptime, b.Last.Sub(t0), b.Ended, b.Evidence))
	}
	want := []string{
		"boot 1 up 1m40s last 1h1m40s: clean shutdown (agent.stop reason SIGTERM)",
		"boot 2 up 1s last 2h0m1s: agent crashed (it crashed: panic: boom)",
		"boot 3 up 2s last 3h0m2s: kernel panic (Panic#1 Part1: Kernel panic - not syncing: sysrq triggered crash)",
		"boot 4 up 50s last 4h0m50s: watchdog reset (flags card_reset)",
		"boot 5 up 2s last 5h0m2s: agent crashed (agent.crash: fatal error: out of memory)",
		"boot 6 up 2s last 6h0m2s: kernel oops (Oops#1 Part1: BUG: kernel NULL pointer dereference, address: 0000000000000000)",
		"boot 7 up 1m40s last 7h1m40s: clean shutdown (agent.stop reason SIGTERM)",
		"boot 8 up 2s last 8h0m2s: power loss or unknown (the device rebooted or lost power)",
		"boot 9 up 2h30m0s last 11h30m0s: no stop (its end is not in the rings: they were copied, or the device rebooted since)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("boots:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Without the runs, only what the kernel's records tell.
	if boots, _ := ListBoots(in.Sources); boots[0].Ended != "" || boots[2].Ended != EndedPanic || boots[3].Ended != EndedWatchdog {
		t.Errorf("ListBoots alone: %q %q %q", boots[0].Ended, boots[2].Ended, boots[3].Ended)
	}
}
