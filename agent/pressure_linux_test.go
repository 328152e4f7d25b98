//go:build !nopressure

package agent

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParsePressure(t *testing.T) {
	const path = "/proc/pressure/memory"
	good := "some avg10=0.22 avg60=1.74 avg300=6.51 total=1090678455\n" +
		"full avg10=0.00 avg60=0.83 avg300=4.82 total=278873620\n"
	for _, tc := range []struct {
		name, in string
		want     psi
		err      string
	}{
		{"machine", good, psi{psiLine{0.22, 1.74, 1090678455}, psiLine{0, 0.83, 278873620}}, ""},
		{"cpu before 5.13", "some avg10=1.50 avg60=0.00 avg300=0.00 total=7\n", psi{some: psiLine{1.5, 0, 7}}, ""},
		{"empty", "", psi{}, "no some line"},
		{"full only", "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", psi{}, "no some line"},
		{"other line", "most avg10=0.00\n", psi{}, `want a some or full line: "most avg10=0.00"`},
		{"no equals", "some avg10 0.2\n", psi{}, "want key=value"},
		{"bad avg", "some avg10=x avg60=0 total=0\n", psi{}, "bad number"},
		{"bad total", "some avg10=0 avg60=0 total=-1\n", psi{}, "bad number"},
		{"no total", "some avg10=0 avg60=0 avg300=0\n", psi{}, "want avg10, avg60 and total"},
	} {
		_, got, err := parsePressure(path, nil, []byte(tc.in))
		if tc.err != "" {
			wantErr(t, tc.name, err, path, tc.err)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestPressureCollector(t *testing.T) {
	c := mustCollector(t, "pressure", testCollectorConfig())
	var e recordingEmitter
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "pressure", e.out.Bytes())
	checkNoAllocs(t, c)
}

func TestPressureMissing(t *testing.T) {
	// A kernel without PSI: no directory, no records, no error.
	c := mustCollector(t, "pressure", CollectorConfig{Proc: t.TempDir()})
	var e recordingEmitter
	if err := c.Update(&e); err != nil || e.count != 0 {
		t.Fatalf("%d records, %v", e.count, err)
	}
	// Malformed content is an error naming the file.
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "pressure"), 0o755)
	bad := filepath.Join(dir, "pressure", "io")
	os.WriteFile(bad, []byte("some avg10=oops\n"), 0o644)
	c = mustCollector(t, "pressure", CollectorConfig{Proc: dir})
	wantErr(t, "malformed io", c.Update(&e), bad, "bad number")
}
