package main

import (
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
)

// pagerCommand is the shell command that output goes through, or "" for
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

// A pager is a running pager: what is written to it, it shows.
type pager struct {
	io.WriteCloser
	done chan struct{} // closed when the pager has ended
}

// startPager runs cmd through the shell with our standard output and
// error, and LESS=FRSXMK unless LESS is set, as journalctl: less quits at
// once when the output fits the screen, keeps colours, chops long lines
// rather than fold them, and quits on ^C. While it runs, ^C is the
// pager's: when it ends, so do we.
func startPager(cmd string) (*pager, error) {
	c := exec.Command("sh", "-c", cmd)
	c.Stdout, c.Stderr = os.Stdout, os.Stderr
	if _, set := os.LookupEnv("LESS"); !set {
		c.Env = append(os.Environ(), "LESS=FRSXMK")
	}
	w, err := c.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		return nil, err
	}
	p := &pager{WriteCloser: w, done: make(chan struct{})}
	go func() { c.Wait(); close(p.done) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		<-sig
		<-p.done
		os.Exit(130)
	}()
	return p, nil
}

// close ends the output and waits for the pager to end.
func (p *pager) close() {
	p.Close()
	<-p.done
}
