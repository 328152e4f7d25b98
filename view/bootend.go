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
// (pstore) or the watchdog's reset.
type kernelEnd struct {
	ended, evidence string   // device.boot's verdict; never "power loss or unknown"
	unknown         string   // device.boot's evidence when it could not tell
	prevBoot        string   // the boot device.boot tells of, hex; "" not said
	panic, oops     crashLog // the first pstore panic's and oops's
	watchdog        string   // the watchdog's flags, with card_reset
}

// A crashLog is the evidence of a pstore entry: its header and the first
// line that names the crash.
type crashLog struct {
	evidence string
	carry    string // text cut at a part's end, awaiting the rest
	named    bool   // evidence has the line that names the crash
}

// see notes r, a record of the boot after the one it tells of.
func (k *kernelEnd) see(r *codec.Record) {
	switch {
	case r.Source == catalog.DeviceBoot.Source && r.Name == catalog.DeviceBoot.Name:
		// An agent that writes the verdict weighed the same evidence,
		// and its own stop and crash, before the rings could lose them;
		// where it could not tell, the records may (a ring it could not
		// read at start).
		switch ended := strField(r, keyPrevEnded); {
		case ended == EndedUnknown && k.unknown == "":
			k.unknown = strings.Clone(strField(r, keyPrevEvidence))
		case ended != "" && ended != EndedUnknown && k.ended == "":
			k.ended, k.evidence = strings.Clone(ended), strings.Clone(strField(r, keyPrevEvidence))
		}
		if k.prevBoot == "" {
			k.prevBoot = strings.Clone(strField(r, keyPrevBoot))
		}
	case r.Source == catalog.PstorePanic.Source && r.Name == catalog.PstorePanic.Name:
		k.panic.see(r)
	case r.Source == catalog.PstoreOops.Source && r.Name == catalog.PstoreOops.Name:
		k.oops.see(r)
	case r.Source == catalog.WatchdogBootStatus.Source && r.Name == catalog.WatchdogBootStatus.Name && k.watchdog == "":
		if flags := strField(r, keyWatchdogFlags); hasFlag(flags, "card_reset") {
			k.watchdog = "flags " + strings.Clone(flags)
		}
	}
}

// verdict says how the boot before ended, as far as the kernel's records
// and device.boot tell: a panic or a watchdog reset ends a boot whatever
// the agent did; an oops need not, and is left to EndBoots, which weighs
// it after the agent's last run, as device.boot's evidence of an end it
// could not tell.
func (k *kernelEnd) verdict() (ended, evidence string, weak weakEnd) {
	switch {
	case k.ended != "":
		return k.ended, k.evidence, weakEnd{}
	case k.panic.evidence != "":
		return EndedPanic, k.panic.evidence, weakEnd{}
	case k.watchdog != "":
		return EndedWatchdog, k.watchdog, weakEnd{}
	}
	return "", "", weakEnd{k.oops.evidence, k.unknown}
}

// weakEnd is what the next boot tells of a boot's end that the agent's
// last run in it may outweigh.
type weakEnd struct {
	oops    string // its pstore oops
	unknown string // device.boot's evidence of an end it could not tell
}

// see notes a part of a pstore entry: the first entry's header, and the
// first line that names the crash in its parts.
func (c *crashLog) see(r *codec.Record) {
	if c.evidence == "" {
		c.evidence = strings.Clone(strField(r, keyPstoreHeader))
	}
	if c.named {
		return
	}
	if intField(r, keyPstorePart) == 1 {
		c.carry = ""
	}
	text := c.carry + strField(r, keyPstoreText)
	i := strings.LastIndexByte(text, '\n') + 1 // the rest may go on in the next part
	lines, rest := text[:i], text[i:]
	if intField(r, keyPstorePart) == intField(r, keyPstoreParts) {
		lines, rest = text, ""
	}
	if line := catalog.CrashLine(lines); line != "" {
		c.evidence, c.carry, c.named = c.evidence+": "+strings.Clone(line), "", true
		return
	}
	c.carry = strings.Clone(rest[max(len(rest)-crashCarry, 0):])
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
// kernel's records and device.boot did not: from the last run of the
// agent in it (runs, ListRuns of the same rings). A boot before another
// ended in a clean shutdown when its last run stopped by SIGTERM, an
// agent crash when that run crashed, else in a kernel oops if the next
// boot's pstore holds one, else by a power loss or it is not known; the
// last boot ended as its last run did ("running", "stopped"...).
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
		case last != nil && last.End == RunStopped && last.Reason == "SIGTERM":
			b.Ended, b.Evidence = EndedShutdown, "agent.stop reason SIGTERM"
		case last != nil && last.End == RunCrashed:
			b.Ended, b.Evidence = EndedCrash, last.Cause()
		case b.weak.oops != "":
			b.Ended, b.Evidence = EndedOops, b.weak.oops
		case b.weak.unknown != "":
			b.Ended, b.Evidence = EndedUnknown, b.weak.unknown
		case last == nil:
			b.Ended = EndedUnknown
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
	keyPrevBoot      = catalog.DeviceBoot.Key("prev_boot")
	keyPrevEnded     = catalog.DeviceBoot.Key("prev_ended")
	keyPrevEvidence  = catalog.DeviceBoot.Key("prev_evidence")
)
