package readme

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/internal/natstest"
	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/internal/testpki"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/twmb/franz-go/pkg/kfake"
)

// root is the repository, from this package's directory.
const root = "../.."

// A sandbox is the directory the examples run in, as a user's checkout
// after make build: the sources (linked, for make run), bin/ with the
// three commands, ./itiny-data written by the real agent, and the files
// the examples name.
type sandbox struct {
	dir   string
	sys   string // the agent's sysfs root (testbin.Sysfs): never the host's /sys/fs/pstore
	env   []string
	subst []string // old, new pairs: the substitution table (newSandbox)
	agent *exec.Cmd
}

// The README's data directory and what the test's agent keeps running.
const data = "./itiny-data"

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	s := &sandbox{dir: t.TempDir(), sys: testbin.Sysfs(t)}
	// As in a new terminal: the examples say what ITINY_ variables they
	// use, and make run is not part of make test's make.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "ITINY_") && !slices.Contains([]string{"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}, k) {
			s.env = append(s.env, kv)
		}
	}
	s.linkSources(t)
	bin := filepath.Join(s.dir, "bin")
	for _, cmd := range []string{"itiny", "itiny-read", "itiny-migrate"} {
		if _, err := testbin.Build(bin, filepath.Join(root, "cmd", cmd)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.CopyFS(filepath.Join(s.dir, "damaged-data"), os.DirFS(filepath.Join(root, "testdata/golden/v1-msgpack-damaged"))); err != nil {
		t.Fatal(err)
	}
	s.writeData(t)
	s.systemPaths(t)
	nats, secure, kafka := s.stores(t)
	// The substitution table: the README's hosts and system paths, and
	// what the examples use here instead.
	s.subst = []string{
		"nats://store:4222", nats, // NATS with JetStream
		"tls://store:4222", secure, // NATS with JetStream over TLS: CA in ca.pem, user dev, password in pw
		"kafka://broker:9092", kafka, // kfake, franz-go's in-process Kafka: SASL SCRAM-SHA-512, kafka.cred
		"/etc/itiny.conf", filepath.Join(s.dir, "etc/itiny.conf"), // the embedded default config as a file
		"/var/lib/itiny", filepath.Join(s.dir, "var/lib/itiny"),
		"/var/log/itiny.log", filepath.Join(s.dir, "var/log/itiny.log"),
		// The agent keeps the host's /sys but for /sys/fs/pstore, whose
		// crash logs it would store and remove.
		"make run", "make run RUN_FLAGS=--path.sysfs=" + s.sys,
		"bin/itiny run ", "bin/itiny run --path.sysfs=" + s.sys + " ",
	}
	t.Cleanup(func() { s.stopAgent(t) })
	return s
}

// linkSources links the repository's sources into the sandbox, so that
// make run builds there; bin/ and itiny-data/ are the sandbox's own.
func (s *sandbox) linkSources(t *testing.T) {
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(abs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case name == "bin" || name == "itiny-data" || strings.HasPrefix(name, "."):
			continue // built or written here
		case !e.IsDir() && name != "go.mod" && name != "go.sum" && name != "Makefile":
			continue // what make build does not read
		}
		if err := os.Symlink(filepath.Join(abs, name), filepath.Join(s.dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// writeData fills ./itiny-data with the real agent: a first boot, then a
// second (the agent counts a boot when the kernel's boot id differs from
// the one in its boot file, as after a reboot) with a series of system
// samples a second apart, and records from itiny emit that the examples
// look for: a filesystem over 90% on /data, a warning and an error. The
// agent is then started again and left running, as on a device, for the
// examples that talk to it.
func (s *sandbox) writeData(t *testing.T) {
	t.Helper()
	s.startAgent(t)
	s.stopAgent(t)
	boot := filepath.Join(s.dir, data, "boot")
	if err := os.WriteFile(boot, []byte("1 00000000000000000000000000000001\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	s.startAgent(t, "--config", s.sampling(t))
	s.samples(t, 3)
	for _, args := range [][]string{
		{"--stream", "metrics", "--source", "filesystem", "filesystem", "mount=/data", "fstype=ext4", "used_pct=97.5"},
		{"--level", "warning", "--source", "appd", "link.down", "iface=eth0"},
		{"--level", "err", "--source", "appd", "db.open", "error=disk full"},
	} {
		s.run(t, "bin/itiny", append([]string{"emit", "--data", data}, args...)...)
	}
	s.stopAgent(t) // writes the buffered metrics
	// A crash, as the kernel hands it to itiny core installed as its
	// core_pattern: the core of minicore's test, of a program named
	// crash; the agent stores it at its start.
	core, err := os.Open(filepath.Join(root, "minicore/testdata/x86_64.core"))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	cmd := exec.Command("bin/itiny", "core", "--data", data, "27410", "27410", "11", "1796331474", "crash")
	cmd.Dir, cmd.Env, cmd.Stdin = s.dir, s.env, core
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("itiny core: %v\n%s", err, out)
	}
	s.startAgent(t)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if crashes, _ := filepath.Glob(filepath.Join(s.dir, data, "core-spool/core-*")); len(crashes) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the agent did not store the crash itiny core left")
		}
	}
	// A bundle for the example of one too large for the default memory:
	// a big one would cost the test minutes, the same command reads this.
	s.run(t, "bin/itiny-read", "bundle", "-o", "big.tar.gz", data)
}

// run runs a command in the sandbox as part of its setup.
func (s *sandbox) run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// sampling writes a config file, outside the sandbox, that is the default
// with every collector sampling each second, and returns its path.
func (s *sandbox) sampling(t *testing.T) string {
	t.Helper()
	conf, err := os.ReadFile(filepath.Join(root, "agent/default.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"cpu", "memory", "load", "netdev", "diskstats", "pressure", "filesystem", "uptime"} {
		conf = fmt.Appendf(conf, "\n[collector %s]\ninterval = 1s\n", c)
	}
	path := filepath.Join(t.TempDir(), "sampling.conf")
	if err := os.WriteFile(path, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// samples waits until the metrics ring holds n CPU samples of the running
// agent, making it write what it holds (SIGUSR1) each time it looks.
func (s *sandbox) samples(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if err := s.agent.Process.Signal(syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bin/itiny-read", "--stream", "metrics", "--boot", "0", "-o", "json", "name=cpu", data)
		cmd.Dir, cmd.Env = s.dir, s.env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		switch {
		case err == nil && bytes.Count(out, []byte("\n")) >= n:
			return
		case err != nil && !strings.Contains(stderr.String(), "the rings hold no records"):
			// Until the first flush the rings are empty, and -b 0 says
			// so; anything else is a failure.
			t.Fatalf("reading the samples: %v: %s", err, stderr.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent wrote no %d CPU samples in a minute:\n%s", n, out)
		}
	}
}

// startAgent runs bin/itiny run on ./itiny-data with args and waits until
// it answers on its socket.
func (s *sandbox) startAgent(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("bin/itiny", append([]string{"run", "--path.sysfs", s.sys, "--data", data}, args...)...)
	cmd.Dir, cmd.Env = s.dir, s.env
	var log strings.Builder
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.agent = cmd
	sock := filepath.Join(s.dir, data, "itiny.sock")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if c, err := agent.Dial(sock); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the agent on %s did not answer on its socket: %s", data, log.String())
		}
	}
}

// stopAgent stops the test's agent, if it runs, as SIGTERM does: flushed,
// closed, exit 0.
func (s *sandbox) stopAgent(t *testing.T) {
	t.Helper()
	if s.agent == nil {
		return
	}
	cmd := s.agent
	s.agent = nil
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("the agent on %s: %v", data, err)
	}
}

// systemPaths gives the system paths of the examples a place in the
// sandbox: a config file (the embedded default, as a file), and room for
// a second data directory and a log.
func (s *sandbox) systemPaths(t *testing.T) {
	t.Helper()
	conf, err := os.ReadFile(filepath.Join(root, "agent/default.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"etc", "var/lib", "var/log"} {
		if err := os.MkdirAll(filepath.Join(s.dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.write(t, "etc/itiny.conf", string(conf))
}

// stores starts the stream stores the migrate examples name, on
// 127.0.0.1, writes the credentials files they read (pw, kafka.cred,
// ca.pem) and returns their URLs: NATS, NATS over TLS with a user and
// password, and Kafka (kfake) with SASL SCRAM-SHA-512.
func (s *sandbox) stores(t *testing.T) (nats, secure, kafka string) {
	t.Helper()
	const user, pw = "dev", "s3cret-readme"
	s.write(t, "pw", pw+"\n")
	s.write(t, "kafka.cred", user+"\n"+pw+"\n")

	nats = natstest.Start(t, nil)

	p := testpki.New(t)
	ca, err := os.ReadFile(p.CA)
	if err != nil {
		t.Fatal(err)
	}
	s.write(t, "ca.pem", string(ca))
	cert, err := tls.LoadX509KeyPair(p.ServerCert, p.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	tlsURL := natstest.Start(t, &server.Options{Username: user, Password: pw, TLS: true,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	u, err := url.Parse(tlsURL)
	if err != nil {
		t.Fatal(err)
	}

	k, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", user, pw))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)

	return nats, "tls://" + u.Host, "kafka://" + k.ListenAddrs()[0]
}

// write writes a file of the sandbox.
func (s *sandbox) write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// command returns the example's text as it runs here: the README's hosts
// and system paths replaced by the sandbox's.
func (s *sandbox) command(e example) string {
	return strings.NewReplacer(s.subst...).Replace(e.text)
}
