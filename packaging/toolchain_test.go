package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFirmwareToolchains: the agent and the reader build as a firmware
// build system builds them, with its own Go, GOTOOLCHAIN=local and no
// network.
//
// go.mod's go line names a minor version's first release (1.26.0): a
// build system refuses a module whose go line is above the Go it ships,
// and each ships its own patch release (August 2026: Buildroot 1.26.6,
// OpenWrt's packages feed 1.26.7, openembedded-core 1.26.6); at 1.26.8
// all three refused the module.
//
// The agent and the reader link no module outside this repository, so
// they build with an empty module cache and no proxy: their recipes need
// no vendoring and no list of modules to fetch (itiny-migrate does).
func TestFirmwareToolchains(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if m == nil || !regexp.MustCompile(`^\d+\.\d+(\.0)?$`).Match(m[1]) {
		t.Errorf("go.mod: go %s, want a minor version's first release (1.26.0): Buildroot's, OpenWrt's and Yocto's Go are earlier patch releases", m)
	}
	list := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./cmd/itiny", "./cmd/itiny-read")
	list.Dir = ".."
	out, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/itiny/itiny" && !strings.HasPrefix(p, "github.com/itiny/itiny/") {
			t.Errorf("the agent or the reader imports %s, a module a firmware recipe would have to fetch", p)
		}
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-modcacherw", "-o", bin, "./cmd/itiny", "./cmd/itiny-read")
	build.Dir = ".."
	build.Env = append(os.Environ(), "GOPROXY=off", "GOMODCACHE="+t.TempDir(), "GOTOOLCHAIN=local", "GOFLAGS=", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build without network or module cache: %v\n%s", err, out)
	}
	for _, name := range []string{"itiny", "itiny-read"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			t.Error(err)
		}
	}
}
