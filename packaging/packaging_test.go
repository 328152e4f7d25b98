// Package packaging holds what a firmware builder needs to put itiny in
// an image: a systemd unit and a SysV/BusyBox init script (tested with
// the real binary in cmd/itiny), an OpenWrt package with its procd init
// script, a Buildroot package and a Yocto recipe (README, "Running as a
// service"). Its tests check every shell script of the repository with
// shellcheck, that the recipes name files that exist and the version the
// binaries say, that the build systems' own Go builds the agent offline,
// and install, as make install and as a .deb, what they install.
package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/itiny/itiny/internal/version"
)

// TestShellcheck: every shell script of the repository passes shellcheck
// at its default severity, each in the shell it says it is for.
func TestShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatalf("shellcheck is not installed (make test installs it: scripts/deps.sh): %v", err)
	}
	var scripts []string
	filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || name == "bin" || name == ".git" || name == "out" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		first, _, _ := bytes.Cut(b, []byte("\n"))
		if strings.HasSuffix(path, ".sh") || bytes.HasPrefix(first, []byte("#!")) && bytes.Contains(first, []byte("sh")) {
			scripts = append(scripts, path)
		}
		return nil
	})
	for _, want := range []string{"../packaging/sysv/itiny", "../packaging/openwrt/itiny/files/itiny.init", "../scripts/firmware.sh", "../.ci/run", "../bench/lib.sh"} {
		found := false
		for _, s := range scripts {
			found = found || s == want
		}
		if !found {
			t.Errorf("%s is not among the scripts checked: %v", want, scripts)
		}
	}
	// From the repository's root, following what the scripts source.
	for i, s := range scripts {
		scripts[i] = strings.TrimPrefix(s, "../")
	}
	cmd := exec.Command(sc, append([]string{"-x"}, scripts...)...)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck %d scripts: %v\n%s", len(scripts), err, out)
	}
	t.Logf("%d scripts pass shellcheck", len(scripts))
}

// TestRecipes: the OpenWrt, Buildroot and Yocto recipes install files
// that exist, build commands that exist, and carry the version of the
// source they build.
func TestRecipes(t *testing.T) {
	release, _, _ := strings.Cut(version.String, "-")
	for _, tc := range []struct {
		file    string
		version *regexp.Regexp
	}{
		{"openwrt/itiny/Makefile", regexp.MustCompile(`(?m)^PKG_VERSION:=(\S+)$`)},
		{"buildroot/itiny/itiny.mk", regexp.MustCompile(`(?m)^ITINY_VERSION = (\S+)$`)},
		{"yocto/itiny_" + release + ".bb", nil},
	} {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if tc.version != nil {
			if m := tc.version.FindStringSubmatch(text); m == nil || m[1] != release {
				t.Errorf("%s: version %v, want %s (internal/version)", tc.file, m, release)
			}
		}
		// Paths in the source tree the recipe installs or builds.
		for _, m := range regexp.MustCompile(`(agent/default\.conf|packaging/[\w/.-]+|files/[\w.-]+|cmd/itiny[\w-]*)`).FindAllString(text, -1) {
			p := filepath.Join("..", m)
			if strings.HasPrefix(m, "files/") {
				p = filepath.Join(filepath.Dir(tc.file), m)
			}
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s names %s: %v", tc.file, m, err)
			}
		}
		if !strings.Contains(text, "agent/default.conf") || !strings.Contains(text, "/etc/itiny.conf") && !strings.Contains(text, "{sysconfdir}/itiny.conf") {
			t.Errorf("%s does not install agent/default.conf as /etc/itiny.conf", tc.file)
		}
	}
}
