package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/internal/testdir"
)

// TestIrregularFiles puts a FIFO, a directory, a link to /dev/zero and a
// device node where a ring's stage or segment should be, where a path on
// the command line should be a segment or a bundle, and where the
// checkpoint and the credential files should be. itiny-migrate never
// blocks or reads without end: it refuses to start, naming the file and
// what it is (exit 5 for a file of the rings, 2 for a file a flag names),
// and sends nothing.
func TestIrregularFiles(t *testing.T) {
	url := embedded(t, nil)
	for _, shape := range testdir.Shapes {
		t.Run(shape.Name, func(t *testing.T) {
			data := t.TempDir()
			writeRing(t, data, "metrics", 2000, 1<<20)
			segs, _ := filepath.Glob(filepath.Join(data, "metrics", "seg-*"))
			tmp := t.TempDir()
			ck := filepath.Join(tmp, "ck")
			for _, tc := range []struct {
				name   string
				victim string // made of the shape
				args   []string
			}{
				{"stage", filepath.Join(data, "metrics", "stage"), []string{data}},
				{"segment", segs[len(segs)/2], []string{data}},
				{"segment path", filepath.Join(tmp, "seg-0000000000000001.mpk"), []string{filepath.Join(tmp, "seg-0000000000000001.mpk")}},
				{"bundle path", filepath.Join(tmp, "b.tar.gz"), []string{filepath.Join(tmp, "b.tar.gz")}},
				{"checkpoint", ck, []string{"--checkpoint", ck, data}},
				{"sasl file", filepath.Join(tmp, "sasl"), []string{"--sasl-file", filepath.Join(tmp, "sasl"), data}},
				{"creds", filepath.Join(tmp, "creds"), []string{"--creds", filepath.Join(tmp, "creds"), data}},
				{"tls ca", filepath.Join(tmp, "ca"), []string{"--tls-ca", filepath.Join(tmp, "ca"), data}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if shape.Name == "dir" && strings.HasSuffix(tc.name, "path") {
						t.Skip("a directory there is a data directory or a ring")
					}
					saved := tc.victim + ".saved"
					os.Rename(tc.victim, saved)
					defer func() {
						os.RemoveAll(tc.victim)
						os.Rename(saved, tc.victim)
					}()
					shape.Make(t, tc.victim)
					to := url
					if tc.name == "sasl file" {
						to = fmt.Sprintf("kafka://127.0.0.1:%d", deadPort(t))
					}
					args := append([]string{"--to", to, "--scope", "s", "--dry-run"}, tc.args...)
					r := testbin.Run(t, nil, binary, args...)
					want := 5
					if strings.HasPrefix(tc.args[0], "--") {
						want = 2
					}
					if r.Code != want || !strings.Contains(r.Stderr, tc.victim+": "+shape.Kind+", not a regular file") {
						t.Errorf("exit %d, want %d and the file refused\n%s", r.Code, want, r.Stderr)
					}
				})
			}
		})
	}
}
