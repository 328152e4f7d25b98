package agent

import (
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
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
	id         codec.BootID // from the boot counter's file; zero if none
	last       time.Time    // wall time of its newest record in any ring
	mono       int64        // and its monotonic time: the uptime then
	have       bool         // it left a record
	stopped    bool         // the itiny stream's newest record is agent.stop
	stopReason string
}

// see notes the newest record a ring held when it was opened (Recovery's
// Last), when it is of the boot before.
func (p *prevBoot) see(stream string, e *ringlog.Entry) {
	if e == nil || p.id == (codec.BootID{}) {
		return
	}
	var r codec.Record
	if e.Decode(&r) != nil || r.Boot != p.id {
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
	last, uptime := "", 0.0
	if a.prev.have {
		last, uptime = a.prev.last.UTC().Format(time.RFC3339Nano), float64(a.prev.mono)/1e9
	}
	a.noteStartEvent(catalog.DeviceBoot.Name, codec.LevelNotice,
		codec.Field{Key: "bootn", Value: codec.Uint(uint64(a.bootN))},
		codec.Field{Key: "prev_ended", Value: codec.String(ended)},
		codec.Field{Key: "prev_evidence", Value: codec.String(evidence)},
		codec.Field{Key: "prev_last", Value: codec.String(last)},
		codec.Field{Key: "prev_uptime_s", Value: codec.Float(uptime)})
}

// prevEnd weighs the evidence of how the boot before ended: the kernel's
// first, as a panic or a watchdog reset ends a boot whatever the agent
// was doing; then the agent's own crash; then how its last run stopped.
func (a *Agent) prevEnd() (ended, evidence string) {
	if a.prev.id == (codec.BootID{}) {
		return "", "" // the first boot the agent sees
	}
	for _, s := range a.collectors {
		if w, ok := s.c.(bootWitness); ok {
			if ended, evidence := w.bootEnd(); ended != "" {
				return ended, evidence
			}
		}
	}
	if n := len(a.crashes); n > 0 {
		return catalog.EndedCrash, "agent.crash: " + firstLine(a.crashes[n-1].text)
	}
	switch {
	case !a.prev.have:
		return catalog.EndedUnknown, "the boot left no record"
	case a.prev.stopped && a.prev.stopReason == "SIGTERM":
		return catalog.EndedShutdown, "agent.stop reason SIGTERM"
	case a.prev.stopped:
		return catalog.EndedUnknown, "agent.stop reason " + a.prev.stopReason + ", then nothing"
	}
	return catalog.EndedUnknown, "the agent did not stop"
}
