package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestFirmwareToolchains: the agent and the reader build as a firmware
// build system builds them, with its own Go, GOTOOLCHAIN=local and no
// network.
//
// go.mod's go line is at most the oldest Go the build systems ship: one
// refuses a module whose go line is above its own Go, and each ships its
// own patch release (August 2026: Buildroot 1.26.6, OpenWrt's packages
// feed 1.26.7, openembedded-core 1.26.6); at 1.26.8 all three refused
// the module.
//
// The agent and the reader link no module outside this repository, so
// they build with an empty module cache and no proxy: their recipes need
// no vendoring and no list of modules to fetch (itiny-migrate does).
func TestFirmwareToolchains(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	const oldest = "1.26.6" // Buildroot's and openembedded-core's
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	if v := string(m[1]); versionAfter(v, oldest) {
		t.Errorf("go.mod: go %s, after %s, the Go Buildroot and openembedded-core ship: they would refuse the module", v, oldest)
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

// versionAfter reports whether Go version a (1.26 or 1.26.8) is after b.
func versionAfter(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		x, y := 0, 0
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x > y
		}
	}
	return false
}
