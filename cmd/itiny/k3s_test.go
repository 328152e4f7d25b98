package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/testpki"
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
	got := waitSnapshots(t, p, data, len(want)+1)
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

// TestK3sEtcdKeys runs the recipes' etcd_keys command as written, through
// the agent, against a real etcd (Debian's etcd-server) serving TLS on
// 127.0.0.1 and asking for a client certificate, as k3s's embedded etcd
// does: only k3s's certificate paths and port are the test's. The keys
// under /registry/ are in the state stream as etcdctl prints them, and
// no value, nor a key outside /registry/.
func TestK3sEtcdKeys(t *testing.T) {
	etcd, err := exec.LookPath("etcd")
	if err != nil {
		t.Fatal("etcd is not installed (make deps installs etcd-server): ", err)
	}
	etcdctl, err := exec.LookPath("etcdctl")
	if err != nil {
		t.Fatal("etcdctl is not installed (make deps installs etcd-client): ", err)
	}
	recipes, err := os.ReadFile("../../packaging/k3s/snapshots.conf")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(recipes), "[collector snapshot.etcd_keys]\n")
	if !ok {
		t.Fatal("packaging/k3s/snapshots.conf has no [collector snapshot.etcd_keys]")
	}
	section, _, _ = strings.Cut(section, "\n[")
	pki := testpki.New(t)
	client, peer := freePort(t), freePort(t)
	endpoint := "https://127.0.0.1:" + client
	dir := t.TempDir()
	srv := exec.Command(etcd, "--name", "itiny-test", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
		"--listen-peer-urls", "http://127.0.0.1:"+peer, "--initial-advertise-peer-urls", "http://127.0.0.1:"+peer,
		"--initial-cluster", "itiny-test=http://127.0.0.1:"+peer,
		"--cert-file", pki.ServerCert, "--key-file", pki.ServerKey, "--trusted-ca-file", pki.CA, "--client-cert-auth",
		"--logger", "zap", "--log-level", "error")
	srvLog := &syncWriter{}
	srv.Stdout, srv.Stderr = srvLog, srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Kill() // ours, by its PID
		srv.Wait()
	}()
	ctl := func(args ...string) ([]byte, error) {
		cmd := exec.Command(etcdctl, append([]string{"--endpoints=" + endpoint, "--cacert=" + pki.CA,
			"--cert=" + pki.ClientCert, "--key=" + pki.ClientKey, "--command-timeout=5s"}, args...)...)
		cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
		return cmd.CombinedOutput()
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out, err := ctl("endpoint", "health")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd not healthy: %v\n%s\netcd's log:\n%s", err, out, srvLog.String())
		}
	}
	keys := []string{
		"/registry/appliance.example.com/volumes/appliance/vol-0",
		"/registry/appliance.example.com/volumes/appliance/vol-1",
		"/registry/deployments/kube-system/coredns",
		"/registry/secrets/appliance/keys",
	}
	for _, k := range append(keys, "/other/not-listed") {
		if out, err := ctl("put", k, "secret value of "+k); err != nil {
			t.Fatalf("etcdctl put %s: %v\n%s", k, err, out)
		}
	}

	// The recipe with k3s's paths and port made the test's.
	for from, to := range map[string]string{
		"https://127.0.0.1:2379":                             endpoint,
		"/var/lib/rancher/k3s/server/tls/etcd/server-ca.crt": pki.CA,
		"/var/lib/rancher/k3s/server/tls/etcd/client.crt":    pki.ClientCert,
		"/var/lib/rancher/k3s/server/tls/etcd/client.key":    pki.ClientKey,
	} {
		if !strings.Contains(section, from) {
			t.Fatalf("the etcd_keys recipe no longer names %s: update this test", from)
		}
		section = strings.ReplaceAll(section, from, to)
	}
	section = regexp.MustCompile(`(?m)^interval = \d+s$`).ReplaceAllString(section, "interval = 200ms")
	conf := filepath.Join(dir, "itiny.conf")
	if err := os.WriteFile(conf, []byte("[collector snapshot.etcd_keys]\n"+section), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	p := &proc{cmd: runAgent(t, "--data", data, "--config", conf), log: &syncWriter{}, sock: filepath.Join(data, "itiny.sock")}
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	got := waitSnapshots(t, p, data, 1)["etcd_keys"]
	want := strings.Join(keys, "\n\n") + "\n\n" // etcdctl's --keys-only: each key and an empty line
	if got.output != want || got.exit != 0 || got.truncated {
		t.Errorf("etcd_keys: exit %d, truncated %v, output:\n%q\nwant:\n%q\nthe agent's log:\n%s", got.exit, got.truncated, got.output, want, p.logText())
	}
}

// freePort returns a TCP port on 127.0.0.1 free when it was asked.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
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
