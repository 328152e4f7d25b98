//go:build !noflash

package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLifeTime(t *testing.T) {
	const path = "/sys/class/mmc_host/mmc0/mmc0:0001/life_time"
	for _, tc := range []struct {
		in   string
		a, b int64
		err  string
	}{
		{"0x01 0x01\n", 0, 0, ""},
		{"0x09 0x02\n", 80, 10, ""},
		{"0x0a 0x0B\n", 90, 100, ""},
		{"0x00 0x03\n", -1, 20, ""},
		{"0x0c 0x01\n", -1, 0, ""}, // reserved: not known
		{"0x01\n", 0, 0, "want two steps"},
		{"", 0, 0, "want two steps"},
		{"0xzz 0x01", 0, 0, `got "0xzz 0x01"`},
	} {
		a, b, err := parseLifeTime(path, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.in, err, path, tc.err)
			continue
		}
		if err != nil || a != tc.a || b != tc.b {
			t.Errorf("%q: %d %d, %v; want %d %d", tc.in, a, b, err, tc.a, tc.b)
		}
	}
	for in, want := range map[string]int64{"0x00\n": -1, "0x01\n": 0, "0x02\n": 80, "0x03": 90} {
		if got, err := parsePreEOL("pre_eol_info", []byte(in)); err != nil || got != want {
			t.Errorf("pre_eol_info %q: %d, %v; want %d", in, got, err, want)
		}
	}
	if got, err := parsePreEOL("pre_eol_info", []byte("0x04\n")); got != -1 || err != nil {
		t.Errorf("pre_eol_info 0x04 (reserved): %d, %v; want -1", got, err)
	}
	if _, err := parsePreEOL("pre_eol_info", []byte("n/a\n")); err == nil {
		t.Error("pre_eol_info n/a taken")
	}
}

// TestFlashCollector: an eMMC (not the SD card beside it), a UBI device
// (not its volume) and an MTD device (not its read-only twin), each
// with the figures its kind gives and -1 for the others.
func TestFlashCollector(t *testing.T) {
	c := mustCollector(t, "flash", testCollectorConfig())
	defer c.(*flashCollector).Close()
	var e recordingEmitter
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "flash", e.out.Bytes())
	checkNoAllocs(t, c)
}

// TestFlashNone: no flash devices (a VM, a PC): no records, no error;
// a device whose file goes bad is said, and the others still reported.
func TestFlashNone(t *testing.T) {
	c := mustCollector(t, "flash", CollectorConfig{Sys: t.TempDir()})
	var e recordingEmitter
	if err := c.Update(&e); err != nil || e.count != 0 {
		t.Fatalf("%d records, %v", e.count, err)
	}
	sys := t.TempDir()
	mtd := filepath.Join(sys, "class", "mtd", "mtd1")
	ubi := filepath.Join(sys, "class", "ubi", "ubi3")
	os.MkdirAll(mtd, 0o755)
	os.MkdirAll(ubi, 0o755)
	os.WriteFile(filepath.Join(mtd, "bad_blocks"), []byte("lots\n"), 0o644)
	os.WriteFile(filepath.Join(ubi, "max_ec"), []byte("12\n"), 0o644) // no bad or reserved counts
	c = mustCollector(t, "flash", CollectorConfig{Sys: sys})
	defer c.(*flashCollector).Close()
	err := c.Update(&e)
	wantErr(t, "bad mtd", err, filepath.Join(mtd, "bad_blocks"), "want a count")
	if out := e.out.String(); e.count != 1 || !strings.Contains(out, `"device":"ubi3","kind":"ubi","life_pct":-1,"life_a_pct":-1,"life_b_pct":-1,"reserve_used_pct":-1,"max_ec":12,"bad_blocks":-1`) {
		t.Errorf("%d records: %s", e.count, out)
	}
}

// BenchmarkFlash is a sample of the fixture's three devices: nine
// preads of procfs-like files.
func BenchmarkFlash(b *testing.B) {
	c := mustCollector(b, "flash", testCollectorConfig())
	defer c.(*flashCollector).Close()
	e := &discardEmitter{}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Update(e); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFlashSkipsBadDevice: a device whose file cannot be opened (here a
// link to itself) is left out, said once, and the others are sampled.
func TestFlashSkipsBadDevice(t *testing.T) {
	sys := t.TempDir()
	good := filepath.Join(sys, "class", "mtd", "mtd0")
	os.MkdirAll(good, 0o755)
	os.WriteFile(filepath.Join(good, "bad_blocks"), []byte("1\n"), 0o644)
	bad := filepath.Join(sys, "class", "mtd", "mtd1")
	os.MkdirAll(bad, 0o755)
	os.Symlink("bad_blocks", filepath.Join(bad, "bad_blocks"))
	c := mustCollector(t, "flash", CollectorConfig{Sys: sys})
	defer c.(*flashCollector).Close()
	var e recordingEmitter
	if err := c.Update(&e); err == nil || e.count != 1 {
		t.Errorf("first sample: %d records, %v; want mtd0's and mtd1's error", e.count, err)
	}
	if err := c.Update(&e); err != nil || e.count != 2 {
		t.Errorf("second sample: %d records in all, %v", e.count, err)
	}
}
