//go:build !noflash

package agent

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/order"
)

// On by default, hourly (defaultIntervals): wear moves over months, and a
// record an hour costs the flash it measures next to nothing.
func init() { registerCollector("flash", true, newFlashCollector) }

// flashCollector samples the wear figures the kernel's flash drivers
// publish in sysfs, for each device found at its start:
//
//   - eMMC (class/mmc_host/mmcN/mmcN:RCA): life_time, JEDEC's device
//     life time estimates of types A and B ("0x01 0x02": 0x01 is 0-10%
//     of the life used, ..., 0x0a 90-100%, 0x0b past it), and
//     pre_eol_info, the reserved blocks used (0x01 normal, 0x02 80%,
//     0x03 90%);
//   - UBI (class/ubi/ubiN): max_ec, the highest erase count, and
//     bad_peb_count against reserved_for_bad, the blocks kept for bad
//     ones (when they run out, UBI turns read-only);
//   - raw NAND through MTD (class/mtd/mtdN): bad_blocks, ecc_failures
//     and corrected_bits.
//
// Percentages are lower bounds, as the devices give steps: life_pct 80
// is "at least 80% of the life used". A figure a device does not give
// is -1. An eMMC's figures are the kernel's copy of its EXT_CSD, read at
// boot and resume: they change at the next one.
type flashCollector struct {
	devs []flashDevice
	skip error // the first device skipped at start, said at the first sample
}

// skipped keeps the first error of a device left out: the others are
// still sampled.
func (fc *flashCollector) skipped(err error) {
	if fc.skip == nil {
		fc.skip = err
	}
}

// A flashDevice is one device's files, nil where its kind has none.
type flashDevice struct {
	life, preEOL              *procFile // eMMC
	maxEC, bad, reserved      *procFile // UBI (bad also MTD's bad_blocks)
	eccFailures, eccCorrected *procFile // MTD
	rec                       codec.Record
}

// The fields of catalog.Flash, by index.
const (
	flashLife = 2 + iota
	flashLifeA
	flashLifeB
	flashReserve
	flashMaxEC
	flashBad
	flashECCFailures
	flashECCCorrected
)

func newFlashCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("flash", c.Options); err != nil || c.check {
		return nil, err
	}
	fc := &flashCollector{}
	err := fc.findMMC(filepath.Join(c.Sys, "class", "mmc_host"))
	if err == nil {
		err = fc.findNumbered(filepath.Join(c.Sys, "class", "ubi"), "ubi", "ubi", []string{"max_ec", "bad_peb_count", "reserved_for_bad"})
	}
	if err == nil {
		err = fc.findNumbered(filepath.Join(c.Sys, "class", "mtd"), "mtd", "mtd", []string{"", "bad_blocks", "", "ecc_failures", "corrected_bits"})
	}
	if err != nil {
		fc.Close()
		return nil, err
	}
	return fc, nil
}

// findMMC finds the cards of each MMC host that give life_time: eMMC,
// which SD cards do not.
func (fc *flashCollector) findMMC(hosts string) error {
	nums, err := numberedEntries(hosts, "mmc")
	if err != nil {
		return err
	}
	for _, n := range nums {
		host := filepath.Join(hosts, "mmc"+strconv.Itoa(n))
		cards, err := readDirNames(host)
		if err != nil {
			return err
		}
		order.Strings(cards)
		for _, card := range cards {
			dir := filepath.Join(host, card)
			if !strings.HasPrefix(card, "mmc") {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, "life_time")); err != nil {
				continue // an SD card (an eMMC before 5.0 has one: 0x00 0x00, -1)
			}
			// The block device's name, mmcblk0, is the one a user knows.
			name := card
			if blocks, err := readDirNames(filepath.Join(dir, "block")); err == nil && len(blocks) > 0 {
				order.Strings(blocks)
				name = blocks[0]
			}
			d := flashDevice{rec: catalogRecord(&catalog.Flash)}
			if d.life, err = openProcFile(filepath.Join(dir, "life_time"), 32); err == nil {
				d.preEOL, err = openOptional(filepath.Join(dir, "pre_eol_info"))
			}
			if err != nil {
				d.close()
				fc.skipped(err)
				continue
			}
			fc.add(d, name, "emmc")
		}
	}
	return nil
}

// findNumbered finds the devices prefix+N in dir, of kind, and opens the
// files named in files for maxEC, bad, reserved, eccFailures and
// eccCorrected ("" for none). A device that lacks one has -1 for it.
func (fc *flashCollector) findNumbered(dir, prefix, kind string, files []string) error {
	nums, err := numberedEntries(dir, prefix)
	if err != nil {
		return err
	}
	for _, n := range nums {
		name := prefix + strconv.Itoa(n)
		d := flashDevice{rec: catalogRecord(&catalog.Flash)}
		for i, f := range [...]**procFile{&d.maxEC, &d.bad, &d.reserved, &d.eccFailures, &d.eccCorrected} {
			if i < len(files) && files[i] != "" && err == nil {
				*f, err = openOptional(filepath.Join(dir, name, files[i]))
			}
		}
		if err != nil {
			d.close()
			fc.skipped(err)
			err = nil
			continue
		}
		fc.add(d, name, kind)
	}
	return nil
}

// openOptional opens a device's file, nil if the driver has none.
func openOptional(path string) (*procFile, error) {
	f, err := openProcFile(path, 32)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return f, err
}

func (fc *flashCollector) add(d flashDevice, name, kind string) {
	d.rec.Fields.SetString(0, name)
	d.rec.Fields.SetString(1, kind)
	fc.devs = append(fc.devs, d)
}

func (d *flashDevice) close() {
	for _, f := range [...]*procFile{d.life, d.preEOL, d.maxEC, d.bad, d.reserved, d.eccFailures, d.eccCorrected} {
		if f != nil {
			f.close()
		}
	}
}

// Close releases the descriptors.
func (fc *flashCollector) Close() error {
	for i := range fc.devs {
		fc.devs[i].close()
	}
	fc.devs = nil
	return nil
}

func (fc *flashCollector) Update(e Emitter) error {
	first := fc.skip
	fc.skip = nil
	for i := range fc.devs {
		d := &fc.devs[i]
		if err := d.sample(); err != nil {
			if first == nil {
				first = err
			}
			continue // the other devices are still reported
		}
		if err := e.Emit(StreamMetrics, &d.rec); err != nil {
			return err
		}
	}
	return first
}

// sample reads d's files into its record.
func (d *flashDevice) sample() error {
	f := d.rec.Fields
	for i := flashLife; i <= flashECCCorrected; i++ {
		f.SetInt(i, -1)
	}
	if d.life != nil {
		b, err := d.life.read()
		if err != nil {
			return err
		}
		a, bb, err := parseLifeTime(d.life.path, b)
		if err != nil {
			return err
		}
		f.SetInt(flashLife, max(a, bb))
		f.SetInt(flashLifeA, a)
		f.SetInt(flashLifeB, bb)
	}
	if d.preEOL != nil {
		b, err := d.preEOL.read()
		if err != nil {
			return err
		}
		pct, err := parsePreEOL(d.preEOL.path, b)
		if err != nil {
			return err
		}
		f.SetInt(flashReserve, pct)
	}
	var n [5]int64 // max_ec, bad, reserved, ecc failures, corrected
	for i, pf := range [...]*procFile{d.maxEC, d.bad, d.reserved, d.eccFailures, d.eccCorrected} {
		n[i] = -1
		if pf == nil {
			continue
		}
		b, err := pf.read()
		if err != nil {
			return err
		}
		if n[i], err = parseInt(trimSpace(b)); err != nil || n[i] < 0 {
			return malformed(pf.path, "want a count, got %s", quoteLine(b))
		}
	}
	f.SetInt(flashMaxEC, n[0])
	f.SetInt(flashBad, n[1])
	f.SetInt(flashECCFailures, n[3])
	f.SetInt(flashECCCorrected, n[4])
	if n[1] >= 0 && n[2] >= 0 && n[1]+n[2] > 0 {
		// UBI: of the blocks kept for bad ones, those taken.
		f.SetInt(flashReserve, n[1]*100/(n[1]+n[2]))
	}
	return nil
}

// parseLifeTime parses an eMMC's life_time, "0x01 0x02": the lower
// bounds of the life used, types A and B, in percent; 100 is past the
// life, -1 not defined (0x00).
func parseLifeTime(path string, b []byte) (a, bb int64, err error) {
	s := trimSpace(b)
	i := 0
	for i < len(s) && s[i] != ' ' {
		i++
	}
	a, err = lifeStep(s[:i])
	if err == nil && i < len(s) {
		bb, err = lifeStep(trimSpace(s[i:]))
	} else if err == nil {
		err = strconv.ErrSyntax
	}
	if err != nil {
		return 0, 0, malformed(path, "want two steps such as 0x01 0x02, got %s", quoteLine(b))
	}
	return a, bb, nil
}

// lifeStep converts one life time step, 0x01 to 0x0b; 0x00 (not
// defined) and JEDEC's reserved values, which some firmware reports, are
// -1.
func lifeStep(b []byte) (int64, error) {
	v, err := parseHexByte(b)
	switch {
	case err != nil:
		return 0, err
	case v == 0 || v > 0x0b:
		return -1, nil
	}
	return (v - 1) * 10, nil
}

// parsePreEOL parses an eMMC's pre_eol_info into the lower bound of the
// reserved blocks used, in percent: 0x01 normal (0), 0x02 warning (80),
// 0x03 urgent (90); -1 not defined (0x00) or reserved.
func parsePreEOL(path string, b []byte) (int64, error) {
	v, err := parseHexByte(trimSpace(b))
	if err != nil {
		return 0, malformed(path, "want a byte such as 0x01, got %s", quoteLine(b))
	}
	if v > 3 {
		return -1, nil
	}
	return [...]int64{-1, 0, 80, 90}[v], nil
}

// parseHexByte parses "0x0b" (or "0b").
func parseHexByte(b []byte) (int64, error) {
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		b = b[2:]
	}
	if len(b) == 0 || len(b) > 2 {
		return 0, strconv.ErrSyntax
	}
	var v int64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | int64(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | int64(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | int64(c-'A'+10)
		default:
			return 0, strconv.ErrSyntax
		}
	}
	return v, nil
}
