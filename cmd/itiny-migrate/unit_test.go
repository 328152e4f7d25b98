package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit checks packaging/systemd/itiny-forward.service with
// systemd-analyze verify, which warns of an unknown key but exits 0: the
// test wants it silent. The unit's ExecStart points at this test's
// binary (verify wants an executable there), and runs it with --follow.
func TestSystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is not installed (make test installs it: scripts/deps.sh): %v", err)
	}
	unit, err := os.ReadFile("../../packaging/systemd/itiny-forward.service")
	if err != nil {
		t.Fatal(err)
	}
	text := string(unit)
	for _, want := range []string{"ExecStart=/usr/bin/itiny-migrate --follow ", "Restart=always", "ReadOnlyPaths=/var/lib/itiny", "NoNewPrivileges=yes"} {
		if !strings.Contains(text, want) {
			t.Errorf("the unit has no %q", want)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "itiny-forward.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, "/usr/bin/itiny-migrate", binary)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Its flags are the command's: --help lists every one it uses.
	r := migrateCmd(t, nil, "--help")
	for _, flag := range []string{"-follow", "-checkpoint", "-status-file", "-progress", "-to"} {
		if !strings.Contains(r.stderr, "  "+flag+" ") && !strings.Contains(r.stderr, "  "+flag+"\n") {
			t.Errorf("the unit's flag %s is not in --help", flag)
		}
	}
}
