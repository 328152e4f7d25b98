//go:build !nocpu

package agent

import "testing"

func TestParseStat(t *testing.T) {
	const path = "/proc/stat"
	good := "cpu  170267 0 98578 360193 27938 0 6363 171 0 0\n" +
		"cpu0 90378 0 34271 211823 2092 0 240 76 0 0\n" +
		"intr 32678808 0 0 15 0\n" +
		"ctxt 83218910\n" +
		"btime 1795562949\n" +
		"processes 48761\n" +
		"procs_running 2\n" +
		"procs_blocked 1\n" +
		"softirq 17758638 0 181129 5\n"
	old := "cpu 1 2 3 4\nintr 5\nctxt 6\nprocesses 7\nprocs_running 8\nprocs_blocked 9\n"
	for _, tc := range []struct {
		name, in string
		want     cpuStat
		err      string // in the error, with the path; "" for success
	}{
		{"machine", good, cpuStat{170267, 0, 98578, 360193, 27938, 0, 6363, 171, 83218910, 32678808, 2, 1, 48761}, ""},
		{"old kernel, 4 columns", old, cpuStat{1, 2, 3, 4, 0, 0, 0, 0, 6, 5, 8, 9, 7}, ""},
		{"no trailing newline", old[:len(old)-1], cpuStat{1, 2, 3, 4, 0, 0, 0, 0, 6, 5, 8, 9, 7}, ""},
		{"empty", "", cpuStat{}, "no cpu line"},
		{"short cpu line", "cpu 1 2 3\n", cpuStat{}, "cpu line has 3 columns"},
		{"bad cpu column", "cpu 1 2 x 4\n", cpuStat{}, "cpu column 3"},
		{"negative", "cpu 1 2 3 -4\n", cpuStat{}, "cpu column 4"},
		{"missing ctxt", "cpu 1 2 3 4\nintr 5\nprocesses 7\nprocs_running 8\nprocs_blocked 9\n", cpuStat{}, "no ctxt line"},
		{"bad intr", "cpu 1 2 3 4\nintr x 5\n", cpuStat{}, `"intr x 5"`},
		{"empty ctxt", "cpu 1 2 3 4\nctxt\n", cpuStat{}, "bad number"},
	} {
		_, got, err := parseStat(path, nil, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.name, err, path, tc.err)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestCPUCollector(t *testing.T) {
	c := mustCollector(t, "cpu", testCollectorConfig())
	var e recordingEmitter
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "cpu", e.out.Bytes())
	checkNoAllocs(t, c)
	if _, err := newCollector("cpu", CollectorConfig{Proc: "testdata/none"}); err == nil {
		t.Error("no error for a missing /proc/stat")
	}
	if _, err := newCollector("cpu", CollectorConfig{Proc: "testdata/proc", Options: map[string]string{"bogus": "1"}}); err == nil {
		t.Error("no error for an unknown option")
	}
}
