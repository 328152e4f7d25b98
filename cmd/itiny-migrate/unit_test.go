package main

import (
	"strings"
	"testing"

	"github.com/itiny/itiny/internal/testbin"
)

// TestSystemdUnit checks packaging/systemd/itiny-forward.service with
// systemd-analyze verify, which warns of an unknown key but exits 0: the
// test wants it silent. The unit's ExecStart points at this test's
// binary (verify wants an executable there), and runs it with --follow.
func TestSystemdUnit(t *testing.T) {
	text, _ := testbin.VerifyUnit(t, "../../packaging/systemd/itiny-forward.service", "/usr/bin/itiny-migrate", binary, "")
	for _, want := range []string{"ExecStart=/usr/bin/itiny-migrate --follow ", "Restart=always", "ReadOnlyPaths=/var/lib/itiny", "NoNewPrivileges=yes"} {
		if !strings.Contains(text, want) {
			t.Errorf("the unit has no %q", want)
		}
	}
	// Its flags are the command's: --help lists every one it uses.
	r := migrateCmd(t, nil, "--help")
	for _, flag := range []string{"-follow", "-checkpoint", "-status-file", "-progress", "-to"} {
		if !strings.Contains(r.stderr, "  "+flag+" ") && !strings.Contains(r.stderr, "  "+flag+"\n") {
			t.Errorf("the unit's flag %s is not in --help", flag)
		}
	}
}
