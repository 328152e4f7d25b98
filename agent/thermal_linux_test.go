//go:build !nothermal

package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMillidegrees(t *testing.T) {
	const path = "/sys/class/thermal/thermal_zone0/temp"
	for _, tc := range []struct {
		in   string
		want float64
		err  string
	}{
		{"45000\n", 45, ""},
		{"27800", 27.8, ""},
		{"-5500\n", -5.5, ""},
		{"0\n", 0, ""},
		{"", 0, "want millidegrees"},
		{"45.0\n", 0, `got "45.0\n"`},
		{"-\n", 0, "want millidegrees"},
	} {
		got, err := parseMillidegrees(path, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.in, err, path, tc.err)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %v, %v", tc.in, got, err)
		}
	}
}

func TestThermalCollector(t *testing.T) {
	c := mustCollector(t, "thermal", testCollectorConfig())
	var e recordingEmitter
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "thermal", e.out.Bytes())
	checkNoAllocs(t, c)
}

func TestThermalZones(t *testing.T) {
	// No thermal directory: no records, no error.
	c := mustCollector(t, "thermal", CollectorConfig{Sys: t.TempDir()})
	var e recordingEmitter
	if err := c.Update(&e); err != nil || e.count != 0 {
		t.Fatalf("%d records, %v", e.count, err)
	}
	// Zones in numeric order; a zone failing does not hide the others.
	sys := t.TempDir()
	zone := func(n, typ, temp string) string {
		dir := filepath.Join(sys, "class", "thermal", "thermal_zone"+n)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "type"), []byte(typ+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "temp"), []byte(temp), 0o644)
		return filepath.Join(dir, "temp")
	}
	zone("10", "cpu-thermal", "61000\n")
	bad := zone("2", "battery", "n/a\n")
	zone("1", "outdoor", "-12500\n")
	c = mustCollector(t, "thermal", CollectorConfig{Sys: sys})
	err := c.Update(&e)
	wantErr(t, "bad zone", err, bad, "want millidegrees")
	out := e.out.String()
	i1, i10 := strings.Index(out, `"zone":"thermal_zone1","type":"outdoor","temp_c":-12.5`), strings.Index(out, `"zone":"thermal_zone10","type":"cpu-thermal","temp_c":61.0`)
	if e.count != 2 || i1 < 0 || i10 < i1 {
		t.Errorf("got %s", out)
	}
}
