package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/bundle"
	"github.com/itiny/itiny/internal/hostile"
	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/internal/testdir"
)

// TestBundleMemory reads bundles made to take memory (a megabyte of zeros
// compressed that is a gigabyte, twenty thousand rings, records of a
// million one-byte values, packed rings of 60 KB records:
// hostile.Write) in every mode, and finds the peak resident
// memory of itiny-read (getrusage) within the default --bundle-memory,
// 256 MiB: the bundle is read, or refused with an error naming the file
// that goes over and the limit.
func TestBundleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads about 500 MB")
	}
	for _, b := range hostile.WriteT(t, testdir.TempDir(t)) {
		t.Run(b.Name, func(t *testing.T) {
			for _, mode := range [][]string{{"-o", "json"}, {"verify"}, {"stats"}, {"report", "-o", filepath.Join(t.TempDir(), "r.html")}} {
				t.Run(strings.Replace(mode[0], "-o", "dump", 1), func(t *testing.T) {
					b.Check(t, testbin.Run(t, nil, binary, append(mode, b.Path)...), bundle.DefaultMemory, 1)
				})
			}
		})
	}
}

// TestBundleMemoryFlag: --bundle-memory raises the limit, and lowers it.
func TestBundleMemoryFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads 180 MiB")
	}
	p := filepath.Join(testdir.TempDir(t), "zeros.tar.gz")
	if err := hostile.Zeros(p, 3, 60<<20); err != nil {
		t.Fatal(err)
	} // more than the default's 128 MiB
	for _, tc := range []struct {
		mem, refused string // refused: the file named, "" if read
		limit        int64
	}{
		{"", `"s2/seg-0000000000000001.mpk"`, bundle.DefaultMemory},
		{"512MiB", "", 512 << 20},
		{"64MiB", `"s0/seg-0000000000000001.mpk"`, 64 << 20},
	} {
		args := []string{"verify", p}
		if tc.mem != "" {
			args = []string{"verify", "--bundle-memory", tc.mem, p}
		}
		r := testbin.Run(t, nil, binary, args...)
		t.Logf("--bundle-memory %q: exit %d, peak RSS %.1f MiB", tc.mem, r.Code, float64(r.MaxRSS)/(1<<20))
		refused := strings.Contains(r.Stderr, "over the limits")
		if tc.refused != "" && (!refused || !strings.Contains(r.Stderr, tc.refused) || !strings.Contains(r.Stderr, "--bundle-memory")) ||
			tc.refused == "" && (refused || strings.Count(r.Stdout, "bad-header") != 3) {
			t.Errorf("--bundle-memory %q: want %q refused (\"\": read)\n%s%s", tc.mem, tc.refused, r.Stdout, r.Stderr)
		}
		if r.MaxRSS > tc.limit {
			t.Errorf("--bundle-memory %q: peak RSS %d bytes, over %d", tc.mem, r.MaxRSS, tc.limit)
		}
	}
}
