//go:build !noprocess

package agent

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/hex"
	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// The process collector's state file, DATA/NAME.state (NAME the
// collector's section: process), keeps what a restart or a reload of the
// agent must not reset: each watch's restarts, and the process it last
// followed, by pid and start time, to tell at the next start whether the
// process running is the same one or a new one. Text:
//
//	BOOT-ID-HEX
//	RESTARTS PID START NAME
//
// START is 0 once the process's end is recorded: one that ended while
// the agent was down is recorded, once, at its next start.
//
// It holds for one boot: a file of another boot is ignored, as restarts
// count within a boot (a device boot starts every process again). So it
// is replaced (replaceFile) without a sync: it must survive the agent's
// death, which the page cache does, not a power cut, which ends the boot.
// It is written at the end of a sample in which a count or a process
// followed changed, never at every sample.

// maxStateFile bounds the state file read: a line per watch.
const maxStateFile = 256 << 10

// loadState restores the restarts and the processes last followed from
// the state file, if it was written in this boot.
func (p *processCollector) loadState() error {
	p.loaded = true
	if p.state == "" {
		return nil
	}
	b, err := regular.ReadFile(p.state, maxStateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	line, rest, _ := strings.Cut(string(b), "\n")
	var boot codec.BootID
	if n, err := hex.Decode(boot[:], []byte(line)); err != nil || n != len(boot) || boot != p.boot {
		return nil // another boot's
	}
	for rest != "" {
		line, rest, _ = strings.Cut(rest, "\n")
		var v [3]uint64
		var err error
		for i := range v {
			var num string
			num, line, _ = strings.Cut(line, " ")
			if v[i], err = strconv.ParseUint(num, 10, 64); err != nil {
				break
			}
		}
		for _, w := range p.watches {
			if err == nil && w.name == line && !w.handed {
				w.restarts, w.lastPid, w.lastStart = v[0], int(v[1]), v[2]
			}
		}
	}
	return nil
}

// saveState writes the state file if something in it changed.
func (p *processCollector) saveState() error {
	if !p.dirty || p.state == "" {
		return nil
	}
	p.dirty = false // a failure is said once, and tried again at the next change
	b := tinyfmt.Appendf(nil, "%x\n", p.boot[:])
	for _, w := range p.watches {
		if !strings.ContainsRune(w.name, '\n') {
			b = tinyfmt.Appendf(b, "%d %d %d %s\n", w.restarts, w.lastPid, w.lastStart, w.name)
		}
	}
	return replaceFile(p.state, b, false)
}
