package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestK3sRecipes runs the agent with packaging/k3s/snapshots.conf, the
// cluster-state recipes of the k3s DaemonSet, against stand-ins for
// kubectl, curl and etcdctl that print what a cluster printed
// (testdata/k3s): each snapshot's output is in the state stream as the
// command printed it, etcd's 300 KB of keys are cut at the recipe's
// max_output (under a segment of the state stream) and marked truncated, and the DaemonSet's ConfigMap holds
// the same recipes, a configuration itiny config check takes.
func TestK3sRecipes(t *testing.T) {
	recipes, err := os.ReadFile("../../packaging/k3s/snapshots.conf")
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile("../../packaging/k3s/itiny-daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := configMapText(string(manifest)); got != string(recipes) {
		t.Errorf("the DaemonSet's ConfigMap is not packaging/k3s/snapshots.conf:\n%s", got)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "itiny.conf")
	// The recipes' intervals are minutes; the test's are a fraction of a
	// second.
	fast := regexp.MustCompile(`(?m)^interval = \d+s$`).ReplaceAllString(string(recipes), "interval = 200ms")
	if err := os.WriteFile(conf, []byte(fast), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(binary, "config", "check", conf).CombinedOutput(); err != nil {
		t.Fatalf("itiny config check: %v\n%s", err, out)
	}
	standins, _ := filepath.Abs("../../testdata/k3s/bin")
	data := filepath.Join(dir, "data")
	cmd := runAgent(t, "--data", data, "--config", conf)
	cmd.Env = append(os.Environ(), "PATH="+standins+":"+os.Getenv("PATH"), "HOME="+dir)
	p := &proc{cmd: cmd, log: &syncWriter{}, sock: filepath.Join(data, "itiny.sock")}
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	want := map[string]string{
		"k8s_deployments":   "deployments.json",
		"k8s_crds":          "crds.json",
		"k8s_appliance_crs": "appliance-crs.json",
		"k8s_nodes":         "nodes.json",
	}
	type snap struct {
		output    string
		exit      int64
		truncated bool
	}
	got := map[string]snap{}
	for deadline := time.Now().Add(time.Minute); len(got) < len(want)+1; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("snapshots seen: %v; the agent's log:\n%s", got, p.logText())
		}
		if _, err := os.Stat(filepath.Join(data, "state")); err != nil {
			continue
		}
		cmd.Process.Signal(syscall.SIGUSR1) // flush, so that the ring holds them
		for _, r := range readRing(t, filepath.Join(data, "state")) {
			if r.Name != "snapshot" {
				continue
			}
			var s snap
			name := ""
			for _, f := range r.Fields {
				switch f.Key {
				case "snapshot":
					name = f.Value.Str()
				case "output":
					s.output = f.Value.Str()
				case "exit_code":
					s.exit = f.Value.Int()
				case "truncated":
					s.truncated = f.Value.Bool()
				}
			}
			got[name] = s
		}
	}
	for name, file := range want {
		b, err := os.ReadFile(filepath.Join("../../testdata/k3s", file))
		if err != nil {
			t.Fatal(err)
		}
		if s := got[name]; s.output != string(b) || s.exit != 0 || s.truncated {
			t.Errorf("%s: exit %d, truncated %v, output:\n%s\nwant %s", name, s.exit, s.truncated, s.output, file)
		}
	}
	keys := got["etcd_keys"]
	if !keys.truncated || len(keys.output) != 96<<10 || !strings.HasPrefix(keys.output, "/registry/appliance.example.com/volumes/appliance/vol-0\n") {
		t.Errorf("etcd_keys: truncated %v, %d bytes (want 96 KiB, the recipe's max_output)", keys.truncated, len(keys.output))
	}
}

// configMapText returns the itiny.conf of the manifest's ConfigMap, its
// block's indentation taken off.
func configMapText(manifest string) string {
	_, block, ok := strings.Cut(manifest, "  itiny.conf: |\n")
	if !ok {
		return ""
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(block, "\n") {
		if l == "\n" {
			b.WriteString(l)
			continue
		}
		rest, ok := strings.CutPrefix(l, "    ")
		if !ok {
			break
		}
		b.WriteString(rest)
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}
