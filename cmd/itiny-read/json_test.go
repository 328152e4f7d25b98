package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestJSONOutput compares verify --json and stats --json with what the
// itiny-read of before its own JSON writer printed for the same rings
// (testdata/golden.json, testdata/bundle.json, kept byte for byte): every
// golden ring (gaps, damage, null and empty lists, fractional rates) and
// the bundle fixture, a bundle that itiny-read wrote.
func TestJSONOutput(t *testing.T) {
	golden, err := filepath.Glob(filepath.Join("..", "..", "testdata", "golden", "v1-*"))
	if err != nil {
		t.Fatal(err)
	}
	var rings []string
	for _, g := range golden {
		if fi, err := os.Stat(g); err == nil && fi.IsDir() {
			rings = append(rings, g)
		}
	}
	if len(rings) < 10 {
		t.Fatalf("%d golden rings", len(rings))
	}
	for _, tc := range []struct {
		want  string
		code  int
		paths []string
	}{
		{"golden.json", 1, rings},
		{"bundle.json", 1, []string{filepath.Join("..", "..", "bundle", "testdata", "v1.tar.gz")}},
	} {
		want, err := os.ReadFile(filepath.Join("testdata", tc.want))
		if err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"verify", "stats"} {
			wantCode := map[string]int{"verify": tc.code, "stats": 0}[cmd]
			out, errOut, code := run(t, append([]string{cmd, "--json"}, tc.paths...)...)
			if code != wantCode || out != string(want) {
				t.Errorf("%s --json (testdata/%s): exit %d (want %d), stderr %q, output:\n%s", cmd, tc.want, code, wantCode, errOut, out)
			}
		}
	}
}
