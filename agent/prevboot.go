package agent

import (
	"time"
	"unicode/utf8"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/hex"
	"github.com/itiny/itiny/ringlog"
)

// How the boot before ended, told in device.boot at the first start of a
// boot: from what the kernel kept (a collector that is a bootWitness),
// the agent's crash file, and the last records the boot left in the
// rings. The rings alone cannot tell a panic from a power cut; the
// kernel's evidence alone cannot tell a clean shutdown from either.

// A bootWitness is a collector that can tell, once built, how the boot
// before this one ended (pstore's crash log, the watchdog's reset):
// ended is one of catalog's Ended constants, "" when it cannot tell.
type bootWitness interface {
	bootEnd() (ended, evidence string)
}

// prevBoot is what the rings say of the boot before this one.
type prevBoot struct {
	id, cur    codec.BootID // the boot before (the boot counter's file; zero if none), this one
	last       time.Time    // wall time of its newest record in any ring
	mono       int64        // and its monotonic time: the uptime then
	have       bool         // it left a record
	selfRead   bool         // the itiny ring was opened, its newest record seen
	stopped    bool         // the itiny ring's newest record is its agent.stop
	stopReason string
	again      bool // a ring's newest record is of this boot: the agent ran in it already
}

// see notes the newest record a ring held when it was opened (Recovery's
// Last).
func (p *prevBoot) see(stream string, e *ringlog.Entry) {
	if stream == StreamSelf {
		p.selfRead = true
	}
	var r codec.Record
	if e == nil || e.Decode(&r) != nil {
		return
	}
	if r.Boot == p.cur {
		// The boot counter was not saved (a full disk) before the agent
		// restarted: no new boot, nothing to tell of the one before.
		p.again = true
	}
	if r.Boot != p.id || p.id == (codec.BootID{}) {
		return
	}
	if !p.have || r.Mono > p.mono {
		p.have, p.last, p.mono = true, r.Wall, r.Mono
	}
	if stream == StreamSelf && r.Name == catalog.AgentStop.Name {
		p.stopped = true
		for _, f := range r.Fields {
			if f.Key == "reason" {
				p.stopReason = f.Value.Str()
			}
		}
	}
}

// noteDeviceBoot writes device.boot with how the boot before ended.
func (a *Agent) noteDeviceBoot() {
	ended, evidence := a.prevEnd()
	last, uptime, prev := "", 0.0, ""
	if a.prev.have {
		last, uptime = a.prev.last.UTC().Format(time.RFC3339Nano), float64(a.prev.mono)/1e9
	}
	if a.prev.id != (codec.BootID{}) {
		prev = hex.EncodeToString(a.prev.id[:])
	}
	var f codec.Fields
	addUint(&f, "bootn", uint64(a.bootN))
	addString(&f, "prev_boot", prev)
	addString(&f, "prev_ended", ended)
	addString(&f, "prev_evidence", cutEvidence(evidence))
	addString(&f, "prev_last", last)
	addFloat(&f, "prev_uptime_s", uptime)
	a.noteStartEvent(catalog.DeviceBoot.Name, codec.LevelNotice, f...)
}

// prevEnd weighs the evidence of how the boot before ended. A panic or a
// watchdog's reset ends a boot whatever the agent was doing; then the
// agent's last run: stopped by SIGTERM, or crashed. An oops need not end
// a boot (panic_on_oops makes it a panic, with its own entry): it tells
// only where nothing else does.
func (a *Agent) prevEnd() (ended, evidence string) {
	if a.prev.id == (codec.BootID{}) {
		return "", "" // the first boot the agent sees
	}
	var watchdog, oops string
	for _, s := range a.collectors {
		w, ok := s.c.(bootWitness)
		if !ok {
			continue
		}
		switch ended, evidence := w.bootEnd(); ended {
		case catalog.EndedPanic:
			return ended, evidence
		case catalog.EndedWatchdog:
			watchdog = evidence
		case catalog.EndedOops:
			oops = evidence
		}
	}
	switch p := &a.prev; {
	case watchdog != "":
		return catalog.EndedWatchdog, watchdog
	case p.stopped && p.stopReason == "SIGTERM":
		return catalog.EndedShutdown, "agent.stop reason SIGTERM"
	case !p.stopped && a.lastRunCrashed && len(a.crashes) > 0:
		return catalog.EndedCrash, "agent.crash: " + firstLine(a.crashes[len(a.crashes)-1].text)
	case oops != "":
		return catalog.EndedOops, oops
	case !p.selfRead:
		return catalog.EndedUnknown, "the itiny ring could not be read at start"
	case !p.have:
		return catalog.EndedUnknown, "the boot left no record"
	case p.stopped:
		return catalog.EndedUnknown, "agent.stop reason " + p.stopReason + ", then nothing"
	}
	return catalog.EndedUnknown, "the agent did not stop"
}

// cutEvidence bounds what device.boot quotes (a crash line of a pstore
// entry may run to its size) at catalog.MaxEvidence bytes, on a rune's
// start.
func cutEvidence(s string) string {
	if len(s) <= catalog.MaxEvidence {
		return s
	}
	n := catalog.MaxEvidence
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
