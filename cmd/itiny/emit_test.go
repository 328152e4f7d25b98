package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestEmitSaysBuffered: itiny emit -v says whether the agent stored the
// record or only holds it until its periodic stream's next flush, for a
// record from the command line and from JSON; and a SIGKILL then takes
// exactly the buffered ones. (`ok 13` once answered a metrics record a
// SIGKILL then lost.)
func TestEmitSaysBuffered(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(t.TempDir(), "itiny.conf")
	os.WriteFile(conf, []byte(e2eConfig), 0o644) // metrics: periodic, flush 1h
	p := start(t, data, conf)
	defer p.cmd.Process.Kill()
	emit := func(stdin string, args ...string) string {
		cmd := exec.Command(binary, append([]string{"emit", "--data", data, "-v"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("itiny emit %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"--stream", "metrics", "kept.in.memory"}, `^\d+ buffered$`},
		{"", []string{"--stream", "events", "kept.on.disk"}, `^\d+ stored$`},
		{`{"stream":"metrics","name":"json.in.memory","level":"info"}` + "\n" + `{"stream":"state","name":"json.on.disk","level":"info"}` + "\n", []string{"--json"}, `^\d+ buffered\n\d+ stored$`},
	} {
		if got := emit(tc.stdin, tc.args...); !regexp.MustCompile(tc.want).MatchString(got) {
			t.Errorf("itiny emit -v %v: %q, want %s", tc.args, got, tc.want)
		}
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	var names []string
	for _, s := range []string{"metrics", "events", "state"} {
		for _, r := range readRing(t, filepath.Join(data, s)) {
			names = append(names, r.Name)
		}
	}
	for name, stored := range map[string]bool{"kept.on.disk": true, "json.on.disk": true, "kept.in.memory": false, "json.in.memory": false} {
		if slices.Contains(names, name) != stored {
			t.Errorf("after SIGKILL, %s in the rings: %v; its answer said stored: %v", name, !stored, stored)
		}
	}
}
