package sar

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/itiny/itiny/codec"
)

// golden reads the agent's golden collector output: one sample of each
// collector, all of one boot at one monotonic time.
func golden(t *testing.T) []*codec.Record {
	t.Helper()
	files, err := filepath.Glob("../agent/testdata/golden/*.jsonl")
	if err != nil || len(files) < 10 {
		t.Fatalf("golden files: %d, %v", len(files), err)
	}
	var recs []*codec.Record
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			r := new(codec.Record)
			if err := codec.DecodeJSON(sc.Bytes(), r); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			r.Wall = t0 // zero in the golden files
			recs = append(recs, r)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

// TestGolden renders what the agent's collectors write through every
// report: with one sample per record there is no interval, so the rate
// reports show nothing and the gauges show as the golden values give
// them (worked out by hand below); nothing is negative or infinite.
func TestGolden(t *testing.T) {
	recs := golden(t)
	want := map[string][]string{
		"cpu":  nil,
		"net":  nil,
		"disk": nil,
		// mem_free 25042714624 B = 24455776 kB; used 25276502016 -
		// 25042714624 - 688128 - 46587904 - 115642368 = 70868992 B =
		// 69208 kB, 0.28% of the total; no swap.
		"mem": {"0s 24455776.00 24392412.00 69208.00 0.28 672.00 45496.00 92.00 0.00 0.00 0.00"},
		// size 4096000 B, free 1638400 (1.56 MB), avail 1228800: used
		// 2457600 (2.34 MB, 60%), 70% of a user's; 10 of 100 inodes.
		"fs": {"0s /dev/shm 1.56 2.34 60.00 70.00 90.00 10.00 10.00"},
		// blocked from cpu.jsonl, read before.
		"load": {"0s 1.00 80.00 0.20 0.18 0.12 0.00"},
		"psi":  {"0s cpu 0.39 0.37 - 0.00 0.00 -"},
		"temp": {"0s thermal_zone0 x86_pkg_temp 45.00"},
	}
	for _, rep := range Reports {
		t.Run(rep.Name, func(t *testing.T) {
			var got rows
			r := NewReader(rep, &got, Options{})
			for _, rec := range recs {
				if err := r.Add(rec); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			w, ok := want[rep.Name]
			if !ok {
				t.Fatalf("no expectation for report %s", rep.Name)
			}
			if len(w) == 0 && len(got) > 0 {
				t.Errorf("rows from one sample: %v", got)
			}
			if len(w) > 0 && (len(got) == 0 || got[0].String() != w[0]) {
				t.Errorf("first row %v, want %s", got, w[0])
			}
			for _, row := range got {
				if row.Kind == Mark {
					t.Errorf("mark in one boot: %v", row)
				}
				for _, v := range row.Values {
					if v < 0 || math.IsInf(v, 0) {
						t.Errorf("row %v", row)
					}
				}
			}
		})
	}
}
