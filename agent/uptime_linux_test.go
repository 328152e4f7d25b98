//go:build !nouptime

package agent

import "testing"

func TestParseUptime(t *testing.T) {
	const path = "/proc/uptime"
	for _, tc := range []struct {
		in       string
		up, idle float64
		err      string
	}{
		{"3429.63 3601.93\n", 3429.63, 3601.93, ""},
		{"0.00 0.00", 0, 0, ""},
		{"", 0, 0, "want 2 numbers"},
		{"3429.63\n", 0, 0, `want 2 numbers: "3429.63\n"`},
		{"1 2 3\n", 0, 0, "want 2 numbers"},
		{"1.5 x\n", 0, 0, "bad number"},
		{"-1 2\n", 0, 0, "bad number"},
	} {
		_, up, idle, err := parseUptime(path, nil, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.in, err, path, tc.err)
			continue
		}
		if err != nil || up != tc.up || idle != tc.idle {
			t.Errorf("%q: got %v %v, %v", tc.in, up, idle, err)
		}
	}
}

func TestUptimeCollector(t *testing.T) {
	c := mustCollector(t, "uptime", testCollectorConfig())
	var e recordingEmitter
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "uptime", e.out.Bytes())
	checkNoAllocs(t, c)
}
