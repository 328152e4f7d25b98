package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/testpki"
)

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
	pki := testpki.New(t)
	endpoint := ""
	ctl := func(args ...string) ([]byte, error) {
		cmd := exec.Command(etcdctl, append([]string{"--endpoints=" + endpoint, "--cacert=" + pki.CA,
			"--cert=" + pki.ClientCert, "--key=" + pki.ClientKey, "--command-timeout=5s"}, args...)...)
		cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
		return cmd.CombinedOutput()
	}
	endpoint = startEtcd(t, etcd, pki, func(url string) error {
		endpoint = url
		_, err := ctl("endpoint", "health")
		return err
	})
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
	dir := t.TempDir()
	conf := recipeConfig(t, dir, map[string]string{
		"https://127.0.0.1:2379":                             endpoint,
		"/var/lib/rancher/k3s/server/tls/etcd/server-ca.crt": pki.CA,
		"/var/lib/rancher/k3s/server/tls/etcd/client.crt":    pki.ClientCert,
		"/var/lib/rancher/k3s/server/tls/etcd/client.key":    pki.ClientKey,
	}, "etcd_keys")
	data := filepath.Join(dir, "data")
	p := startRecipes(t, data, conf)
	defer p.terminate()
	got := waitSnapshots(t, p, data, 1)["etcd_keys"]
	want := strings.Join(keys, "\n\n") + "\n\n" // etcdctl's --keys-only: each key and an empty line
	if got.output != want || got.exit != 0 || got.truncated {
		t.Errorf("etcd_keys: exit %d, truncated %v, output:\n%q\nwant:\n%q\nthe agent's log:\n%s", got.exit, got.truncated, got.output, want, p.logText())
	}
}

// startEtcd starts etcd with TLS and client certificates on ports of
// 127.0.0.1 free when asked, stopped by its PID when the test ends, and
// returns its client URL once healthy says it is. Ports taken meanwhile
// by another process make etcd exit: it starts again on others.
func startEtcd(t *testing.T, etcd string, pki *testpki.PKI, healthy func(url string) error) string {
	t.Helper()
	dir := t.TempDir()
attempts:
	for attempt := 1; ; attempt++ {
		client, peer := freePort(t), freePort(t)
		url := "https://127.0.0.1:" + client
		srv := exec.Command(etcd, "--name", "itiny-test", "--data-dir", filepath.Join(dir, "etcd"+client),
			"--listen-client-urls", url, "--advertise-client-urls", url,
			"--listen-peer-urls", "http://127.0.0.1:"+peer, "--initial-advertise-peer-urls", "http://127.0.0.1:"+peer,
			"--initial-cluster", "itiny-test=http://127.0.0.1:"+peer,
			"--cert-file", pki.ServerCert, "--key-file", pki.ServerKey, "--trusted-ca-file", pki.CA, "--client-cert-auth",
			"--logger", "zap", "--log-level", "error")
		log := &syncWriter{}
		srv.Stdout, srv.Stderr = log, log
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { srv.Wait(); close(exited) }()
		t.Cleanup(func() {
			srv.Process.Kill()
			<-exited
		})
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			err := healthy(url)
			if err == nil {
				return url
			}
			select {
			case <-exited:
				if attempt < 3 {
					continue attempts
				}
				t.Fatalf("etcd exited: %s", log.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("etcd not healthy: %v\netcd's log:\n%s", err, log.String())
			}
		}
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
