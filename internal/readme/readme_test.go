package readme

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An expect says how the examples whose text holds key behave where they
// differ from the rule: exit 0, something on standard output, nothing on
// standard error.
type expect struct {
	key    string
	skip   string      // why it does not run here
	code   int         // its exit status
	stderr string      // a regular expression each line it writes to standard error matches
	quiet  bool        // prints nothing on standard output: what it makes is a file
	follow string      // runs until stopped: a regular expression its output matches once it runs
	file   string      // follow: the sandbox file its output goes to, not stdout or stderr
	agent  bool        // runs the agent on ./itiny-data: the test's own stops meanwhile
	maybe  bool        // may print nothing: its window of time may hold no record
	when   func() bool // the entry holds only where this says (nil: everywhere)
}

// The agent's log on standard error when it starts and stops.
const agentLog = `^itiny: \d{4}/\d\d/\d\d \d\d:\d\d:\d\d (running: data .*|interrupt: flushing and closing)$`

// follows matches the examples that follow a file or ring (-f, -F,
// --follow) without an entry in expects: they run until stopped, and run
// once they print something.
var follows = regexp.MustCompile(`(^|\s)(-f|-F|--follow)(\s|$)`)

// expects: every entry must match at least one example, so that the table
// follows the README.
var expects = []expect{
	{key: "make test", skip: "it is what runs this test"},
	{key: "kernel.core_pattern", skip: "it sets the machine's core pattern (cmd/itiny's TestCoreKernel does, when asked)"},
	{key: "kernel.core_pipe_limit", skip: "it sets the machine's limit of core handlers at once"},
	{key: "itiny-read cores --extract", quiet: true, stderr: `^appd\.core: minidump 1, \d+ bytes \(gdb EXECUTABLE appd\.core\)$`},
	// make prints its own note when Ctrl-C (SIGINT) stops what it ran.
	{key: "make run", follow: `(?m)^itiny: .* running: data \./itiny-data,`, agent: true,
		stderr: agentLog + `|^make: \*\*\* \[Makefile:\d+: run\] Interrupt$`},
	{key: "bin/itiny run --data /var/lib/itiny", follow: `running: data .*/var/lib/itiny,`, file: "var/log/itiny.log"},
	{key: "itiny emit", quiet: true},
	{key: "itiny-read bundle -o support.tar.gz", quiet: true, stderr: `^support\.tar\.gz: \d+ files, \d+ bytes of rings$`},
	{key: "itiny-read salvage", quiet: true, stderr: `^\w+ +\./damaged-data: \d+ records salvaged, \d+ ranges? of damage skipped$`},
	{key: "itiny-read report -o report.html", quiet: true, stderr: `^report\.html: \d+ bytes$`},
	{key: "cd itiny-data/events", quiet: true},
	{key: "-S 14:02 -U 14:05:30", maybe: true},
	// The thermal collector records nothing where the kernel has no
	// thermal zone (containers, most VMs): the README says the exit.
	{key: "itiny-read sar temp", when: noThermalZone, code: 1, stderr: `^itiny-read sar: no thermal records in the rings`},
	// The examples send the same rings to three stores: the checkpoint
	// the one before left (same scope, same file) is seen not to be this
	// store's, and not trusted.
	{key: "--to kafka://broker:9092", stderr: checkpointOther},
	{key: "--to tls://store:4222", stderr: checkpointOther},
	// The forwarder's status lines go to standard error.
	{key: "--follow --status-file", follow: `(?m)^itiny-migrate: following$`,
		stderr: checkpointOther + `|^itiny-migrate: (following|stopped)(; .*)?$|^itiny-migrate: [\w.]+: caught up: sent \d+$`},
}

// noThermalZone says whether this machine has no thermal zone.
func noThermalZone() bool {
	zones, _ := filepath.Glob("/sys/class/thermal/thermal_zone*")
	return len(zones) == 0
}

// runsAgent matches the examples that run the agent.
var runsAgent = regexp.MustCompile(`make run|bin/itiny run`)

const checkpointOther = `^itiny-migrate: [\w.]+: the checkpoint is of destination \S+, this is \S+: scanning all of it$`

// TestREADME runs every line of every ```sh block of README.md, read now,
// in order, with bash (-o pipefail), in a sandbox (sandbox_test.go): a
// cd lasts until the block ends, as in a terminal. A line fails if its
// exit status is not the one expected (0 unless expects says), if it
// writes to standard error what expects does not allow, or if it prints
// nothing when it should. The README's hosts and system paths are
// replaced as the substitution table in newSandbox says.
//
// A line that runs until stopped (a follow, make run) passes if its
// output shows it running and it is still running a second later; it is
// then stopped with SIGINT, as by Ctrl-C, and what it wrote to standard
// error is checked as for the others.
func TestREADME(t *testing.T) {
	exs, err := examples(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	used := make([]bool, len(expects))
	want := make([]*expect, len(exs))
	for i, e := range exs {
		for j := range expects {
			if strings.Contains(e.text, expects[j].key) {
				if want[i] != nil {
					t.Fatalf("%v: expects %q and %q both match", e, want[i].key, expects[j].key)
				}
				used[j] = true
				if w := expects[j].when; w == nil || w() {
					want[i] = &expects[j]
				}
			}
		}
	}
	for j, u := range used {
		if !u {
			t.Errorf("expects %q matches no example of README.md: update the table", expects[j].key)
		}
	}

	s := newSandbox(t)
	dir, block := s.dir, -1
	for i, e := range exs {
		if runsAgent.MatchString(e.text) && !strings.Contains(s.command(e), "--path.sysfs") {
			t.Fatalf("%v runs the agent on the host's /sys/fs/pstore: add it to the substitution table", e)
		}
		if e.block != block {
			dir, block = s.dir, e.block
		}
		x := want[i]
		switch {
		case x != nil:
		case follows.MatchString(e.text):
			x = &expect{follow: `.`}
		default:
			x = &expect{}
		}
		if x.skip != "" {
			t.Logf("%v: not run: %s", e, x.skip)
			continue
		}
		if x.agent {
			s.stopAgent(t)
		}
		if x.follow != "" {
			s.follow(t, e, x, dir)
		} else {
			dir = s.once(t, e, x, dir)
		}
		if x.agent {
			s.startAgent(t)
		}
	}
}

// once runs an example that ends, in dir, checks how it ended and
// returns the directory it left the shell in.
func (s *sandbox) once(t *testing.T, e example, x *expect, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pwd := filepath.Join(t.TempDir(), "pwd")
	cmd := s.shell(ctx, e, dir, `eval "$1"; rc=$?; pwd >"$2"; exit $rc`, pwd)
	var o, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &errb
	err := cmd.Run()
	var xe *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Errorf("%v: did not end in 2 minutes\nstderr: %s", e, errb.String())
		return dir
	case err != nil && !errors.As(err, &xe):
		t.Fatalf("%v: %v", e, err)
	}
	if code := cmd.ProcessState.ExitCode(); code != x.code {
		t.Errorf("%v: exit %d, want %d%s\nstderr: %s", e, code, x.code, s.ran(e), errb.String())
	}
	s.checkStderr(t, e, x, errb.String())
	if o.Len() == 0 && !x.quiet && !x.maybe {
		t.Errorf("%v: printed nothing%s", e, s.ran(e))
	}
	if o.Len() != 0 && x.quiet {
		t.Errorf("%v: printed %q; expects says it prints nothing", e, o.String())
	}
	t.Logf("%v: exit %d; stdout: %s", e, cmd.ProcessState.ExitCode(), head(o.String()))
	if b, err := os.ReadFile(pwd); err == nil {
		dir = strings.TrimSpace(string(b))
	}
	return dir
}

// follow runs an example that runs until stopped, in dir: it must show
// it runs (x.follow in its output) and still run a second later.
func (s *sandbox) follow(t *testing.T, e example, x *expect, dir string) {
	t.Helper()
	cmd := s.shell(context.Background(), e, dir, `eval "$1"`, "")
	// Files, not buffers: the test reads them while the command writes.
	tmp := t.TempDir()
	stdout, stderr := filepath.Join(tmp, "stdout"), filepath.Join(tmp, "stderr")
	read := func(name string) string {
		b, _ := os.ReadFile(name)
		return string(b)
	}
	for _, f := range []struct {
		w    *io.Writer
		name string
	}{{&cmd.Stdout, stdout}, {&cmd.Stderr, stderr}} {
		w, err := os.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		*f.w = w
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%v: %v", e, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	ready := regexp.MustCompile(x.follow)
	output := func() string {
		if x.file != "" {
			return read(filepath.Join(s.dir, x.file))
		}
		return read(stdout) + read(stderr)
	}
	defer func() {
		t.Logf("%v: ran; output: %s", e, head(output()))
		s.checkStderr(t, e, x, read(stderr))
	}()
	// A first run of make run may compile every command: minutes.
	deadline := time.After(5 * time.Minute)
	for !ready.MatchString(output()) {
		select {
		case <-done:
			t.Errorf("%v: ended (%v) before its output showed it running (%s)%s\noutput: %s", e, cmd.ProcessState, x.follow, s.ran(e), output())
			return
		case <-deadline:
			t.Errorf("%v: its output did not show it running (%s) in 5 minutes\noutput: %s", e, x.follow, output())
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	select {
	case <-done:
		t.Errorf("%v: ended by itself (%v): it should run until stopped\noutput: %s", e, cmd.ProcessState, output())
	case <-time.After(time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			t.Errorf("%v: still running 30 s after SIGINT", e)
		}
	}
}

// head returns the first lines of out, for the log of a verbose run.
func head(out string) string {
	l := strings.SplitAfterN(out, "\n", 6)
	if len(l) > 5 {
		l[5] = "...\n"
	}
	return strings.Join(l, "")
}

// shell returns bash running script with the example as $1 and arg as
// $2, in dir, in a process group of its own that is killed whole.
func (s *sandbox) shell(ctx context.Context, e example, dir, script, arg string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", script, "readme", s.command(e), arg)
	cmd.Dir, cmd.Env = dir, s.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// checkStderr fails the test for each line of stderr that x does not allow.
func (s *sandbox) checkStderr(t *testing.T, e example, x *expect, stderr string) {
	t.Helper()
	stderr = strings.TrimRight(stderr, "\n")
	if stderr == "" {
		return
	}
	allowed := regexp.MustCompile(x.stderr)
	for _, l := range strings.Split(stderr, "\n") {
		if x.stderr == "" || !allowed.MatchString(l) {
			t.Errorf("%v: wrote to stderr: %s%s", e, l, s.ran(e))
		}
	}
}

// ran says what ran, when the sandbox's table changed the example.
func (s *sandbox) ran(e example) string {
	if c := s.command(e); c != e.text {
		return "\n(ran as: " + c + ")"
	}
	return ""
}
