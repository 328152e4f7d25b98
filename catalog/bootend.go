package catalog

import "strings"

// How a boot ended: device.boot's prev_ended, and itiny-read boots'
// ENDED column, which falls back on the same reasoning over the records
// of older agents.
const (
	EndedPanic    = "kernel panic"          // a pstore dmesg entry headed Panic
	EndedOops     = "kernel oops"           // a pstore dmesg entry headed Oops
	EndedWatchdog = "watchdog reset"        // a watchdog's bootstatus has card_reset
	EndedCrash    = "agent crashed"         // the boot's last run of the agent crashed
	EndedShutdown = "clean shutdown"        // the boot's last run stopped by SIGTERM
	EndedUnknown  = "power loss or unknown" // none of the above
)

// MaxEvidence bounds device.boot's prev_evidence, in bytes: a crash line
// may run to a pstore entry's size.
const MaxEvidence = 256

// crashMarks begin the kernel's line that names a panic or an oops.
var crashMarks = []string{"Kernel panic - ", "kernel BUG at ", "BUG: ", "Oops", "Unable to handle kernel ", "general protection fault"}

// CrashLine returns the first line of a kernel log (a pstore entry's
// text) that names a panic or an oops, from its mark, the log prefix
// ("<0>[   12.3] ") dropped; "" if none does. It aliases text.
func CrashLine(text string) string {
	for line := range strings.Lines(text) {
		for _, m := range crashMarks {
			if i := strings.Index(line, m); i >= 0 {
				return strings.TrimSpace(line[i:])
			}
		}
	}
	return ""
}
