package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/itiny/itiny/codec"
)

// TestFlashRules runs the real agent on its default configuration and a
// sysfs root whose eMMC is at its 90% life step with 80% of its reserved
// blocks used: the default rules raise the life warning and err and the
// reserve warning, not the reserve err, and itiny-read shows the wear.
func TestFlashRules(t *testing.T) {
	sys := t.TempDir()
	card := filepath.Join(sys, "class", "mmc_host", "mmc0", "mmc0:0001")
	os.MkdirAll(filepath.Join(card, "block", "mmcblk0"), 0o755)
	os.WriteFile(filepath.Join(card, "life_time"), []byte("0x0a 0x01\n"), 0o644)
	os.WriteFile(filepath.Join(card, "pre_eol_info"), []byte("0x02\n"), 0o644)
	data := t.TempDir()
	p := launchWith(t, data, "--path.sysfs", sys)
	defer p.stop()
	waitListening(t, p)
	cmd := p.cmd
	want := map[string]codec.Level{"rule.flash-life-80": codec.LevelWarning, "rule.flash-life-90": codec.LevelErr, "rule.flash-reserve-80": codec.LevelWarning}
	for _, name := range []string{"rule.flash-life-80", "rule.flash-life-90", "rule.flash-reserve-80"} {
		r, _ := waitRecord(t, data, "events", name, 0, func(r codec.Record, f map[string]codec.Value) bool { return r.Name == name })
		if f := procFields(r); r.Level != want[name] || f["instance"].Str() != "mmcblk0" {
			t.Errorf("%s: %v %v", name, r.Level, f)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("agent: %v\n%s", err, p.logText())
	}
	for _, r := range readRing(t, filepath.Join(data, "events")) {
		if r.Name == "rule.flash-reserve-90" {
			t.Errorf("the 90%% reserve rule fired at 80%%: %v", r)
		}
	}
	reader := itinyRead(t)
	out, err := exec.Command(reader, "--stream", "metrics", "name=flash", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "device=mmcblk0") || !strings.Contains(string(out), "life_pct=90") {
		t.Errorf("itiny-read name=flash: %v\n%s", err, out)
	}
}
