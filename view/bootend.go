package view

import (
	"strings"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// How a boot ended, as BootInfo.Ended says it (catalog's definitions).
const (
	EndedPanic    = catalog.EndedPanic
	EndedOops     = catalog.EndedOops
	EndedWatchdog = catalog.EndedWatchdog
	EndedShutdown = catalog.EndedShutdown
	EndedCrash    = catalog.EndedCrash
	EndedUnknown  = catalog.EndedUnknown
)

// kernelEnd is what a boot's records say of how the boot before it
// ended: the agent's verdict in device.boot, else the kernel's crash log
// (pstore), or the watchdog's reset.
type kernelEnd struct {
	ended, evidence string
	carry           string // a panic's text cut at a part's end, awaiting the rest
	named           bool   // evidence has the line that names the crash
	agent           bool   // the verdict is device.boot's: nothing overrides it
}

// see notes r, a record of the boot after the one it tells of.
func (k *kernelEnd) see(r *codec.Record) {
	if k.agent {
		return
	}
	switch {
	case r.Source == catalog.DeviceBoot.Source && r.Name == catalog.DeviceBoot.Name:
		// An agent that writes the verdict weighed the same evidence,
		// and its own stop and crash, before the rings could lose them.
		if ended := strField(r, keyPrevEnded); ended != "" {
			*k = kernelEnd{ended: strings.Clone(ended), evidence: strings.Clone(strField(r, keyPrevEvidence)), agent: true}
		}
	case r.Source == catalog.PstorePanic.Source && (r.Name == catalog.PstorePanic.Name || r.Name == catalog.PstoreOops.Name):
		ended := EndedPanic
		if r.Name == catalog.PstoreOops.Name {
			ended = EndedOops
		}
		if k.ended == EndedWatchdog {
			*k = kernelEnd{} // the kernel's log says more than the reset
		}
		if k.ended == "" {
			k.ended, k.evidence = ended, strings.Clone(strField(r, keyPstoreHeader))
		}
		if k.ended != ended || k.named {
			return // the first entry's first line that names the crash is shown
		}
		if intField(r, keyPstorePart) == 1 {
			k.carry = ""
		}
		text := k.carry + strField(r, keyPstoreText)
		i := strings.LastIndexByte(text, '\n') + 1 // the rest may go on in the next part
		lines, rest := text[:i], text[i:]
		if intField(r, keyPstorePart) == intField(r, keyPstoreParts) {
			lines, rest = text, ""
		}
		if line := strings.Clone(catalog.CrashLine(lines)); line != "" {
			k.evidence, k.carry, k.named = k.evidence+": "+line, "", true
			return
		}
		k.carry = strings.Clone(rest[max(len(rest)-crashCarry, 0):])
	case r.Source == catalog.WatchdogBootStatus.Source && r.Name == catalog.WatchdogBootStatus.Name && k.ended == "":
		if flags := strField(r, keyWatchdogFlags); hasFlag(flags, "card_reset") {
			k.ended, k.evidence = EndedWatchdog, "flags "+strings.Clone(flags)
		}
	}
}

// crashCarry bounds the text kept from one pstore part for a line the
// next part ends.
const crashCarry = 512

func hasFlag(flags, flag string) bool {
	for f := range strings.SplitSeq(flags, ",") {
		if strings.TrimSpace(f) == flag {
			return true
		}
	}
	return false
}

// EndBoots says how each boot of boots (ListBoots) ended where the
// kernel's records did not: from the last run of the agent in it (runs,
// ListRuns of the same rings). A boot before another ended in a clean
// shutdown when its last run stopped by SIGTERM, an agent crash when that
// run crashed, else by a power loss or it is not known; the last boot
// ended as its last run did ("running", "stopped"...).
func EndBoots(boots []BootInfo, runs []Run) {
	for i := range boots {
		b := &boots[i]
		if b.Ended != "" {
			continue
		}
		var last *Run
		for j := range runs {
			if runs[j].Boot == (Boot{b.N, b.ID}) {
				last = &runs[j]
			}
		}
		switch {
		case i == len(boots)-1 && last != nil:
			b.Ended, b.Evidence = last.End.String(), last.Cause()
		case i == len(boots)-1:
			b.Ended = "unknown"
		case last == nil:
			b.Ended = EndedUnknown
		case last.End == RunStopped && last.Reason == "SIGTERM":
			b.Ended, b.Evidence = EndedShutdown, "agent.stop reason SIGTERM"
		case last.End == RunCrashed:
			b.Ended, b.Evidence = EndedCrash, last.Cause()
		default:
			b.Ended, b.Evidence = EndedUnknown, last.Cause()
		}
	}
}

// The fields boots reads of the next boot's kernel records.
var (
	keyPstoreHeader  = catalog.PstorePanic.Key("header")
	keyPstorePart    = catalog.PstorePanic.Key("part")
	keyPstoreParts   = catalog.PstorePanic.Key("parts")
	keyPstoreText    = catalog.PstorePanic.Key("text")
	keyWatchdogFlags = catalog.WatchdogBootStatus.Key("flags")
	keyPrevEnded     = catalog.DeviceBoot.Key("prev_ended")
	keyPrevEvidence  = catalog.DeviceBoot.Key("prev_evidence")
)
