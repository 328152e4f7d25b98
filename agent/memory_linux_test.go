//go:build !nomemory

package agent

import "testing"

func TestParseMeminfo(t *testing.T) {
	const path = "/proc/meminfo"
	good := "MemTotal:       24684084 kB\n" +
		"MemFree:        24308316 kB\n" +
		"MemAvailable:   24332268 kB\n" +
		"Buffers:            7488 kB\n" +
		"Cached:           191660 kB\n" +
		"SwapCached:            0 kB\n" +
		"Active(anon):       1452 kB\n" +
		"SwapTotal:          1024 kB\n" +
		"SwapFree:            512 kB\n" +
		"Dirty:               280 kB\n" +
		"Writeback:             0 kB\n" +
		"Shmem:              8872 kB\n" +
		"Slab:             113628 kB\n" +
		"SReclaimable:      87884 kB\n" +
		"HugePages_Total:       0\n" +
		"Hugepagesize:       2048 kB\n"
	const k = 1024
	for _, tc := range []struct {
		name, in string
		want     meminfo
		err      string
	}{
		{"machine", good, meminfo{24684084 * k, 24308316 * k, 24332268 * k, 7488 * k, 191660 * k, 1024 * k, 512 * k, 280 * k, 0, 8872 * k, 113628 * k, 87884 * k}, ""},
		{"old kernel", "MemTotal: 100 kB\nMemFree: 50 kB\nBuffers: 1 kB\n", meminfo{100 * k, 50 * k, 0, 1 * k}, ""},
		{"unitless", "MemTotal: 100\nMemFree: 50\n", meminfo{100, 50}, ""},
		{"empty", "", meminfo{}, "no MemTotal or MemFree"},
		{"no MemFree", "MemTotal: 100 kB\n", meminfo{}, "no MemTotal or MemFree"},
		{"no colon", "MemTotal 100 kB\n", meminfo{}, `no key: "MemTotal 100 kB"`},
		{"bad number", "MemTotal: 1x0 kB\n", meminfo{}, "bad number"},
		{"no number", "MemFree:\n", meminfo{}, "want a number and a unit"},
		{"bad unit", "MemTotal: 100 MB\n", meminfo{}, "unit is not kB"},
		{"overflow", "MemTotal: 18446744073709551615 kB\n", meminfo{}, "out of range"},
	} {
		_, got, err := parseMeminfo(path, nil, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.name, err, path, tc.err)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestMemoryCollector(t *testing.T) {
	c := mustCollector(t, "memory", testCollectorConfig())
	var e recordingEmitter
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "memory", e.out.Bytes())
	checkNoAllocs(t, c)
}
