package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// A Child is a real process a test has an agent watch by its pidfile,
// and ends as it likes.
type Child struct {
	Cmd     *exec.Cmd
	Pidfile string
	Stdin   *os.File      // the write end of its stdin: closing it ends a script that reads
	Lived   time.Duration // from before its start to after its end, once ended
	started time.Time
}

// StartChild runs sh -c script in pidfile's directory, waits until it
// runs execs if the script execs it (until then its name and start time
// are the shell's), and writes its pid to pidfile. The test's cleanup
// kills it.
func StartChild(tb testing.TB, pidfile, script, execs string) *Child {
	tb.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir, cmd.Stdin = filepath.Dir(pidfile), r
	c := &Child{Cmd: cmd, Pidfile: pidfile, Stdin: w, started: time.Now()}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	r.Close()
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); w.Close() })
	pid := strconv.Itoa(cmd.Process.Pid)
	for deadline := time.Now().Add(time.Minute); execs != ""; time.Sleep(5 * time.Millisecond) {
		if b, _ := os.ReadFile("/proc/" + pid + "/comm"); string(b) == execs+"\n" {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s did not exec %s", script, execs)
		}
	}
	if err := os.WriteFile(pidfile, []byte(pid+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return c
}

// End ends the child, by sig or, with 0, by closing its stdin, waits for
// it and returns its wait status: as its parent, the test knows the truth
// of how it ended.
func (c *Child) End(sig syscall.Signal) syscall.WaitStatus {
	if sig != 0 {
		c.Cmd.Process.Signal(sig)
	} else {
		c.Stdin.Close()
	}
	c.Cmd.Wait()
	c.Lived = time.Since(c.started)
	return c.Cmd.ProcessState.Sys().(syscall.WaitStatus)
}
