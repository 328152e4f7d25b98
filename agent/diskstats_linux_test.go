//go:build !nodiskstats

package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseDiskstatsLine(t *testing.T) {
	const path = "/proc/diskstats"
	for _, tc := range []struct {
		name, in, dev string
		want          diskStat
		err           string
	}{
		{"5.5+", " 254       0 vda 157381 40729 7243850 109903 16222529 444507 119259120 799569 0 662244 1146350 275748 62 32212848 24541 5325218 212335",
			"vda", diskStat{157381, 40729, 7243850, 109903, 16222529, 444507, 119259120, 799569, 0, 662244, 1146350}, ""},
		{"4.x", "   8       1 sda1 10 0 80 4 0 0 0 0 0 4 4", "sda1", diskStat{10, 0, 80, 4, 0, 0, 0, 0, 0, 4, 4}, ""},
		{"short", "   7       0 loop0 0 0 0", "", diskStat{}, "6 columns, want at least 14"},
		{"bad counter", "   8       0 sda 1 2 3 4 5 6 7 x 9 10 11", "", diskStat{}, `column 11: "   8       0 sda 1 2 3 4 5 6 7 x 9 10 11"`},
		{"negative", "   8       0 sda 1 2 3 4 5 6 7 8 9 10 -11", "", diskStat{}, "column 14"},
	} {
		_, dev, got, err := parseDiskstatsLine(path, nil, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.name, err, path, tc.err)
			continue
		}
		if err != nil || got != tc.want || string(dev) != tc.dev {
			t.Errorf("%s: got %s %v, %v; want %s %v", tc.name, dev, got, err, tc.dev, tc.want)
		}
	}
}

func TestDiskstatsCollector(t *testing.T) {
	c := mustCollector(t, "diskstats", testCollectorConfig())
	var e recordingEmitter
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "diskstats", e.out.Bytes())
	checkNoAllocs(t, c)

	cfg := testCollectorConfig()
	cfg.Options = map[string]string{"include_virtual": "true"}
	c = mustCollector(t, "diskstats", cfg)
	e = recordingEmitter{}
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "diskstats-virtual", e.out.Bytes())

	cfg.Options["include_virtual"] = "perhaps"
	if _, err := newCollector("diskstats", cfg); err == nil || !strings.Contains(err.Error(), "include_virtual") {
		t.Errorf("bad option: %v", err)
	}
}

// TestDiskstatsHotplug: partitions are skipped, a disk that appears is
// reported from then on, one that goes is no longer reported.
func TestDiskstatsHotplug(t *testing.T) {
	root := t.TempDir()
	proc, sys := filepath.Join(root, "proc"), filepath.Join(root, "sys")
	os.MkdirAll(proc, 0o755)
	os.MkdirAll(filepath.Join(sys, "block", "sda"), 0o755)
	sda := "   8       0 sda 1 0 8 1 1 0 8 1 0 2 2\n   8       1 sda1 1 0 8 1 1 0 8 1 0 2 2\n"
	sdb := "   8      16 sdb 5 0 40 1 0 0 0 0 0 1 1\n"
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(proc, "diskstats"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(sda)
	c := mustCollector(t, "diskstats", CollectorConfig{Proc: proc, Sys: sys})
	devices := func() string {
		var e recordingEmitter
		if err := c.Update(&e); err != nil {
			t.Fatal(err)
		}
		var devs []string
		for _, l := range strings.Split(strings.TrimSpace(e.out.String()), "\n") {
			if i := strings.Index(l, `"device":"`); i >= 0 {
				devs = append(devs, strings.SplitN(l[i+10:], `"`, 2)[0])
			}
		}
		return strings.Join(devs, ",")
	}
	if got := devices(); got != "sda" {
		t.Fatalf("got %q, want sda", got)
	}
	// sdb's line shows up before its /sys/block entry, as during hotplug.
	write(sda + sdb)
	if got := devices(); got != "sda" {
		t.Fatalf("got %q, want sda", got)
	}
	os.MkdirAll(filepath.Join(sys, "block", "sdb"), 0o755)
	write(sdb + sda) // another change of lines: decisions are made again
	if got := devices(); got != "sdb,sda" {
		t.Fatalf("got %q, want sdb,sda", got)
	}
	write(sdb)
	if got := devices(); got != "sdb" {
		t.Fatalf("got %q, want sdb", got)
	}
	write("8 0 sda 1 2\n")
	wantErr(t, "malformed", c.Update(&recordingEmitter{}), filepath.Join(proc, "diskstats"), "want at least 14")
}
