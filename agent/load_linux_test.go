//go:build !noload

package agent

import "testing"

func TestParseLoad(t *testing.T) {
	const path = "/proc/loadavg"
	for _, tc := range []struct {
		in   string
		want loadavg
		err  string
	}{
		{"0.20 0.18 0.12 1/80 11206\n", loadavg{0.20, 0.18, 0.12, 1, 80}, ""},
		{"12.5 3.00 0.00 17/1024 1", loadavg{12.5, 3, 0, 17, 1024}, ""},
		{"", loadavg{}, "want 5 columns"},
		{"0.20 0.18 0.12\n", loadavg{}, `want 5 columns: "0.20 0.18 0.12\n"`},
		{"0.20 0.18 0.12 80 11206\n", loadavg{}, "want running/tasks"},
		{"0.20 x 0.12 1/80 11206\n", loadavg{}, "bad number"},
		{"0.20 0.18 0.12 1/-80 11206\n", loadavg{}, "bad number"},
	} {
		_, got, err := parseLoad(path, nil, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.in, err, path, tc.err)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v", tc.in, got, err)
		}
	}
}

func TestLoadCollector(t *testing.T) {
	c := mustCollector(t, "load", testCollectorConfig())
	var e recordingEmitter
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "load", e.out.Bytes())
	checkNoAllocs(t, c)
}
