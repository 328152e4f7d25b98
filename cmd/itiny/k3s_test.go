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
// kubectl, curl and etcdctl that print what the tools print
// (testdata/k3s; TestK3sAPI and TestK3sEtcdKeys run the real ones): each
// snapshot's output is in the state stream as the command printed it,
// etcd's 300 KB of keys are cut at the recipe's max_output (under a
// segment of the state stream) and marked truncated, and the DaemonSet's
// ConfigMap holds the same recipes, a configuration itiny config check
// takes.
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
	conf := recipeConfig(t, dir, nil)
	if out, err := exec.Command(binary, "config", "check", conf).CombinedOutput(); err != nil {
		t.Fatalf("itiny config check: %v\n%s", err, out)
	}
	standins, _ := filepath.Abs("../../testdata/k3s/bin")
	data := filepath.Join(dir, "data")
	p := startRecipes(t, data, conf, "PATH="+standins+":"+os.Getenv("PATH"), "HOME="+dir)
	defer p.terminate()
	want := map[string]string{
		"k8s_deployments":   "deployments.json",
		"k8s_crds":          "crds.json",
		"k8s_appliance_crs": "appliance-crs.json",
		"k8s_nodes":         "nodes.json",
	}
	got := waitSnapshots(t, p, data, len(want)+1)
	checkRecorded(t, got, want, nil)
	keys := got["etcd_keys"]
	if !keys.truncated || len(keys.output) != 96<<10 || !strings.HasPrefix(keys.output, "/registry/appliance.example.com/volumes/appliance/vol-0\n") {
		t.Errorf("etcd_keys: truncated %v, %d bytes (want 96 KiB, the recipe's max_output)", keys.truncated, len(keys.output))
	}
}

// recipeConfig writes dir/itiny.conf and returns its path: the sections
// of packaging/k3s/snapshots.conf named (all of them for none), with the
// replacements made, each of which must find what it replaces (else the
// recipe changed and the test with it), and the recipes' intervals of
// minutes made a fraction of a second.
func recipeConfig(t *testing.T, dir string, replace map[string]string, names ...string) string {
	t.Helper()
	recipes, err := os.ReadFile("../../packaging/k3s/snapshots.conf")
	if err != nil {
		t.Fatal(err)
	}
	text := string(recipes)
	if names != nil {
		var b strings.Builder
		for _, n := range names {
			_, sec, ok := strings.Cut(text, "[collector snapshot."+n+"]\n")
			if !ok {
				t.Fatalf("packaging/k3s/snapshots.conf has no [collector snapshot.%s]", n)
			}
			sec, _, _ = strings.Cut(sec, "\n[")
			b.WriteString("[collector snapshot." + n + "]\n" + strings.TrimRight(sec, "\n") + "\n\n")
		}
		text = b.String()
	}
	for from, to := range replace {
		if !strings.Contains(text, from) {
			t.Fatalf("the recipes %v no longer name %s: update this test", names, from)
		}
		text = strings.ReplaceAll(text, from, to)
	}
	text = regexp.MustCompile(`(?m)^interval = \d+s$`).ReplaceAllString(text, "interval = 200ms")
	conf := filepath.Join(dir, "itiny.conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// startRecipes starts the agent on data with the configuration conf, env
// added to its environment.
func startRecipes(t *testing.T, data, conf string, env ...string) *proc {
	t.Helper()
	p := &proc{cmd: runAgent(t, "--data", data, "--config", conf), log: &syncWriter{}, sock: filepath.Join(data, "itiny.sock")}
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkRecorded checks that each snapshot named in want exited 0 and
// printed, whole, the file of testdata/k3s want names; clean, when not
// nil, first takes out of the output what the file need not hold.
func checkRecorded(t *testing.T, got map[string]snap, want map[string]string, clean func(string) string) {
	t.Helper()
	for name, file := range want {
		b, err := os.ReadFile(filepath.Join("../../testdata/k3s", file))
		if err != nil {
			t.Fatal(err)
		}
		s := got[name]
		if clean != nil {
			s.output = clean(s.output)
		}
		if s.output != string(b) || s.exit != 0 || s.truncated {
			t.Errorf("%s: exit %d, truncated %v, printed:\n%s\nwant testdata/k3s/%s:\n%s", name, s.exit, s.truncated, s.output, file, b)
		}
	}
}

// A snap is what a snapshot record says.
type snap struct {
	output    string
	exit      int64
	truncated bool
}

// waitSnapshots returns the snapshots in the state stream of the agent p
// runs on data, by name, once there are n of them.
func waitSnapshots(t *testing.T, p *proc, data string, n int) map[string]snap {
	t.Helper()
	got := map[string]snap{}
	for deadline := time.Now().Add(time.Minute); len(got) < n; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("snapshots seen: %v; the agent's log:\n%s", got, p.logText())
		}
		if _, err := os.Stat(filepath.Join(data, "state")); err != nil {
			continue
		}
		p.cmd.Process.Signal(syscall.SIGUSR1) // flush, so that the ring holds them
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
	return got
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
