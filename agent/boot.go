package agent

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/atomicfile"
	"github.com/itiny/itiny/internal/hex"
	"github.com/itiny/itiny/internal/randid"
	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// bootFile is the boot counter's name in the data directory.
const bootFile = "boot"

// loadBoot reads this boot's id from the kernel and keeps a counter of the
// device boots the agent has seen in the data directory. It reports
// whether the device booted since the agent last ran. A counter the
// storage cannot take now (a full disk, a read-only file system) is kept
// in memory and saved when the storage takes it (storage.go); should the
// agent restart before, the rings tell it that it ran in this boot
// already (prevBoot.again).
func (a *Agent) loadBoot() (bool, error) {
	if b, err := os.ReadFile(filepath.Join(a.opts.Proc, "sys/kernel/random/boot_id")); err == nil {
		decodeBootID(&a.boot, strings.ReplaceAll(strings.TrimSpace(string(b)), "-", ""))
	}
	if a.boot == (codec.BootID{}) {
		randid.Read(a.boot[:]) // no procfs: a fresh id per start
	}
	var last codec.BootID
	var n uint64
	if b, err := regular.ReadFile(filepath.Join(a.cfg.Data, bootFile), 64); err == nil {
		// "<bootn> <boot id hex>\n"
		f := strings.Fields(string(b))
		if len(f) == 2 {
			n, _ = strconv.ParseUint(f[0], 10, 32)
			decodeBootID(&last, f[1])
		}
	}
	booted := last != a.boot
	if booted {
		n++
		a.prev.id, a.prev.cur = last, a.boot
	}
	a.bootN = uint32(n)
	if !booted {
		return false, nil
	}
	content := tinyfmt.Sprintf("%d %x\n", n, a.boot[:])
	if err := a.saveBoot(content); err != nil {
		if !storageErr(err) {
			return false, err
		}
		a.bootUnsaved = content
		a.log.Printf("boot counter not saved: %v; retrying", err)
	}
	return true, nil
}

// decodeBootID sets id from s, 32 hex digits; anything else (a damaged
// file, a procfs root of the wrong shape) leaves it zero.
func decodeBootID(id *codec.BootID, s string) {
	if hex.DecodedLen(len(s)) != len(id) {
		return
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		*id = codec.BootID{}
	}
}

// saveBoot replaces the boot counter's file with content.
func (a *Agent) saveBoot(content string) error {
	return replaceFile(filepath.Join(a.cfg.Data, bootFile), []byte(content), true)
}

// replaceFile replaces the file at path with content, atomically
// (internal/atomicfile), through path.tmp: a temporary file a kill left
// is reused, not piled up in the data directory. sync makes it survive a
// power cut.
func replaceFile(path string, content []byte, sync bool) error {
	o := atomicfile.Options{Perm: 0o640, Sync: sync}
	if err := atomicfile.ReplaceVia(path, filepath.Base(path)+".tmp", o, atomicfile.Bytes(content)); err != nil {
		return tinyfmt.Errorf("agent: %w", err)
	}
	return nil
}
