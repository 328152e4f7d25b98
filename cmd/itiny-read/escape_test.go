package main

import (
	"bufio"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/testbin"
)

// TestFollowAgentConfig runs the real agent on its default config (seven
// rings) and follows them with the real itiny-read, as the README's
// itiny-read -f does: the agent's agent.config, JSON with a multi-line
// text whose newlines are escapes, is shown whole, not as a record that
// does not decode. More rings than are read ahead are read lean, each
// record decoded twice; the first decode must leave the stored bytes as
// they are.
func TestFollowAgentConfig(t *testing.T) {
	itiny, err := testbin.Build(t.TempDir(), "../itiny")
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	a := &agentProc{cmd: exec.Command(itiny, "run", "--data", data, "--path.sysfs", testbin.Sysfs(t)), log: &lockedBuffer{}, done: make(chan struct{})}
	a.cmd.Stderr = a.log
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.err = a.cmd.Wait(); close(a.done) }()
	t.Cleanup(func() { a.cmd.Process.Kill(); <-a.done })
	a.waitFor(t, "noted its config", func() bool {
		out, _, _ := run(t, "--stream", "itiny", "name=clock.sync", data)
		return out != ""
	})
	// A record in each stream that takes one, as on a device: more rings
	// with records than the merge reads ahead.
	for _, stream := range []string{"metrics", "state", "events", "cores"} {
		if out, err := exec.Command(itiny, "emit", "--data", data, "--stream", stream, "test.record", "n=1").CombinedOutput(); err != nil {
			t.Fatalf("itiny emit --stream %s: %v\n%s", stream, err, out)
		}
	}
	a.cmd.Process.Signal(syscall.SIGUSR1) // the periodic metrics stream writes its record
	a.waitFor(t, "wrote the records", func() bool {
		out, _, _ := run(t, "name=test.record", data)
		return strings.Count(out, " test.record ") == 4
	})

	for _, args := range [][]string{{"-n", "all", "-f"}, {"-n", "all"}} {
		cmd := exec.Command(binary, append(args, data)...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
		sc := bufio.NewScanner(out)
		var shown []string
		config := false // in agent.config's text
		for sc.Scan() && !strings.Contains(sc.Text(), " clock.sync ") {
			l := sc.Text()
			switch {
			case strings.Contains(l, "does not decode"):
				t.Errorf("itiny-read %s: %s", strings.Join(args, " "), l)
			case strings.Contains(l, " agent.config "):
				config = true
			case config && strings.HasPrefix(l, "      "):
				shown = append(shown, strings.TrimPrefix(l, "      "))
			}
		}
		deadline.Stop()
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
		text := strings.Join(shown, "\n")
		if !strings.HasPrefix(text, "cap = 16MiB\nsocket = itiny.sock\n") || !strings.Contains(text, "\n[stream itiny]\n") {
			t.Errorf("itiny-read %s: agent.config's text:\n%s", strings.Join(args, " "), text)
		}
	}
	if err := a.stop(syscall.SIGTERM); err != nil {
		t.Errorf("the agent: %v\n%s", err, a.log.String())
	}
}
