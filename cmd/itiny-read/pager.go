package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

// pagerCommand is the command that output goes through, or "" for
// none. None unless the output is a terminal, without --no-pager (noPager)
// or -f (follow); then $PAGER when it is set, none when it is empty or
// "cat" (as journalctl takes $SYSTEMD_PAGER); else "less -R" when less is
// on the PATH. end (-e) starts less at the end.
func pagerCommand(lookupEnv func(string) (string, bool), lookPath func(string) (string, error), terminal, noPager, follow, end bool) string {
	if !terminal || noPager || follow {
		return ""
	}
	cmd, set := lookupEnv("PAGER")
	if !set {
		if _, err := lookPath("less"); err != nil {
			return ""
		}
		cmd = "less -R"
	}
	cmd = strings.TrimSpace(cmd)
	if cmd == "" || cmd == "cat" {
		return ""
	}
	if name, _, _ := strings.Cut(cmd, " "); end && filepath.Base(name) == "less" {
		cmd += " +G"
	}
	return cmd
}

// page runs show with its output through the pager cmd (pagerCommand),
// or on standard output when cmd is "". A pager that cannot be started
// (not found, not executable: through the shell, exit status 126 or 127)
// is named on standard error and show runs again on standard output, as
// journalctl prints directly when its pager cannot start: the output is
// never lost. A pager that ends in failure otherwise is an error. The
// pager quitting before the end (q in less) is not.
func page(cmd string, show func(io.Writer) error) error {
	if cmd == "" {
		return show(os.Stdout)
	}
	pg, err := startPager(cmd)
	if err == nil {
		err = show(pg)
		perr := pg.close()
		if !errors.Is(perr, errNotStarted) {
			if errors.Is(err, syscall.EPIPE) {
				err = nil // the pager quit before the end
			}
			if err == nil && perr != nil {
				err = fmt.Errorf("pager %q: %v", cmd, perr)
			}
			return err
		}
		err = perr
	}
	fmt.Fprintf(os.Stderr, "itiny-read: pager %q: %v: printing without it\n", cmd, err)
	return show(os.Stdout)
}

// errNotStarted: the pager did not start.
var errNotStarted = errors.New("not started")

// shellChars are those that make $PAGER a shell command, run with sh -c;
// without them it is a program and its arguments, split at spaces, run
// without a shell: one that cannot start is known at once.
const shellChars = "|&;<>()$`\\\"'*?[]#~=%{}!"

// A pager is a running pager: what is written to it, it shows.
type pager struct {
	io.WriteCloser
	done  chan struct{} // closed when the pager has ended
	err   error         // how it ended, once done
	shell bool          // run through sh -c
}

// startPager runs cmd, through the shell if it has shell characters, with
// our standard output and error, and LESS set as journalctl sets it
// whatever the user's LESS says: $ITINY_LESS (journalctl's
// $SYSTEMD_LESS), else FRSXMK: less quits at once when the output fits
// the screen, keeps colours, chops long lines rather than fold them, and
// quits on ^C. A user's LESS=-i would lose the first two, and with them
// short output. While it runs, ^C is the pager's: when it ends, so do we.
func startPager(cmd string) (*pager, error) {
	p := &pager{done: make(chan struct{})}
	args := strings.Fields(cmd)
	if strings.ContainsAny(cmd, shellChars) {
		p.shell, args = true, []string{"sh", "-c", cmd}
	}
	c := exec.Command(args[0], args[1:]...)
	c.Stdout, c.Stderr = os.Stdout, os.Stderr
	less, set := os.LookupEnv("ITINY_LESS")
	if !set {
		less = "FRSXMK"
	}
	c.Env = append(os.Environ(), "LESS="+less)
	// Our own pipe, not StdinPipe, which Wait closes: once the pager has
	// quit (q before the end), a write is EPIPE, not "file already closed".
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c.Stdin = r
	err = c.Start()
	r.Close()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("%w: %v", errNotStarted, err)
	}
	p.WriteCloser = w
	go func() { p.err = c.Wait(); close(p.done) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		<-sig
		<-p.done
		os.Exit(130)
	}()
	return p, nil
}

// close ends the output, waits for the pager to end and returns how it
// ended: errNotStarted when the shell could not run it.
func (p *pager) close() error {
	p.Close()
	<-p.done
	var x *exec.ExitError
	if p.shell && errors.As(p.err, &x) && (x.ExitCode() == 126 || x.ExitCode() == 127) {
		return fmt.Errorf("%w: the shell could not run it (%v)", errNotStarted, p.err)
	}
	return p.err
}
